// A and B of the vec4 matmul kernels (matmul_body.wgsl follows) read from storage buffers
// seen as vec4s: the same buffers as bindings 1 and 2.

@group(0) @binding(4) var<storage, read> a4: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read> b4: array<vec4<f32>>;

fn load_a4(i: u32) -> vec4<f32> {
    return a4[i];
}

fn load_b4(i: u32) -> vec4<f32> {
    return b4[i];
}
