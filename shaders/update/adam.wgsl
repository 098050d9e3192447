// Keras Adam (keras/src/optimizers/adam.py): the moments and step of adam_moments.wgsl.

@compute @workgroup_size(256)
fn adam_update(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
) {
    let i = element(wid, lid, nwg);
    if (!in_tensor(i)) { return; }
    let g = clipped_grad(i);
    adam_step(i, first_moment(i, g), second_moment(i, g));
}
