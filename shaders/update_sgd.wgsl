// Keras SGD (keras/src/optimizers/sgd.py), a = momentum: plain (sgd_update):
// w ← w − lr·g; with momentum (sgd_momentum_update): m ← a·m − lr·g and w ← w + m, or with
// Nesterov (flags bit 0) w ← w + a·m − lr·g with the new m.

@group(0) @binding(5) var<storage, read_write> momentum: array<vec4<f32>>;

@compute @workgroup_size(256)
fn sgd_update(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
) {
    let i = element(wid, lid, nwg);
    if (!in_tensor(i)) { return; }
    w[i] = keep(i, w[i], w[i] - learning_rate() * clipped_grad(i));
}

@compute @workgroup_size(256)
fn sgd_momentum_update(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
) {
    let i = element(wid, lid, nwg);
    if (!in_tensor(i)) { return; }
    let g = clipped_grad(i);
    let lr = learning_rate();
    let m = p.a * momentum[i] - lr * g;
    momentum[i] = keep(i, momentum[i], m);
    if ((p.flags & 1u) != 0u) {
        w[i] = keep(i, w[i], w[i] + p.a * m - lr * g);
    } else {
        w[i] = keep(i, w[i], w[i] + m);
    }
}
