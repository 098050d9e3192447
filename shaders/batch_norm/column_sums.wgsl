// Column c's (Σ dy·x̂, Σ dy). For bn_backward and bn_backward_sums, whose kernels both take
// x and dy.
fn column_sums(c: u32, mean: f32, invstd: f32) -> vec2<f32> {
    let end = p.rows * p.cols;
    var sum_dy = 0.0;
    var sum_dy_xhat = 0.0;
    var i = c;
    while (i < end) {
        for (var u = 0u; u < ROW_UNROLL; u++) {
            if (i < end) {
                    let xhat = (x[i] - mean) * invstd;
                    sum_dy += dy[i];
                    sum_dy_xhat += dy[i] * xhat;
                    i += p.cols;
            }
        }
    }
    return vec2<f32>(sum_dy_xhat, sum_dy);
}
