// Max pooling: each window's largest value (the padding ignored, as TensorFlow pads with
// −∞) and the input index it came from, the first in window order among equals, for the
// backward pass.

// The input value tap (ky, kx) of output position `pos` (image, row, column, channel)
// reads, or -1 in the padding.
fn window_input(pos: vec4<u32>, ky: u32, kx: u32) -> i32 {
    let iy = tap_row(pos.y, ky);
    let ix = tap_col(pos.z, kx);
    if (!inside(iy, ix)) { return -1; }
    return i32(input_index(pos.x, u32(iy), u32(ix), pos.w));
}

// One invocation per output value.
@compute @workgroup_size(256)
fn max_pool(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let o = flat(gid, nwg);
    if (o >= p.n * OH * OW * C) { return; }
    let pos = output_position(o);
    var best = 0.0;
    var at = 0xffffffffu;
    for (var ky = 0u; ky < KH; ky++) {
        for (var kx = 0u; kx < KW; kx++) {
            let i = window_input(pos, ky, kx);
            if (i < 0) { continue; }
            let v = read1_x(u32(i));
            if (at == 0xffffffffu || v > best) {
                best = v;
                at = u32(i);
            }
        }
    }
    y[o] = best;
    argmax[o] = at;
}

// Four channels at a time (C a multiple of 4): vec4 reads of x, vec4 stores of y and
// argmax — on CPU adapters a quarter of the gathers and store loops. Per channel the same
// choice as max_pool.
@compute @workgroup_size(256)
fn max_pool4(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let q = flat(gid, nwg);
    if (q >= p.n * OH * OW * (C / 4u)) { return; }
    let pos = output_position(4u * q);
    var best = vec4<f32>(0.0);
    var at = vec4<u32>(0xffffffffu);
    for (var ky = 0u; ky < KH; ky++) {
        for (var kx = 0u; kx < KW; kx++) {
            let i = window_input(pos, ky, kx);
            if (i < 0) { continue; }
            let v = read_x(u32(i) / 4u);
            // Tint wants '==' and '|' parenthesized when mixed.
            let take = (at == vec4<u32>(0xffffffffu)) | (v > best);
            best = select(best, v, take);
            at = select(at, vec4<u32>(u32(i)) + vec4<u32>(0u, 1u, 2u, 3u), take);
        }
    }
    y4[q] = best;
    argmax4[q] = at;
}
