// A convolution over a larger receptive field (Kernel::ConvDirect where its field is past
// the direct kernel's and the device has 8-lane subgroups) as a matmul of its receptive
// fields read in place (conv_gemm_taps.wgsl) with the (kh·kw·c, filters) kernel: y [positions,
// filters] = fields [positions, kh·kw·c] · w, plus the bias, through the activation
// (conv_store.wgsl). No im2col rows are written or read.
//
// As the 8-lane subgroup matmul (matmul/subgroup.wgsl): a workgroup is one subgroup and
// owns 32 positions × 32 filters, lane l the filters 4l..4l+3 of all 32 positions; each step
// of four channels of a tap, lane j loads position j's four values in each group of 8
// positions, and they reach every lane through lanes8 (over at most 16 filters, HALVES, the
// roles turn: a lane owns eight positions with all their filters, `narrow` below). Over more than 32 filters (WIDE) a workgroup owns
// 64, lane l also the filters 32 + 4l..: the positions' values it loads and broadcasts
// then serve twice the multiply-adds (on llvmpipe the example convnet's 3×3 over 32
// channels to 64 filters at batch 128: 10.9–15.1 → 9.5–10.2 ms). The taps' geometry is
// the same for all lanes, and every loop count is a pipeline constant.
//
// Declared before this file (generated from Rust): `p` (ConvParams: n, flags, f0, f1),
// `read_x(i)`, `read_w(i)` (vec4 i through their textures), `read_bias(i)` (vec4 i through
// a uniform block), y; the window's geometry; lanes8; store_y; Tile32 (matmul/rows8.wgsl).

@compute @workgroup_size(8)
fn conv_gemm(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(subgroup_invocation_id) lane: u32,
) {
    if (HALVES) {
        narrow(wid.y, lane);
        return;
    }
    let row0 = wid.y * 32u;
    let cq = wid.x * select(8u, 16u, WIDE) + lane;
    let cqc = min(cq, F4 - 1u);
    // WIDE: the lane's second quad of filters.
    let cq2 = cq + 8u;
    let cqc2 = min(cq2, F4 - 1u);
    let last = p.n * OH * OW - 1u;
    // This lane's position in each group of 8 (past the last: the last, not stored).
    let i0 = out_position(min(row0 + lane, last));
    let i1 = out_position(min(row0 + 8u + lane, last));
    let i2 = out_position(min(row0 + 16u + lane, last));
    let i3 = out_position(min(row0 + 24u + lane, last));
    var tile = Tile32();
    var tile2 = Tile32();
    for (var t = 0u; t < KH * KW; t++) {
        let ky = t / KW;
        let kx = t % KW;
        let b0 = tap_base(i0, ky, kx, true);
        let b1 = tap_base(i1, ky, kx, true);
        let b2 = tap_base(i2, ky, kx, true);
        let b3 = tap_base(i3, ky, kx, true);
        for (var c4 = 0u; c4 < C4; c4++) {
            // Rows k..k+3 of w (the field's values 4·(t·C4 + c4)..).
            let k = 4u * (t * C4 + c4);
            let a0 = lanes8(tap_quad(b0, c4));
            let a1 = lanes8(tap_quad(b1, c4));
            let a2 = lanes8(tap_quad(b2, c4));
            let a3 = lanes8(tap_quad(b3, c4));
            tile = fma32(tile, w_rows(k, cqc), a0, a1, a2, a3);
            if (WIDE) {
                tile2 = fma32(tile2, w_rows(k, cqc2), a0, a1, a2, a3);
            }
        }
    }
    if (cq < F4) { store32(row0, cq, tile); }
    if (WIDE && cq2 < F4) { store32(row0, cq2, tile2); }
}

// Rows k..k+3 of w at the lane's filter quad cq: four steps of k over its four filters.
fn w_rows(k: u32, cq: u32) -> mat4x4<f32> {
    return mat4x4<f32>(
        read_w(k * F4 + cq),
        read_w((k + 1u) * F4 + cq),
        read_w((k + 2u) * F4 + cq),
        read_w((k + 3u) * F4 + cq),
    );
}

