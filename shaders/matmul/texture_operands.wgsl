// A and B of the vec4 matmul kernels (body.wgsl follows) read from rgba32float
// textures: the host copies each operand's buffer in (copy_buffer_to_texture) right before
// the launch, vec4 number i at texel (i % TEXTURE_ROW, i / TEXTURE_ROW). On CPU adapters
// (llvmpipe) a texel load compiles to a branch-free gather, where a storage load inside
// the k loop becomes a per-lane loop of scalar loads with bounds checks.

const TEXTURE_ROW: u32 = 1024u;

// `a_tex` and `b_tex` are the texture views of `a` and `b`.

fn load_a4(i: u32) -> vec4<f32> {
    return textureLoad(a_tex, vec2<u32>(i % TEXTURE_ROW, i / TEXTURE_ROW), 0);
}

fn load_b4(i: u32) -> vec4<f32> {
    return textureLoad(b_tex, vec2<u32>(i % TEXTURE_ROW, i / TEXTURE_ROW), 0);
}

// Single floats (the narrow body): float i is component i % 4 of texel i / 4.
fn load_a1(i: u32) -> f32 {
    let t = i / 4u;
    return textureLoad(a_tex, vec2<u32>(t % TEXTURE_ROW, t / TEXTURE_ROW), 0)[i % 4u];
}

fn load_b1(i: u32) -> f32 {
    let t = i / 4u;
    return textureLoad(b_tex, vec2<u32>(t % TEXTURE_ROW, t / TEXTURE_ROW), 0)[i % 4u];
}

// Floats 4q..4q+3 of B: texel q.
fn load_b_quad(q: u32) -> vec4<f32> {
    return load_b4(q);
}
