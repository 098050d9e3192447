// Column c of dx from the batch's Σ dy·x̂ and Σ dy over n rows:
// dx = gamma/(n·σ)·(n·dy − Σdy − x̂·Σdy·x̂). For bn_backward and bn_backward_dx, whose
// kernels both take x, gamma, dy and dx.
fn dx_column(c: u32, mean: f32, invstd: f32, sum_dy_xhat: f32, sum_dy: f32, n: f32) {
    let k = gamma[c] * invstd / n;
    let end = p.rows * p.cols;
    var i = c;
    while (i < end) {
        for (var u = 0u; u < ROW_UNROLL; u++) {
            if (i < end) {
                    let xhat = (x[i] - mean) * invstd;
                    dx[i] = k * (n * dy[i] - sum_dy - xhat * sum_dy_xhat);
                    i += p.cols;
            }
        }
    }
}
