// Dropout in training mode: kept values x·scale + shift, dropped ones `dropped` (inverted
// dropout: scale 1/(1 − rate); alpha dropout: Keras's affine a, b). One invocation per
// element.
@compute @workgroup_size(256)
fn dropout(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat(gid, nwg);
    if (i >= p.n) { return; }
    y[i] = select(p.dropped, x[i] * p.scale + p.shift, kept(i));
}
