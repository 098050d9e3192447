// Dropout's backward: the kept elements' gradients times the scale, the mask regenerated
// from the same draws. One invocation per element.
@compute @workgroup_size(256)
fn dropout_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat(gid, nwg);
    if (i >= p.n) { return; }
    dx[i] = select(0.0, dy[i] * p.scale, kept(i));
}

// Four elements an invocation through vec4 views (p.n % 4 == 0), as dropout4.
@compute @workgroup_size(256)
fn dropout_backward4(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let v = flat(gid, nwg);
    if (v >= p.n / 4u) { return; }
    dx4[v] = select(vec4<f32>(0.0), dy4[v] * p.scale, kept4(v));
}
