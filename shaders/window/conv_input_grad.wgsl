// A convolution's input gradient straight from its output gradient (Kernel::ConvInputGrad):
// dx[img, y, x, c] = Σ over taps (ky, kx) and filters f of dz[img, oy, ox, f]·w[ky, kx, c, f],
// the taps whose output position (oy, ox) reads (y, x): oy·SH + ky·DH − PAD_TOP = y.
// It is the product of im2col's backward (window/col2im.wgsl) with the kernel's transpose,
// without the rows: a matmul of dx [img·H·W, C] = A [img·H·W, taps·F] · B [taps·F, C], with A
// read from dz where a tap has an output position (zero elsewhere) and B from w.
//
// As the 8-lane subgroup matmul (matmul/subgroup.wgsl): a workgroup is one subgroup and
// owns 64 input positions × 32 channels, lane l the channels 4l..4l+3 of all 64 positions;
// each step of four filters of a tap, lane j loads position j's four values of each group
// of 8 positions and the 64 positions' values reach every lane through lanes8, while the
// lane's four texels of weights serve all 64 (two blocks of 32: Tile32s). Over at most
// 16 channels (NARROW, `narrow` below) the roles turn: a lane owns eight positions with all
// their channels and the weights go round. The tap's geometry is the same for all lanes,
// and every loop count is a pipeline constant.
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
// At most 16 channels (C ≤ 16), fixed per pipeline: a workgroup owns 64 input positions,
// a lane eight of them with all their channels (`narrow`).
override NARROW: bool = false;

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

// The walk's positions base + 8j + lane (j = 0..7), a lane's one in each group of 8 (past its
// class: its last, not stored). Arrays here are indexed with constants only.
fn lane_positions(base: u32, lane: u32) -> array<vec3<u32>, 8> {
    return array<vec3<u32>, 8>(
        position(base + lane).xyz, position(base + 8u + lane).xyz,
        position(base + 16u + lane).xyz, position(base + 24u + lane).xyz,
        position(base + 32u + lane).xyz, position(base + 40u + lane).xyz,
        position(base + 48u + lane).xyz, position(base + 56u + lane).xyz,
    );
}

// dz_base of each of the eight positions through tap (ky, kx).
fn dz_bases(i: array<vec3<u32>, 8>, ky: u32, kx: u32) -> array<vec2<u32>, 8> {
    return array<vec2<u32>, 8>(
        dz_base(i[0], ky, kx), dz_base(i[1], ky, kx), dz_base(i[2], ky, kx), dz_base(i[3], ky, kx),
        dz_base(i[4], ky, kx), dz_base(i[5], ky, kx), dz_base(i[6], ky, kx), dz_base(i[7], ky, kx),
    );
}

