// Synchronized batch norm: each rank holds a shard of the batch; the host sums each
// entry's per-column results across ranks between the launches.
//
// A shard's share of a batch moment, one invocation per column: the mean (Σx / total)
// into stats[c], or, centered, the biased variance about the whole batch's mean
// (Σ(x − mean)² / total) into stats[cols + c].
@compute @workgroup_size(64)
fn bn_moments(@builtin(global_invocation_id) gid: vec3<u32>) {
    let c = gid.x;
    if (c >= p.cols) { return; }
    let end = p.rows * p.cols;
    var acc = 0.0;
    var i = c;
    if (p.centered == 0u) {
        while (i < end) {
            for (var u = 0u; u < ROW_UNROLL; u++) {
                if (i < end) {
                        acc += x[i];
                        i += p.cols;
                }
            }
        }
        stats[c] = acc / f32(p.total);
    } else {
        let mean = stats[c];
        while (i < end) {
            for (var u = 0u; u < ROW_UNROLL; u++) {
                if (i < end) {
                        let d = x[i] - mean;
                        acc += d * d;
                        i += p.cols;
                }
            }
        }
        stats[p.cols + c] = acc / f32(p.total);
    }
}
