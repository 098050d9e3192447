// The output walk of batch norm's training forward over column group c with x̂ stored
// beside y (bn_train_gather4 with XHAT_IN_X, bn_train_xhat4): y as normalize_walk4 computes
// it, x̂ = (x − mean)/√(var + ε) through the module's own `store_xhat(i, v)` (into x, or
// into a buffer of its own).
fn normalize_xhat_walk4(c: u32, cols: u32, mean: vec4<f32>, variance: vec4<f32>) {
    let end = p.rows * cols;
    let invstd = inverseSqrt(variance + vec4<f32>(p.eps));
    let inv = invstd * read_gamma(c);
    let beta = read_beta(c);
    var i = c;
    while (i < end) {
        for (var u = 0u; u < ROW_UNROLL; u++) {
            if (i < end) {
                    let centered = read_x(i) - mean;
                    y4[i] = centered * inv + beta;
                    store_xhat(i, centered * invstd);
                    i += cols;
            }
        }
    }
}
