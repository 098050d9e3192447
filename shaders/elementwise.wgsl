// Element-wise and row-wise kernels: activations (forward and backward), bias add and its
// gradient, PReLU, softmax, and plain add/scale.
//
// Activation codes: the ACT_* constants below, checked against `ActKind::code` by
// tests/contracts.rs. Parameters: leaky_relu f0 = slope, rrelu f0 = lower and f1 = upper,
// elu f0 = alpha.
// Gradient conventions follow TensorFlow/Keras (see docs/semantics.md): relu'(0) = 0,
// leaky'(0) = slope, elu'(0) = alpha, selu'(0) = scale, tanh and sigmoid derivatives are
// computed from the float32 output.

struct Params {
    n: u32,     // element count (or rows for row-wise kernels)
    cols: u32,
    code: u32,  // activation code
    flags: u32, // bit 0: training mode (RReLU draws slopes); bits 8..: RReLU layer seed
    f0: f32,
    f1: f32,
    f2: f32,
    f3: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> s1: array<f32>;
@group(0) @binding(2) var<storage, read_write> s2: array<f32>;
@group(0) @binding(3) var<storage, read_write> s3: array<f32>;
@group(0) @binding(4) var<storage, read_write> s4: array<f32>;
@group(0) @binding(5) var<storage, read_write> s5: array<f32>;

const ACT_LINEAR: u32 = 0u;
const ACT_RELU: u32 = 1u;
const ACT_LEAKY_RELU: u32 = 2u;
const ACT_RRELU: u32 = 3u;
const ACT_ELU: u32 = 4u;
const ACT_SELU: u32 = 5u;
const ACT_TANH: u32 = 6u;
const ACT_SIGMOID: u32 = 7u;
const ACT_SOFTMAX: u32 = 8u;

const SELU_ALPHA: f32 = 1.6732632423543772;
const SELU_SCALE: f32 = 1.0507009873554805;

// Flattened invocation index for 2-D dispatches of 256-wide workgroups.
fn flat(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
    return gid.x + gid.y * nwg.x * 256u;
}

// PCG hash: a counter-based generator, so the backward pass regenerates the
// slopes the forward pass drew without storing them.
fn pcg(v: u32) -> u32 {
    let state = v * 747796405u + 2891336453u;
    let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
    return (word >> 22u) ^ word;
}

fn uniform01(seed: u32, step: u32, i: u32) -> f32 {
    let h = pcg(seed ^ pcg(step ^ pcg(i)));
    return f32(h >> 8u) * (1.0 / 16777216.0);
}

// Slope an RReLU applies to negative inputs at element i: drawn per element and per
// step while training, the mean slope at inference.
fn rrelu_slope(i: u32, step: u32) -> f32 {
    if ((p.flags & 1u) == 0u) {
        return (p.f0 + p.f1) * 0.5;
    }
    let seed = p.flags >> 8u;
    return p.f0 + (p.f1 - p.f0) * uniform01(seed, step, i);
}

fn act(x: f32, i: u32, step: u32) -> f32 {
    switch p.code {
        case ACT_RELU: { return max(x, 0.0); }
        case ACT_LEAKY_RELU: { return select(p.f0 * x, x, x > 0.0); }
        case ACT_RRELU: {
            if (x >= 0.0) { return x; }
            return rrelu_slope(i, step) * x;
        }
        case ACT_ELU: { return select(p.f0 * (exp(x) - 1.0), x, x > 0.0); }
        case ACT_SELU: { return select(SELU_SCALE * SELU_ALPHA * (exp(x) - 1.0), SELU_SCALE * x, x > 0.0); }
        // Clamp: tanh(±20) is ±1 in float32, and large arguments overflow exp inside tanh.
        case ACT_TANH: { return tanh(clamp(x, -20.0, 20.0)); }
        case ACT_SIGMOID: { return 1.0 / (1.0 + exp(-x)); }
        default: { return x; }
    }
}

fn act_grad(x: f32, y: f32, i: u32, step: u32) -> f32 {
    switch p.code {
        case ACT_RELU: { return select(0.0, 1.0, x > 0.0); }
        case ACT_LEAKY_RELU: { return select(p.f0, 1.0, x > 0.0); }
        case ACT_RRELU: {
            if ((p.flags & 1u) != 0u) {
                if (x >= 0.0) { return 1.0; }
                return rrelu_slope(i, step);
            }
            return select(rrelu_slope(i, step), 1.0, x > 0.0);
        }
        case ACT_ELU: { return select(p.f0 * exp(x), 1.0, x > 0.0); }
        case ACT_SELU: { return select(SELU_SCALE * SELU_ALPHA * exp(x), SELU_SCALE, x >= 0.0); }
        case ACT_TANH: { return 1.0 - y * y; }
        case ACT_SIGMOID: { return y * (1.0 - y); }
        default: { return 1.0; }
    }
}

// s1 = x, s2 = y, s3 = step
@compute @workgroup_size(256)
fn act_forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat(gid, nwg);
    if (i >= p.n) { return; }
    var step = 0u;
    if (p.code == ACT_RRELU) { step = bitcast<u32>(s3[0]); }
    s2[i] = act(s1[i], i, step);
}

