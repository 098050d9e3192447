// The output layer's training step over a larger batch, part two (after
// Kernel::DenseLossRows): its sums over the rows, an invocation each — the weight
// gradient's row kk, dw[kk, :] = Σ_r h[r, kk]·dx[r, :] (invocations 0..k), the bias
// gradient's column c, Σ_r dx[r, c] (the next cols), and metrics += (Σ loss, Σ hits, rows)
// from the rows' (the last).
//
// Declared before this file (generated from Rust): `p` (DenseLossParams: rows, cols,
// k = columns of h), h [rows, k], dx [rows, cols], row_metrics [rows, 2], dx_sums [cols],
// metrics [3], dw [k, cols]; the head's helpers (loss/head.wgsl). The walks step indices
// instead of counting rows, as loss/head.wgsl says.

@compute @workgroup_size(32)
fn dense_loss_sums(@builtin(global_invocation_id) gid: vec3<u32>) {
    let t = gid.x;
    let end = p.rows * HEAD_COLS;
    if (t < p.k) {
        var a0 = vec4<f32>(0.0);
        var a1 = vec4<f32>(0.0);
        var a2 = vec4<f32>(0.0);
        var a3 = vec4<f32>(0.0);
        var ih = t;
        var id = 0u;
        while (id < end) {
            let hv = h[ih];
            a0 += hv * dx_quad(id);
            if (HEAD_COLS > 4u) { a1 += hv * dx_quad(id + 4u); }
            if (HEAD_COLS > 8u) { a2 += hv * dx_quad(id + 8u); }
            if (HEAD_COLS > 12u) { a3 += hv * dx_quad(id + 12u); }
            ih += p.k;
            id += HEAD_COLS;
        }
        for (var j = 0u; j < HEAD_COLS; j++) {
            dw[t * HEAD_COLS + j] = column(a0, a1, a2, a3, j);
        }
    } else if (t < p.k + HEAD_COLS) {
        var acc = 0.0;
        var at = t - p.k;
        while (at < end) {
            acc += dx[at];
            at += HEAD_COLS;
        }
        dx_sums[t - p.k] = acc;
    } else if (t == p.k + HEAD_COLS) {
        var l = 0.0;
        var hits = 0.0;
        var at = 0u;
        while (at < 2u * p.rows) {
            l += row_metrics[at];
            hits += row_metrics[at + 1u];
            at += 2u;
        }
        metrics[0] = metrics[0] + l;
        metrics[1] = metrics[1] + hits;
        metrics[2] = metrics[2] + f32(p.rows);
    }
}
