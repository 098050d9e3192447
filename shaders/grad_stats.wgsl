// Gradient statistics (squared L2 norm and a non-finite guard) and clip factors over a
// gradient arena, run before the optimizer's update: two launches whatever the tensor
// count.
//
// The step buffer is the step record: [step (u32), batch offset (u32), learning rate (f32),
// unused, optimizer scalars ×4 (f32)].
// The stats buffer holds, per parameter tensor (slot) t, [‖g‖² of the last step,
// Σ‖g‖ over the steps since the last reset, first step whose gradient was non-finite
// (u32 bits; 0xffffffff while none)].
// The partials buffer holds, per segment, [Σ g², non-finite flag (u32 bits)].

struct Params {
    n: u32,    // rows of the table
    mode: u32, // clip_scale: CLIP_* below
    first_segment: u32, // grad_stats: its first segment's index in the partials
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
// grad_stats: per segment (first vec4, words of the tensor from there, slot, 0);
// clip_scale: per tensor (first segment, segments, slot, 0).
@group(0) @binding(15) var<storage, read> table: array<vec4<u32>>;

// Words of a tensor one grad_stats workgroup reduces (Rust: grad_stats::SEGMENT).
const SEGMENT: u32 = 16384u;

var<workgroup> partial: array<f32, 64>;
var<workgroup> bad: array<u32, 64>;

// One workgroup of 64 per segment (16384 words of one tensor; 64 vec4s a lane): few
// workgroups and barriers, which is what a CPU adapter pays for. s4 = gradient arena as
// vec4s, s1 = partials.
@compute @workgroup_size(64)
fn grad_stats(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
) {
    let seg = wid.x + wid.y * nwg.x;
    var acc = vec4<f32>(0.0);
    var nonfinite = 0u;
    if (seg < p.n) {
        let row = table[seg];
        let words = min(row.y, SEGMENT);
        for (var i = lid.x; i * 4u < words; i += 64u) {
            // Lanes past the tensor (padding of the arena) count as zeros.
            let lanes = vec4<u32>(i * 4u) + vec4<u32>(0u, 1u, 2u, 3u);
            let g = select(vec4<f32>(0.0), s4[row.x + i], lanes < vec4<u32>(row.y));
            acc += g * g;
            let bits = bitcast<vec4<u32>>(g) & vec4<u32>(0x7f800000u);
            if (any(bits == vec4<u32>(0x7f800000u))) { nonfinite = 1u; }
        }
    }
    partial[lid.x] = acc.x + acc.y + acc.z + acc.w;
    bad[lid.x] = nonfinite;
    workgroupBarrier();
    for (var stride = 32u; stride > 0u; stride = stride / 2u) {
        if (lid.x < stride) {
            partial[lid.x] += partial[lid.x + stride];
            bad[lid.x] = bad[lid.x] | bad[lid.x + stride];
        }
        workgroupBarrier();
    }
    if (lid.x == 0u && seg < p.n) {
        let at = 2u * (p.first_segment + seg);
        s1[at] = partial[0];
        s1[at + 1u] = bitcast<f32>(bad[0]);
    }
}

// One workgroup; lane t sums the segments of tensors t, t + 64, … . s1 = partials,
// s2 = stats, s3 = scales, s4 = step record (as vec4s).
var<workgroup> lane_sq: array<f32, 64>;

@compute @workgroup_size(64)
fn clip_scale(@builtin(local_invocation_id) lid: vec3<u32>) {
    let step = s4[0].x;
    var mine = 0.0;
    for (var t = lid.x; t < p.n; t += 64u) {
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
        mine += sq;
    }
    lane_sq[lid.x] = mine;
    workgroupBarrier();
    var total = 0.0;
    for (var i = 0u; i < 64u; i++) { total += lane_sq[i]; }
    let c = p.threshold;
    for (var t = lid.x; t < p.n; t += 64u) {
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
