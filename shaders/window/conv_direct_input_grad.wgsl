// A convolution's input gradient computed directly (Kernel::ConvInputGrad where the 8-lane
// subgroup kernel of conv_input_grad.wgsl does not take it: inputs of at most 8 channels),
// stride 1: dx[img, y, x, c] = Σ over taps (ky, kx) and filters f of
// dz[img, y + PAD_TOP − ky·DH, x + PAD_LEFT − kx·DW, f]·w[ky, kx, c, f], the taps whose output
// position lies outside dz left out.
//
// One invocation per eight neighbouring input positions of a row (a row of W is
// ceil(W / 8) blocks; past the row, positions are computed but not stored) and all their
// channels (two vec4s at most), a vec4 of filters at a time. Each weight it loads serves
// eight positions: the weights' index depends on the loops' counters, which on llvmpipe
// makes each load one per lane, not one for all (only constant indices are loaded once),
// so the fewer loads the better. Along a row of taps the positions' dz values slide:
// position i's tap kx + 1 reads what position i − DW's tap kx read, so a row of KW taps is
// (KW − 1)·DW + 8 loads of a vec4, not 8·KW. Without the im2col rows dz·wᵀ wrote and col2im read
// back (LeNet's second convolution's at batch 128 on llvmpipe: 9.6 + 6.7 ms that way).
//
// Declared before this file (generated from Rust): `p` (WindowParams: n), the window's
// geometry (window/common.wgsl: H, W, C channels of the input, OH, OW), dz's vec4 view
// `dz4` and `read1_dz(i)`, `read_w(i)` and `read1_w(i)` (vec4 i and float i of the weights'
// uniform block), dx. After it, the entry point
// and `tap_weights(k, j, lane)` (the weights of tap row k, k the first of its C channels'
// rows): conv_direct_input_grad_entry.wgsl reads them in every lane,
// conv_direct_input_grad_entry8.wgsl a channel a lane, shared through the subgroup.

// Filters, in vec4s (the kernel's last axis; the last one partial unless WHOLE4), fixed per
// pipeline. With WHOLE4 false dz and the weights are read a float at a time (`dz_quad`,
// `w_row`), the filters past the last with zero weights.
override F4: u32;
override FILTERS: u32;
override WHOLE4: bool = true;

// The sums of eight positions: column q of p<i> holds position i's channels 4q..4q+3.
struct Sums8 {
    p0: mat2x4<f32>, p1: mat2x4<f32>, p2: mat2x4<f32>, p3: mat2x4<f32>,
    p4: mat2x4<f32>, p5: mat2x4<f32>, p6: mat2x4<f32>, p7: mat2x4<f32>,
}

// Eight positions' dz values at one tap and vec4 of filters: position i's in v<i>.
struct Taps8 {
    v0: vec4<f32>, v1: vec4<f32>, v2: vec4<f32>, v3: vec4<f32>,
    v4: vec4<f32>, v5: vec4<f32>, v6: vec4<f32>, v7: vec4<f32>,
}

// Invocation t's eight positions (`lane`: its lane in a subgroup of 8, where the weights
// are shared through one; past the last row, the last row again, not stored, so that every
// lane of a subgroup takes part).
fn input_grad_block(t: u32, lane: u32) {
    let row_blocks = (W + 7u) / 8u;
    let row = min(t / row_blocks, p.n * H - 1u);
    let x0 = (t % row_blocks) * 8u;
    let img = row / H;
    let iy = row % H;
    var acc: Sums8;
    for (var j = 0u; j < F4; j++) {
        for (var ky = 0u; ky < KH; ky++) {
            let oy = i32(iy + PAD_TOP) - i32(ky * DH);
            let row_in = oy >= 0 && oy < i32(OH);
            let base = (img * OH + u32(clamp(oy, 0, i32(OH) - 1))) * OW;
            // Tap 0 of position i reads output column b + i; tap kx + 1 DW columns left:
            // the values slide DW places, DW new ones loaded at the left.
            let b = i32(x0 + PAD_LEFT);
            var d = Taps8(
                dz_at(base, b, row_in, j), dz_at(base, b + 1, row_in, j),
                dz_at(base, b + 2, row_in, j), dz_at(base, b + 3, row_in, j),
                dz_at(base, b + 4, row_in, j), dz_at(base, b + 5, row_in, j),
                dz_at(base, b + 6, row_in, j), dz_at(base, b + 7, row_in, j),
            );
            for (var kx = 0u; kx < KW; kx++) {
                acc = add_tap(acc, tap_weights((ky * KW + kx) * C, j, lane), d);
                for (var s = 1u; s <= DW; s++) {
                    d = Taps8(dz_at(base, b - i32(kx * DW + s), row_in, j), d.v0, d.v1, d.v2, d.v3, d.v4, d.v5, d.v6);
                }
            }
        }
    }
    if (t / row_blocks >= p.n * H) { return; }
    let o = row * W + x0;
    store_position(o, acc.p0);
    if (x0 + 1u < W) { store_position(o + 1u, acc.p1); }
    if (x0 + 2u < W) { store_position(o + 2u, acc.p2); }
    if (x0 + 3u < W) { store_position(o + 3u, acc.p3); }
    if (x0 + 4u < W) { store_position(o + 4u, acc.p4); }
    if (x0 + 5u < W) { store_position(o + 5u, acc.p5); }
    if (x0 + 6u < W) { store_position(o + 6u, acc.p6); }
    if (x0 + 7u < W) { store_position(o + 7u, acc.p7); }
}

