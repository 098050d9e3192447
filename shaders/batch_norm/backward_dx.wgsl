// Synchronized batch norm backward: dx from the whole batch's sums (Σ dy·x̂, Σ dy), as
// bn_backward with n = total.
@compute @workgroup_size(64)
fn bn_backward_dx(@builtin(global_invocation_id) gid: vec3<u32>) {
    let c = gid.x;
    if (c >= p.cols) { return; }
    let invstd = inverseSqrt(stats[p.cols + c] + p.eps);
    dx_column(c, stats[c], invstd, sums[c], sums[p.cols + c], f32(p.total));
}
