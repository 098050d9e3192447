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
// A lane keeps a whole row of the head's width in registers: HEAD_COLS (= cols, at most
// 16) is fixed per pipeline so the column loops unroll (a dynamically indexed private
// array is spilled to memory on CPU adapters), and every load feeds HEAD_COLS
// multiply-adds. The walks step indices instead of counting rows (counted loops hit an
// llvmpipe cliff elsewhere).
override HEAD_COLS: u32 = 16u;

@compute @workgroup_size(256)
fn dense_loss_backward(@builtin(local_invocation_id) lid: vec3<u32>) {
    // Logits, a row of h a lane: x[r, :] = bias + Σ_kk h[r, kk]·w[kk, :].
    for (var r = lid.x; r < p.rows; r += 256u) {
        var acc: array<f32, 16>;
        var ih = r * p.k;
        let end = ih + p.k;
        var iw = 0u;
        while (ih < end) {
            let hv = h[ih];
            for (var j = 0u; j < HEAD_COLS; j++) {
                acc[j] += hv * w[iw + j];
            }
            ih += 1u;
            iw += HEAD_COLS;
        }
        for (var j = 0u; j < HEAD_COLS; j++) {
            x[r * HEAD_COLS + j] = acc[j] + bias[j];
        }
    }
    storageBarrier();
    loss_and_column_sums(lid.x);
    // A column kk of h a lane: dw[kk, :] = Σ_r h[r, kk]·dx[r, :], and with row kk of w in
    // registers, dh[r, kk] = Σ_c dx[r, c]·w[kk, c] for every r.
    for (var kk = lid.x; kk < p.k; kk += 256u) {
        var acc: array<f32, 16>;
        var wk: array<f32, 16>;
        for (var j = 0u; j < HEAD_COLS; j++) {
            wk[j] = w[kk * HEAD_COLS + j];
        }
        var ih = kk;
        var id = 0u;
        let end = p.rows * HEAD_COLS;
        while (id < end) {
            let hv = h[ih];
            var s = 0.0;
            for (var j = 0u; j < HEAD_COLS; j++) {
                let d = dx[id + j];
                acc[j] += hv * d;
                s += d * wk[j];
            }
            dh[ih] = s;
            ih += p.k;
            id += HEAD_COLS;
        }
        for (var j = 0u; j < HEAD_COLS; j++) {
            dw[kk * HEAD_COLS + j] = acc[j];
        }
    }
}
