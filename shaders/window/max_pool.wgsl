// Max pooling: each window's largest value (the padding ignored, as TensorFlow pads with
// −∞) and the input index it came from, the first in window order among equals, for the
// backward pass. One invocation per output value.
@compute @workgroup_size(256)
fn max_pool(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let o = flat(gid, nwg);
    if (o >= p.n * OH * OW * C) { return; }
    let ch = o % C;
    let ox = (o / C) % OW;
    let oy = (o / (C * OW)) % OH;
    let img = o / (C * OW * OH);
    var best = 0.0;
    var at = 0xffffffffu;
    for (var ky = 0u; ky < KH; ky++) {
        for (var kx = 0u; kx < KW; kx++) {
            let iy = tap_row(oy, ky);
            let ix = tap_col(ox, kx);
            if (!inside(iy, ix)) { continue; }
            let i = input_index(img, u32(iy), u32(ix), ch);
            let v = read1_x(i);
            if (at == 0xffffffffu || v > best) {
                best = v;
                at = i;
            }
        }
    }
    y[o] = best;
    argmax[o] = at;
}
