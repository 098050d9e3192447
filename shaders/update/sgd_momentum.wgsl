// Keras SGD (keras/src/optimizers/sgd.py) with momentum a (step scalar 0: the step's
// momentum, which a schedule may move): m ← a·m − lr·g and w ← w + m, or with Nesterov
// (flags bit 0) w ← w + a·m − lr·g with the new m.

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
    let a = step_scalar(0u);
    let m = a * momentum4[i] - lr * g;
    momentum4[i] = keep(i, momentum4[i], m);
    if ((p.flags & 1u) != 0u) {
        w4[i] = keep(i, w4[i], weight(i) + a * m - lr * g);
    } else {
        w4[i] = keep(i, w4[i], weight(i) + m);
    }
}
