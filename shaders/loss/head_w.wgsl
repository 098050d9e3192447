// The output layer's head where it reads its kernel (loss/head.wgsl precedes): w's quads
// and a row's logits. Declared before this file (generated from Rust): `p`
// (DenseLossParams: k = columns of h), h [rows, k], w [k, cols], bias [cols] and
// x [rows, cols].

// Floats i..i+3 of w, as dx_quad those of dx.
fn w_quad(i: u32) -> vec4<f32> {
    let last = p.k * HEAD_COLS - 1u;
    return vec4<f32>(w[min(i, last)], w[min(i + 1u, last)], w[min(i + 2u, last)], w[min(i + 3u, last)]);
}

// w_quad(i) with the lanes past column HEAD_COLS of its row zeroed (q = which quad).
fn w_row_quad(i: u32, q: u32) -> vec4<f32> {
    let col = vec4<u32>(0u, 1u, 2u, 3u) + 4u * q;
    return select(vec4<f32>(0.0), w_quad(i), col < vec4<u32>(HEAD_COLS));
}

// Row r of the logits: x[r, :] = bias + Σ_kk h[r, kk]·w[kk, :].
fn head_logits(r: u32) {
    var a0 = vec4<f32>(0.0);
    var a1 = vec4<f32>(0.0);
    var a2 = vec4<f32>(0.0);
    var a3 = vec4<f32>(0.0);
    var ih = r * p.k;
    let end = ih + p.k;
    var iw = 0u;
    while (ih < end) {
        let hv = h[ih];
        a0 += hv * w_quad(iw);
        if (HEAD_COLS > 4u) { a1 += hv * w_quad(iw + 4u); }
        if (HEAD_COLS > 8u) { a2 += hv * w_quad(iw + 8u); }
        if (HEAD_COLS > 12u) { a3 += hv * w_quad(iw + 12u); }
        ih += 1u;
        iw += HEAD_COLS;
    }
    for (var j = 0u; j < HEAD_COLS; j++) {
        x[r * HEAD_COLS + j] = column(a0, a1, a2, a3, j) + bias[j];
    }
}

// Row kk of w, the lanes past HEAD_COLS zeroed.
fn w_row(kk: u32) -> HeadRow {
    let i = kk * HEAD_COLS;
    return HeadRow(w_row_quad(i, 0u), w_row_quad(i + 4u, 1u), w_row_quad(i + 8u, 2u), w_row_quad(i + 12u, 3u));
}

// Stores row r of the logits, a + bias.
fn store_logits(r: u32, a: HeadRow) {
    for (var j = 0u; j < HEAD_COLS; j++) {
        x[r * HEAD_COLS + j] = column(a.q0, a.q1, a.q2, a.q3, j) + bias[j];
    }
}
