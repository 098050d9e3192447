// Average pooling: the mean of each window's values inside the image (TensorFlow counts
// only those: a `same`-padded window at the edge averages fewer). One invocation per
// output value.
@compute @workgroup_size(256)
fn avg_pool(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let o = flat(gid, nwg);
    if (o >= p.n * OH * OW * C) { return; }
    let ch = o % C;
    let ox = (o / C) % OW;
    let oy = (o / (C * OW)) % OH;
    let img = o / (C * OW * OH);
    var sum = 0.0;
    var count = 0u;
    for (var ky = 0u; ky < KH; ky++) {
        for (var kx = 0u; kx < KW; kx++) {
            let iy = tap_row(oy, ky);
            let ix = tap_col(ox, kx);
            if (!inside(iy, ix)) { continue; }
            sum += x[input_index(img, u32(iy), u32(ix), ch)];
            count += 1u;
        }
    }
    y[o] = sum / f32(count);
}

