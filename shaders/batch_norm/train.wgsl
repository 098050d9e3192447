// Batch normalization over the feature (last) axis, as Keras computes it: biased batch
// variance, y = (x − mean)·inv + beta with inv = gamma/sqrt(var + eps),
// moving = moving·momentum + batch·(1 − momentum). Declared before this file (generated
// from Rust): `p` (BatchNormParams: rows, cols, total, centered, eps, momentum) and the
// buffers x, gamma, beta, y, stats ([2·cols]: mean then var, kept for the backward pass),
// moving_mean, moving_var.
//
// Training mode, one invocation per column and three walks down it: the batch mean, the
// biased variance, then the normalized, scaled and shifted output, with the moving
// statistics' EWMA beside them. The batch is reduced in two passes (mean, then the mean of
// squared deviations) so a large common offset does not cancel the variance. The walks
// step an index by cols rather than count rows: counted loops made llvmpipe run this
// kernel 100× slower at 32 rows (measured).
@compute @workgroup_size(64)
fn bn_train(@builtin(global_invocation_id) gid: vec3<u32>) {
    let c = gid.x;
    if (c >= p.cols) { return; }
    let end = p.rows * p.cols;
    var sum = 0.0;
    var i = c;
    while (i < end) {
        for (var u = 0u; u < ROW_UNROLL; u++) {
            if (i < end) {
                    sum += x[i];
                    i += p.cols;
            }
        }
    }
    let mean = sum / f32(p.rows);
    var sq = 0.0;
    i = c;
    while (i < end) {
        for (var u = 0u; u < ROW_UNROLL; u++) {
            if (i < end) {
                    let d = x[i] - mean;
                    sq += d * d;
                    i += p.cols;
            }
        }
    }
    let variance = sq / f32(p.rows);
    stats[c] = mean;
    stats[p.cols + c] = variance;
    normalize_column(c, mean, variance);
}

// bn_train, four columns an invocation (cols % 4 == 0) through the vec4 views: a vec4
// load does the work of four scalar ones, which on llvmpipe are each a per-lane gather
// (measured: 3–4× faster).
@compute @workgroup_size(64)
fn bn_train4(@builtin(global_invocation_id) gid: vec3<u32>) {
    let c = gid.x;
    let cols = p.cols / 4u;
    if (c >= cols) { return; }
    let end = p.rows * cols;
    var sum = vec4<f32>(0.0);
    var i = c;
    while (i < end) {
        for (var u = 0u; u < ROW_UNROLL; u++) {
            if (i < end) {
                    sum += x4[i];
                    i += cols;
            }
        }
    }
    finish_columns4(c, cols, sum / f32(p.rows));
}