// dz_quad of each of the eight positions at filters 4·f4.. .
fn dz_quads(b: array<vec2<u32>, 8>, f4: u32) -> array<vec4<f32>, 8> {
    return array<vec4<f32>, 8>(
        dz_quad(b[0], f4), dz_quad(b[1], f4), dz_quad(b[2], f4), dz_quad(b[3], f4),
        dz_quad(b[4], f4), dz_quad(b[5], f4), dz_quad(b[6], f4), dz_quad(b[7], f4),
    );
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

// Stores channels c0.. of the walk's position r (channels past the last and positions not
// in the input are not stored), as `input_grad_out` gives them (conv_input_grad_store.wgsl
// or conv_input_grad_act.wgsl, after this file), and returns what it stored (0 elsewhere)
// for the bias gradient's partial sums (`bias_partials`, conv_input_grad_bias.wgsl; a
// no-op in conv_input_grad_no_bias.wgsl, where the sums are dead code).
fn store_row(r: u32, c0: u32, sums: vec4<f32>) -> vec4<f32> {
    let i = position(r);
    if (i.w == 0u || c0 >= C) { return vec4<f32>(0.0); }
    let o = ((i.x * H + i.y) * W + i.z) * C + c0;
    let v = input_grad_out(o, sums);
    dx[o] = v.x;
    if (c0 + 1u < C) { dx[o + 1u] = v.y; }
    if (c0 + 2u < C) { dx[o + 2u] = v.z; }
    if (c0 + 3u < C) { dx[o + 3u] = v.w; }
    return v * vec4<f32>(vec4<bool>(true, c0 + 1u < C, c0 + 2u < C, c0 + 3u < C));
}

// Stores the eight rows of a group from row0 and returns their sum.
fn store8_summed(row0: u32, c0: u32, g: Rows8) -> vec4<f32> {
    return store_row(row0, c0, g.r0) + store_row(row0 + 1u, c0, g.r1)
        + store_row(row0 + 2u, c0, g.r2) + store_row(row0 + 3u, c0, g.r3)
        + store_row(row0 + 4u, c0, g.r4) + store_row(row0 + 5u, c0, g.r5)
        + store_row(row0 + 6u, c0, g.r6) + store_row(row0 + 7u, c0, g.r7);
}

@compute @workgroup_size(8)
fn conv_input_grad(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(subgroup_invocation_id) lane: u32,
) {
    if (NARROW) {
        narrow(wid.y, lane);
        return;
    }
    let row0 = block_start(wid.y, 64u);
    let c0 = (wid.x * 8u + lane) * 4u;
    let i = lane_positions(row0, lane);
    let sclass = row0 >> CLASS_SHIFT;
    // This lane's channels (past the last: the last, not stored).
    let cl = min(vec4<u32>(c0) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(C - 1u));
    var tile = Tile32();
    var tile2 = Tile32();
    for (var t = 0u; t < KH * KW; t++) {
        let ky = t / KW;
        let kx = t % KW;
        if (!reaches(sclass, ky, kx)) { continue; }
        let b = dz_bases(i, ky, kx);
        for (var f4 = 0u; f4 < F4; f4++) {
            // The weights' four texels serve both blocks of 32 positions.
            let bm = w_block(t, cl, f4);
            let a = dz_quads(b, f4);
            tile = fma32(tile, bm, lanes8(a[0]), lanes8(a[1]), lanes8(a[2]), lanes8(a[3]));
            tile2 = fma32(tile2, bm, lanes8(a[4]), lanes8(a[5]), lanes8(a[6]), lanes8(a[7]));
        }
    }
    let sum = store8_summed(row0, c0, tile.g0) + store8_summed(row0 + 8u, c0, tile.g1)
        + store8_summed(row0 + 16u, c0, tile.g2) + store8_summed(row0 + 24u, c0, tile.g3)
        + store8_summed(row0 + 32u, c0, tile2.g0) + store8_summed(row0 + 40u, c0, tile2.g1)
        + store8_summed(row0 + 48u, c0, tile2.g2) + store8_summed(row0 + 56u, c0, tile2.g3);
    bias_partials(wid.y, c0, sum);
}

// At most 16 channels: a lane owns eight of the workgroup's 64 positions (8j + lane) and
// all the channels. Each step of four filters lane l loads the weights of channels l and
// l + 8 and lanes8 hands all 16 to every lane: there are more positions than channels, so
// broadcasting the weights rather than the positions' values takes a quarter of the
// shuffles and no selects (on llvmpipe `tests/data/cnn/cnn_g.json`'s stride-2 input
// gradient over 16 channels at batch 128: 8.1–12.2 ms as two blocks of 32 positions a
// subgroup, their values broadcast, 7.0–9.4 this way). Channels past C are not computed
// beyond their quad.
fn narrow(wy: u32, lane: u32) {
    let base = block_start(wy, 64u);
    let i = lane_positions(base, lane);
    let sclass = base >> CLASS_SHIFT;
    // This lane's two channels to load (past the last: the last, not stored).
    let ca = min(lane, C - 1u);
    let cb = min(lane + 8u, C - 1u);
    // Channel quad q of position j at acc.g<q>.r<j>.
    var acc = Tile32();
    for (var t = 0u; t < KH * KW; t++) {
        let ky = t / KW;
        let kx = t % KW;
        if (!reaches(sclass, ky, kx)) { continue; }
        let b = dz_bases(i, ky, kx);
        for (var f4 = 0u; f4 < F4; f4++) {
            let a = dz_quads(b, f4);
            let wa = lanes8(read_w((t * C + ca) * F4 + f4));
            acc.g0 = dot8(acc.g0, mat4x4<f32>(wa[0], wa[1], wa[2], wa[3]), a);
            if (C > 4u) {
                acc.g1 = dot8(acc.g1, mat4x4<f32>(wa[4], wa[5], wa[6], wa[7]), a);
            }
            if (C > 8u) {
                let wb = lanes8(read_w((t * C + cb) * F4 + f4));
                acc.g2 = dot8(acc.g2, mat4x4<f32>(wb[0], wb[1], wb[2], wb[3]), a);
                if (C > 12u) {
                    acc.g3 = dot8(acc.g3, mat4x4<f32>(wb[4], wb[5], wb[6], wb[7]), a);
                }
            }
        }
    }
    let sum = store_position(base + lane, acc.g0.r0, acc.g1.r0, acc.g2.r0, acc.g3.r0)
        + store_position(base + 8u + lane, acc.g0.r1, acc.g1.r1, acc.g2.r1, acc.g3.r1)
        + store_position(base + 16u + lane, acc.g0.r2, acc.g1.r2, acc.g2.r2, acc.g3.r2)
        + store_position(base + 24u + lane, acc.g0.r3, acc.g1.r3, acc.g2.r3, acc.g3.r3)
        + store_position(base + 32u + lane, acc.g0.r4, acc.g1.r4, acc.g2.r4, acc.g3.r4)
        + store_position(base + 40u + lane, acc.g0.r5, acc.g1.r5, acc.g2.r5, acc.g3.r5)
        + store_position(base + 48u + lane, acc.g0.r6, acc.g1.r6, acc.g2.r6, acc.g3.r6)
        + store_position(base + 56u + lane, acc.g0.r7, acc.g1.r7, acc.g2.r7, acc.g3.r7);
    if (BIAS_PARTIALS) {
        // The workgroup's sums: each lane's, handed round by lanes8 (once a workgroup).
        let q0 = sum8(lanes8(sum[0]));
        let q1 = sum8(lanes8(sum[1]));
        let q2 = sum8(lanes8(sum[2]));
        let q3 = sum8(lanes8(sum[3]));
        if (lane == 0u) {
            bias_partials(wy, 0u, q0);
            bias_partials(wy, 4u, q1);
            bias_partials(wy, 8u, q2);
            bias_partials(wy, 12u, q3);
        }
    }
}

// The sum of the eight lanes' values.
fn sum8(a: array<vec4<f32>, 8>) -> vec4<f32> {
    return ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
}

// acc.r<j> + a[j]·m for each of the eight positions j: column c of m holds one channel's
// weights of four filters, a[j] position j's values of those filters.
fn dot8(acc: Rows8, m: mat4x4<f32>, a: array<vec4<f32>, 8>) -> Rows8 {
    return Rows8(
        acc.r0 + a[0] * m,
        acc.r1 + a[1] * m,
        acc.r2 + a[2] * m,
        acc.r3 + a[3] * m,
        acc.r4 + a[4] * m,
        acc.r5 + a[5] * m,
        acc.r6 + a[6] * m,
        acc.r7 + a[7] * m,
    );
}

// Stores the channel quads q0..q3 (channels 0.., 4.., 8.., 12..) of the walk's position r
// and returns what it stored (column q: quad q).
fn store_position(r: u32, q0: vec4<f32>, q1: vec4<f32>, q2: vec4<f32>, q3: vec4<f32>) -> mat4x4<f32> {
    return mat4x4<f32>(store_row(r, 0u, q0), store_row(r, 4u, q1), store_row(r, 8u, q2), store_row(r, 12u, q3));
}
