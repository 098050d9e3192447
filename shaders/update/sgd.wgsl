// Keras SGD (keras/src/optimizers/sgd.py) without momentum: w ← w − lr·g.

// Vec4 i of the arenas (walk_chunk, common.wgsl, calls it for each of an invocation's).
fn update_vec4(i: u32) {
    let w = read_w(i);
    w4[i] = keep(i, w, decayed(w) - learning_rate() * clipped_grad(i));
}

@compute @workgroup_size(64)
fn sgd_update(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
) {
    walk_chunk(wid, lid, nwg);
}
