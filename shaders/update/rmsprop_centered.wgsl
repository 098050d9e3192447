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
    let avg0 = read_average_gradient(i);
    let avg = new_average(avg0, g);
    average_gradient4[i] = keep(i, avg0, avg);
    let w = read_w(i);
    w4[i] = keep(i, w, decayed(w) - rms_increment(i, g, true, avg));
}
