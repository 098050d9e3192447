// The output layer's training step over a larger batch, part one (Kernel::DenseLossRows;
// Kernel::DenseLossSums finishes it): an invocation per row, spread over the device, each
// with its row's logits x = h·w + bias, loss and gradient dx (loss/row_loss.wgsl), input
// gradient dh = dx·wᵀ, and its loss and hit for the sums. Where one workgroup walking the
// whole batch (Kernel::DenseLoss) keeps one core of a CPU adapter busy, these rows take
// them all.
//
// Declared before this file (generated from Rust): `p` (DenseLossParams: rows, cols,
// code, total as the loss's, k = columns of h), h [rows, k], w [k, cols], bias [cols],
// x [rows, cols], labels, dx, row_metrics [rows, 2] (loss, hit), dh [rows, k]; the head's
// helpers (loss/head.wgsl, loss/head_w.wgsl).

@compute @workgroup_size(32)
fn dense_loss_rows(@builtin(global_invocation_id) gid: vec3<u32>) {
    let r = gid.x;
    if (r >= p.rows) { return; }
    head_logits(r);
    let lh = row_loss(r);
    row_metrics[2u * r] = lh.x;
    row_metrics[2u * r + 1u] = lh.y;
    // The row's gradient in registers: dh[r, kk] = Σ_c dx[r, c]·w[kk, c].
    let id = r * HEAD_COLS;
    let d0 = dx_row_quad(id, 0u);
    let d1 = dx_row_quad(id + 4u, 1u);
    let d2 = dx_row_quad(id + 8u, 2u);
    let d3 = dx_row_quad(id + 12u, 3u);
    var ih = r * p.k;
    let end = ih + p.k;
    var iw = 0u;
    while (ih < end) {
        var s = dot(d0, w_row_quad(iw, 0u));
        if (HEAD_COLS > 4u) { s += dot(d1, w_row_quad(iw + 4u, 1u)); }
        if (HEAD_COLS > 8u) { s += dot(d2, w_row_quad(iw + 8u, 2u)); }
        if (HEAD_COLS > 12u) { s += dot(d3, w_row_quad(iw + 12u, 3u)); }
        dh[ih] = s;
        ih += 1u;
        iw += HEAD_COLS;
    }
}
