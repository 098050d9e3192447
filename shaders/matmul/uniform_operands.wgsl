// A of the matmul bodies (body.wgsl follows) read from an rgba32float texture, B from a
// uniform block: the host copies A's buffer into the texture (as texture_operands.wgsl
// describes) and B's first 4,096 vec4s into the block right before the launch, and picks
// this file only for a B that fits (a convolution's kernel over few input channels). On CPU
// adapters a uniform load at an index all lanes share is one scalar load broadcast to the
// lanes, where a texel or storage load is one load per lane.

const TEXTURE_ROW: u32 = 1024u;

// `a_tex` is the texture view of `a`, `b_u` the uniform block of `b`.

fn load_a4(i: u32) -> vec4<f32> {
    return textureLoad(a_tex, vec2<u32>(i % TEXTURE_ROW, i / TEXTURE_ROW), 0);
}

fn load_b4(i: u32) -> vec4<f32> {
    return b_u[i];
}

// Single floats (the narrow body): float i is component i % 4 of texel (or vec4) i / 4.
fn load_a1(i: u32) -> f32 {
    let t = i / 4u;
    return textureLoad(a_tex, vec2<u32>(t % TEXTURE_ROW, t / TEXTURE_ROW), 0)[i % 4u];
}

fn load_b1(i: u32) -> f32 {
    return b_u[i / 4u][i % 4u];
}

// Floats 4q..4q+3 of B.
fn load_b_quad(q: u32) -> vec4<f32> {
    return b_u[q];
}
