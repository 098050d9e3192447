// A and B of the vec4 matmul kernels (body.wgsl follows) read from storage buffers seen
// as vec4s (`a4`, `b4`: the vec4 views of `a` and `b`).

fn load_a4(i: u32) -> vec4<f32> {
    return a4[i];
}

fn load_b4(i: u32) -> vec4<f32> {
    return b4[i];
}
