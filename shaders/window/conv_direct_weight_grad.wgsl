// The direct convolution's kernel gradient (conv_patch.wgsl precedes), as partial sums over
// stripes of positions (p.stripes): stripe s sums a block of consecutive positions
// (stripe_range in loops.wgsl), partials[s, k, f] = Σ patch[k]·dz[pos, f] over them (a
// column sum follows).
//
// One invocation per stripe, KB·4 neighbouring values k of the receptive field (past the
// field, the last one again, not stored) and block of 16 filters (four vec4s; past the
// filters, the last vec4 again, not stored): each gradient vec4 it loads serves KB·4
// values k, each image value four vec4s of filters, and the sums are matrices, 4 × 16
// values each (as in conv_direct.wgsl: on CPU adapters the loads are what costs, and arrays
// indexed in loops more than they save).

// Blocks of four field values an invocation: 1 to 3.
override KB: u32 = 1u;

// Whether, with stride and dilation 1 across and KW ≤ 12, an invocation sums one row of
// taps (ky, channel ch: KW field values) instead, its stripe being a block of rows of
// positions walked along: position ox's tap kx is position ox + 1's tap
// kx - 1, so each position loads one new image value, not one per field value.
override STRIP: bool = false;

@compute @workgroup_size(64)
fn conv_direct_weight_grad4(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let b = grad_block(flat64(gid, nwg));
    if (b.w == 0u) { return; }
    let s = b.x;
    let k0 = b.y;
    let j0 = b.z;
    let jl = F4 - 1u;
    let j1 = min(j0 + 1u, jl);
    let j2 = min(j0 + 2u, jl);
    let j3 = min(j0 + 3u, jl);
    var acc: Sums;
    if (STRIP) {
        let ky = b.y / C;
        let ch = b.y % C;
        let rows = stripe_range(s, p.n * OH, p.stripes);
        for (var r = rows.x; r < rows.y; r++) {
            var st = strip_start(acc, r, ky, ch);
            for (var ox = 0u; ox < OW; ox++) {
                let o = (r * OW + ox) * F4;
                st = strip_step(st, mat4x4<f32>(dz4[o + j0], dz4[o + j1], dz4[o + j2], dz4[o + j3]), ox);
            }
            acc = st.acc;
        }
        for (var kx = 0u; kx < KW; kx++) {
            store_block(s, (ky * KW + kx) * C + ch, j0, sum_of(acc, kx));
        }
        return;
    }
    let positions = p.n * OH * OW;
    let range = stripe_range(s, positions, p.stripes);
    for (var pos = range.x; pos < range.y; pos++) {
        let o = pos * F4;
        let d = mat4x4<f32>(dz4[o + j0], dz4[o + j1], dz4[o + j2], dz4[o + j3]);
        acc = accumulate(acc, d, pos, k0);
    }
    store_block(s, k0, j0, acc.a0);
    store_block(s, k0 + 1u, j0, acc.a1);
    store_block(s, k0 + 2u, j0, acc.a2);
    store_block(s, k0 + 3u, j0, acc.a3);
    if (KB > 1u) {
        store_block(s, k0 + 4u, j0, acc.a4);
        store_block(s, k0 + 5u, j0, acc.a5);
        store_block(s, k0 + 6u, j0, acc.a6);
        store_block(s, k0 + 7u, j0, acc.a7);
    }
    if (KB > 2u) {
        store_block(s, k0 + 8u, j0, acc.a8);
        store_block(s, k0 + 9u, j0, acc.a9);
        store_block(s, k0 + 10u, j0, acc.a10);
        store_block(s, k0 + 11u, j0, acc.a11);
    }
}

// conv_direct_weight_grad4 for a count of filters that is not a multiple of 4 (WHOLE4
// false): dz read and the partial sums stored a float at a time.
@compute @workgroup_size(64)
fn conv_direct_weight_grad(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let b = grad_block(flat64(gid, nwg));
    if (b.w == 0u) { return; }
    let s = b.x;
    let k0 = b.y;
    let j0 = b.z;
    var acc: Sums;
    if (STRIP) {
        let ky = b.y / C;
        let ch = b.y % C;
        let rows = stripe_range(s, p.n * OH, p.stripes);
        for (var r = rows.x; r < rows.y; r++) {
            var st = strip_start(acc, r, ky, ch);
            for (var ox = 0u; ox < OW; ox++) {
                let pos = r * OW + ox;
                let d = mat4x4<f32>(dz_floats(pos, j0), dz_floats(pos, j0 + 1u), dz_floats(pos, j0 + 2u), dz_floats(pos, j0 + 3u));
                st = strip_step(st, d, ox);
            }
            acc = st.acc;
        }
        for (var kx = 0u; kx < KW; kx++) {
            store_floats(s, (ky * KW + kx) * C + ch, j0, sum_of(acc, kx));
        }
        return;
    }
    let positions = p.n * OH * OW;
    let range = stripe_range(s, positions, p.stripes);
    for (var pos = range.x; pos < range.y; pos++) {
        let d = mat4x4<f32>(dz_floats(pos, j0), dz_floats(pos, j0 + 1u), dz_floats(pos, j0 + 2u), dz_floats(pos, j0 + 3u));
        acc = accumulate(acc, d, pos, k0);
    }
    for (var i = 0u; i < 4u * KB; i++) {
        store_floats(s, k0 + i, j0, sum_of(acc, i));
    }
}

