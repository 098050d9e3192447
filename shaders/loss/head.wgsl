// The output layer's head, a row of at most 16 columns in a lane's registers: shared by
// its fused training launches (loss/dense.wgsl; loss/dense_rows.wgsl and
// loss/dense_sums.wgsl). Declared before this file (generated from Rust): `p`
// (DenseLossParams: rows) and dx [rows, cols].
// loss/head_w.wgsl adds what reads w.
//
// A lane keeps a whole row of the head's width in four vec4 registers: HEAD_COLS (= cols,
// at most 16) is fixed per pipeline, so the quads past it are compiled away, and no
// private array is indexed at run time (CPU adapters spill those to memory; SwiftShader's
// JIT unrolls nothing). The walks step indices instead of counting rows (a count up to a
// bound read from `p` alone is compiled again at every dispatch on lavapipe:
// docs/benchmarks.md, "Loops bounded by a launch's parameters alone").
override HEAD_COLS: u32 = 16u;

// Floats i..i+3 of dx (the last ones repeated past its end: lanes past a row's HEAD_COLS
// columns hold the next row's values, which are never stored or are masked).
fn dx_quad(i: u32) -> vec4<f32> {
    let last = p.rows * HEAD_COLS - 1u;
    return vec4<f32>(dx[min(i, last)], dx[min(i + 1u, last)], dx[min(i + 2u, last)], dx[min(i + 3u, last)]);
}

// Column j of the row held in q0..q3.
fn column(q0: vec4<f32>, q1: vec4<f32>, q2: vec4<f32>, q3: vec4<f32>, j: u32) -> f32 {
    if (j < 4u) { return q0[j]; }
    if (j < 8u) { return q1[j - 4u]; }
    if (j < 12u) { return q2[j - 8u]; }
    return q3[j - 12u];
}

// dx_quad(i) with the lanes past column HEAD_COLS of its row zeroed (q = which quad).
fn dx_row_quad(i: u32, q: u32) -> vec4<f32> {
    let col = vec4<u32>(0u, 1u, 2u, 3u) + 4u * q;
    return select(vec4<f32>(0.0), dx_quad(i), col < vec4<u32>(HEAD_COLS));
}

// A row of the head (HEAD_COLS values) as four vec4s, the quads past HEAD_COLS unused.
struct HeadRow {
    q0: vec4<f32>,
    q1: vec4<f32>,
    q2: vec4<f32>,
    q3: vec4<f32>,
}

// a + s·b, over the quads the head has.
fn row_axpy(a: HeadRow, s: f32, b: HeadRow) -> HeadRow {
    var out = a;
    out.q0 += s * b.q0;
    if (HEAD_COLS > 4u) { out.q1 += s * b.q1; }
    if (HEAD_COLS > 8u) { out.q2 += s * b.q2; }
    if (HEAD_COLS > 12u) { out.q3 += s * b.q3; }
    return out;
}

// Σ_c a[c]·b[c], over the quads the head has (the lanes past HEAD_COLS zero in one of them).
fn row_dot(a: HeadRow, b: HeadRow) -> f32 {
    var s = dot(a.q0, b.q0);
    if (HEAD_COLS > 4u) { s += dot(a.q1, b.q1); }
    if (HEAD_COLS > 8u) { s += dot(a.q2, b.q2); }
    if (HEAD_COLS > 12u) { s += dot(a.q3, b.q3); }
    return s;
}

// Row r of dx, the lanes past HEAD_COLS zeroed.
fn dx_row(r: u32) -> HeadRow {
    let i = r * HEAD_COLS;
    return HeadRow(dx_row_quad(i, 0u), dx_row_quad(i + 4u, 1u), dx_row_quad(i + 8u, 2u), dx_row_quad(i + 12u, 3u));
}

// Row r of dx as dx_quad reads it (the lanes past HEAD_COLS the next row's: never stored).
fn dx_row_raw(r: u32) -> HeadRow {
    let i = r * HEAD_COLS;
    return HeadRow(dx_quad(i), dx_quad(i + 4u), dx_quad(i + 8u), dx_quad(i + 12u));
}
