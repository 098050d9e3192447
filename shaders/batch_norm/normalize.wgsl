// Column c from its batch statistics: the moving statistics' EWMA and the output
// y = (x − mean)·gamma/sqrt(var + eps) + beta (through out_act: batch_norm/out_act.wgsl). For bn_train and bn_normalize, whose
// kernels both take x, gamma, beta, y, moving_mean and moving_var.
fn normalize_column(c: u32, mean: f32, variance: f32) {
    moving_mean[c] = moving_mean[c] * p.momentum + mean * (1.0 - p.momentum);
    moving_var[c] = moving_var[c] * p.momentum + variance * (1.0 - p.momentum);
    let inv = inverseSqrt(variance + p.eps) * gamma[c];
    let shift = beta[c];
    let end = p.rows * p.cols;
    var i = c;
    while (i < end) {
        for (var u = 0u; u < ROW_UNROLL; u++) {
            if (i < end) {
                    y[i] = out_act((x[i] - mean) * inv + shift, i);
                    i += p.cols;
            }
        }
    }
}
