// The kernel gradient of the convolution over a larger receptive field (conv_gemm.wgsl;
// Kernel::ConvDirectWeightGrad): partials [stripes, kh·kw·c, filters] = fieldsᵀ · dz, each
// stripe summed over its block of consecutive positions (whole rows of them with STRIP_ROW
// = OW, as the direct kernel's stripes, conv.rs `stripe_of`), the fields read in place
// (conv_gemm_taps.wgsl). A workgroup's stripe is its third coordinate: split so that the
// few workgroups of a small field (288 values and 64 filters: 9) keep every thread of a
// CPU adapter busy, each thread taking a workgroup at a time.
//
// As the 8-lane subgroup matmul with A transposed (matmul/subgroup.wgsl): a workgroup owns
// 32 field values × 32 filters (64 over more than 32, WIDE), lane l the filters 4l..4l+3
// (and 32 + 4l..); each step of four positions,
// lane 4h + t loads position t's four channels of one tap for each group of 8 field values
// (the group's quad h), and after lanes8 a transpose gives every lane each value's four
// positions (over at most 16 filters, HALVES: two blocks of 32 field values, `halves`
// below). The walk over positions starts at the lane's own (t) and steps by 4, so its
// bound, read from `p`, is no count lavapipe inlines (docs/benchmarks.md, "Loops bounded
// by a launch's parameters alone").
//
// Declared before this file (generated from Rust): `p` (ConvParams: n), `read_x(i)`,
// `read_dz(i)` (vec4 i through their textures), partials; the window's geometry; lanes8;
// Tile32 (matmul/rows8.wgsl), stripe_range (loops.wgsl).

// Positions a stripe unit: OW (whole rows of positions) or 1.
override STRIP_ROW: u32 = 1u;

// The workgroup's stripe's first partial sum (store_row's offset).
var<private> stripe_base: u32;

// The positions of stripe s: first, and one past the last.
fn stripe_positions(s: u32) -> vec2<u32> {
    return stripe_range(s, p.n * OH * OW / STRIP_ROW, p.stripes) * STRIP_ROW;
}

// The eight field values of a group, each as its four positions, from the lanes' quads.
fn values8(a: vec4<f32>) -> array<vec4<f32>, 8> {
    let l = lanes8(a);
    let lo = transpose(mat4x4<f32>(l[0], l[1], l[2], l[3]));
    let hi = transpose(mat4x4<f32>(l[4], l[5], l[6], l[7]));
    return array<vec4<f32>, 8>(lo[0], lo[1], lo[2], lo[3], hi[0], hi[1], hi[2], hi[3]);
}

// The tap (ky, kx) and channel quad of field quad q (past the last: the last, not stored).
fn field_quad(q: u32) -> vec3<u32> {
    let qc = min(q, KH * KW * C4 - 1u);
    let t = qc / C4;
    return vec3<u32>(t / KW, t % KW, qc % C4);
}

@compute @workgroup_size(8)
fn conv_gemm_weight_grad(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(subgroup_invocation_id) lane: u32,
) {
    stripe_base = wid.z * KH * KW * C * F4;
    let range = stripe_positions(wid.z);
    if (HALVES) {
        halves(wid.x, wid.y, lane, range);
        return;
    }
    let row0 = wid.y * 32u;
    let cq = wid.x * select(8u, 16u, WIDE) + lane;
    let cqc = min(cq, F4 - 1u);
    // WIDE: the lane's second quad of filters.
    let cq2 = cq + 8u;
    let cqc2 = min(cq2, F4 - 1u);
    let t = lane & 3u;
    let h = lane >> 2u;
    let f0 = field_quad(row0 / 4u + h);
    let f1 = field_quad(row0 / 4u + 2u + h);
    let f2 = field_quad(row0 / 4u + 4u + h);
    let f3 = field_quad(row0 / 4u + 6u + h);
    let last = p.n * OH * OW - 1u;
    var tile = Tile32();
    var tile2 = Tile32();
    // pos = base + t for bases range.x, range.x + 4, … below the stripe's end.
    var pos = range.x + t;
    let end = range.y + t;
    while (pos < end) {
        let base = pos - t;
        let valid = pos < range.y;
        let i = out_position(min(pos, last));
        let a0 = values8(tap_quad(tap_base(i, f0.x, f0.y, valid), f0.z));
        let a1 = values8(tap_quad(tap_base(i, f1.x, f1.y, valid), f1.z));
        let a2 = values8(tap_quad(tap_base(i, f2.x, f2.y, valid), f2.z));
        let a3 = values8(tap_quad(tap_base(i, f3.x, f3.y, valid), f3.z));
        tile = fma32(tile, dz_rows(base, last, cqc), a0, a1, a2, a3);
        if (WIDE) {
            tile2 = fma32(tile2, dz_rows(base, last, cqc2), a0, a1, a2, a3);
        }
        pos += 4u;
    }
    if (cq < F4) { store32(row0, cq, tile); }
    if (WIDE && cq2 < F4) { store32(row0, cq2, tile2); }
}

