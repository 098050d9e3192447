// im2col: row (image, oy, ox) of `cols` is that output's receptive field, kh·kw·c values
// in (ky, kx, channel) order, zeros in the padding — so the convolution is these rows
// times its (kh, kw, c, filters) kernel. One invocation per value of cols.
@compute @workgroup_size(256)
fn im2col(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat(gid, nwg);
    let row_len = KH * KW * C;
    if (i >= p.n * OH * OW * row_len) { return; }
    let row = i / row_len;
    let col = i % row_len;
    let ch = col % C;
    let kx = (col / C) % KW;
    let ky = col / (C * KW);
    let ox = row % OW;
    let oy = (row / OW) % OH;
    let img = row / (OW * OH);
    let iy = tap_row(oy, ky);
    let ix = tap_col(ox, kx);
    var v = 0.0;
    if (inside(iy, ix)) { v = read1_x(input_index(img, u32(iy), u32(ix), ch)); }
    cols[i] = v;
}

// im2col four channels at a time (C a multiple of 4, so a row's values come in whole
// vec4s of neighbouring channels): one invocation per vec4 of cols, a vec4 read of x and a
// vec4 store — on CPU adapters a quarter of the gathers and store loops.
@compute @workgroup_size(256)
fn im2col4(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let q = flat(gid, nwg);
    let row_len = KH * KW * C;
    if (q >= p.n * OH * OW * (row_len / 4u)) { return; }
    let i = 4u * q;
    let row = i / row_len;
    let col = i % row_len;
    let ch = col % C;
    let kx = (col / C) % KW;
    let ky = col / (C * KW);
    let ox = row % OW;
    let oy = (row / OW) % OH;
    let img = row / (OW * OH);
    let iy = tap_row(oy, ky);
    let ix = tap_col(ox, kx);
    var v = vec4<f32>(0.0);
    if (inside(iy, ix)) { v = read_x(input_index(img, u32(iy), u32(ix), ch) / 4u); }
    cols4[q] = v;
}
