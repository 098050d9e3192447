// Gradient statistics, first pass, over a gradient arena: per segment of each tensor its
// sum of squares and whether it holds a non-finite value, into the partials (2 words a
// segment: [Σ g², non-finite flag (u32 bits)]). Declared before this file (generated from
// Rust): `p` (GradStatsParams: n = rows of the table, mode, first_segment, threshold),
// `grads` (the arena; `grads4` its vec4s), `partials`, and `table`: per segment (first
// vec4, words of the tensor from there, slot, 0).

// Words of a tensor one workgroup reduces (Rust: grad_stats::SEGMENT).
const SEGMENT: u32 = 16384u;

var<workgroup> partial: array<f32, 64>;
var<workgroup> bad: array<u32, 64>;

// One workgroup of 64 per segment (16384 words of one tensor; 64 vec4s a lane): few
// workgroups and barriers, which is what a CPU adapter pays for.
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
            let g = select(vec4<f32>(0.0), grads4[row.x + i], lanes < vec4<u32>(row.y));
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
        partials[at] = partial[0];
        partials[at + 1u] = bitcast<f32>(bad[0]);
    }
}