// Filters 4j..4j+3 of dz at output column c of the output row starting at position `base`
// (zero outside dz: its row `row_in` false, or c past either edge).
fn dz_at(base: u32, c: i32, row_in: bool, j: u32) -> vec4<f32> {
    let v = dz_quad(base + u32(clamp(c, 0, i32(OW) - 1)), j);
    return select(vec4<f32>(0.0), v, row_in && c >= 0 && c < i32(OW));
}

// Filters 4j.. (past the last, the last again) of the output gradient at position `pos`.
fn dz_quad(pos: u32, j: u32) -> vec4<f32> {
    if (WHOLE4) {
        return dz4[pos * F4 + j];
    }
    let o = pos * FILTERS;
    let f = quad_filters(j);
    return vec4<f32>(read1_dz(o + f.x), read1_dz(o + f.y), read1_dz(o + f.z), read1_dz(o + f.w));
}

// Filters 4j..4j+3 of the weights' row r (row k + c of tap row k, channel c; past the last
// filter, zero).
fn w_row(r: u32, j: u32) -> vec4<f32> {
    if (WHOLE4) {
        return read_w(r * F4 + j);
    }
    let o = r * FILTERS;
    let f = quad_filters(j);
    let v = vec4<f32>(read1_w(o + f.x), read1_w(o + f.y), read1_w(o + f.z), read1_w(o + f.w));
    let exists = vec4<u32>(4u * j) + vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(FILTERS);
    return select(vec4<f32>(0.0), v, exists);
}

// Filters 4j..4j+3, clamped to the last.
fn quad_filters(j: u32) -> vec4<u32> {
    return min(vec4<u32>(4u * j) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(FILTERS - 1u));
}

// The sums plus the products of a tap's weights at filters 4j..4j+3 (`w`, of
// tap_weights) with the eight positions' dz values there.
fn add_tap(acc: Sums8, w: TapWeights, d: Taps8) -> Sums8 {
    var a = acc;
    a.p0[0] += d.v0 * w.c0;
    a.p1[0] += d.v1 * w.c0;
    a.p2[0] += d.v2 * w.c0;
    a.p3[0] += d.v3 * w.c0;
    a.p4[0] += d.v4 * w.c0;
    a.p5[0] += d.v5 * w.c0;
    a.p6[0] += d.v6 * w.c0;
    a.p7[0] += d.v7 * w.c0;
    if (C > 4u) {
        a.p0[1] += d.v0 * w.c4;
        a.p1[1] += d.v1 * w.c4;
        a.p2[1] += d.v2 * w.c4;
        a.p3[1] += d.v3 * w.c4;
        a.p4[1] += d.v4 * w.c4;
        a.p5[1] += d.v5 * w.c4;
        a.p6[1] += d.v6 * w.c4;
        a.p7[1] += d.v7 * w.c4;
    }
    return a;
}

// A tap's weights at filters 4j..4j+3 for channels 0..3 (c0) and 4..7 (c4): column q is
// channel q's (or 4 + q's; past the last channel, the last again), so that d * c0 is the
// four channels' dot products with d.
struct TapWeights {
    c0: mat4x4<f32>,
    c4: mat4x4<f32>,
}

// Stores the channels (those that exist) of input position `pos` from its sums.
fn store_position(pos: u32, s: mat2x4<f32>) {
    let o = pos * C;
    for (var c = 0u; c < C; c++) {
        dx[o + c] = s[c / 4u][c % 4u];
    }
}