// dz rows base..base+3 at filter quad cq (past the stripe: met by zero field values; past
// the last position: the last again).
fn dz_rows(base: u32, last: u32, cq: u32) -> mat4x4<f32> {
    return mat4x4<f32>(
        read_dz(min(base, last) * F4 + cq),
        read_dz(min(base + 1u, last) * F4 + cq),
        read_dz(min(base + 2u, last) * F4 + cq),
        read_dz(min(base + 3u, last) * F4 + cq),
    );
}

// At most 16 filters: lanes 0–3 take filters 4·(l & 3).. of the workgroup's first 32
// field values, lanes 4–7 of the next 32; each step a lane loads its quads of both blocks'
// field values, and keeps its own block's after lanes8 (half_of).
fn halves(wx: u32, wy: u32, lane: u32, range: vec2<u32>) {
    let second = lane >= 4u;
    let base_row = wy * 64u;
    let cq = wx * 4u + (lane & 3u);
    let cqc = min(cq, F4 - 1u);
    let t = lane & 3u;
    let h = lane >> 2u;
    let q0 = base_row / 4u + h;
    let f0 = field_quad(q0);
    let f1 = field_quad(q0 + 2u);
    let f2 = field_quad(q0 + 4u);
    let f3 = field_quad(q0 + 6u);
    let g0 = field_quad(q0 + 8u);
    let g1 = field_quad(q0 + 10u);
    let g2 = field_quad(q0 + 12u);
    let g3 = field_quad(q0 + 14u);
    let last = p.n * OH * OW - 1u;
    var tile = Tile32();
    var pos = range.x + t;
    let end = range.y + t;
    while (pos < end) {
        let base = pos - t;
        let bm = dz_rows(base, last, cqc);
        let valid = pos < range.y;
        let i = out_position(min(pos, last));
        let a0 = half_of(values8(tap_quad(tap_base(i, f0.x, f0.y, valid), f0.z)), values8(tap_quad(tap_base(i, g0.x, g0.y, valid), g0.z)), second);
        let a1 = half_of(values8(tap_quad(tap_base(i, f1.x, f1.y, valid), f1.z)), values8(tap_quad(tap_base(i, g1.x, g1.y, valid), g1.z)), second);
        let a2 = half_of(values8(tap_quad(tap_base(i, f2.x, f2.y, valid), f2.z)), values8(tap_quad(tap_base(i, g2.x, g2.y, valid), g2.z)), second);
        let a3 = half_of(values8(tap_quad(tap_base(i, f3.x, f3.y, valid), f3.z)), values8(tap_quad(tap_base(i, g3.x, g3.y, valid), g3.z)), second);
        tile = fma32(tile, bm, a0, a1, a2, a3);
        pos += 4u;
    }
    if (cq >= F4) { return; }
    store32(base_row + select(0u, 32u, second), cq, tile);
}

// Stores filters 4·cq.. of field value k (rows8.wgsl's store8 calls it; values past the
// field are not stored).
fn store_row(k: u32, cq: u32, v: vec4<f32>) {
    if (k < KH * KW * C) {
        partials4[stripe_base + k * F4 + cq] = v;
    }
}
