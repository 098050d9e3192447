// A convolution's receptive fields read in place, four channels at a time (channels a
// multiple of 4): what the im2col rows hold, without the rows. Shared by the convolution
// over larger fields as an implicit matmul on 8-lane subgroups (conv_gemm.wgsl) and its
// kernel gradient (conv_gemm_weight_grad.wgsl). Declared before this file: the window's
// geometry (window/common.wgsl) and `read_x(i)`, vec4 i of the input through its texture.

// Channels and filters in vec4s, fixed per pipeline.
override C4: u32;
override F4: u32;
// At most 16 filters (F4 ≤ 4), fixed per pipeline: a workgroup owns 64 rows (positions, or
// field values) and all the filters instead of 32 rows and 32 filters, a lane eight rows
// (`narrow` in conv_gemm.wgsl and conv_gemm_weight_grad.wgsl).
override HALVES: bool = false;
// Over more than 32 filters, fixed per pipeline: a workgroup owns 64 filters (lane l the
// quads l and l + 8) and 32 rows, so the rows' values it loads and broadcasts serve twice
// the multiply-adds.
override WIDE: bool = false;

// (image, row, column) of output position r.
fn out_position(r: u32) -> vec3<u32> {
    return vec3<u32>(r / (OH * OW), (r / OW) % OH, r % OW);
}

// Where output position i reads the input through tap (ky, kx): the index of that input
// position's first vec4 of channels (clamped into the image), and whether the tap is
// inside the image (not in the padding) and `valid` (a position that exists).
fn tap_base(i: vec3<u32>, ky: u32, kx: u32, valid: bool) -> vec2<u32> {
    let iy = i32(i.y * SH + ky * DH) - i32(PAD_TOP);
    let ix = i32(i.z * SW + kx * DW) - i32(PAD_LEFT);
    let y = u32(clamp(iy, 0, i32(H) - 1));
    let x = u32(clamp(ix, 0, i32(W) - 1));
    let ok = valid && iy >= 0 && iy < i32(H) && ix >= 0 && ix < i32(W);
    return vec2<u32>(((i.x * H + y) * W + x) * C4, u32(ok));
}

// Channels 4·c4.. where tap_base `b` points (zero in the padding).
fn tap_quad(b: vec2<u32>, c4: u32) -> vec4<f32> {
    return select(vec4<f32>(0.0), read_x(b.x + c4), b.y != 0u);
}
