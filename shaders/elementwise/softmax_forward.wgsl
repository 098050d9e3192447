// Row-wise softmax (numerically stable), one invocation per row. n = rows.
@compute @workgroup_size(256)
fn softmax_forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let r = flat(gid, nwg);
    if (r >= p.n) { return; }
    let base = r * p.cols;
    var mx = x[base];
    for (var c = 1u; c < p.cols; c++) { mx = max(mx, x[base + c]); }
    var sum = 0.0;
    for (var c = 0u; c < p.cols; c++) {
        let e = exp(x[base + c] - mx);
        y[base + c] = e;
        sum += e;
    }
    let inv = 1.0 / sum;
    for (var c = 0u; c < p.cols; c++) { y[base + c] = y[base + c] * inv; }
}
