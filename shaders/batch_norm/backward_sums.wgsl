// Synchronized batch norm backward: a shard's Σ dy·x̂ and Σ dy per column, into the sums
// the host adds up across ranks and into dgamma and dbeta (the shard's share of their
// gradients).
@compute @workgroup_size(64)
fn bn_backward_sums(@builtin(global_invocation_id) gid: vec3<u32>) {
    let c = gid.x;
    if (c >= p.cols) { return; }
    let s = column_sums(c, stats[c], inverseSqrt(stats[p.cols + c] + p.eps));
    sums[c] = s.x;
    sums[p.cols + c] = s.y;
    dgamma[c] = s.x;
    dbeta[c] = s.y;
}
