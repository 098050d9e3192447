// Synchronized batch norm: bn_train with the batch statistics given (already summed
// across ranks): the moving statistics' EWMA and the output.
@compute @workgroup_size(64)
fn bn_normalize(@builtin(global_invocation_id) gid: vec3<u32>) {
    let c = gid.x;
    if (c >= p.cols) { return; }
    normalize_column(c, stats[c], stats[p.cols + c]);
}
