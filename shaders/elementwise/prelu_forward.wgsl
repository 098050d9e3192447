// Keras PReLU: y = relu(x) − alpha·relu(−x), alpha per column. n = rows·cols.
@compute @workgroup_size(256)
fn prelu_forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat(gid, nwg);
    if (i >= p.n) { return; }
    let v = x[i];
    y[i] = max(v, 0.0) + alpha[i % p.cols] * min(v, 0.0);
}
