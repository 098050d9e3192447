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
// squared deviations) so a large common offset does not cancel the variance, and the mean
// sums each value's difference from the column's first (its pivot), so the sum does not
// grow with a common offset either (sequential float sums of 67,600 values near 10⁴ put
// the mean 3.3 off; the pivot, 5·10⁻⁴). The walks
// step an index by cols rather than count rows: a count up to a bound read from `p` alone
// is compiled again at every dispatch on lavapipe (100× slower at 32 rows, measured;
// docs/benchmarks.md, "Loops bounded by a launch's parameters alone").
@compute @workgroup_size(64)
fn bn_train(@builtin(global_invocation_id) gid: vec3<u32>) {
    let c = gid.x;
    if (c >= p.cols) { return; }
    let end = p.rows * p.cols;
    let pivot = x[c];
    // Each walk adds ROW_UNROLL rows into a block sum before the column's (a sum of many
    // alike values, a ReLU's zeros, rounds alike every time it grows one by one).
    var sum = 0.0;
    var i = c;
    while (i < end) {
        var blk = 0.0;
        for (var u = 0u; u < ROW_UNROLL; u++) {
            if (i < end) {
                    blk += x[i] - pivot;
                    i += p.cols;
            }
        }
        sum += blk;
    }
    // A first estimate, then the deviations from it: their mean corrects it (a pivot far
    // from the rest, a first row of 90 over values in [0, 1), leaves the estimate 10⁻⁵
    // off over 67,600 rows) and their mean square less its square is the variance.
    let n = f32(p.rows);
    let rough = pivot + sum / n;
    var dev = 0.0;
    var sq = 0.0;
    i = c;
    while (i < end) {
        var blk_dev = 0.0;
        var blk_sq = 0.0;
        for (var u = 0u; u < ROW_UNROLL; u++) {
            if (i < end) {
                    let d = x[i] - rough;
                    blk_dev += d;
                    blk_sq += d * d;
                    i += p.cols;
            }
        }
        dev += blk_dev;
        sq += blk_sq;
    }
    let shift = dev / n;
    let mean = rough + shift;
    let variance = max(sq / n - shift * shift, 0.0);
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
    let pivot = read_x(c);
    finish_columns4(c, cols, pivot + pivot_sum4(c, cols, pivot) / f32(p.rows));
}

// bn_train4 over many rows (batch_norm/lanes.wgsl): a workgroup a group of four columns,
// its lanes splitting the rows for each of the three walks; x read through `read_x`, a
// texture in the entry CPU adapters take (on llvmpipe the walks' storage loads, one a
// lane, cost three times the texel loads).
@compute @workgroup_size(ROW_LANES)
fn bn_train_rows4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let c = wid.x;
    let lane = lid.x;
    let cols = p.cols / 4u;
    let first = c + lane * cols;
    let stride = ROW_LANES * cols;
    let n = f32(p.rows);
    let pivot = read_x(c);
    let sum = pivot_sum4(first, stride, pivot);
    // A first estimate, corrected as in bn_train.
    let rough = pivot + lanes_sum(sum, lane) / n;
    let d = deviations4(first, stride, rough);
    let shift = lanes_sum(d.sum, lane) / n;
    let mean = rough + shift;
    let variance = max(lanes_sum(d.sq, lane) / n - shift * shift, vec4<f32>(0.0));
    if (lane == 0u) {
        keep_statistics4(c, mean, variance);
    }
    normalize_walk4(c, first, stride, mean, variance);
}
