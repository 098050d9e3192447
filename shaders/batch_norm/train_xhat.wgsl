// Batch norm's training forward that also writes x̂ = (x − mean)/√(var + ε) into a buffer of
// its own (Kernel::BnTrainXhat): bn_train4's walks, the output walk storing x̂ beside y.
// For batch norm over data feeding a dense layer (Kernel::BnDenseBackward), where the
// batch is gathered apart (an adapter with too few storage bindings for
// bn_train_gather4). Four columns an invocation.

@compute @workgroup_size(64)
fn bn_train_xhat4(@builtin(global_invocation_id) gid: vec3<u32>) {
    let c = gid.x;
    let cols = p.cols / 4u;
    if (c >= cols) { return; }
    let pivot = read_x(c);
    let s = column_statistics4(c, cols, pivot + pivot_sum4(c, cols, pivot) / f32(p.rows));
    normalize_xhat_walk4(c, cols, s.mean, s.variance);
}

// x̂ into its own buffer (normalize_xhat_walk4).
fn store_xhat(i: u32, v: vec4<f32>) {
    xhat4[i] = v;
}
