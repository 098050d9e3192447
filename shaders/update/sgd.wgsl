// Keras SGD (keras/src/optimizers/sgd.py) without momentum: w ← w − lr·g.

@compute @workgroup_size(256)
fn sgd_update(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
) {
    let i = element(wid, lid, nwg);
    if (!in_tensor(i)) { return; }
    let w = read_w(i);
    w4[i] = keep(i, w, decayed(w) - learning_rate() * clipped_grad(i));
}
