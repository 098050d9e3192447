// Batch norm over many rows and few columns (a convolution's channels: N·H·W rows): a
// workgroup takes a group of four columns and its ROW_LANES lanes split the rows, each
// walking every ROW_LANES-th row from its own, and their partial sums meet in workgroup
// memory. The per-column entries give a column group one lane, so 32 channels kept one
// SIMD lane group of one core busy (llvmpipe) while the other core idled.
const ROW_LANES: u32 = 64u;

var<workgroup> lane_parts: array<vec4<f32>, ROW_LANES>;

// The sum of every lane's `v`, the same in every lane (each adds the parts in the same
// order, so all lanes agree to the bit).
fn lanes_sum(v: vec4<f32>, lane: u32) -> vec4<f32> {
    lane_parts[lane] = v;
    workgroupBarrier();
    var total = vec4<f32>(0.0);
    for (var l = 0u; l < ROW_LANES; l++) {
        total += lane_parts[l];
    }
    // Every lane has read the parts before any lane writes the next ones.
    workgroupBarrier();
    return total;
}
