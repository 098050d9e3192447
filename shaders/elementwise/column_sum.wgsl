// Column sums (a bias gradient), one invocation per column. n = rows.
@compute @workgroup_size(256)
fn column_sum(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let c = flat(gid, nwg);
    if (c >= p.cols) { return; }
    var acc = 0.0;
    for (var rb = 0u; rb < p.n; rb += ROW_UNROLL) {
        for (var u = 0u; u < ROW_UNROLL; u++) {
            let r = rb + u;
            if (r < p.n) {
                acc += x[r * p.cols + c];
            }
        }
    }
    sums[c] = acc;
}
