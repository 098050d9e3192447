// The rest of batch norm's training forward for four columns once their mean is known
// (bn_train4, bn_train_gather4): the biased variance, the batch statistics, the moving
// statistics' EWMA and the normalized, scaled, shifted output y, walking the column group
// c of `cols` vec4s.
fn finish_columns4(c: u32, cols: u32, mean: vec4<f32>) {
    let end = p.rows * cols;
    var sq = vec4<f32>(0.0);
    var i = c;
    while (i < end) {
        for (var u = 0u; u < ROW_UNROLL; u++) {
            if (i < end) {
                    let d = x4[i] - mean;
                    sq += d * d;
                    i += cols;
            }
        }
    }
    let variance = sq / f32(p.rows);
    stats4[c] = mean;
    stats4[cols + c] = variance;
    moving_mean4[c] = moving_mean4[c] * p.momentum + mean * (1.0 - p.momentum);
    moving_var4[c] = moving_var4[c] * p.momentum + variance * (1.0 - p.momentum);
    let inv = inverseSqrt(variance + vec4<f32>(p.eps)) * gamma4[c];
    let shift = beta4[c];
    i = c;
    while (i < end) {
        for (var u = 0u; u < ROW_UNROLL; u++) {
            if (i < end) {
                    y4[i] = (x4[i] - mean) * inv + shift;
                    i += cols;
            }
        }
    }
}
