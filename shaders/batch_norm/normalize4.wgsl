// Batch norm's training forward for groups of four columns once an estimate of their mean
// is known (bn_train4, bn_train_gather4, bn_train_rows4): the deviations from the estimate,
// the batch statistics and the moving statistics' EWMA, and the normalized, scaled,
// shifted output y. A walk visits rows first, first + stride, … of column group c (stride:
// the row's vec4s, or that many times a workgroup's lanes).

// Σ (x − pivot) over a walk, added in blocks of ROW_UNROLL rows: the sum of a first
// estimate of the mean.
fn pivot_sum4(first: u32, stride: u32, pivot: vec4<f32>) -> vec4<f32> {
    let end = p.rows * (p.cols / 4u);
    var sum = vec4<f32>(0.0);
    var i = first;
    while (i < end) {
        var blk = vec4<f32>(0.0);
        for (var u = 0u; u < ROW_UNROLL; u++) {
            if (i < end) {
                    blk += read_x(i) - pivot;
                    i += stride;
            }
        }
        sum += blk;
    }
    return sum;
}

// Σ (x − rough) and Σ (x − rough)² over a walk, added in blocks of ROW_UNROLL rows.
struct Deviations4 {
    sum: vec4<f32>,
    sq: vec4<f32>,
}

fn deviations4(first: u32, stride: u32, rough: vec4<f32>) -> Deviations4 {
    let end = p.rows * (p.cols / 4u);
    var dev = vec4<f32>(0.0);
    var sq = vec4<f32>(0.0);
    var i = first;
    while (i < end) {
        var blk_dev = vec4<f32>(0.0);
        var blk_sq = vec4<f32>(0.0);
        for (var u = 0u; u < ROW_UNROLL; u++) {
            if (i < end) {
                    let d = read_x(i) - rough;
                    blk_dev += d;
                    blk_sq += d * d;
                    i += stride;
            }
        }
        dev += blk_dev;
        sq += blk_sq;
    }
    return Deviations4(dev, sq);
}

// The batch statistics of column group c (kept for the backward pass) and the moving
// statistics' EWMA.
fn keep_statistics4(c: u32, mean: vec4<f32>, variance: vec4<f32>) {
    let cols = p.cols / 4u;
    stats4[c] = mean;
    stats4[cols + c] = variance;
    moving_mean4[c] = moving_mean4[c] * p.momentum + mean * (1.0 - p.momentum);
    moving_var4[c] = moving_var4[c] * p.momentum + variance * (1.0 - p.momentum);
}

// y over a walk of column group c (through out_act4: batch_norm/out_act.wgsl).
fn normalize_walk4(c: u32, first: u32, stride: u32, mean: vec4<f32>, variance: vec4<f32>) {
    let end = p.rows * (p.cols / 4u);
    let inv = inverseSqrt(variance + vec4<f32>(p.eps)) * read_gamma(c);
    let beta = read_beta(c);
    var i = first;
    while (i < end) {
        for (var u = 0u; u < ROW_UNROLL; u++) {
            if (i < end) {
                    y4[i] = out_act4((read_x(i) - mean) * inv + beta, i);
                    i += stride;
            }
        }
    }
}

// The batch statistics of column group c of `cols` vec4s, one invocation walking it all:
// the estimate corrected by the deviations' mean (as in bn_train), kept with the moving
// statistics' EWMA.
struct Statistics4 {
    mean: vec4<f32>,
    variance: vec4<f32>,
}

fn column_statistics4(c: u32, cols: u32, rough: vec4<f32>) -> Statistics4 {
    let n = f32(p.rows);
    let d = deviations4(c, cols, rough);
    let shift = d.sum / n;
    let mean = rough + shift;
    let variance = max(d.sq / n - shift * shift, vec4<f32>(0.0));
    keep_statistics4(c, mean, variance);
    return Statistics4(mean, variance);
}

// The rest of the forward for column group c of `cols` vec4s, one invocation walking it
// all: the statistics, the output.
fn finish_columns4(c: u32, cols: u32, rough: vec4<f32>) {
    let s = column_statistics4(c, cols, rough);
    normalize_walk4(c, c, cols, s.mean, s.variance);
}
