// Keras Adagrad (keras/src/optimizers/adagrad.py): acc ← acc + g²;
// w ← w − lr·g / sqrt(acc + ε).

@compute @workgroup_size(256)
fn adagrad_update(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
) {
    let i = element(wid, lid, nwg);
    if (!in_tensor(i)) { return; }
    let g = clipped_grad(i);
    let acc = accumulator4[i] + g * g;
    accumulator4[i] = keep(i, accumulator4[i], acc);
    w4[i] = keep(i, w4[i], weight(i) - learning_rate() * g / sqrt(acc + p.epsilon));
}
