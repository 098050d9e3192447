// The output layer's training step in one launch of one workgroup (Kernel::DenseLoss): its
// logits x = h·w + bias, the loss with its gradient dx, dx's column sums (the bias
// gradient) and the metrics (loss/rows.wgsl), then both backward products: the weight
// gradient dw = hᵀ·dx and the input gradient dh = dx·wᵀ. Chosen for small heads
// (graph/fuse.rs), where four launches of little work each cost more than this walk.
//
// Declared before this file (generated from Rust): `p` (DenseLossParams: rows, cols,
// code, total as the loss's, k = columns of h), h [rows, k], w [k, cols], bias [cols],
// x [rows, cols], labels, dx, dx_sums, metrics, dh [rows, k], dw [k, cols].
// The head's helpers: loss/head.wgsl and loss/head_w.wgsl.

@compute @workgroup_size(256)
fn dense_loss_backward(@builtin(local_invocation_id) lid: vec3<u32>) {
    // Logits, a row of h a lane.
    for (var r = lid.x; r < p.rows; r += 256u) {
        head_logits(r);
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
