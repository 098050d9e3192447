// Keras Adagrad (keras/src/optimizers/adagrad.py): acc ← acc + g²;
// w ← w − lr·g / sqrt(acc + ε).

// Vec4 i of the arenas (walk_chunk, common.wgsl, calls it for each of an invocation's).
fn update_vec4(i: u32) {
    let g = clipped_grad(i);
    let acc0 = read_accumulator(i);
    let acc = acc0 + g * g;
    accumulator4[i] = keep(i, acc0, acc);
    let w = read_w(i);
    w4[i] = keep(i, w, decayed(w) - learning_rate() * g / sqrt(acc + p.epsilon));
}

@compute @workgroup_size(64)
fn adagrad_update(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
) {
    walk_chunk(wid, lid, nwg);
}
