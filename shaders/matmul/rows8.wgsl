// A subgroup's 32×32 block of C as one lane holds it (its 4 columns of each row): a Tile32
// of four groups of 8 rows, each a Rows8 of vec4 registers (fields, so every index is a
// constant: a private array indexed at run time is spilled to memory on CPU adapters). Shared by the
// subgroup matmul (matmul/subgroup.wgsl) and the convolution kernels built like it
// (window/conv_gemm.wgsl, conv_gemm_weight_grad.wgsl, conv_input_grad.wgsl), each of which
// declares its store_row(r, col, v) for row r of the block.
struct Rows8 {
    r0: vec4<f32>,
    r1: vec4<f32>,
    r2: vec4<f32>,
    r3: vec4<f32>,
    r4: vec4<f32>,
    r5: vec4<f32>,
    r6: vec4<f32>,
    r7: vec4<f32>,
}

// acc + bm·a[j] for each of the eight rows j: bm's columns are four steps of k (each over
// the lane's 4 columns), a[j] row j's values at those steps.
fn fma8(acc: Rows8, bm: mat4x4<f32>, a: array<vec4<f32>, 8>) -> Rows8 {
    return Rows8(
        acc.r0 + bm * a[0],
        acc.r1 + bm * a[1],
        acc.r2 + bm * a[2],
        acc.r3 + bm * a[3],
        acc.r4 + bm * a[4],
        acc.r5 + bm * a[5],
        acc.r6 + bm * a[6],
        acc.r7 + bm * a[7],
    );
}

// Stores the eight rows from row0 through store_row.
fn store8(row0: u32, col: u32, acc: Rows8) {
    store_row(row0, col, acc.r0);
    store_row(row0 + 1u, col, acc.r1);
    store_row(row0 + 2u, col, acc.r2);
    store_row(row0 + 3u, col, acc.r3);
    store_row(row0 + 4u, col, acc.r4);
    store_row(row0 + 5u, col, acc.r5);
    store_row(row0 + 6u, col, acc.r6);
    store_row(row0 + 7u, col, acc.r7);
}

// The whole 32-row block: four groups of 8 rows.
struct Tile32 {
    g0: Rows8,
    g1: Rows8,
    g2: Rows8,
    g3: Rows8,
}

// fma8 over the four groups, a[g] group g's rows (each after lanes8 or a transpose).
fn fma32(t: Tile32, bm: mat4x4<f32>, a0: array<vec4<f32>, 8>, a1: array<vec4<f32>, 8>, a2: array<vec4<f32>, 8>, a3: array<vec4<f32>, 8>) -> Tile32 {
    return Tile32(fma8(t.g0, bm, a0), fma8(t.g1, bm, a1), fma8(t.g2, bm, a2), fma8(t.g3, bm, a3));
}

// Stores the 32 rows from row0 through store_row.
fn store32(row0: u32, col: u32, t: Tile32) {
    store8(row0, col, t.g0);
    store8(row0 + 8u, col, t.g1);
    store8(row0 + 16u, col, t.g2);
    store8(row0 + 24u, col, t.g3);
}
