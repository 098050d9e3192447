// Keras RMSprop (rmsprop_common.wgsl), centered.
@compute @workgroup_size(256)
fn rmsprop_centered_update(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
) {
    let i = element(wid, lid, nwg);
    if (!in_tensor(i)) { return; }
    let g = clipped_grad(i);
    let avg = new_average(average_gradient4[i], g);
    average_gradient4[i] = keep(i, average_gradient4[i], avg);
    w4[i] = keep(i, w4[i], weight(i) - rms_increment(i, g, true, avg));
}
