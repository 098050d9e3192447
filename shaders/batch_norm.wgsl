// Batch normalization over the feature (last) axis, as Keras computes it:
// biased batch variance, y = (x − mean)·inv + beta with inv = gamma/sqrt(var + eps),
// moving = moving·momentum + batch·(1 − momentum).
// One invocation per feature column; the batch is reduced in two passes (mean, then the
// mean of squared deviations) so a large common offset does not cancel the variance.

struct Params {
    rows: u32,
    cols: u32,
    // Synchronized BN only: rows of the whole batch, and bn_moments' pass (1 = variance).
    total: u32,
    centered: u32,
    eps: f32,
    momentum: f32,
    pad2: f32,
    pad3: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> s1: array<f32>;
@group(0) @binding(2) var<storage, read_write> s2: array<f32>;
@group(0) @binding(3) var<storage, read_write> s3: array<f32>;
@group(0) @binding(4) var<storage, read_write> s4: array<f32>;
@group(0) @binding(5) var<storage, read_write> s5: array<f32>;
@group(0) @binding(6) var<storage, read_write> s6: array<f32>;
@group(0) @binding(7) var<storage, read_write> s7: array<f32>;
// The same buffers seen as vec4s (binding 7 + i is s_i), for the kernels that take four
// columns an invocation when the column count is a multiple of 4.
@group(0) @binding(8) var<storage, read_write> v1: array<vec4<f32>>;
@group(0) @binding(9) var<storage, read_write> v2: array<vec4<f32>>;
@group(0) @binding(10) var<storage, read_write> v3: array<vec4<f32>>;
@group(0) @binding(11) var<storage, read_write> v4: array<vec4<f32>>;
@group(0) @binding(12) var<storage, read_write> v5: array<vec4<f32>>;
@group(0) @binding(13) var<storage, read_write> v6: array<vec4<f32>>;
@group(0) @binding(14) var<storage, read_write> v7: array<vec4<f32>>;

// Training mode, one invocation per column and three walks down it: the batch mean, the
// biased variance, then the normalized, scaled and shifted output; the moving statistics'
// EWMA beside them. s1 = x, s2 = gamma, s3 = beta, s4 = y, s5 = batch statistics
// [2·cols]: mean then var (kept for the backward pass), s6 = moving mean, s7 = moving var.
// The walks step an index by cols rather than count rows: counted loops made llvmpipe run
// this kernel 100× slower at 32 rows (measured).
@compute @workgroup_size(64)
fn bn_train(@builtin(global_invocation_id) gid: vec3<u32>) {
    let c = gid.x;
    if (c >= p.cols) { return; }
    let end = p.rows * p.cols;
    var sum = 0.0;
    var i = c;
    while (i < end) {
        sum += s1[i];
        i += p.cols;
    }
    let mean = sum / f32(p.rows);
    var sq = 0.0;
    i = c;
    while (i < end) {
        let d = s1[i] - mean;
        sq += d * d;
        i += p.cols;
    }
    let variance = sq / f32(p.rows);
    s5[c] = mean;
    s5[p.cols + c] = variance;
    normalize_column(c, mean, variance);
}

// Column c from its batch statistics: the moving statistics' EWMA (s6, s7) and the output
// y = (x − mean)·gamma/sqrt(var + eps) + beta (s4, from s1, s2, s3). For bn_train and
// bn_normalize, which bind alike.
fn normalize_column(c: u32, mean: f32, variance: f32) {
    s6[c] = s6[c] * p.momentum + mean * (1.0 - p.momentum);
    s7[c] = s7[c] * p.momentum + variance * (1.0 - p.momentum);
    let inv = inverseSqrt(variance + p.eps) * s2[c];
    let shift = s3[c];
    let end = p.rows * p.cols;
    var i = c;
    while (i < end) {
        s4[i] = (s1[i] - mean) * inv + shift;
        i += p.cols;
    }
}

// bn_train, four columns an invocation (cols % 4 == 0): a vec4 load does the work of four
// scalar ones, which on llvmpipe are each a per-lane gather (measured: 3–4× faster).
@compute @workgroup_size(64)
fn bn_train4(@builtin(global_invocation_id) gid: vec3<u32>) {
    let c = gid.x;
    let cols = p.cols / 4u;
    if (c >= cols) { return; }
    let end = p.rows * cols;
    var sum = vec4<f32>(0.0);
    var i = c;
    while (i < end) {
        sum += v1[i];
        i += cols;
    }
    let mean = sum / f32(p.rows);
    var sq = vec4<f32>(0.0);
    i = c;
    while (i < end) {
        let d = v1[i] - mean;
        sq += d * d;
        i += cols;
    }
    let variance = sq / f32(p.rows);
    v5[c] = mean;
    v5[cols + c] = variance;
    v6[c] = v6[c] * p.momentum + mean * (1.0 - p.momentum);
    v7[c] = v7[c] * p.momentum + variance * (1.0 - p.momentum);
    let inv = inverseSqrt(variance + vec4<f32>(p.eps)) * v2[c];
    let shift = v3[c];
    i = c;
    while (i < end) {
        v4[i] = (v1[i] - mean) * inv + shift;
        i += cols;
    }
}

// Inference mode (the moving statistics), one invocation per element.
// s1 = x, s2 = mean, s3 = var, s4 = gamma, s5 = beta, s6 = y.
@compute @workgroup_size(256)
fn bn_apply(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = gid.x + gid.y * nwg.x * 256u;
    if (i >= p.rows * p.cols) { return; }
    let c = i % p.cols;
    let inv = inverseSqrt(s3[c] + p.eps) * s4[c];
    // (x − mean)·inv + beta: algebraically Keras's x·inv + (beta − mean·inv), without
    // the cancellation that form suffers when the mean is large.
    s6[i] = (s1[i] - s2[c]) * inv + s5[c];
}

// Full batch-norm backward (through the batch mean and variance).
// s1 = x, s2 = batch statistics [2·cols] (mean, var), s3 = gamma, s4 = dy, s5 = dx,
// s6 = dgamma, s7 = dbeta
@compute @workgroup_size(64)
fn bn_backward(@builtin(global_invocation_id) gid: vec3<u32>) {
    let c = gid.x;
    if (c >= p.cols) { return; }
    let mean = s2[c];
    let invstd = inverseSqrt(s2[p.cols + c] + p.eps);
    let sums = column_sums(c, mean, invstd);
    dx_column(c, mean, invstd, sums.x, sums.y, f32(p.rows));
    s6[c] = sums.x;
    s7[c] = sums.y;
}

// Column c's (Σ dy·x̂, Σ dy), with x = s1, dy = s4. For bn_backward and bn_backward_sums,
// which bind alike.
fn column_sums(c: u32, mean: f32, invstd: f32) -> vec2<f32> {
    let end = p.rows * p.cols;
    var sum_dy = 0.0;
    var sum_dy_xhat = 0.0;
    var i = c;
    while (i < end) {
        let xhat = (s1[i] - mean) * invstd;
        sum_dy += s4[i];
        sum_dy_xhat += s4[i] * xhat;
        i += p.cols;
    }
    return vec2<f32>(sum_dy_xhat, sum_dy);
}

// Column c of dx (s5) from the batch's Σ dy·x̂ and Σ dy over n rows:
// dx = gamma/(n·σ)·(n·dy − Σdy − x̂·Σdy·x̂), with x = s1, gamma = s3, dy = s4. For
// bn_backward and bn_backward_dx, which bind alike.
fn dx_column(c: u32, mean: f32, invstd: f32, sum_dy_xhat: f32, sum_dy: f32, n: f32) {
    let k = s3[c] * invstd / n;
    let end = p.rows * p.cols;
    var i = c;
    while (i < end) {
        let xhat = (s1[i] - mean) * invstd;
        s5[i] = k * (n * s4[i] - sum_dy - xhat * sum_dy_xhat);
        i += p.cols;
    }
}

// bn_backward, four columns an invocation (cols % 4 == 0).
@compute @workgroup_size(64)
fn bn_backward4(@builtin(global_invocation_id) gid: vec3<u32>) {
    let c = gid.x;
    let cols = p.cols / 4u;
    if (c >= cols) { return; }
    let mean = v2[c];
    let invstd = inverseSqrt(v2[cols + c] + vec4<f32>(p.eps));
    let end = p.rows * cols;
    var sum_dy = vec4<f32>(0.0);
    var sum_dy_xhat = vec4<f32>(0.0);
    var i = c;
    while (i < end) {
        let dy = v4[i];
        sum_dy += dy;
        sum_dy_xhat += dy * ((v1[i] - mean) * invstd);
        i += cols;
    }
    let n = f32(p.rows);
    let k = v3[c] * invstd / n;
    i = c;
    while (i < end) {
        let xhat = (v1[i] - mean) * invstd;
        v5[i] = k * (n * v4[i] - sum_dy - xhat * sum_dy_xhat);
        i += cols;
    }
    v6[c] = sum_dy_xhat;
    v7[c] = sum_dy;
}

// Synchronized batch norm: each rank holds a shard of the batch; the host sums each
// entry's per-column results across ranks between the launches.

// A shard's share of a batch moment, one invocation per column: the mean (Σx / total)
// into s2[c], or, centered, the biased variance about the whole batch's mean
// (Σ(x − mean)² / total) into s2[cols + c]. s1 = x, s2 = batch statistics [2·cols].
@compute @workgroup_size(64)
fn bn_moments(@builtin(global_invocation_id) gid: vec3<u32>) {
    let c = gid.x;
    if (c >= p.cols) { return; }
    let end = p.rows * p.cols;
    var acc = 0.0;
    var i = c;
    if (p.centered == 0u) {
        while (i < end) {
            acc += s1[i];
            i += p.cols;
        }
        s2[c] = acc / f32(p.total);
    } else {
        let mean = s2[c];
        while (i < end) {
            let d = s1[i] - mean;
            acc += d * d;
            i += p.cols;
        }
        s2[p.cols + c] = acc / f32(p.total);
    }
}

// bn_train with the batch statistics given (already summed across ranks): the moving
// statistics' EWMA and the output. Bindings as bn_train; s5 is read.
@compute @workgroup_size(64)
fn bn_normalize(@builtin(global_invocation_id) gid: vec3<u32>) {
    let c = gid.x;
    if (c >= p.cols) { return; }
    normalize_column(c, s5[c], s5[p.cols + c]);
}

// A shard's Σ dy·x̂ and Σ dy per column, into the sums the host adds up across ranks and
// into dgamma and dbeta (the shard's share of their gradients).
// s1 = x, s2 = batch statistics, s3 = sums [2·cols], s4 = dy, s5 = dgamma, s6 = dbeta.
@compute @workgroup_size(64)
fn bn_backward_sums(@builtin(global_invocation_id) gid: vec3<u32>) {
    let c = gid.x;
    if (c >= p.cols) { return; }
    let sums = column_sums(c, s2[c], inverseSqrt(s2[p.cols + c] + p.eps));
    s3[c] = sums.x;
    s3[p.cols + c] = sums.y;
    s5[c] = sums.x;
    s6[c] = sums.y;
}

// dx from the whole batch's sums, as bn_backward with n = total.
// s1 = x, s2 = batch statistics, s3 = gamma, s4 = dy, s5 = dx, s6 = sums (Σ dy·x̂, Σ dy).
@compute @workgroup_size(64)
fn bn_backward_dx(@builtin(global_invocation_id) gid: vec3<u32>) {
    let c = gid.x;
    if (c >= p.cols) { return; }
    let invstd = inverseSqrt(s2[p.cols + c] + p.eps);
    dx_column(c, s2[c], invstd, s6[c], s6[p.cols + c], f32(p.total));
}
