// A convolution's output stored through its activation (Kernel::ConvDirect's epilogue,
// as the dense layer's): shared by the direct kernel (conv_direct.wgsl) and the one over
// larger fields (conv_gemm.wgsl). Declared before this file: `p` (ConvParams: flags, f0,
// f1), y's vec4 view `y4`, the step record `step`; activation.wgsl.

// The activation code (equal to p.code), fixed per pipeline.
override ACT_CODE: u32 = 0u;

// Stores vec4 o of y through the activation.
fn store_y(o: u32, z: vec4<f32>) {
    let a = Act(ACT_CODE, p.flags, p.f0, p.f1);
    var s = 0u;
    if (ACT_CODE == ACT_RRELU) {
        s = step[0];
    }
    y4[o] = vec4<f32>(
        act(a, z.x, 4u * o, s),
        act(a, z.y, 4u * o + 1u, s),
        act(a, z.z, 4u * o + 2u, s),
        act(a, z.w, 4u * o + 3u, s),
    );
}

// Stores element i of y through the activation (filters not in whole vec4s).
fn store_y1(i: u32, z: f32) {
    let a = Act(ACT_CODE, p.flags, p.f0, p.f1);
    var s = 0u;
    if (ACT_CODE == ACT_RRELU) {
        s = step[0];
    }
    y[i] = act(a, z, i, s);
}
