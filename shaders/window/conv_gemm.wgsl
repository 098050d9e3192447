// A convolution over a larger receptive field (Kernel::ConvDirect where its field is past
// the direct kernel's and the device has 8-lane subgroups) as a matmul of its receptive
// fields read in place (conv_gemm_taps.wgsl) with the (kh·kw·c, filters) kernel: y [positions,
// filters] = fields [positions, kh·kw·c] · w, plus the bias, through the activation
// (conv_store.wgsl). No im2col rows are written or read.
//
// As the 8-lane subgroup matmul (matmul/subgroup.wgsl): a workgroup is one subgroup and
// owns 32 positions × 32 filters, lane l the filters 4l..4l+3 of all 32 positions; each step
// of four channels of a tap, lane j loads position j's four values in each group of 8
// positions, and they reach every lane through lanes8. The taps' geometry is the same for
// all lanes, and every loop count is a pipeline constant.
//
// Declared before this file (generated from Rust): `p` (ConvParams: n, flags, f0, f1),
// `read_x(i)`, `read_w(i)` (vec4 i through their textures), `read_bias(i)` (vec4 i through
// a uniform block), y; the window's geometry; lanes8; store_y.

@compute @workgroup_size(8)
fn conv_gemm(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(subgroup_invocation_id) lane: u32,
) {
    let row0 = wid.y * 32u;
    let cq = wid.x * 8u + lane;
    let cqc = min(cq, F4 - 1u);
    let last = p.n * OH * OW - 1u;
    // This lane's position in each group of 8 (past the last: the last, not stored).
    let i0 = out_position(min(row0 + lane, last));
    let i1 = out_position(min(row0 + 8u + lane, last));
    let i2 = out_position(min(row0 + 16u + lane, last));
    let i3 = out_position(min(row0 + 24u + lane, last));
    var c00 = vec4<f32>(0.0); var c01 = vec4<f32>(0.0); var c02 = vec4<f32>(0.0); var c03 = vec4<f32>(0.0);
    var c04 = vec4<f32>(0.0); var c05 = vec4<f32>(0.0); var c06 = vec4<f32>(0.0); var c07 = vec4<f32>(0.0);
    var c10 = vec4<f32>(0.0); var c11 = vec4<f32>(0.0); var c12 = vec4<f32>(0.0); var c13 = vec4<f32>(0.0);
    var c14 = vec4<f32>(0.0); var c15 = vec4<f32>(0.0); var c16 = vec4<f32>(0.0); var c17 = vec4<f32>(0.0);
    var c20 = vec4<f32>(0.0); var c21 = vec4<f32>(0.0); var c22 = vec4<f32>(0.0); var c23 = vec4<f32>(0.0);
    var c24 = vec4<f32>(0.0); var c25 = vec4<f32>(0.0); var c26 = vec4<f32>(0.0); var c27 = vec4<f32>(0.0);
    var c30 = vec4<f32>(0.0); var c31 = vec4<f32>(0.0); var c32 = vec4<f32>(0.0); var c33 = vec4<f32>(0.0);
    var c34 = vec4<f32>(0.0); var c35 = vec4<f32>(0.0); var c36 = vec4<f32>(0.0); var c37 = vec4<f32>(0.0);
    for (var t = 0u; t < KH * KW; t++) {
        let ky = t / KW;
        let kx = t % KW;
        let b0 = tap_base(i0, ky, kx, true);
        let b1 = tap_base(i1, ky, kx, true);
        let b2 = tap_base(i2, ky, kx, true);
        let b3 = tap_base(i3, ky, kx, true);
        for (var c4 = 0u; c4 < C4; c4++) {
            // Rows k..k+3 of w (the field's values 4·(t·C4 + c4)..), this lane's filters.
            let k = 4u * (t * C4 + c4);
            let bm = mat4x4<f32>(
                read_w(k * F4 + cqc),
                read_w((k + 1u) * F4 + cqc),
                read_w((k + 2u) * F4 + cqc),
                read_w((k + 3u) * F4 + cqc),
            );
            let a0 = lanes8(tap_quad(b0, c4));
            let a1 = lanes8(tap_quad(b1, c4));
            let a2 = lanes8(tap_quad(b2, c4));
            let a3 = lanes8(tap_quad(b3, c4));
            c00 += bm * a0[0]; c01 += bm * a0[1]; c02 += bm * a0[2]; c03 += bm * a0[3];
            c04 += bm * a0[4]; c05 += bm * a0[5]; c06 += bm * a0[6]; c07 += bm * a0[7];
            c10 += bm * a1[0]; c11 += bm * a1[1]; c12 += bm * a1[2]; c13 += bm * a1[3];
            c14 += bm * a1[4]; c15 += bm * a1[5]; c16 += bm * a1[6]; c17 += bm * a1[7];
            c20 += bm * a2[0]; c21 += bm * a2[1]; c22 += bm * a2[2]; c23 += bm * a2[3];
            c24 += bm * a2[4]; c25 += bm * a2[5]; c26 += bm * a2[6]; c27 += bm * a2[7];
            c30 += bm * a3[0]; c31 += bm * a3[1]; c32 += bm * a3[2]; c33 += bm * a3[3];
            c34 += bm * a3[4]; c35 += bm * a3[5]; c36 += bm * a3[6]; c37 += bm * a3[7];
        }
    }
    if (cq >= F4) { return; }
    let bias = read_bias(cq);
    store_pos(row0 + 0u, cq, c00 + bias); store_pos(row0 + 1u, cq, c01 + bias);
    store_pos(row0 + 2u, cq, c02 + bias); store_pos(row0 + 3u, cq, c03 + bias);
    store_pos(row0 + 4u, cq, c04 + bias); store_pos(row0 + 5u, cq, c05 + bias);
    store_pos(row0 + 6u, cq, c06 + bias); store_pos(row0 + 7u, cq, c07 + bias);
    store_pos(row0 + 8u, cq, c10 + bias); store_pos(row0 + 9u, cq, c11 + bias);
    store_pos(row0 + 10u, cq, c12 + bias); store_pos(row0 + 11u, cq, c13 + bias);
    store_pos(row0 + 12u, cq, c14 + bias); store_pos(row0 + 13u, cq, c15 + bias);
    store_pos(row0 + 14u, cq, c16 + bias); store_pos(row0 + 15u, cq, c17 + bias);
    store_pos(row0 + 16u, cq, c20 + bias); store_pos(row0 + 17u, cq, c21 + bias);
    store_pos(row0 + 18u, cq, c22 + bias); store_pos(row0 + 19u, cq, c23 + bias);
    store_pos(row0 + 20u, cq, c24 + bias); store_pos(row0 + 21u, cq, c25 + bias);
    store_pos(row0 + 22u, cq, c26 + bias); store_pos(row0 + 23u, cq, c27 + bias);
    store_pos(row0 + 24u, cq, c30 + bias); store_pos(row0 + 25u, cq, c31 + bias);
    store_pos(row0 + 26u, cq, c32 + bias); store_pos(row0 + 27u, cq, c33 + bias);
    store_pos(row0 + 28u, cq, c34 + bias); store_pos(row0 + 29u, cq, c35 + bias);
    store_pos(row0 + 30u, cq, c36 + bias); store_pos(row0 + 31u, cq, c37 + bias);
}

// Stores filters 4·cq.. of position r (positions past the last are not stored).
fn store_pos(r: u32, cq: u32, z: vec4<f32>) {
    if (r < p.n * OH * OW) {
        store_y(r * F4 + cq, z);
    }
}
