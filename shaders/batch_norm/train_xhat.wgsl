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
    let end = p.rows * cols;
    let invstd = inverseSqrt(s.variance + vec4<f32>(p.eps));
    let inv = invstd * gamma4[c];
    let beta = beta4[c];
    var i = c;
    while (i < end) {
        for (var u = 0u; u < ROW_UNROLL; u++) {
            if (i < end) {
                    let centered = read_x(i) - s.mean;
                    y4[i] = centered * inv + beta;
                    xhat4[i] = centered * invstd;
                    i += cols;
            }
        }
    }
}
