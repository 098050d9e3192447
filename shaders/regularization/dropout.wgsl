// Dropout in training mode: kept values x·scale + shift, dropped ones `dropped` (inverted
// dropout: scale 1/(1 − rate); alpha dropout: Keras's affine a, b). One invocation per
// element.
@compute @workgroup_size(256)
fn dropout(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat(gid, nwg);
    if (i >= p.n) { return; }
    y[i] = select(p.dropped, x[i] * p.scale + p.shift, kept(i));
}

// Four elements an invocation through vec4 views (p.n % 4 == 0): on CPU adapters a storage
// access is a load or store a lane, so a vec4 one moves four values for one (on llvmpipe
// the Keras MNIST convnet's dropout over 32×5×5×64 values: 0.7–0.8 ms → about 0.2).
@compute @workgroup_size(256)
fn dropout4(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let v = flat(gid, nwg);
    if (v >= p.n / 4u) { return; }
    y4[v] = select(vec4<f32>(p.dropped), x4[v] * p.scale + p.shift, kept4(v));
}
