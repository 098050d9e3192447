// Gradient statistics, second pass, and the clip factors, over the partials of
// grad_stats. Declared before this file (generated from Rust): `p` (GradStatsParams: n =
// rows of the table, mode = CLIP_* below, threshold), `partials`, `stats` (per tensor slot
// t: [‖g‖² of the last step, Σ‖g‖ over the steps since the last reset, first step whose
// gradient was non-finite (u32 bits; NO_STEP while none)]), `scales` (a clip factor per
// slot), the step record `step`, and `table`: per tensor (first segment, segments, slot,
// 0).

const CLIP_NONE: u32 = 0u;
const CLIP_PER_TENSOR_NORM: u32 = 1u;
const CLIP_GLOBAL_NORM: u32 = 2u;
const NO_STEP: u32 = 0xffffffffu;

// One workgroup; lane t sums the segments of tensors t, t + 64, … .
var<workgroup> lane_sq: array<f32, 64>;

@compute @workgroup_size(64)
fn clip_scale(@builtin(local_invocation_id) lid: vec3<u32>) {
    let now = bitcast<f32>(step[0]);
    var mine = 0.0;
    for (var t = lid.x; t < p.n; t += 64u) {
        let row = table[t];
        var sq = 0.0;
        var nonfinite = 0u;
        for (var c = row.x; c < row.x + row.y; c++) {
            sq += partials[2u * c];
            nonfinite = nonfinite | bitcast<u32>(partials[2u * c + 1u]);
        }
        let base = 3u * row.z;
        stats[base] = sq;
        stats[base + 1u] = stats[base + 1u] + sqrt(sq);
        if (nonfinite != 0u && bitcast<u32>(stats[base + 2u]) == NO_STEP) {
            stats[base + 2u] = now;
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
            scales[slot] = c * min(1.0 / sqrt(total), 1.0 / c);
        } else if (p.mode == CLIP_PER_TENSOR_NORM) {
            scales[slot] = c / max(sqrt(stats[3u * slot]), c);
        } else {
            scales[slot] = 1.0;
        }
    }
}
