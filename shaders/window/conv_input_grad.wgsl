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
// of 8 positions and the 32 positions' values reach every lane through lanes8 (over at most
// 16 channels, HALVES: two blocks of 32 positions, `halves` below). The tap's geometry is the
// same for all lanes, and every loop count is a pipeline constant.
//
// The positions are walked by stride class (`position`): at stride SH × SW the input
// positions whose row and column leave the same remainders are reached by the same taps,
// so a workgroup takes positions of one class and skips the taps that reach none of them
// (`reaches`; three in four at stride 2 — on llvmpipe a branch every lane takes the same
// way is a real one). At stride 1 there is one class, the positions in order.
//
// Declared before this file (generated from Rust): `p` (WindowParams: n), the window's
// geometry (window/common.wgsl: H, W, C channels of the input, OH, OW), `read_dz(i)` and
// `read_w(i)` (vec4 i through their textures), dx; lanes8 (matmul/lanes8.wgsl); Tile32
// (matmul/rows8.wgsl).

// Filters in vec4s (the kernel's last axis), fixed per pipeline.
override F4: u32;
// At most 16 channels (C ≤ 16), fixed per pipeline: a workgroup owns two blocks of 32 input
// positions and 16 channels, lanes 0–3 the first block's and lanes 4–7 the second's
// (`half_of`), instead of one block of 32 positions and 32 channels with half of it idle.
override HALVES: bool = false;

// Rows and columns of the input in a stride class, at most.
override HC: u32 = (H + SH - 1u) / SH;
override WC: u32 = (W + SW - 1u) / SW;

// Positions of a class.
fn class_len() -> u32 {
    return p.n * HC * WC;
}

// The walk's position v is position v & CLASS_MASK of class v >> CLASS_SHIFT: a shift and a
// mask per lane, where a division by a count read from `p` is one per lane on a CPU adapter
// (the Rust side keeps a class under 2^CLASS_SHIFT positions).
const CLASS_SHIFT: u32 = 24u;
const CLASS_MASK: u32 = (1u << CLASS_SHIFT) - 1u;

// The walk's first position in workgroup wy, each class in whole workgroups of `rows`.
fn block_start(wy: u32, rows: u32) -> u32 {
    let blocks = (class_len() + rows - 1u) / rows;
    return ((wy / blocks) << CLASS_SHIFT) + (wy % blocks) * rows;
}

// (image, row, column) of the walk's position v (clamped into its class and the image),
// and whether it is one of the input's to store.
fn position(v: u32) -> vec4<u32> {
    let k = v >> CLASS_SHIFT;
    let l = v & CLASS_MASK;
    let lc = min(l, class_len() - 1u);
    let y = k / SW + SH * ((lc / WC) % HC);
    let x = k % SW + SW * (lc % WC);
    let stored = l < class_len() && y < H && x < W;
    return vec4<u32>(lc / (HC * WC), min(y, H - 1u), min(x, W - 1u), u32(stored));
}

// Whether tap (ky, kx) reaches the input positions of stride class k: o·SH + ky·DH −
// PAD_TOP = y has an integer o for the class's rows y, and likewise across.
fn reaches(k: u32, ky: u32, kx: u32) -> bool {
    let down = (k / SW + PAD_TOP + SH * KH * DH - ky * DH) % SH == 0u;
    let across = (k % SW + PAD_LEFT + SW * KW * DW - kx * DW) % SW == 0u;
    return down && across;
}

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

// Stores channels c0.. of the walk's position r (rows8.wgsl's store8 calls it; channels past
// the last and positions not in the input are not stored), as `input_grad_out` gives them
// (conv_input_grad_store.wgsl or conv_input_grad_act.wgsl, after this file).
fn store_row(r: u32, c0: u32, sums: vec4<f32>) {
    let i = position(r);
    if (i.w == 0u || c0 >= C) { return; }
    let o = ((i.x * H + i.y) * W + i.z) * C + c0;
    let v = input_grad_out(o, sums);
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
    if (HALVES) {
        halves(wid.x, wid.y, lane);
        return;
    }
    let row0 = block_start(wid.y, 32u);
    let c0 = (wid.x * 8u + lane) * 4u;
    // This lane's position in each group of 8 (past its class: its last, not stored).
    let i0 = position(row0 + lane).xyz;
    let i1 = position(row0 + 8u + lane).xyz;
    let i2 = position(row0 + 16u + lane).xyz;
    let i3 = position(row0 + 24u + lane).xyz;
    let sclass = row0 >> CLASS_SHIFT;
    // This lane's channels (past the last: the last, not stored).
    let cl = min(vec4<u32>(c0) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(C - 1u));
    var tile = Tile32();
    for (var t = 0u; t < KH * KW; t++) {
        let ky = t / KW;
        let kx = t % KW;
        if (!reaches(sclass, ky, kx)) { continue; }
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

// At most 16 channels: lanes 0–3 take channels 4·(l & 3).. of the workgroup's first 32
// positions, lanes 4–7 of the next 32. Each step of four filters a lane loads its quad in
// each group of 8 positions of both blocks; lanes8 hands both to every lane, which keeps its
// own block's.
fn halves(wx: u32, wy: u32, lane: u32) {
    let second = lane >= 4u;
    let c0 = (wx * 4u + (lane & 3u)) * 4u;
    let base = block_start(wy, 64u);
    let f0 = position(base + lane).xyz;
    let f1 = position(base + 8u + lane).xyz;
    let f2 = position(base + 16u + lane).xyz;
    let f3 = position(base + 24u + lane).xyz;
    let s0 = position(base + 32u + lane).xyz;
    let s1 = position(base + 40u + lane).xyz;
    let s2 = position(base + 48u + lane).xyz;
    let s3 = position(base + 56u + lane).xyz;
    let sclass = base >> CLASS_SHIFT;
    let cl = min(vec4<u32>(c0) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(C - 1u));
    var tile = Tile32();
    for (var t = 0u; t < KH * KW; t++) {
        let ky = t / KW;
        let kx = t % KW;
        if (!reaches(sclass, ky, kx)) { continue; }
        let bf0 = dz_base(f0, ky, kx);
        let bf1 = dz_base(f1, ky, kx);
        let bf2 = dz_base(f2, ky, kx);
        let bf3 = dz_base(f3, ky, kx);
        let bs0 = dz_base(s0, ky, kx);
        let bs1 = dz_base(s1, ky, kx);
        let bs2 = dz_base(s2, ky, kx);
        let bs3 = dz_base(s3, ky, kx);
        for (var f4 = 0u; f4 < F4; f4++) {
            let bm = w_block(t, cl, f4);
            let a0 = half_of(lanes8(dz_quad(bf0, f4)), lanes8(dz_quad(bs0, f4)), second);
            let a1 = half_of(lanes8(dz_quad(bf1, f4)), lanes8(dz_quad(bs1, f4)), second);
            let a2 = half_of(lanes8(dz_quad(bf2, f4)), lanes8(dz_quad(bs2, f4)), second);
            let a3 = half_of(lanes8(dz_quad(bf3, f4)), lanes8(dz_quad(bs3, f4)), second);
            tile = fma32(tile, bm, a0, a1, a2, a3);
        }
    }
    store32(base + select(0u, 32u, second), c0, tile);
}
