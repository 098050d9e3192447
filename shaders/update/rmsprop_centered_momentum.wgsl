// Keras RMSprop (rmsprop_common.wgsl), centered, with momentum.
@compute @workgroup_size(256)
fn rmsprop_centered_momentum_update(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
) {
    let i = element(wid, lid, nwg);
    if (!in_tensor(i)) { return; }
    let g = clipped_grad(i);
    let avg = new_average(average_gradient4[i], g);
    average_gradient4[i] = keep(i, average_gradient4[i], avg);
    let m = step_scalar(0u) * momentum4[i] + rms_increment(i, g, true, avg);
    momentum4[i] = keep(i, momentum4[i], m);
    w4[i] = keep(i, w4[i], weight(i) - m);
}
