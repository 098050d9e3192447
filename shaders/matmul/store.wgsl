// Plain stores of the matmul kernels (body.wgsl follows): C = result, or
// C += result with the accumulate flag.

// Stores one element of C.
fn store_one(r: u32, col: u32, v: f32) {
    let idx = r * p.n + col;
    if ((p.flags & 4u) != 0u) {
        c[idx] = c[idx] + v;
    } else {
        c[idx] = v;
    }
}

// Stores one row of a 4×4 block of C. Components are picked with constant indices only:
// dynamically indexed private arrays are spilled to per-lane memory on CPU adapters, which
// made the accumulation ten times slower.
fn store_row(r: u32, col0: u32, v: vec4<f32>) {
    if (r >= p.m || col0 >= p.n) { return; }
    let accumulate = (p.flags & 4u) != 0u;
    let base = r * p.n + col0;
    var out = v;
    if (accumulate) {
        out += vec4<f32>(c[base], c[base + min(1u, p.n - 1u - col0)], c[base + min(2u, p.n - 1u - col0)], c[base + min(3u, p.n - 1u - col0)]);
    }
    c[base] = out.x;
    if (col0 + 1u < p.n) { c[base + 1u] = out.y; }
    if (col0 + 2u < p.n) { c[base + 2u] = out.z; }
    if (col0 + 3u < p.n) { c[base + 3u] = out.w; }
}

