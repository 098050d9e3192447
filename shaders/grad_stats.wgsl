// Gradient statistics (squared L2 norm and a non-finite guard) and clip factors over a
// gradient arena, run before the optimizer's update: two launches whatever the tensor
// count.
//
// The step buffer is the step record: [step (u32), batch offset (u32), learning rate (f32),
// unused, optimizer scalars ×4 (f32)].
// The stats buffer holds, per parameter tensor (slot) t, [‖g‖² of the last step,
// Σ‖g‖ over the steps since the last reset, first step whose gradient was non-finite
// (u32 bits; 0xffffffff while none)].
// The partials buffer holds, per chunk, [Σ g², non-finite flag (u32 bits)].

struct Params {
    n: u32,    // rows of the table
    mode: u32, // clip_scale: CLIP_* below
    first_chunk: u32, // grad_stats: the first chunk's index in the partials
    pad1: u32,
    threshold: f32,
    pad2: f32,
    pad3: f32,
    pad4: f32,
}

const CLIP_NONE: u32 = 0u;
const CLIP_PER_TENSOR_NORM: u32 = 1u;
const CLIP_GLOBAL_NORM: u32 = 2u;
const NO_STEP: u32 = 0xffffffffu;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> s1: array<f32>;
@group(0) @binding(2) var<storage, read_write> s2: array<f32>;
@group(0) @binding(3) var<storage, read_write> s3: array<f32>;
@group(0) @binding(4) var<storage, read_write> s4: array<vec4<f32>>;
// grad_stats: per chunk (first vec4, words of the tensor from there, slot, lr bits);
// clip_scale: per tensor (first chunk, chunks, slot, 0).
@group(0) @binding(15) var<storage, read> table: array<vec4<u32>>;

var<workgroup> partial: array<f32, 256>;
var<workgroup> bad: array<u32, 256>;

// One workgroup per chunk, one vec4 per invocation (no loop). s4 = gradient arena as
// vec4s, s1 = partials.
@compute @workgroup_size(256)
fn grad_stats(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
) {
    let c = wid.x + wid.y * nwg.x;
    var sq = 0.0;
    var nonfinite = 0u;
    if (c < p.n) {
        let row = table[c];
        let lanes = vec4<u32>(lid.x * 4u) + vec4<u32>(0u, 1u, 2u, 3u);
        if (lid.x * 4u < row.y) {
            // Lanes past the tensor (padding of the arena) count as zeros.
            let g = select(vec4<f32>(0.0), s4[row.x + lid.x], lanes < vec4<u32>(row.y));
            sq = dot(g, g);
            let bits = bitcast<vec4<u32>>(g) & vec4<u32>(0x7f800000u);
            if (any(bits == vec4<u32>(0x7f800000u))) { nonfinite = 1u; }
        }
    }
    partial[lid.x] = sq;
    bad[lid.x] = nonfinite;
    workgroupBarrier();
    for (var stride = 128u; stride > 0u; stride = stride / 2u) {
        if (lid.x < stride) {
            partial[lid.x] += partial[lid.x + stride];
            bad[lid.x] = bad[lid.x] | bad[lid.x + stride];
        }
        workgroupBarrier();
    }
    if (lid.x == 0u && c < p.n) {
        let at = 2u * (p.first_chunk + c);
        s1[at] = partial[0];
        s1[at + 1u] = bitcast<f32>(bad[0]);
    }
}

// Single invocation. s1 = partials, s2 = stats, s3 = scales, s4 = step record (as vec4s).
@compute @workgroup_size(1)
fn clip_scale() {
    let step = s4[0].x;
    var total = 0.0;
    for (var t = 0u; t < p.n; t++) {
        let row = table[t];
        var sq = 0.0;
        var nonfinite = 0u;
        for (var c = row.x; c < row.x + row.y; c++) {
            sq += s1[2u * c];
            nonfinite = nonfinite | bitcast<u32>(s1[2u * c + 1u]);
        }
        let base = 3u * row.z;
        s2[base] = sq;
        s2[base + 1u] = s2[base + 1u] + sqrt(sq);
        if (nonfinite != 0u && bitcast<u32>(s2[base + 2u]) == NO_STEP) {
            s2[base + 2u] = step;
        }
        total += sq;
    }
    let c = p.threshold;
    for (var t = 0u; t < p.n; t++) {
        let slot = table[t].z;
        if (p.mode == CLIP_GLOBAL_NORM) {
            // Keras: g · c·min(1/N, 1/c); a non-finite N poisons every gradient.
            s3[slot] = c * min(1.0 / sqrt(total), 1.0 / c);
        } else if (p.mode == CLIP_PER_TENSOR_NORM) {
            s3[slot] = c / max(sqrt(s2[3u * slot]), c);
        } else {
            s3[slot] = 1.0;
        }
    }
}
