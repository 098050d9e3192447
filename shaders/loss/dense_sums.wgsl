// The output layer's training step over a larger batch, part two (after
// Kernel::DenseLossRows): its sums over the rows — four rows of the weight gradient an
// invocation, dw[kk, :] = Σ_r h[r, kk]·dx[r, :] (each row of dx loaded serves the four;
// invocations 0..ceil(k/4)), the bias gradient's column c, Σ_r dx[r, c] (the next cols),
// and metrics += (Σ loss, Σ hits, rows) from the rows' (the last).
//
// Declared before this file (generated from Rust): `p` (DenseLossParams: cols, k = columns
// of h), h [rows, k], dx [rows, cols], row_metrics [rows, 2], dx_sums [cols], metrics [3],
// dw [k, cols]; the head's helpers (loss/head.wgsl). The walks step indices instead of
// counting rows, as loss/head.wgsl says.

// The rows (p.rows), fixed per pipeline. The metrics walk, a loop from 0 by a constant step
// to a bound read from `p` alone, is what lavapipe (Mesa 22.3) inlines the uniform into and
// compiles again at every dispatch: 20 ms a step at batch 32 (docs/benchmarks.md, "Loops
// bounded by a launch's parameters alone").
override HEAD_ROWS: u32;

// Stores row kk of dw.
fn store_dw(kk: u32, a: HeadRow) {
    for (var j = 0u; j < HEAD_COLS; j++) {
        dw[kk * HEAD_COLS + j] = column(a.q0, a.q1, a.q2, a.q3, j);
    }
}

@compute @workgroup_size(8)
fn dense_loss_sums(@builtin(global_invocation_id) gid: vec3<u32>) {
    let t = gid.x;
    let blocks = (p.k + 3u) / 4u;
    let end = HEAD_ROWS * p.k;
    if (t < blocks) {
        // Rows k0..k0+3 of dw (past the last, the last again).
        let k0 = 4u * t;
        let k1 = min(k0 + 1u, p.k - 1u);
        let k2 = min(k0 + 2u, p.k - 1u);
        let k3 = min(k0 + 3u, p.k - 1u);
        var a0 = HeadRow();
        var a1 = HeadRow();
        var a2 = HeadRow();
        var a3 = HeadRow();
        var ih = 0u;
        var r = 0u;
        while (ih < end) {
            let d = dx_row_raw(r);
            a0 = row_axpy(a0, h[ih + k0], d);
            a1 = row_axpy(a1, h[ih + k1], d);
            a2 = row_axpy(a2, h[ih + k2], d);
            a3 = row_axpy(a3, h[ih + k3], d);
            ih += p.k;
            r += 1u;
        }
        store_dw(k0, a0);
        store_dw(k1, a1);
        store_dw(k2, a2);
        store_dw(k3, a3);
    } else if (t < blocks + HEAD_COLS) {
        let c = t - blocks;
        var acc = 0.0;
        var at = c;
        let n = HEAD_ROWS * HEAD_COLS;
        while (at < n) {
            acc += dx[at];
            at += HEAD_COLS;
        }
        dx_sums[c] = acc;
    } else if (t == blocks + HEAD_COLS) {
        var l = 0.0;
        var hits = 0.0;
        var at = 0u;
        while (at < 2u * HEAD_ROWS) {
            l += row_metrics[at];
            hits += row_metrics[at + 1u];
            at += 2u;
        }
        metrics[0] = metrics[0] + l;
        metrics[1] = metrics[1] + hits;
        metrics[2] = metrics[2] + f32(HEAD_ROWS);
    }
}
