// Keras Adam (keras/src/optimizers/adam.py): the moments and step of adam_moments.wgsl.

// Vec4 i of the arenas (walk_chunk, common.wgsl, calls it for each of an invocation's).
fn update_vec4(i: u32) {
    let g = clipped_grad(i);
    adam_step(i, first_moment(i, g), second_moment(i, g));
}

@compute @workgroup_size(64)
fn adam_update(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
) {
    walk_chunk(wid, lid, nwg);
}
