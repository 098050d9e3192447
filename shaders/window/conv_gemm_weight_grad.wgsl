// The kernel gradient of the convolution over a larger receptive field (conv_gemm.wgsl;
// Kernel::ConvDirectWeightGrad with one stripe): partials [kh·kw·c, filters] =
// fieldsᵀ · dz, summed over all positions, the fields read in place (conv_gemm_taps.wgsl).
//
// As the 8-lane subgroup matmul with A transposed (matmul/subgroup.wgsl): a workgroup owns
// 32 field values × 32 filters, lane l the filters 4l..4l+3; each step of four positions,
// lane 4h + t loads position t's four channels of one tap for each group of 8 field values
// (the group's quad h), and after lanes8 a transpose gives every lane each value's four
// positions. The walk over positions starts at the lane's own (t) and steps by 4, so its
// bound, read from `p`, is no count lavapipe inlines (docs/benchmarks.md, "Loops bounded
// by a launch's parameters alone").
//
// Declared before this file (generated from Rust): `p` (ConvParams: n), `read_x(i)`,
// `read_dz(i)` (vec4 i through their textures), partials; the window's geometry; lanes8.

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
    let row0 = wid.y * 32u;
    let cq = wid.x * 8u + lane;
    let cqc = min(cq, F4 - 1u);
    let t = lane & 3u;
    let h = lane >> 2u;
    let f0 = field_quad(row0 / 4u + h);
    let f1 = field_quad(row0 / 4u + 2u + h);
    let f2 = field_quad(row0 / 4u + 4u + h);
    let f3 = field_quad(row0 / 4u + 6u + h);
    let positions = p.n * OH * OW;
    let last = positions - 1u;
    var c00 = vec4<f32>(0.0); var c01 = vec4<f32>(0.0); var c02 = vec4<f32>(0.0); var c03 = vec4<f32>(0.0);
    var c04 = vec4<f32>(0.0); var c05 = vec4<f32>(0.0); var c06 = vec4<f32>(0.0); var c07 = vec4<f32>(0.0);
    var c10 = vec4<f32>(0.0); var c11 = vec4<f32>(0.0); var c12 = vec4<f32>(0.0); var c13 = vec4<f32>(0.0);
    var c14 = vec4<f32>(0.0); var c15 = vec4<f32>(0.0); var c16 = vec4<f32>(0.0); var c17 = vec4<f32>(0.0);
    var c20 = vec4<f32>(0.0); var c21 = vec4<f32>(0.0); var c22 = vec4<f32>(0.0); var c23 = vec4<f32>(0.0);
    var c24 = vec4<f32>(0.0); var c25 = vec4<f32>(0.0); var c26 = vec4<f32>(0.0); var c27 = vec4<f32>(0.0);
    var c30 = vec4<f32>(0.0); var c31 = vec4<f32>(0.0); var c32 = vec4<f32>(0.0); var c33 = vec4<f32>(0.0);
    var c34 = vec4<f32>(0.0); var c35 = vec4<f32>(0.0); var c36 = vec4<f32>(0.0); var c37 = vec4<f32>(0.0);
    // pos = base + t for bases 0, 4, 8, … below the positions.
    var pos = t;
    let end = positions + t;
    while (pos < end) {
        let base = pos - t;
        // dz rows base..base+3 (past the last: the last again, met by zero field values).
        let bm = mat4x4<f32>(
            read_dz(min(base, last) * F4 + cqc),
            read_dz(min(base + 1u, last) * F4 + cqc),
            read_dz(min(base + 2u, last) * F4 + cqc),
            read_dz(min(base + 3u, last) * F4 + cqc),
        );
        let valid = pos < positions;
        let i = out_position(min(pos, last));
        let a0 = values8(tap_quad(tap_base(i, f0.x, f0.y, valid), f0.z));
        let a1 = values8(tap_quad(tap_base(i, f1.x, f1.y, valid), f1.z));
        let a2 = values8(tap_quad(tap_base(i, f2.x, f2.y, valid), f2.z));
        let a3 = values8(tap_quad(tap_base(i, f3.x, f3.y, valid), f3.z));
        c00 += bm * a0[0]; c01 += bm * a0[1]; c02 += bm * a0[2]; c03 += bm * a0[3];
        c04 += bm * a0[4]; c05 += bm * a0[5]; c06 += bm * a0[6]; c07 += bm * a0[7];
        c10 += bm * a1[0]; c11 += bm * a1[1]; c12 += bm * a1[2]; c13 += bm * a1[3];
        c14 += bm * a1[4]; c15 += bm * a1[5]; c16 += bm * a1[6]; c17 += bm * a1[7];
        c20 += bm * a2[0]; c21 += bm * a2[1]; c22 += bm * a2[2]; c23 += bm * a2[3];
        c24 += bm * a2[4]; c25 += bm * a2[5]; c26 += bm * a2[6]; c27 += bm * a2[7];
        c30 += bm * a3[0]; c31 += bm * a3[1]; c32 += bm * a3[2]; c33 += bm * a3[3];
        c34 += bm * a3[4]; c35 += bm * a3[5]; c36 += bm * a3[6]; c37 += bm * a3[7];
        pos += 4u;
    }
    if (cq >= F4) { return; }
    store_value(row0 + 0u, cq, c00); store_value(row0 + 1u, cq, c01); store_value(row0 + 2u, cq, c02); store_value(row0 + 3u, cq, c03);
    store_value(row0 + 4u, cq, c04); store_value(row0 + 5u, cq, c05); store_value(row0 + 6u, cq, c06); store_value(row0 + 7u, cq, c07);
    store_value(row0 + 8u, cq, c10); store_value(row0 + 9u, cq, c11); store_value(row0 + 10u, cq, c12); store_value(row0 + 11u, cq, c13);
    store_value(row0 + 12u, cq, c14); store_value(row0 + 13u, cq, c15); store_value(row0 + 14u, cq, c16); store_value(row0 + 15u, cq, c17);
    store_value(row0 + 16u, cq, c20); store_value(row0 + 17u, cq, c21); store_value(row0 + 18u, cq, c22); store_value(row0 + 19u, cq, c23);
    store_value(row0 + 20u, cq, c24); store_value(row0 + 21u, cq, c25); store_value(row0 + 22u, cq, c26); store_value(row0 + 23u, cq, c27);
    store_value(row0 + 24u, cq, c30); store_value(row0 + 25u, cq, c31); store_value(row0 + 26u, cq, c32); store_value(row0 + 27u, cq, c33);
    store_value(row0 + 28u, cq, c34); store_value(row0 + 29u, cq, c35); store_value(row0 + 30u, cq, c36); store_value(row0 + 31u, cq, c37);
}

// Stores filters 4·cq.. of field value k (values past the field are not stored).
fn store_value(k: u32, cq: u32, v: vec4<f32>) {
    if (k < KH * KW * C) {
        partials4[k * F4 + cq] = v;
    }
}
