// Dropout's backward: the kept elements' gradients times the scale, the mask regenerated
// from the same draws. One invocation per element.
@compute @workgroup_size(256)
fn dropout_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat(gid, nwg);
    if (i >= p.n) { return; }
    dx[i] = select(0.0, dy[i] * p.scale, kept(i));
}
