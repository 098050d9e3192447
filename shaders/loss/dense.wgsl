// The output layer's training step in one launch of one workgroup (Kernel::DenseLoss): its
// logits x = h·w + bias, the loss with its gradient dx, dx's column sums (the bias
// gradient) and the metrics (loss/rows.wgsl), then both backward products: the weight
// gradient dw = hᵀ·dx and the input gradient dh = dx·wᵀ. Chosen for small heads
// (graph/fuse.rs), where four launches of little work each cost more than this walk.
//
// Declared before this file (generated from Rust): `p` (DenseLossParams: rows, cols,
// code, total as the loss's, k = columns of h), h [rows, k], w [k, cols], bias [cols],
// x [rows, cols], labels, dx, dx_sums, metrics, dh [rows, k], dw [k, cols].
//
// A lane keeps a whole row of the head's width in four vec4 registers: HEAD_COLS (= cols,
// at most 16) is fixed per pipeline, so the quads past it are compiled away, and no
// private array is indexed at run time (CPU adapters spill those to memory; SwiftShader's
// JIT unrolls nothing). The walks step indices instead of counting rows (counted loops hit
// an llvmpipe cliff elsewhere).
override HEAD_COLS: u32 = 16u;

// Floats i..i+3 of w (the last ones repeated past its end: lanes past a row's HEAD_COLS
// columns hold the next row's values, which are never stored or are masked).
fn w_quad(i: u32) -> vec4<f32> {
    let last = p.k * HEAD_COLS - 1u;
    return vec4<f32>(w[min(i, last)], w[min(i + 1u, last)], w[min(i + 2u, last)], w[min(i + 3u, last)]);
}

// Floats i..i+3 of dx, the same way.
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

// w_quad(i) with the lanes past column HEAD_COLS of its row zeroed (q = which quad).
fn w_row_quad(i: u32, q: u32) -> vec4<f32> {
    let col = vec4<u32>(0u, 1u, 2u, 3u) + 4u * q;
    return select(vec4<f32>(0.0), w_quad(i), col < vec4<u32>(HEAD_COLS));
}

@compute @workgroup_size(256)
fn dense_loss_backward(@builtin(local_invocation_id) lid: vec3<u32>) {
    // Logits, a row of h a lane: x[r, :] = bias + Σ_kk h[r, kk]·w[kk, :].
    for (var r = lid.x; r < p.rows; r += 256u) {
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
    storageBarrier();
    loss_and_column_sums(lid.x);
    // A column kk of h a lane: dw[kk, :] = Σ_r h[r, kk]·dx[r, :], and with row kk of w in
    // registers, dh[r, kk] = Σ_c dx[r, c]·w[kk, c] for every r.
    for (var kk = lid.x; kk < p.k; kk += 256u) {
        let iw = kk * HEAD_COLS;
        let w0 = w_row_quad(iw, 0u);
        let w1 = w_row_quad(iw + 4u, 1u);
        let w2 = w_row_quad(iw + 8u, 2u);
        let w3 = w_row_quad(iw + 12u, 3u);
        var a0 = vec4<f32>(0.0);
        var a1 = vec4<f32>(0.0);
        var a2 = vec4<f32>(0.0);
        var a3 = vec4<f32>(0.0);
        var ih = kk;
        var id = 0u;
        let end = p.rows * HEAD_COLS;
        while (id < end) {
            let hv = h[ih];
            let d0 = dx_quad(id);
            a0 += hv * d0;
            var s = dot(d0, w0);
            if (HEAD_COLS > 4u) {
                let d1 = dx_quad(id + 4u);
                a1 += hv * d1;
                s += dot(d1, w1);
            }
            if (HEAD_COLS > 8u) {
                let d2 = dx_quad(id + 8u);
                a2 += hv * d2;
                s += dot(d2, w2);
            }
            if (HEAD_COLS > 12u) {
                let d3 = dx_quad(id + 12u);
                a3 += hv * d3;
                s += dot(d3, w3);
            }
            dh[ih] = s;
            ih += p.k;
            id += HEAD_COLS;
        }
        for (var j = 0u; j < HEAD_COLS; j++) {
            dw[iw + j] = column(a0, a1, a2, a3, j);
        }
    }
}
