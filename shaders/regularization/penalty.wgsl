// L1/L2 weight penalties (Keras's regularizers) over the weight and gradient arenas: each
// gradient gains l1·sign(w) + 2·l2·w (sign(0) = 0, as TensorFlow's), and each chunk's
// penalty Σ l1·|w| + l2·w² goes into the partial sums. Declared before this file
// (generated from Rust): `p` (PenaltyParams: n = rows of the table, first = where this
// launch's partial sums start), `w4` and `grad4` (the arenas as vec4s), `partials`, and
// `table`: per chunk of 1024 words (first vec4, words of the tensor from there, l1 bits,
// l2 bits). One workgroup per chunk, a vec4 an invocation.

var<workgroup> lane_sums: array<f32, 256>;

@compute @workgroup_size(256)
fn penalty(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
) {
    let c = wid.x + wid.y * nwg.x;
    var sum = 0.0;
    if (c < p.n) {
        let row = table[c];
        let i = row.x + lid.x;
        let lanes = vec4<u32>(lid.x * 4u) + vec4<u32>(0u, 1u, 2u, 3u);
        let inside = lanes < vec4<u32>(row.y);
        if (lid.x * 4u < row.y) {
            let l1 = bitcast<f32>(row.z);
            let l2 = bitcast<f32>(row.w);
            let w = select(vec4<f32>(0.0), w4[i], inside);
            grad4[i] = select(grad4[i], grad4[i] + l1 * sign(w) + 2.0 * l2 * w, inside);
            let s = l1 * abs(w) + l2 * w * w;
            sum = s.x + s.y + s.z + s.w;
        }
    }
    lane_sums[lid.x] = sum;
    workgroupBarrier();
    for (var s = 128u; s > 0u; s = s / 2u) {
        if (lid.x < s) { lane_sums[lid.x] += lane_sums[lid.x + s]; }
        workgroupBarrier();
    }
    if (lid.x == 0u && c < p.n) { partials[p.first + c] = lane_sums[0]; }
}
