// A convolution's input gradient computed directly (Kernel::ConvInputGrad where the 8-lane
// subgroup kernel of conv_input_grad.wgsl does not take it: inputs of at most 8 channels),
// stride 1 and dilation 1 across: dx[img, y, x, c] = Σ over taps (ky, kx) and filters f of
// dz[img, y + PAD_TOP − ky·DH, x + PAD_LEFT − kx, f]·w[ky, kx, c, f], the taps whose output
// position lies outside dz left out.
//
// One invocation per eight neighbouring input positions of a row (a row of W is
// ceil(W / 8) blocks; past the row, positions are computed but not stored) and all their
// channels (two vec4s at most), a vec4 of filters at a time. Each weight it loads serves
// eight positions: the weights' index depends on the loops' counters, which on llvmpipe
// makes each load one per lane, not one for all (only constant indices are loaded once),
// so the fewer loads the better. Along a row of taps the positions' dz values slide:
// position i's tap kx + 1 reads what position i − 1's tap kx read, so a row of KW taps is
// KW + 7 loads of a vec4, not 8·KW. Without the im2col rows dz·wᵀ wrote and col2im read
// back (LeNet's second convolution's at batch 128 on llvmpipe: 9.6 + 6.7 ms that way).
//
// Declared before this file (generated from Rust): `p` (WindowParams: n), the window's
// geometry (window/common.wgsl: H, W, C channels of the input, OH, OW), dz's vec4 view
// `dz4`, `read_w(i)` (vec4 i of the weights' uniform block), dx.

// Filters in vec4s (the kernel's last axis, in whole vec4s), fixed per pipeline.
override F4: u32;

// The sums of eight positions: column q of p<i> holds position i's channels 4q..4q+3.
struct Sums8 {
    p0: mat2x4<f32>, p1: mat2x4<f32>, p2: mat2x4<f32>, p3: mat2x4<f32>,
    p4: mat2x4<f32>, p5: mat2x4<f32>, p6: mat2x4<f32>, p7: mat2x4<f32>,
}

// Eight positions' dz values at one tap and vec4 of filters: position i's in v<i>.
struct Taps8 {
    v0: vec4<f32>, v1: vec4<f32>, v2: vec4<f32>, v3: vec4<f32>,
    v4: vec4<f32>, v5: vec4<f32>, v6: vec4<f32>, v7: vec4<f32>,
}

@compute @workgroup_size(256)
fn conv_direct_input_grad(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let t = flat(gid, nwg);
    let row_blocks = (W + 7u) / 8u;
    let row = t / row_blocks;
    if (row >= p.n * H) { return; }
    let x0 = (t % row_blocks) * 8u;
    let img = row / H;
    let iy = row % H;
    var acc: Sums8;
    for (var j = 0u; j < F4; j++) {
        for (var ky = 0u; ky < KH; ky++) {
            let oy = i32(iy + PAD_TOP) - i32(ky * DH);
            let row_in = oy >= 0 && oy < i32(OH);
            let base = (img * OH + u32(clamp(oy, 0, i32(OH) - 1))) * OW;
            // Tap 0 of position i reads output column b + i; tap kx + 1 one column left.
            let b = i32(x0 + PAD_LEFT);
            var d = Taps8(
                dz_at(base, b, row_in, j), dz_at(base, b + 1, row_in, j),
                dz_at(base, b + 2, row_in, j), dz_at(base, b + 3, row_in, j),
                dz_at(base, b + 4, row_in, j), dz_at(base, b + 5, row_in, j),
                dz_at(base, b + 6, row_in, j), dz_at(base, b + 7, row_in, j),
            );
            for (var kx = 0u; kx < KW; kx++) {
                acc = add_tap(acc, (ky * KW + kx) * C, j, d);
                d = Taps8(dz_at(base, b - i32(kx) - 1, row_in, j), d.v0, d.v1, d.v2, d.v3, d.v4, d.v5, d.v6);
            }
        }
    }
    let o = row * W + x0;
    store_position(o, acc.p0);
    if (x0 + 1u < W) { store_position(o + 1u, acc.p1); }
    if (x0 + 2u < W) { store_position(o + 2u, acc.p2); }
    if (x0 + 3u < W) { store_position(o + 3u, acc.p3); }
    if (x0 + 4u < W) { store_position(o + 4u, acc.p4); }
    if (x0 + 5u < W) { store_position(o + 5u, acc.p5); }
    if (x0 + 6u < W) { store_position(o + 6u, acc.p6); }
    if (x0 + 7u < W) { store_position(o + 7u, acc.p7); }
}

// Filters 4j..4j+3 of dz at output column c of the output row starting at position `base`
// (zero outside dz: its row `row_in` false, or c past either edge).
fn dz_at(base: u32, c: i32, row_in: bool, j: u32) -> vec4<f32> {
    let v = dz4[(base + u32(clamp(c, 0, i32(OW) - 1))) * F4 + j];
    return select(vec4<f32>(0.0), v, row_in && c >= 0 && c < i32(OW));
}

// The sums plus the products of tap row k's weights (k the first of its C channels' rows)
// at filters 4j..4j+3 with the eight positions' dz values there.
fn add_tap(acc: Sums8, k: u32, j: u32, d: Taps8) -> Sums8 {
    var a = acc;
    let w0 = w_block(k, 0u, j);
    a.p0[0] += d.v0 * w0;
    a.p1[0] += d.v1 * w0;
    a.p2[0] += d.v2 * w0;
    a.p3[0] += d.v3 * w0;
    a.p4[0] += d.v4 * w0;
    a.p5[0] += d.v5 * w0;
    a.p6[0] += d.v6 * w0;
    a.p7[0] += d.v7 * w0;
    if (C > 4u) {
        let w1 = w_block(k, 4u, j);
        a.p0[1] += d.v0 * w1;
        a.p1[1] += d.v1 * w1;
        a.p2[1] += d.v2 * w1;
        a.p3[1] += d.v3 * w1;
        a.p4[1] += d.v4 * w1;
        a.p5[1] += d.v5 * w1;
        a.p6[1] += d.v6 * w1;
        a.p7[1] += d.v7 * w1;
    }
    return a;
}

// The weights of tap row k for channels c0..c0+3 (past the last, the last again) and
// filters 4j..4j+3: column q is channel c0 + q's, so that d * w_block(…) is the four
// channels' dot products with d.
fn w_block(k: u32, c0: u32, j: u32) -> mat4x4<f32> {
    let l = C - 1u;
    return mat4x4<f32>(
        read_w((k + min(c0, l)) * F4 + j),
        read_w((k + min(c0 + 1u, l)) * F4 + j),
        read_w((k + min(c0 + 2u, l)) * F4 + j),
        read_w((k + min(c0 + 3u, l)) * F4 + j),
    );
}

// Stores the channels (those that exist) of input position `pos` from its sums.
fn store_position(pos: u32, s: mat2x4<f32>) {
    let o = pos * C;
    for (var c = 0u; c < C; c++) {
        dx[o + c] = s[c / 4u][c % 4u];
    }
}
