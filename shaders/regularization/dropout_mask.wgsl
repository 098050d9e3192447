// Shared by the dropout kernels. Declared before this file (generated from Rust): `p`
// (DropoutParams: n elements of samples of shape (d1, d2, d3); shared_axes bit k: axis k, the
// batch first, shares one draw (Keras's noise_shape entry of 1); the layer's seed; rate;
// a kept value becomes x·scale + shift, a dropped one `dropped`), the step record `step`
// (word 0 the step, which picks the masks) and the kernel's buffers. activation.wgsl
// precedes (uniform01, the generator RReLU draws from too).

fn axis_shared(k: u32) -> bool {
    return ((p.shared_axes >> k) & 1u) != 0u;
}

// Element i's draw, indexed in the noise tensor (shared axes collapsed to 1).
fn noise_index(i: u32) -> u32 {
    let c3 = i % p.d3;
    let c2 = (i / p.d3) % p.d2;
    let c1 = (i / (p.d3 * p.d2)) % p.d1;
    let r = i / (p.d3 * p.d2 * p.d1);
    let n0 = select(r, 0u, axis_shared(0u));
    let n1 = select(c1, 0u, axis_shared(1u));
    let n2 = select(c2, 0u, axis_shared(2u));
    let n3 = select(c3, 0u, axis_shared(3u));
    let m1 = select(p.d1, 1u, axis_shared(1u));
    let m2 = select(p.d2, 1u, axis_shared(2u));
    let m3 = select(p.d3, 1u, axis_shared(3u));
    return ((n0 * m1 + n1) * m2 + n2) * m3 + n3;
}

// Whether element i is kept this step: its draw in [0, 1) is at least the rate.
fn kept(i: u32) -> bool {
    return uniform01(p.seed, step[0], noise_index(i)) >= p.rate;
}

// Whether each element of vec4 v (elements 4v..4v+3) is kept this step.
fn kept4(v: u32) -> vec4<bool> {
    let e = 4u * v;
    return vec4<bool>(kept(e), kept(e + 1u), kept(e + 2u), kept(e + 3u));
}

fn flat(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
    return gid.x + gid.y * nwg.x * 256u;
}
