// Gradient statistics (squared L2 norm and a non-finite guard) and clip factors, run
// before the optimizer's update kernels.
//
// The step buffer is the step record: [step (u32), batch offset (u32), learning rate (f32),
// unused, optimizer scalars ×4 (f32)].
// The stats buffer holds, per parameter tensor t, [‖g‖² of the last step,
// Σ‖g‖ over the steps since the last reset, first step whose gradient was non-finite
// (u32 bits; 0xffffffff while none)].

struct Params {
    n: u32,
    slot: u32,
    mode: u32, // clip_scale: CLIP_* below
    pad: u32,
    threshold: f32,
    pad1: f32,
    pad2: f32,
    pad3: f32,
}

const CLIP_NONE: u32 = 0u;
const CLIP_PER_TENSOR_NORM: u32 = 1u;
const CLIP_GLOBAL_NORM: u32 = 2u;
const NO_STEP: u32 = 0xffffffffu;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> s1: array<f32>;
@group(0) @binding(2) var<storage, read_write> s2: array<f32>;
@group(0) @binding(3) var<storage, read_write> s3: array<u32>;
// grad_stats reads its gradient as vec4s (buffers are padded to whole vec4s).
@group(0) @binding(4) var<storage, read_write> g4: array<vec4<f32>>;

var<workgroup> partial: array<f32, 256>;
var<workgroup> bad: array<u32, 256>;

// One workgroup per tensor. g4 = gradient [n] as vec4s, s2 = stats, s3 = step record
@compute @workgroup_size(256)
fn grad_stats(@builtin(local_invocation_id) lid: vec3<u32>) {
    var acc = vec4<f32>(0.0);
    var nonfinite = 0u;
    let n4 = (p.n + 3u) / 4u;
    for (var i = lid.x; i < n4; i += 256u) {
        // Lanes past the tensor (stale padding of a reused buffer) count as zeros.
        let lanes = vec4<u32>(i * 4u) + vec4<u32>(0u, 1u, 2u, 3u);
        let g = select(vec4<f32>(0.0), g4[i], lanes < vec4<u32>(p.n));
        acc += g * g;
        let bits = bitcast<vec4<u32>>(g) & vec4<u32>(0x7f800000u);
        if (any(bits == vec4<u32>(0x7f800000u))) { nonfinite = 1u; }
    }
    partial[lid.x] = acc.x + acc.y + acc.z + acc.w;
    bad[lid.x] = nonfinite;
    workgroupBarrier();
    for (var stride = 128u; stride > 0u; stride = stride / 2u) {
        if (lid.x < stride) {
            partial[lid.x] += partial[lid.x + stride];
            bad[lid.x] = bad[lid.x] | bad[lid.x + stride];
        }
        workgroupBarrier();
    }
    if (lid.x == 0u) {
        let base = 3u * p.slot;
        s2[base] = partial[0];
        s2[base + 1u] = s2[base + 1u] + sqrt(partial[0]);
        if (bad[0] != 0u && bitcast<u32>(s2[base + 2u]) == NO_STEP) {
            s2[base + 2u] = bitcast<f32>(s3[0]);
        }
    }
}

// Single invocation. n = tensor count. s1 = stats, s2 = scales [n]
@compute @workgroup_size(1)
fn clip_scale() {
    let c = p.threshold;
    if (p.mode == CLIP_GLOBAL_NORM) {
        var total = 0.0;
        for (var t = 0u; t < p.n; t++) { total += s1[3u * t]; }
        let norm = sqrt(total);
        // Keras: g · c·min(1/N, 1/c); a non-finite N poisons every gradient.
        let factor = c * min(1.0 / norm, 1.0 / c);
        for (var t = 0u; t < p.n; t++) { s2[t] = factor; }
    } else {
        for (var t = 0u; t < p.n; t++) {
            if (p.mode == CLIP_PER_TENSOR_NORM) {
                s2[t] = c / max(sqrt(s1[3u * t]), c);
            } else {
                s2[t] = 1.0;
            }
        }
    }
}
