// Element-wise and row-wise kernels: activations (forward and backward; the functions
// themselves are in activation.wgsl, prepended), bias add and its gradient, PReLU, softmax,
// and plain add/scale.

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
// bias_act_backward4's vec4 views of y, dy, dz and db (the step stays s5).
@group(0) @binding(6) var<storage, read_write> v1: array<vec4<f32>>;
@group(0) @binding(7) var<storage, read_write> v2: array<vec4<f32>>;
@group(0) @binding(8) var<storage, read_write> v3: array<vec4<f32>>;
@group(0) @binding(9) var<storage, read_write> v4: array<vec4<f32>>;

// bias_act_backward4's activation code, fixed per pipeline (equal to p.code), so the
// derivative compiles to the one activation instead of a switch per element.
override BACK_ACT: u32 = 0u;

// Flattened invocation index for 2-D dispatches of 256-wide workgroups.
fn flat(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
    return gid.x + gid.y * nwg.x * 256u;
}

// The activation's parameters from this module's Params.
fn params_act() -> Act {
    return Act(p.code, p.flags, p.f0, p.f1);
}

// s1 = x, s2 = y, s3 = step
@compute @workgroup_size(256)
fn act_forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat(gid, nwg);
    if (i >= p.n) { return; }
    var step = 0u;
    if (p.code == ACT_RRELU) { step = bitcast<u32>(s3[0]); }
    s2[i] = act(params_act(), s1[i], i, step);
}

// s1 = x, s2 = y, s3 = dy, s4 = dx, s5 = step
@compute @workgroup_size(256)
fn act_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat(gid, nwg);
    if (i >= p.n) { return; }
    var step = 0u;
    if (p.code == ACT_RRELU) { step = bitcast<u32>(s5[0]); }
    s4[i] = s3[i] * act_grad(params_act(), s1[i], s2[i], i, step);
}

// The backward pass of a dense layer's fused bias + activation (matmul_* of dense.wgsl),
// from the output alone, one invocation per column: dz = f'(y)·dy, and the bias gradient
// db = Σ_rows dz. n = rows. s1 = y, s2 = dy, s3 = dz, s4 = db, s5 = step
@compute @workgroup_size(256)
fn bias_act_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let c = flat(gid, nwg);
    if (c >= p.cols) { return; }
    var step = 0u;
    if (p.code == ACT_RRELU) { step = bitcast<u32>(s5[0]); }
    let a = params_act();
    var acc = 0.0;
    for (var r = 0u; r < p.n; r++) {
        let i = r * p.cols + c;
        let dz = s2[i] * act_grad_from_output(a, s1[i], i, step);
        s3[i] = dz;
        acc += dz;
    }
    s4[c] = acc;
}

// bias_act_backward, four columns an invocation (cols % 4 == 0) through vec4 loads, the
// column walked by stepping an index (counted row loops hit an llvmpipe cliff at 32 rows
// elsewhere), the activation fixed by BACK_ACT. n = rows.
@compute @workgroup_size(64)
fn bias_act_backward4(@builtin(global_invocation_id) gid: vec3<u32>) {
    let c = gid.x;
    let cols = p.cols / 4u;
    if (c >= cols) { return; }
    var step = 0u;
    if (BACK_ACT == ACT_RRELU) { step = bitcast<u32>(s5[0]); }
    let a = Act(BACK_ACT, p.flags, p.f0, p.f1);
    let end = p.n * cols;
    var acc = vec4<f32>(0.0);
    var i = c;
    while (i < end) {
        let y = v1[i];
        let e = i * 4u;
        let d = vec4<f32>(
            act_grad_from_output(a, y.x, e, step),
            act_grad_from_output(a, y.y, e + 1u, step),
            act_grad_from_output(a, y.z, e + 2u, step),
            act_grad_from_output(a, y.w, e + 3u, step));
        let dz = v2[i] * d;
        v3[i] = dz;
        acc += dz;
        i += cols;
    }
    v4[c] = acc;
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
