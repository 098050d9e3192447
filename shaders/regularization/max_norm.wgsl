// Keras's MaxNorm constraint, after the update: each norm over the reduced axes — a
// column's (per_row 0: the kernel's leading axes, as Keras's default axis 0 of a Dense
// kernel or [0, 1, 2] of a Conv2D kernel), or a row's (per_row 1) — brought to at most
// max_value: w·clip(‖w‖, 0, max)/(1e-7 + ‖w‖). `p` (MaxNormParams) and the weight `w`.
// One invocation per norm.
@compute @workgroup_size(64)
fn max_norm(@builtin(global_invocation_id) gid: vec3<u32>) {
    let o = gid.x;
    var outer = p.cols;
    var inner = p.rows;
    var stride = p.cols;
    var base = o;
    if (p.per_row != 0u) {
        outer = p.rows;
        inner = p.cols;
        stride = 1u;
        base = o * p.cols;
    }
    if (o >= outer) { return; }
    var sq = 0.0;
    for (var k = 0u; k < inner; k++) {
        let v = w[base + k * stride];
        sq += v * v;
    }
    let norm = sqrt(sq);
    let factor = clamp(norm, 0.0, p.max_value) / (1e-7 + norm);
    for (var k = 0u; k < inner; k++) {
        w[base + k * stride] = w[base + k * stride] * factor;
    }
}
