// Batch normalization over the feature (last) axis, as Keras computes it:
// biased batch variance, y = (x − mean)·inv + beta with inv = gamma/sqrt(var + eps),
// moving = moving·momentum + batch·(1 − momentum).
// One invocation per feature column; the batch is reduced in two passes (mean, then the
// mean of squared deviations) so a large common offset does not cancel the variance.

struct Params {
    rows: u32,
    cols: u32,
    pad0: u32,
    pad1: u32,
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
@group(0) @binding(8) var<storage, read_write> s8: array<f32>;

// s1 = x, s2 = mean [cols], s3 = var [cols], s4 = moving mean, s5 = moving var: the
// batch statistics, and the EWMA of the moving ones in the same pass.
@compute @workgroup_size(64)
fn bn_stats(@builtin(global_invocation_id) gid: vec3<u32>) {
    let c = gid.x;
    if (c >= p.cols) { return; }
    var sum = 0.0;
    for (var r = 0u; r < p.rows; r++) { sum += s1[r * p.cols + c]; }
    let mean = sum / f32(p.rows);
    var sq = 0.0;
    for (var r = 0u; r < p.rows; r++) {
        let d = s1[r * p.cols + c] - mean;
        sq += d * d;
    }
    let variance = sq / f32(p.rows);
    s2[c] = mean;
    s3[c] = variance;
    s4[c] = s4[c] * p.momentum + mean * (1.0 - p.momentum);
    s5[c] = s5[c] * p.momentum + variance * (1.0 - p.momentum);
}

// s1 = x, s2 = mean, s3 = var, s4 = gamma, s5 = beta, s6 = y.
// Training passes the batch statistics, inference the moving ones.
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
// s1 = x, s2 = mean, s3 = var, s4 = gamma, s5 = dy, s6 = dx, s7 = dgamma, s8 = dbeta
@compute @workgroup_size(64)
fn bn_backward(@builtin(global_invocation_id) gid: vec3<u32>) {
    let c = gid.x;
    if (c >= p.cols) { return; }
    let mean = s2[c];
    let invstd = inverseSqrt(s3[c] + p.eps);
    var sum_dy = 0.0;
    var sum_dy_xhat = 0.0;
    for (var r = 0u; r < p.rows; r++) {
        let i = r * p.cols + c;
        let xhat = (s1[i] - mean) * invstd;
        sum_dy += s5[i];
        sum_dy_xhat += s5[i] * xhat;
    }
    let n = f32(p.rows);
    let k = s4[c] * invstd / n;
    for (var r = 0u; r < p.rows; r++) {
        let i = r * p.cols + c;
        let xhat = (s1[i] - mean) * invstd;
        s6[i] = k * (n * s5[i] - sum_dy - xhat * sum_dy_xhat);
    }
    s7[c] = sum_dy_xhat;
    s8[c] = sum_dy;
}
