// The rest of batch norm's training forward for four columns once an estimate of their
// mean is known (bn_train4, bn_train_gather4): the mean, the biased variance, the batch statistics, the moving
// statistics' EWMA and the normalized, scaled, shifted output y, walking the column group
// c of `cols` vec4s.
fn finish_columns4(c: u32, cols: u32, rough: vec4<f32>) {
    let end = p.rows * cols;
    let n = f32(p.rows);
    var dev = vec4<f32>(0.0);
    var sq = vec4<f32>(0.0);
    var i = c;
    while (i < end) {
        var blk_dev = vec4<f32>(0.0);
        var blk_sq = vec4<f32>(0.0);
        for (var u = 0u; u < ROW_UNROLL; u++) {
            if (i < end) {
                    let d = read_x(i) - rough;
                    blk_dev += d;
                    blk_sq += d * d;
                    i += cols;
            }
        }
        dev += blk_dev;
        sq += blk_sq;
    }
    // The estimate corrected by the deviations' mean, as in bn_train.
    let shift = dev / n;
    let mean = rough + shift;
    let variance = max(sq / n - shift * shift, vec4<f32>(0.0));
    stats4[c] = mean;
    stats4[cols + c] = variance;
    moving_mean4[c] = moving_mean4[c] * p.momentum + mean * (1.0 - p.momentum);
    moving_var4[c] = moving_var4[c] * p.momentum + variance * (1.0 - p.momentum);
    let inv = inverseSqrt(variance + vec4<f32>(p.eps)) * gamma4[c];
    let beta = beta4[c];
    i = c;
    while (i < end) {
        for (var u = 0u; u < ROW_UNROLL; u++) {
            if (i < end) {
                    y4[i] = (read_x(i) - mean) * inv + beta;
                    i += cols;
            }
        }
    }
}