// Invocation t's block: its stripe, first field value and first vec4 of filters, and
// whether it has work (0: past the blocks).
// With STRIP the second is the row of taps, ky·C + ch.
fn grad_block(t: u32) -> vec4<u32> {
    let fblocks = (F4 + 3u) / 4u;
    if (STRIP) {
        let g = (t / fblocks) % (KH * C);
        let s = t / (fblocks * KH * C);
        return vec4<u32>(s, g, (t % fblocks) * 4u, u32(t < p.stripes * KH * C * fblocks));
    }
    let kgroups = (PATCH + 4u * KB - 1u) / (4u * KB);
    let j0 = (t % fblocks) * 4u;
    let k0 = ((t / fblocks) % kgroups) * 4u * KB;
    let s = t / (fblocks * kgroups);
    return vec4<u32>(s, k0, j0, u32(t < p.stripes * kgroups * fblocks));
}

// Filters 4j..4j+3 of dz at position pos (past the last filter, the last one again).
fn dz_floats(pos: u32, j: u32) -> vec4<f32> {
    let o = pos * FILTERS;
    let l = FILTERS - 1u;
    let f = 4u * j;
    return vec4<f32>(dz[o + min(f, l)], dz[o + min(f + 1u, l)], dz[o + min(f + 2u, l)], dz[o + min(f + 3u, l)]);
}

// The sums plus position pos's products of its field values k0.. with d (dz's 16 filters).
fn accumulate(acc: Sums, d: mat4x4<f32>, pos: u32, k0: u32) -> Sums {
    let ox = pos % OW;
    let oy = (pos / OW) % OH;
    let img = pos / (OW * OH);
    var a = acc;
    a.a0 += d * field_value(img, oy, ox, k0);
    a.a1 += d * field_value(img, oy, ox, k0 + 1u);
    a.a2 += d * field_value(img, oy, ox, k0 + 2u);
    a.a3 += d * field_value(img, oy, ox, k0 + 3u);
    if (KB > 1u) {
        a.a4 += d * field_value(img, oy, ox, k0 + 4u);
        a.a5 += d * field_value(img, oy, ox, k0 + 5u);
        a.a6 += d * field_value(img, oy, ox, k0 + 6u);
        a.a7 += d * field_value(img, oy, ox, k0 + 7u);
    }
    if (KB > 2u) {
        a.a8 += d * field_value(img, oy, ox, k0 + 8u);
        a.a9 += d * field_value(img, oy, ox, k0 + 9u);
        a.a10 += d * field_value(img, oy, ox, k0 + 10u);
        a.a11 += d * field_value(img, oy, ox, k0 + 11u);
    }
    return a;
}

// Sum a<i> (field value k0 + i).
fn sum_of(acc: Sums, i: u32) -> mat4x4<f32> {
    switch (i) {
        case 0u: { return acc.a0; }
        case 1u: { return acc.a1; }
        case 2u: { return acc.a2; }
        case 3u: { return acc.a3; }
        case 4u: { return acc.a4; }
        case 5u: { return acc.a5; }
        case 6u: { return acc.a6; }
        case 7u: { return acc.a7; }
        case 8u: { return acc.a8; }
        case 9u: { return acc.a9; }
        case 10u: { return acc.a10; }
        default: { return acc.a11; }
    }
}

// An invocation's sums: field value k0 + i in a<i>, 16 filters each.
struct Sums {
    a0: mat4x4<f32>, a1: mat4x4<f32>, a2: mat4x4<f32>, a3: mat4x4<f32>,
    a4: mat4x4<f32>, a5: mat4x4<f32>, a6: mat4x4<f32>, a7: mat4x4<f32>,
    a8: mat4x4<f32>, a9: mat4x4<f32>, a10: mat4x4<f32>, a11: mat4x4<f32>,
}

// Field value k of position (img, oy, ox), k past the field read as the last one.
fn field_value(img: u32, oy: u32, ox: u32, k: u32) -> f32 {
    return patch_value(img, oy, ox, min(k, PATCH - 1u));
}

// Stores the filters' vec4s j0.. (those that exist) of stripe s and field value k (if it
// exists).
fn store_block(s: u32, k: u32, j0: u32, z: mat4x4<f32>) {
    if (k >= PATCH) { return; }
    let o = (s * PATCH + k) * F4 + j0;
    partials4[o] = z[0];
    if (j0 + 1u < F4) { partials4[o + 1u] = z[1]; }
    if (j0 + 2u < F4) { partials4[o + 2u] = z[2]; }
    if (j0 + 3u < F4) { partials4[o + 3u] = z[3]; }
}

