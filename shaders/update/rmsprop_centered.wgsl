// Keras RMSprop (rmsprop_common.wgsl), centered.
// Vec4 i of the arenas (walk_chunk, common.wgsl, calls it for each of an invocation's).
fn update_vec4(i: u32) {
    let g = clipped_grad(i);
    let avg0 = read_average_gradient(i);
    let avg = new_average(avg0, g);
    average_gradient4[i] = keep(i, avg0, avg);
    let w = read_w(i);
    w4[i] = keep(i, w, decayed(w) - rms_increment(i, g, true, avg));
}

@compute @workgroup_size(64)
fn rmsprop_centered_update(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
) {
    walk_chunk(wid, lid, nwg);
}