// At most 16 filters: a lane owns eight of the workgroup's 64 positions (8j + lane) and all
// the filters. Each step of four channels of a tap, lane l loads row k + (l & 3) of w at
// filter quads l >> 2 and 2 + (l >> 2), and lanes8 hands all 16 to every lane: there are
// more positions than filters, so broadcasting the weights rather than the positions' values
// takes a quarter of the shuffles and no selects (as the input gradient's NARROW;
// on llvmpipe `tests/data/cnn/cnn_g.json`'s 3×3/2 over 16 channels to 16 filters at batch
// 128: 3.7–4.5 ms as two blocks of 32 positions a subgroup, their values broadcast, 3.2–3.3
// this way; its 3×3 over 16 channels to 8 filters 2.4–3.8 → 1.5–2.6, no quad computed twice).
fn narrow(wy: u32, lane: u32) {
    let base = wy * 64u;
    let last = p.n * OH * OW - 1u;
    let i0 = out_position(min(base + lane, last));
    let i1 = out_position(min(base + 8u + lane, last));
    let i2 = out_position(min(base + 16u + lane, last));
    let i3 = out_position(min(base + 24u + lane, last));
    let i4 = out_position(min(base + 32u + lane, last));
    let i5 = out_position(min(base + 40u + lane, last));
    let i6 = out_position(min(base + 48u + lane, last));
    let i7 = out_position(min(base + 56u + lane, last));
    // This lane's weights to load: row r of the four, quads qa and qb (past the filters:
    // the last quad, never stored).
    let r = lane & 3u;
    let qa = min(lane >> 2u, F4 - 1u);
    let qb = min(2u + (lane >> 2u), F4 - 1u);
    // Filter quad q of position j at acc.g<q>.r<j>.
    var acc = Tile32();
    for (var t = 0u; t < KH * KW; t++) {
        let ky = t / KW;
        let kx = t % KW;
        let b0 = tap_base(i0, ky, kx, true);
        let b1 = tap_base(i1, ky, kx, true);
        let b2 = tap_base(i2, ky, kx, true);
        let b3 = tap_base(i3, ky, kx, true);
        let b4 = tap_base(i4, ky, kx, true);
        let b5 = tap_base(i5, ky, kx, true);
        let b6 = tap_base(i6, ky, kx, true);
        let b7 = tap_base(i7, ky, kx, true);
        for (var c4 = 0u; c4 < C4; c4++) {
            let k = 4u * (t * C4 + c4);
            let a = array<vec4<f32>, 8>(
                tap_quad(b0, c4), tap_quad(b1, c4), tap_quad(b2, c4), tap_quad(b3, c4),
                tap_quad(b4, c4), tap_quad(b5, c4), tap_quad(b6, c4), tap_quad(b7, c4),
            );
            let wa = lanes8(read_w((k + r) * F4 + qa));
            acc.g0 = fma8(acc.g0, mat4x4<f32>(wa[0], wa[1], wa[2], wa[3]), a);
            if (F4 > 1u) {
                acc.g1 = fma8(acc.g1, mat4x4<f32>(wa[4], wa[5], wa[6], wa[7]), a);
            }
            if (F4 > 2u) {
                let wb = lanes8(read_w((k + r) * F4 + qb));
                acc.g2 = fma8(acc.g2, mat4x4<f32>(wb[0], wb[1], wb[2], wb[3]), a);
                if (F4 > 3u) {
                    acc.g3 = fma8(acc.g3, mat4x4<f32>(wb[4], wb[5], wb[6], wb[7]), a);
                }
            }
        }
    }
    store_position(base + lane, acc.g0.r0, acc.g1.r0, acc.g2.r0, acc.g3.r0);
    store_position(base + 8u + lane, acc.g0.r1, acc.g1.r1, acc.g2.r1, acc.g3.r1);
    store_position(base + 16u + lane, acc.g0.r2, acc.g1.r2, acc.g2.r2, acc.g3.r2);
    store_position(base + 24u + lane, acc.g0.r3, acc.g1.r3, acc.g2.r3, acc.g3.r3);
    store_position(base + 32u + lane, acc.g0.r4, acc.g1.r4, acc.g2.r4, acc.g3.r4);
    store_position(base + 40u + lane, acc.g0.r5, acc.g1.r5, acc.g2.r5, acc.g3.r5);
    store_position(base + 48u + lane, acc.g0.r6, acc.g1.r6, acc.g2.r6, acc.g3.r6);
    store_position(base + 56u + lane, acc.g0.r7, acc.g1.r7, acc.g2.r7, acc.g3.r7);
}

// Stores the filter quads z0..z3 of position r (those that exist).
fn store_position(r: u32, z0: vec4<f32>, z1: vec4<f32>, z2: vec4<f32>, z3: vec4<f32>) {
    store_row(r, 0u, z0);
    if (F4 > 1u) { store_row(r, 1u, z1); }
    if (F4 > 2u) { store_row(r, 2u, z2); }
    if (F4 > 3u) { store_row(r, 3u, z3); }
}

// Stores filters 4·cq.. of position r (rows8.wgsl's store8 calls it), plus the bias,
// through the activation (positions past the last are not stored).
fn store_row(r: u32, cq: u32, z: vec4<f32>) {
    if (r < p.n * OH * OW) {
        store_y(r * F4 + cq, z + read_bias(cq));
    }
}
