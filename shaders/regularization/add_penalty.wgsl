// The penalty (the sum of its partials) times the batch rows, added to the metrics' loss
// sum, so the reported loss is the batch-mean loss plus the penalty, as Keras reports it.
// `p` (PenaltyParams: n = partial sums, rows). One workgroup.

var<workgroup> lane_sums: array<f32, 64>;

@compute @workgroup_size(64)
fn add_penalty(@builtin(local_invocation_id) lid: vec3<u32>) {
    var sum = 0.0;
    for (var c = lid.x; c < p.n; c += 64u) { sum += partials[c]; }
    lane_sums[lid.x] = sum;
    workgroupBarrier();
    for (var s = 32u; s > 0u; s = s / 2u) {
        if (lid.x < s) { lane_sums[lid.x] += lane_sums[lid.x + s]; }
        workgroupBarrier();
    }
    if (lid.x == 0u) { metrics[0] = metrics[0] + lane_sums[0] * f32(p.rows); }
}
