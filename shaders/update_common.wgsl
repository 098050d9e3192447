// Shared by the optimizer update kernels (update_*.wgsl, each appended to this prelude):
// one invocation per four elements (a vec4) of one weight tensor; lanes past the tensor's
// end (buffers are padded to whole vec4s) compute but store nothing. Bindings: w, g, clip scales, the step
// record, then the rule's state tensors (Keras's optimizer variables) in order.
//
// The step record: [step (u32), batch offset (u32), learning rate (f32), unused,
// per-step optimizer scalars ×4 (f32)], written by the host once per step.

struct Params {
    n: u32,
    slot: u32,      // this tensor's index into the clip scales
    flags: u32,     // bit 0: nesterov (SGD)
    pad: u32,
    clipvalue: f32, // element-wise clip (0 = off)
    lr_mult: f32,   // per-layer learning-rate multiplier
    a: f32,         // the rule's first hyper-parameter (momentum, rho, beta_1, …)
    b: f32,         // second (beta_2, rho's momentum)
    epsilon: f32,
    pad1: f32,
    pad2: f32,
    pad3: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> w: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> grad: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> scales: array<f32>;
@group(0) @binding(4) var<storage, read_write> step: array<u32>;

// The vec4 index of this invocation.
fn element(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
    return gid.x + gid.y * nwg.x * 256u;
}

// Whether vec4 i holds any element of the tensor.
fn in_tensor(i: u32) -> bool {
    return i * 4u < p.n;
}

// `updated` in the lanes inside the tensor, `current` in the padding.
fn keep(i: u32, current: vec4<f32>, updated: vec4<f32>) -> vec4<f32> {
    let lanes = vec4<u32>(i * 4u) + vec4<u32>(0u, 1u, 2u, 3u);
    return select(current, updated, lanes < vec4<u32>(p.n));
}

// The gradient after norm clipping (a factor per tensor) and value clipping.
fn clipped_grad(i: u32) -> vec4<f32> {
    var g = grad[i] * scales[p.slot];
    if (p.clipvalue > 0.0) { g = clamp(g, vec4<f32>(-p.clipvalue), vec4<f32>(p.clipvalue)); }
    return g;
}

fn learning_rate() -> f32 {
    return bitcast<f32>(step[2]) * p.lr_mult;
}

// Per-step scalar k (0..3) the host computed for this step.
fn step_scalar(k: u32) -> f32 {
    return bitcast<f32>(step[4u + k]);
}
