// Shared by the window kernels (im2col and its backward, max and average pooling and
// theirs) over NHWC images. Declared before this file (generated from Rust): `p`
// (WindowParams; these kernels read only its image count n) and the kernel's buffers, with
// `read1_<name>(i)` for the large inputs: a storage load, or on CPU adapters a texel load
// from a copy of the buffer (the *_TEXTURE modules).
//
// The window's geometry is fixed per pipeline as constants (a pipeline per layer): n
// images of H × W × C; a window of KH × KW taps spaced DH, DW apart, moved by strides SH,
// SW; padding PAD_TOP above and PAD_LEFT on the left; OH × OW outputs per image. Their
// divisions and remainders then compile to multiplies — as uniforms they were a scalar
// division per lane on a CPU adapter (measured on llvmpipe: 3–6× slower kernels).
override H: u32;
override W: u32;
override C: u32;
override KH: u32;
override KW: u32;
override SH: u32;
override SW: u32;
override DH: u32;
override DW: u32;
override PAD_TOP: u32;
override PAD_LEFT: u32;
override OH: u32;
override OW: u32;

// Flattened invocation index for 2-D dispatches of 256-wide workgroups.
fn flat(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
    return gid.x + gid.y * nwg.x * 256u;
}

// `flat` for 64-wide workgroups (grid_64 in launch.rs): kernels whose invocations are few
// and long, so that each thread of a CPU adapter, which runs a workgroup at a time, gets
// a share.
fn flat64(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
    return gid.x + gid.y * nwg.x * 64u;
}

// Index of (image, row, column, channel) in the input.
fn input_index(img: u32, iy: u32, ix: u32, ch: u32) -> u32 {
    return ((img * H + iy) * W + ix) * C + ch;
}

// (image, row, column, channel) of value i of the input.
fn input_position(i: u32) -> vec4<u32> {
    return vec4<u32>(i / (C * W * H), (i / (C * W)) % H, (i / C) % W, i % C);
}

// (image, row, column, channel) of value o of an output of OH × OW × C images.
fn output_position(o: u32) -> vec4<u32> {
    return vec4<u32>(o / (C * OW * OH), (o / (C * OW)) % OH, (o / C) % OW, o % C);
}

// Index of (image, row, column, channel) in a pooled output.
fn output_index(img: u32, oy: u32, ox: u32, ch: u32) -> u32 {
    return ((img * OH + oy) * OW + ox) * C + ch;
}

// The input row tap ky of output row oy reads (negative or ≥ h: the padding).
fn tap_row(oy: u32, ky: u32) -> i32 {
    return i32(oy * SH + ky * DH) - i32(PAD_TOP);
}

// The input column tap kx of output column ox reads (negative or ≥ w: the padding).
fn tap_col(ox: u32, kx: u32) -> i32 {
    return i32(ox * SW + kx * DW) - i32(PAD_LEFT);
}

// The output row whose tap ky reads input row iy, or -1 when none does.
fn source_row(iy: u32, ky: u32) -> i32 {
    let t = i32(iy + PAD_TOP) - i32(ky * DH);
    if (t < 0 || t % i32(SH) != 0) { return -1; }
    let oy = t / i32(SH);
    if (oy >= i32(OH)) { return -1; }
    return oy;
}

// The output column whose tap kx reads input column ix, or -1 when none does.
fn source_col(ix: u32, kx: u32) -> i32 {
    let t = i32(ix + PAD_LEFT) - i32(kx * DW);
    if (t < 0 || t % i32(SW) != 0) { return -1; }
    let ox = t / i32(SW);
    if (ox >= i32(OW)) { return -1; }
    return ox;
}

// Whether an input position lies inside the image.
fn inside(iy: i32, ix: i32) -> bool {
    return iy >= 0 && iy < i32(H) && ix >= 0 && ix < i32(W);
}

// The number of taps of `k` spaced `d` apart, starting at `first` (negative: in the
// padding), that land in [0, len).
fn taps_inside(first: i32, k: u32, d: u32, len: u32) -> u32 {
    let lo = select(0, (-first + i32(d) - 1) / i32(d), first < 0);
    let hi = min(i32(k) - 1, (i32(len) - 1 - first) / i32(d));
    return u32(max(hi - lo + 1, 0));
}

// The number of real values in output (oy, ox)'s window, counted by rows and columns (a
// walk over the taps cost a global pool's backward 24×24 steps a value).
fn window_count(oy: u32, ox: u32) -> u32 {
    return taps_inside(tap_row(oy, 0u), KH, DH, H) * taps_inside(tap_col(ox, 0u), KW, DW, W);
}

// The outputs along one axis whose windows hold input coordinate `i` (`pad` the padding
// before it, `k` taps `d` apart, stride `s`, `out` outputs): the first and one past the
// last. Walking these instead of every tap costs a window's overlap, not its size: one
// output for a global pool. Those whose taps step over `i` (dilation) are left to
// `tap_at`.
fn source_range(i: u32, pad: u32, k: u32, d: u32, s: u32, out: u32) -> vec2<u32> {
    let t = i32(i + pad);
    let reach = t - i32((k - 1u) * d);
    let lo = select(0u, u32((reach + i32(s) - 1) / i32(s)), reach > 0);
    let hi = min(u32(t) / s + 1u, out);
    return vec2<u32>(lo, max(hi, lo));
}

// Whether output `o` (of source_range) reads input coordinate `i` through one of its taps.
fn tap_at(i: u32, pad: u32, d: u32, s: u32, o: u32) -> bool {
    return (i + pad - o * s) % d == 0u;
}
