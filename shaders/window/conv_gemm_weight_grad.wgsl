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
// positions (over at most 16 filters, HALVES, the roles turn: a lane owns eight field
// values with all the filters, `narrow` below). The walk over positions starts at the lane's own (t) and steps by 4, so its
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
        narrow(wid.y, lane, range);
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

// At most 16 filters: a lane owns eight of the workgroup's 64 field values (its two field
// quads) with all the filters. Each step of four positions a lane loads its two quads at
// the four positions (a transpose gives each value its four positions), and lane l loads
// dz at position l & 3 and filter quads l >> 2 and 2 + (l >> 2), which lanes8 hands to
// every lane: broadcasting dz rather than the field values takes a quarter of the shuffles
// and no selects (as the forward's `narrow`; on llvmpipe `tests/data/cnn/cnn_g.json`'s
// 3×3/2 over 16 channels to 16 filters at batch 128: 4.2–6.3 ms as two blocks of 32 field
// values, their values broadcast, 3.3–4.9 this way; its 3×3 to 8 filters 2.5–3.3 → 1.6–2.1).
fn narrow(wy: u32, lane: u32, range: vec2<u32>) {
    let fa = field_quad(wy * 16u + 2u * lane);
    let fb = field_quad(wy * 16u + 2u * lane + 1u);
    let t = lane & 3u;
    let qa = min(lane >> 2u, F4 - 1u);
    let qb = min(2u + (lane >> 2u), F4 - 1u);
    let last = p.n * OH * OW - 1u;
    // Filter quad q of field value j at acc.g<q>.r<j>.
    var acc = Tile32();
    // Steps of four positions from base = pos - t (the lane's own start keeps the bound no
    // count lavapipe inlines, as above).
    var pos = range.x + t;
    let end = range.y + t;
    while (pos < end) {
        let base = pos - t;
        let xa = transpose(mat4x4<f32>(
            field_values(base, fa, range.y, last),
            field_values(base + 1u, fa, range.y, last),
            field_values(base + 2u, fa, range.y, last),
            field_values(base + 3u, fa, range.y, last),
        ));
        let xb = transpose(mat4x4<f32>(
            field_values(base, fb, range.y, last),
            field_values(base + 1u, fb, range.y, last),
            field_values(base + 2u, fb, range.y, last),
            field_values(base + 3u, fb, range.y, last),
        ));
        let x = array<vec4<f32>, 8>(xa[0], xa[1], xa[2], xa[3], xb[0], xb[1], xb[2], xb[3]);
        let at = min(base + t, last) * F4;
        let da = lanes8(read_dz(at + qa));
        acc.g0 = fma8(acc.g0, mat4x4<f32>(da[0], da[1], da[2], da[3]), x);
        if (F4 > 1u) {
            acc.g1 = fma8(acc.g1, mat4x4<f32>(da[4], da[5], da[6], da[7]), x);
        }
        if (F4 > 2u) {
            let db = lanes8(read_dz(at + qb));
            acc.g2 = fma8(acc.g2, mat4x4<f32>(db[0], db[1], db[2], db[3]), x);
            if (F4 > 3u) {
                acc.g3 = fma8(acc.g3, mat4x4<f32>(db[4], db[5], db[6], db[7]), x);
            }
        }
        pos += 4u;
    }
    let k0 = wy * 64u + 8u * lane;
    store_value(k0, acc.g0.r0, acc.g1.r0, acc.g2.r0, acc.g3.r0);
    store_value(k0 + 1u, acc.g0.r1, acc.g1.r1, acc.g2.r1, acc.g3.r1);
    store_value(k0 + 2u, acc.g0.r2, acc.g1.r2, acc.g2.r2, acc.g3.r2);
    store_value(k0 + 3u, acc.g0.r3, acc.g1.r3, acc.g2.r3, acc.g3.r3);
    store_value(k0 + 4u, acc.g0.r4, acc.g1.r4, acc.g2.r4, acc.g3.r4);
    store_value(k0 + 5u, acc.g0.r5, acc.g1.r5, acc.g2.r5, acc.g3.r5);
    store_value(k0 + 6u, acc.g0.r6, acc.g1.r6, acc.g2.r6, acc.g3.r6);
    store_value(k0 + 7u, acc.g0.r7, acc.g1.r7, acc.g2.r7, acc.g3.r7);
}

// Field quad f's four values at position pos (zero past the stripe's end `stop`).
fn field_values(pos: u32, f: vec3<u32>, stop: u32, last: u32) -> vec4<f32> {
    let i = out_position(min(pos, last));
    return tap_quad(tap_base(i, f.x, f.y, pos < stop), f.z);
}

// Stores the filter quads z0..z3 of field value k (those that exist).
fn store_value(k: u32, z0: vec4<f32>, z1: vec4<f32>, z2: vec4<f32>, z3: vec4<f32>) {
    store_row(k, 0u, z0);
    if (F4 > 1u) { store_row(k, 1u, z1); }
    if (F4 > 2u) { store_row(k, 2u, z2); }
    if (F4 > 3u) { store_row(k, 3u, z3); }
}

// Stores filters 4·cq.. of field value k (rows8.wgsl's store8 calls it; values past the
// field are not stored).
fn store_row(k: u32, cq: u32, v: vec4<f32>) {
    if (k < KH * KW * C) {
        partials4[stripe_base + k * F4 + cq] = v;
    }
}
