//! Losses with their gradient and the metric accumulation (`shaders/loss.wgsl`).

use crate::backend::contract::{ceil_div, rw_seq, shader_params, Entry, GpuLaunch};
use crate::backend::kernel::LossKind;

shader_params! {
    /// `Params` of `loss.wgsl`.
    LossParams {
        /// Batch rows.
        rows: u32,
        /// Output columns.
        cols: u32,
        /// Loss code ([`LossKind::code`]).
        code: u32,
        /// Unused.
        pad: u32,
    }
}

/// GPU launch of the loss. Buffers: input, labels (u32), grad, row_stats.
pub fn loss_gpu(kind: LossKind, rows: usize, cols: usize) -> GpuLaunch {
    let p = LossParams {
        rows: rows as u32,
        cols: cols as u32,
        code: kind.code(),
        pad: 0,
    };
    GpuLaunch::new(
        Entry::LossForwardBackward,
        rw_seq(4),
        p,
        (ceil_div(rows, 64), 1, 1),
    )
}

/// GPU launch of the metric accumulation. Buffers: row_stats, metrics.
pub fn metrics_gpu(rows: usize) -> GpuLaunch {
    let p = LossParams {
        rows: rows as u32,
        ..Default::default()
    };
    GpuLaunch::new(Entry::AccumulateMetrics, rw_seq(2), p, (1, 1, 1))
}

fn target_of(label: usize, c: usize, cols: usize) -> f32 {
    if cols == 1 {
        label as f32
    } else if c == label {
        1.0
    } else {
        0.0
    }
}

/// CPU loss, gradient and per-row (loss, correct). Buffers: input, labels, grad, row_stats.
pub fn loss_cpu(kind: LossKind, rows: usize, cols: usize, b: &mut [&mut [f32]]) {
    let inv_b = 1.0 / rows as f32;
    for r in 0..rows {
        let base = r * cols;
        let label = b[1][r].to_bits() as usize;
        let z = b[0][base..base + cols].to_vec();
        let mut arg = 0;
        for c in 1..cols {
            if z[c] > z[arg] {
                arg = c;
            }
        }
        let mx = z[arg];
        let mut loss = 0.0;
        match kind {
            LossKind::SoftmaxCrossEntropy => {
                let sum: f32 = z.iter().map(|v| (v - mx).exp()).sum();
                // Labels are validated on the host; the clamp only keeps a bad one in the row.
                loss = mx + sum.ln() - z[label.min(cols - 1)];
                for c in 0..cols {
                    let p = (z[c] - mx).exp() / sum;
                    b[2][base + c] = (p - target_of(label, c, cols)) * inv_b;
                }
            }
            LossKind::SigmoidBinaryCrossEntropy => {
                let scale = inv_b / cols as f32;
                for c in 0..cols {
                    let t = target_of(label, c, cols);
                    loss += z[c].max(0.0) - z[c] * t + (1.0 + (-z[c].abs()).exp()).ln();
                    b[2][base + c] = (1.0 / (1.0 + (-z[c]).exp()) - t) * scale;
                }
                loss /= cols as f32;
                if cols == 1 {
                    arg = usize::from(mx > 0.0);
                }
            }
            LossKind::MeanSquaredError => {
                let scale = 2.0 * inv_b / cols as f32;
                for c in 0..cols {
                    let d = z[c] - target_of(label, c, cols);
                    loss += d * d;
                    b[2][base + c] = d * scale;
                }
                loss /= cols as f32;
                if cols == 1 {
                    arg = mx.round().max(0.0) as usize;
                }
            }
        }
        b[3][2 * r] = loss;
        b[3][2 * r + 1] = if arg == label { 1.0 } else { 0.0 };
    }
}

/// CPU `metrics += (Σ loss, Σ correct, rows)`. Buffers: row_stats, metrics.
pub fn metrics_cpu(rows: usize, b: &mut [&mut [f32]]) {
    let l: f32 = (0..rows).map(|r| b[0][2 * r]).sum();
    let c: f32 = (0..rows).map(|r| b[0][2 * r + 1]).sum();
    b[1][0] += l;
    b[1][1] += c;
    b[1][2] += rows as f32;
}
