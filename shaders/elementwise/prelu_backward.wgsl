// PReLU backward, one invocation per column: dx for that column and
// dalpha = Σ_rows dy·min(x, 0). Keras's gradient at x == 0 is 0 (both relu gradients
// vanish there). n = rows.
@compute @workgroup_size(256)
fn prelu_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let c = flat(gid, nwg);
    if (c >= p.cols) { return; }
    let a = alpha[c];
    var da = 0.0;
    for (var r = 0u; r < p.n; r++) {
        let i = r * p.cols + c;
        let v = x[i];
        let g = dy[i];
        var slope = 0.0;
        if (v > 0.0) { slope = 1.0; } else if (v < 0.0) { slope = a; }
        dx[i] = g * slope;
        da += g * min(v, 0.0);
    }
    dalpha[c] = da;
}
