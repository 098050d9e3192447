// A convolution over a larger receptive field (Kernel::ConvDirect where its field is past
// the direct kernel's and the device has 8-lane subgroups) as a matmul of its receptive
// fields read in place (conv_gemm_taps.wgsl) with the (kh·kw·c, filters) kernel: y [positions,
// filters] = fields [positions, kh·kw·c] · w, plus the bias, through the activation
// (conv_store.wgsl). No im2col rows are written or read.
//
// As the 8-lane subgroup matmul (matmul/subgroup.wgsl): a workgroup is one subgroup and
// owns 32 positions × 32 filters, lane l the filters 4l..4l+3 of all 32 positions; each step
// of four channels of a tap, lane j loads position j's four values in each group of 8
// positions, and they reach every lane through lanes8 (over at most 16 filters, HALVES: two
// blocks of 32 positions, `halves` below). Over more than 32 filters (WIDE) a workgroup owns
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
        halves(wid.x, wid.y, lane);
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

// At most 16 filters: lanes 0–3 take filters 4·(l & 3).. of the workgroup's first 32
// positions, lanes 4–7 of the next 32, where the 32-filter block left half of the lanes idle
// at 16 filters and five of eight at 12. Each step of four channels a lane loads its quad in
// each group of 8 positions of both halves; lanes8 hands both to every lane, which keeps
// its own half's.
fn halves(wx: u32, wy: u32, lane: u32) {
    let second = lane >= 4u;
    let cq = wx * 4u + (lane & 3u);
    let cqc = min(cq, F4 - 1u);
    let base = wy * 64u;
    let last = p.n * OH * OW - 1u;
    let f0 = out_position(min(base + lane, last));
    let f1 = out_position(min(base + 8u + lane, last));
    let f2 = out_position(min(base + 16u + lane, last));
    let f3 = out_position(min(base + 24u + lane, last));
    let s0 = out_position(min(base + 32u + lane, last));
    let s1 = out_position(min(base + 40u + lane, last));
    let s2 = out_position(min(base + 48u + lane, last));
    let s3 = out_position(min(base + 56u + lane, last));
    var tile = Tile32();
    for (var t = 0u; t < KH * KW; t++) {
        let ky = t / KW;
        let kx = t % KW;
        let bf0 = tap_base(f0, ky, kx, true);
        let bf1 = tap_base(f1, ky, kx, true);
        let bf2 = tap_base(f2, ky, kx, true);
        let bf3 = tap_base(f3, ky, kx, true);
        let bs0 = tap_base(s0, ky, kx, true);
        let bs1 = tap_base(s1, ky, kx, true);
        let bs2 = tap_base(s2, ky, kx, true);
        let bs3 = tap_base(s3, ky, kx, true);
        for (var c4 = 0u; c4 < C4; c4++) {
            let k = 4u * (t * C4 + c4);
            let bm = w_rows(k, cqc);
            let a0 = half_of(lanes8(tap_quad(bf0, c4)), lanes8(tap_quad(bs0, c4)), second);
            let a1 = half_of(lanes8(tap_quad(bf1, c4)), lanes8(tap_quad(bs1, c4)), second);
            let a2 = half_of(lanes8(tap_quad(bf2, c4)), lanes8(tap_quad(bs2, c4)), second);
            let a3 = half_of(lanes8(tap_quad(bf3, c4)), lanes8(tap_quad(bs3, c4)), second);
            tile = fma32(tile, bm, a0, a1, a2, a3);
        }
    }
    if (cq >= F4) { return; }
    store32(base + select(0u, 32u, second), cq, tile);
}

// Stores filters 4·cq.. of position r (rows8.wgsl's store8 calls it), plus the bias,
// through the activation (positions past the last are not stored).
fn store_row(r: u32, cq: u32, z: vec4<f32>) {
    if (r < p.n * OH * OW) {
        store_y(r * F4 + cq, z + read_bias(cq));
    }
}
