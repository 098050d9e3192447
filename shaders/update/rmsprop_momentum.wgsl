// Keras RMSprop (rmsprop_common.wgsl) with momentum.
// Vec4 i of the arenas (walk_chunk, common.wgsl, calls it for each of an invocation's).
fn update_vec4(i: u32) {
    let m0 = read_momentum(i);
    let m = step_scalar(0u) * m0 + rms_increment(i, clipped_grad(i), false, vec4<f32>(0.0));
    momentum4[i] = keep(i, m0, m);
    let w = read_w(i);
    w4[i] = keep(i, w, decayed(w) - m);
}

@compute @workgroup_size(64)
fn rmsprop_momentum_update(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
) {
    walk_chunk(wid, lid, nwg);
}
