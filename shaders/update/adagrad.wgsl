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
    let acc0 = read_accumulator(i);
    let acc = acc0 + g * g;
    accumulator4[i] = keep(i, acc0, acc);
    let w = read_w(i);
    w4[i] = keep(i, w, decayed(w) - learning_rate() * g / sqrt(acc + p.epsilon));
}
