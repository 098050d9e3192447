// The output layer's training step over a larger batch, part one (Kernel::DenseLossRows;
// Kernel::DenseLossSums finishes it): an invocation per four rows, spread over the device,
// each with its rows' logits x = h·w + bias, loss and gradient dx (loss/row_loss.wgsl),
// input gradient dh = dx·wᵀ, and their losses and hits for the sums. Where one workgroup
// walking the whole batch (Kernel::DenseLoss) keeps one core of a CPU adapter busy, these
// take them all; each row of w loaded serves four rows (on CPU adapters every lane loads
// it: at batch 512 on llvmpipe a row an invocation took 1.9 ms).
//
// Declared before this file (generated from Rust): `p` (DenseLossParams: rows, cols,
// code, total as the loss's, k = columns of h), h [rows, k], w [k, cols], bias [cols],
// x [rows, cols], labels, dx, row_metrics [rows, 2] (loss, hit), dh [rows, k]; the head's
// helpers (loss/head.wgsl, loss/head_w.wgsl). Rows past the last repeat it (the same
// values stored again).

fn row_metrics_of(r: u32) {
    let lh = row_loss(r);
    row_metrics[2u * r] = lh.x;
    row_metrics[2u * r + 1u] = lh.y;
}

@compute @workgroup_size(8)
fn dense_loss_rows(@builtin(global_invocation_id) gid: vec3<u32>) {
    let r0 = 4u * gid.x;
    if (r0 >= p.rows) { return; }
    let last = p.rows - 1u;
    let r1 = min(r0 + 1u, last);
    let r2 = min(r0 + 2u, last);
    let r3 = min(r0 + 3u, last);
    // Logits: x[r, :] = bias + Σ_kk h[r, kk]·w[kk, :], a row of w for the four rows.
    let o1 = (r1 - r0) * p.k;
    let o2 = (r2 - r0) * p.k;
    let o3 = (r3 - r0) * p.k;
    var a0 = HeadRow();
    var a1 = HeadRow();
    var a2 = HeadRow();
    var a3 = HeadRow();
    var ih = r0 * p.k;
    let end = ih + p.k;
    var kk = 0u;
    while (ih < end) {
        let wr = w_row(kk);
        a0 = row_axpy(a0, h[ih], wr);
        a1 = row_axpy(a1, h[ih + o1], wr);
        a2 = row_axpy(a2, h[ih + o2], wr);
        a3 = row_axpy(a3, h[ih + o3], wr);
        ih += 1u;
        kk += 1u;
    }
    store_logits(r0, a0);
    store_logits(r1, a1);
    store_logits(r2, a2);
    store_logits(r3, a3);
    row_metrics_of(r0);
    row_metrics_of(r1);
    row_metrics_of(r2);
    row_metrics_of(r3);
    // dh[r, kk] = Σ_c dx[r, c]·w[kk, c], the rows' gradients in registers.
    let d0 = dx_row(r0);
    let d1 = dx_row(r1);
    let d2 = dx_row(r2);
    let d3 = dx_row(r3);
    ih = r0 * p.k;
    kk = 0u;
    while (ih < end) {
        let wr = w_row(kk);
        dh[ih] = row_dot(d0, wr);
        dh[ih + o1] = row_dot(d1, wr);
        dh[ih + o2] = row_dot(d2, wr);
        dh[ih + o3] = row_dot(d3, wr);
        ih += 1u;
        kk += 1u;
    }
}
