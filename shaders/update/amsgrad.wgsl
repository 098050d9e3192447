// Keras Adam with AMSGrad (keras/src/optimizers/adam.py): v̂ ← max(v̂, v) replaces v in
// Adam's step, w ← w − m·alpha / (sqrt(v̂) + ε).

// Vec4 i of the arenas (walk_chunk, common.wgsl, calls it for each of an invocation's).
fn update_vec4(i: u32) {
    let g = clipped_grad(i);
    let m = first_moment(i, g);
    let vh0 = read_velocity_hat(i);
    let v_hat = max(vh0, second_moment(i, g));
    velocity_hat4[i] = keep(i, vh0, v_hat);
    adam_step(i, m, v_hat);
}

@compute @workgroup_size(64)
fn amsgrad_update(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
) {
    walk_chunk(wid, lid, nwg);
}