// store_block a float at a time: the filters of vec4s j0.. that exist.
fn store_floats(s: u32, k: u32, j0: u32, z: mat4x4<f32>) {
    if (k >= PATCH) { return; }
    let o = (s * PATCH + k) * FILTERS;
    for (var j = 0u; j < 4u; j++) {
        for (var c = 0u; c < 4u; c++) {
            let f = 4u * (j0 + j) + c;
            if (f < FILTERS) { partials[o + f] = z[j][c]; }
        }
    }
}

// A STRIP invocation's sums and its window along the row of taps: image img, input row iy,
// channel ch, and v<j> the value at tap j of the position about to be summed (j < KW - 1;
// the last tap's is loaded with the position).
struct Strip {
    acc: Sums,
    img: u32,
    iy: i32,
    ch: u32,
    v0: f32, v1: f32, v2: f32, v3: f32, v4: f32, v5: f32, v6: f32, v7: f32, v8: f32, v9: f32, v10: f32,
}

// The window at the start of output row r (rows over all images) for taps row ky, channel ch.
fn strip_start(acc: Sums, r: u32, ky: u32, ch: u32) -> Strip {
    var st: Strip;
    st.acc = acc;
    st.img = r / OH;
    st.iy = tap_row(r % OH, ky);
    st.ch = ch;
    let c0 = tap_col(0u, 0u);
    if (KW > 1u) { st.v0 = input_value(st.img, st.iy, c0, ch); }
    if (KW > 2u) { st.v1 = input_value(st.img, st.iy, c0 + 1, ch); }
    if (KW > 3u) { st.v2 = input_value(st.img, st.iy, c0 + 2, ch); }
    if (KW > 4u) { st.v3 = input_value(st.img, st.iy, c0 + 3, ch); }
    if (KW > 5u) { st.v4 = input_value(st.img, st.iy, c0 + 4, ch); }
    if (KW > 6u) { st.v5 = input_value(st.img, st.iy, c0 + 5, ch); }
    if (KW > 7u) { st.v6 = input_value(st.img, st.iy, c0 + 6, ch); }
    if (KW > 8u) { st.v7 = input_value(st.img, st.iy, c0 + 7, ch); }
    if (KW > 9u) { st.v8 = input_value(st.img, st.iy, c0 + 8, ch); }
    if (KW > 10u) { st.v9 = input_value(st.img, st.iy, c0 + 9, ch); }
    if (KW > 11u) { st.v10 = input_value(st.img, st.iy, c0 + 10, ch); }
    return st;
}

// The sums plus output column ox's products of its KW taps with d (dz's 16 filters), the
// window then moved one column on.
fn strip_step(st: Strip, d: mat4x4<f32>, ox: u32) -> Strip {
    let last = input_value(st.img, st.iy, tap_col(ox, KW - 1u), st.ch);
    var n = st;
    n.acc.a0 += d * strip_tap(st, 0u, last);
    if (KW > 1u) { n.acc.a1 += d * strip_tap(st, 1u, last); }
    if (KW > 2u) { n.acc.a2 += d * strip_tap(st, 2u, last); }
    if (KW > 3u) { n.acc.a3 += d * strip_tap(st, 3u, last); }
    if (KW > 4u) { n.acc.a4 += d * strip_tap(st, 4u, last); }
    if (KW > 5u) { n.acc.a5 += d * strip_tap(st, 5u, last); }
    if (KW > 6u) { n.acc.a6 += d * strip_tap(st, 6u, last); }
    if (KW > 7u) { n.acc.a7 += d * strip_tap(st, 7u, last); }
    if (KW > 8u) { n.acc.a8 += d * strip_tap(st, 8u, last); }
    if (KW > 9u) { n.acc.a9 += d * strip_tap(st, 9u, last); }
    if (KW > 10u) { n.acc.a10 += d * strip_tap(st, 10u, last); }
    if (KW > 11u) { n.acc.a11 += d * strip_tap(st, 11u, last); }
    n.v0 = strip_tap(st, 1u, last);
    n.v1 = strip_tap(st, 2u, last);
    n.v2 = strip_tap(st, 3u, last);
    n.v3 = strip_tap(st, 4u, last);
    n.v4 = strip_tap(st, 5u, last);
    n.v5 = strip_tap(st, 6u, last);
    n.v6 = strip_tap(st, 7u, last);
    n.v7 = strip_tap(st, 8u, last);
    n.v8 = strip_tap(st, 9u, last);
    n.v9 = strip_tap(st, 10u, last);
    n.v10 = strip_tap(st, 11u, last);
    return n;
}

// The value at tap j of the position being summed: the window's, or `last` for tap KW - 1
// (past it: unused).
fn strip_tap(st: Strip, j: u32, last: f32) -> f32 {
    if (j >= KW - 1u) { return last; }
    switch (j) {
        case 0u: { return st.v0; }
        case 1u: { return st.v1; }
        case 2u: { return st.v2; }
        case 3u: { return st.v3; }
        case 4u: { return st.v4; }
        case 5u: { return st.v5; }
        case 6u: { return st.v6; }
        case 7u: { return st.v7; }
        case 8u: { return st.v8; }
        case 9u: { return st.v9; }
        default: { return st.v10; }
    }
}
