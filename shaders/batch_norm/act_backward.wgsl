// Batch norm's backward fused with the derivative of the activation before it (the dense
// layer or convolution whose output x is, Kernel::BnActBackward): per column Σ dy·x̂ and
// Σ dy (dgamma, dbeta), then dx as bn_backward computes it, dz = dx·f'(x) from the
// activation's output, and the layer's bias gradient db = Σ dz. dx is never stored: one
// launch and one walk fewer than bn_backward followed by bias_act_backward.

// The activation code, fixed per pipeline (equal to p.code): the derivative compiles to
// the one activation, and the walk's body stays small enough for its unrolled inner loop
// (a switch there kept it rolled, and llvmpipe's 65,535-iteration limit cut long columns).
override BACK_ACT: u32 = 0u;

// One invocation per column.
@compute @workgroup_size(64)
fn bn_act_backward(@builtin(global_invocation_id) gid: vec3<u32>) {
    let c = gid.x;
    if (c >= p.cols) { return; }
    let a = Act(BACK_ACT, p.flags, p.f0, p.f1);
    let s = step[0];
    let mean = stats[c];
    let invstd = inverseSqrt(stats[p.cols + c] + p.eps);
    let sums = column_sums(c, mean, invstd);
    let n = f32(p.rows);
    let k = gamma[c] * invstd / n;
    let end = p.rows * p.cols;
    var acc = 0.0;
    var i = c;
    while (i < end) {
        for (var u = 0u; u < ROW_UNROLL; u++) {
            if (i < end) {
                    let xv = x[i];
                    let xhat = (xv - mean) * invstd;
                    let dx = k * (n * dy[i] - sums.y - xhat * sums.x);
                    let d = dx * act_grad_from_output(a, xv, i, s);
                    dz[i] = d;
                    acc += d;
                    i += p.cols;
            }
        }
    }
    dgamma[c] = sums.x;
    dbeta[c] = sums.y;
    db[c] = acc;
}

// bn_act_backward, four columns an invocation (cols % 4 == 0) through the vec4 views.
@compute @workgroup_size(64)
fn bn_act_backward4(@builtin(global_invocation_id) gid: vec3<u32>) {
    let c = gid.x;
    let cols = p.cols / 4u;
    if (c >= cols) { return; }
    let a = Act(BACK_ACT, p.flags, p.f0, p.f1);
    let s = step[0];
    let mean = stats4[c];
    let invstd = inverseSqrt(stats4[cols + c] + vec4<f32>(p.eps));
    let end = p.rows * cols;
    let sums = column_sums4(c, cols, mean, invstd);
    let sum_dy = sums.dy;
    let sum_dy_xhat = sums.dy_xhat;
    let n = f32(p.rows);
    let k = gamma4[c] * invstd / n;
    var acc = vec4<f32>(0.0);
    var i = c;
    while (i < end) {
        for (var u = 0u; u < ROW_UNROLL; u++) {
            if (i < end) {
                    let xv = read_x(i);
                    let xhat = (xv - mean) * invstd;
                    let dx = k * (n * read_dy(i) - sum_dy - xhat * sum_dy_xhat);
                    let d = dx * act_grad_from_output4(a, xv, i * 4u, s);
                    dz4[i] = d;
                    acc += d;
                    i += cols;
            }
        }
    }
    dgamma4[c] = sum_dy_xhat;
    dbeta4[c] = sum_dy;
    db4[c] = acc;
}