// s1 = x, s2 = y, s3 = dy, s4 = dx, s5 = step
@compute @workgroup_size(256)
fn act_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat(gid, nwg);
    if (i >= p.n) { return; }
    var step = 0u;
    if (p.code == ACT_RRELU) { step = bitcast<u32>(s5[0]); }
    s4[i] = s3[i] * act_grad(s1[i], s2[i], i, step);
}

// s1 = x [n = rows*cols], s2 = bias [cols], s3 = y
@compute @workgroup_size(256)
fn bias_add(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat(gid, nwg);
    if (i >= p.n) { return; }
    s3[i] = s1[i] + s2[i % p.cols];
}

// Column sums (the bias gradient). n = rows. s1 = dy, s2 = db [cols]
@compute @workgroup_size(256)
fn column_sum(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let c = flat(gid, nwg);
    if (c >= p.cols) { return; }
    var acc = 0.0;
    for (var r = 0u; r < p.n; r++) {
        acc += s1[r * p.cols + c];
    }
    s2[c] = acc;
}

// s1 = a, s2 = b, s3 = a + b
@compute @workgroup_size(256)
fn add(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat(gid, nwg);
    if (i >= p.n) { return; }
    s3[i] = s1[i] + s2[i];
}

// s1 = x, s2 = f0 * x
@compute @workgroup_size(256)
fn scale(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat(gid, nwg);
    if (i >= p.n) { return; }
    s2[i] = p.f0 * s1[i];
}

// Keras PReLU: y = relu(x) - alpha * relu(-x). n = rows*cols. s1 = x, s2 = alpha [cols], s3 = y
@compute @workgroup_size(256)
fn prelu_forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat(gid, nwg);
    if (i >= p.n) { return; }
    let x = s1[i];
    s3[i] = max(x, 0.0) + s2[i % p.cols] * min(x, 0.0);
}

// One invocation per column: dx for that column and dalpha = Σ_rows dy·min(x, 0).
// Keras's gradient at x == 0 is 0 (both relu gradients vanish there).
// n = rows. s1 = x, s2 = alpha, s3 = dy, s4 = dx, s5 = dalpha
@compute @workgroup_size(256)
fn prelu_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let c = flat(gid, nwg);
    if (c >= p.cols) { return; }
    let alpha = s2[c];
    var da = 0.0;
    for (var r = 0u; r < p.n; r++) {
        let i = r * p.cols + c;
        let x = s1[i];
        let dy = s3[i];
        var g = 0.0;
        if (x > 0.0) { g = 1.0; } else if (x < 0.0) { g = alpha; }
        s4[i] = dy * g;
        da += dy * min(x, 0.0);
    }
    s5[c] = da;
}

// Row-wise softmax (numerically stable). n = rows. s1 = x, s2 = y
@compute @workgroup_size(256)
fn softmax_forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let r = flat(gid, nwg);
    if (r >= p.n) { return; }
    let base = r * p.cols;
    var mx = s1[base];
    for (var c = 1u; c < p.cols; c++) { mx = max(mx, s1[base + c]); }
    var sum = 0.0;
    for (var c = 0u; c < p.cols; c++) {
        let e = exp(s1[base + c] - mx);
        s2[base + c] = e;
        sum += e;
    }
    let inv = 1.0 / sum;
    for (var c = 0u; c < p.cols; c++) { s2[base + c] = s2[base + c] * inv; }
}

// dx = y ⊙ (dy − Σ dy·y). n = rows. s1 = y, s2 = dy, s3 = dx
@compute @workgroup_size(256)
fn softmax_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let r = flat(gid, nwg);
    if (r >= p.n) { return; }
    let base = r * p.cols;
    var dot = 0.0;
    for (var c = 0u; c < p.cols; c++) { dot += s1[base + c] * s2[base + c]; }
    for (var c = 0u; c < p.cols; c++) { s3[base + c] = s1[base + c] * (s2[base + c] - dot); }
}
