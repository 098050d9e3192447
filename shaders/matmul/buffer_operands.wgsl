// A and B of the vec4 matmul kernels (body.wgsl follows) read from storage buffers seen
// as vec4s (`a4`, `b4`: the vec4 views of `a` and `b`).

fn load_a4(i: u32) -> vec4<f32> {
    return a4[i];
}

fn load_b4(i: u32) -> vec4<f32> {
    return b4[i];
}

// Single floats (the narrow body).
fn load_a1(i: u32) -> f32 {
    return a[i];
}

fn load_b1(i: u32) -> f32 {
    return b[i];
}

// Floats 4q..4q+3 of B (through the scalar view: the narrow body binds no vec4 views).
fn load_b_quad(q: u32) -> vec4<f32> {
    let i = 4u * q;
    return vec4<f32>(b[i], b[i + 1u], b[i + 2u], b[i + 3u]);
}
