// im2col: row (image, oy, ox) of `cols` is that output's receptive field, kh·kw·c values
// in (ky, kx, channel) order, zeros in the padding — so the convolution is these rows
// times its (kh, kw, c, filters) kernel.

// The input value that value i of cols copies, or -1 in the padding.
fn im2col_source(i: u32) -> i32 {
    let row_len = KH * KW * C;
    let row = i / row_len;
    let col = i % row_len;
    // Row `row` is output position (image, oy, ox); with col's channel, value
    // row·C + channel of an output.
    let pos = output_position(row * C + col % C);
    let kx = (col / C) % KW;
    let ky = col / (C * KW);
    let iy = tap_row(pos.y, ky);
    let ix = tap_col(pos.z, kx);
    if (!inside(iy, ix)) { return -1; }
    return i32(input_index(pos.x, u32(iy), u32(ix), pos.w));
}

// One invocation per value of cols.
@compute @workgroup_size(256)
fn im2col(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat(gid, nwg);
    if (i >= p.n * OH * OW * KH * KW * C) { return; }
    let src = im2col_source(i);
    var v = 0.0;
    if (src >= 0) { v = read1_x(u32(src)); }
    cols[i] = v;
}

// Four channels at a time (C a multiple of 4, so a row's values come in whole vec4s of
// neighbouring channels): one invocation per vec4 of cols, a vec4 read of x and a vec4
// store — on CPU adapters a quarter of the gathers and store loops.
@compute @workgroup_size(256)
fn im2col4(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let q = flat(gid, nwg);
    if (q >= p.n * OH * OW * (KH * KW * C / 4u)) { return; }
    let src = im2col_source(4u * q);
    var v = vec4<f32>(0.0);
    if (src >= 0) { v = read_x(u32(src) / 4u); }
    cols4[q] = v;
}
