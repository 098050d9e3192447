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

// Max pooling four channels at a time (C a multiple of 4): vec4 reads of x, vec4 stores
// of y and argmax — on CPU adapters a quarter of the gathers and store loops. Per channel
// the same choice as max_pool: the first largest value in window order.
@compute @workgroup_size(256)
fn max_pool4(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let q = flat(gid, nwg);
    if (q >= p.n * OH * OW * (C / 4u)) { return; }
    let o = 4u * q;
    let ch = o % C;
    let ox = (o / C) % OW;
    let oy = (o / (C * OW)) % OH;
    let img = o / (C * OW * OH);
    var best = vec4<f32>(0.0);
    var at = vec4<u32>(0xffffffffu);
    for (var ky = 0u; ky < KH; ky++) {
        for (var kx = 0u; kx < KW; kx++) {
            let iy = tap_row(oy, ky);
            let ix = tap_col(ox, kx);
            if (!inside(iy, ix)) { continue; }
            let i = input_index(img, u32(iy), u32(ix), ch);
            let v = read_x(i / 4u);
            let take = (at == vec4<u32>(0xffffffffu)) | (v > best);
            best = select(best, v, take);
            at = select(at, vec4<u32>(i, i + 1u, i + 2u, i + 3u), take);
        }
    }
    y4[q] = best;
    argmax4[q] = at;
}
