// Softmax backward from its output: dx = y ⊙ (dy − Σ dy·y), one invocation per row.
// n = rows.
@compute @workgroup_size(256)
fn softmax_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let r = flat(gid, nwg);
    if (r >= p.n) { return; }
    let base = r * p.cols;
    var dot = 0.0;
    for (var c = 0u; c < p.cols; c++) { dot += y[base + c] * dy[base + c]; }
    for (var c = 0u; c < p.cols; c++) { dx[base + c] = y[base + c] * (dy[base + c] - dot); }
}
