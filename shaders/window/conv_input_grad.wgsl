// A convolution's input gradient straight from its output gradient (Kernel::ConvInputGrad):
// dx[img, y, x, c] = Σ over taps (ky, kx) and filters f of dz[img, oy, ox, f]·w[ky, kx, c, f],
// the taps whose output position (oy, ox) reads (y, x): oy·SH + ky·DH − PAD_TOP = y.
// It is the product of im2col's backward (window/col2im.wgsl) with the kernel's transpose,
// without the rows: a matmul of dx [img·H·W, C] = A [img·H·W, taps·F] · B [taps·F, C], with A
// read from dz where a tap has an output position (zero elsewhere) and B from w.
//
// As the 8-lane subgroup matmul (matmul/subgroup.wgsl): a workgroup is one subgroup and
// owns 32 input positions × 32 channels, lane l the channels 4l..4l+3 of all 32 positions;
// each step of four filters of a tap, lane j loads position j's four values of each group
// of 8 positions and the 32 positions' values reach every lane through lanes8. The tap's
// geometry is the same for all lanes, and every loop count is a pipeline constant.
//
// Declared before this file (generated from Rust): `p` (WindowParams: n), the window's
// geometry (window/common.wgsl: H, W, C channels of the input, OH, OW), `read_dz(i)` and
// `read_w(i)` (vec4 i through their textures), dx; lanes8 (matmul/lanes8.wgsl); Tile32
// (matmul/rows8.wgsl).

// Filters in vec4s (the kernel's last axis), fixed per pipeline.
override F4: u32;

// The output row (or column) o whose tap k reads input row (or column) `at` — o·s + k·d −
// pad = at — clamped into the output, and whether it exists.
fn tap_output(at: u32, k: u32, d: u32, s: u32, pad: u32, extent: u32) -> vec2<u32> {
    let num = i32(at + pad) - i32(k * d);
    let o = u32(max(num, 0)) / s;
    let ok = num >= 0 && u32(num) % s == 0u && o < extent;
    return vec2<u32>(min(o, extent - 1u), u32(ok));
}

// Where position i (image, row, column of the input) reads dz through tap (ky, kx): the
// index of its output position's first vec4 of filters, and whether that position exists.
fn dz_base(i: vec3<u32>, ky: u32, kx: u32) -> vec2<u32> {
    let oy = tap_output(i.y, ky, DH, SH, PAD_TOP, OH);
    let ox = tap_output(i.z, kx, DW, SW, PAD_LEFT, OW);
    return vec2<u32>(((i.x * OH + oy.x) * OW + ox.x) * F4, oy.y & ox.y);
}

// The four values of dz at filters 4·f4.. where dz_base `b` points (zero where no output
// position reads the input there).
fn dz_quad(b: vec2<u32>, f4: u32) -> vec4<f32> {
    return select(vec4<f32>(0.0), read_dz(b.x + f4), b.y != 0u);
}

// Four channels' values of w at tap t, filters 4·f4..: B's rows for those channels,
// transposed so that column k is filter 4·f4 + k.
fn w_block(t: u32, c: vec4<u32>, f4: u32) -> mat4x4<f32> {
    let base = t * C;
    return transpose(mat4x4<f32>(
        read_w((base + c.x) * F4 + f4),
        read_w((base + c.y) * F4 + f4),
        read_w((base + c.z) * F4 + f4),
        read_w((base + c.w) * F4 + f4),
    ));
}

// Stores channels c0.. of input position r (rows8.wgsl's store8 calls it; channels and
// positions past the last are not stored).
fn store_row(r: u32, c0: u32, v: vec4<f32>) {
    if (r >= p.n * H * W || c0 >= C) { return; }
    let o = r * C + c0;
    dx[o] = v.x;
    if (c0 + 1u < C) { dx[o + 1u] = v.y; }
    if (c0 + 2u < C) { dx[o + 2u] = v.z; }
    if (c0 + 3u < C) { dx[o + 3u] = v.w; }
}

@compute @workgroup_size(8)
fn conv_input_grad(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(subgroup_invocation_id) lane: u32,
) {
    let row0 = wid.y * 32u;
    let c0 = (wid.x * 8u + lane) * 4u;
    let last = p.n * H * W - 1u;
    // This lane's position in each group of 8 (past the last: the last, not stored).
    let r0 = min(row0 + lane, last);
    let r1 = min(row0 + 8u + lane, last);
    let r2 = min(row0 + 16u + lane, last);
    let r3 = min(row0 + 24u + lane, last);
    let i0 = vec3<u32>(r0 / (H * W), (r0 / W) % H, r0 % W);
    let i1 = vec3<u32>(r1 / (H * W), (r1 / W) % H, r1 % W);
    let i2 = vec3<u32>(r2 / (H * W), (r2 / W) % H, r2 % W);
    let i3 = vec3<u32>(r3 / (H * W), (r3 / W) % H, r3 % W);
    // This lane's channels (past the last: the last, not stored).
    let cl = min(vec4<u32>(c0) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(C - 1u));
    var tile = Tile32();
    for (var t = 0u; t < KH * KW; t++) {
        let ky = t / KW;
        let kx = t % KW;
        let b0 = dz_base(i0, ky, kx);
        let b1 = dz_base(i1, ky, kx);
        let b2 = dz_base(i2, ky, kx);
        let b3 = dz_base(i3, ky, kx);
        for (var f4 = 0u; f4 < F4; f4++) {
            let bm = w_block(t, cl, f4);
            let a0 = lanes8(dz_quad(b0, f4));
            let a1 = lanes8(dz_quad(b1, f4));
            let a2 = lanes8(dz_quad(b2, f4));
            let a3 = lanes8(dz_quad(b3, f4));
            tile = fma32(tile, bm, a0, a1, a2, a3);
        }
    }
    store32(row0, c0, tile);
}
