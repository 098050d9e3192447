// Keras RMSprop (rmsprop_common.wgsl), neither momentum nor centered.
@compute @workgroup_size(256)
fn rmsprop_update(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
) {
    let i = element(wid, lid, nwg);
    if (!in_tensor(i)) { return; }
    let w = read_w(i);
    w4[i] = keep(i, w, decayed(w) - rms_increment(i, clipped_grad(i), false, vec4<f32>(0.0)));
}
