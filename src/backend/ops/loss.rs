//! Losses with their gradient, its column sums and the metric accumulation, in one launch
//! (`shaders/loss.wgsl`).

use crate::backend::contract::{shader_params, Entry, GpuLaunch};
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
        /// Rows of the whole batch the loss averages over (`rows` in one process).
        total: u32,
    }
}

/// GPU launch of the loss (one workgroup). Buffers: input, labels (u32), grad,
/// grad_column_sums, metrics.
pub fn loss_gpu(kind: LossKind, rows: usize, cols: usize, total: usize) -> GpuLaunch {
    let p = LossParams {
        rows: rows as u32,
        cols: cols as u32,
        code: kind.code(),
        total: total as u32,
    };
    GpuLaunch::new(Entry::LossForwardBackward, p, (1, 1, 1))
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

/// CPU loss, gradient, its column sums, and `metrics += (Σ loss, Σ correct, rows)`. The
/// gradient is of the mean over `total` rows (the whole batch when this is a shard).
/// Buffers: input, labels, grad, grad_column_sums, metrics.
pub fn loss_cpu(kind: LossKind, rows: usize, cols: usize, total: usize, b: &mut [&mut [f32]]) {
    let inv_b = 1.0 / total as f32;
    let (mut total, mut right) = (0.0f32, 0.0f32);
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
        total += loss;
        right += if arg == label { 1.0 } else { 0.0 };
    }
    b[4][0] += total;
    b[4][1] += right;
    b[4][2] += rows as f32;
    for c in 0..cols {
        b[3][c] = (0..rows).map(|r| b[2][r * cols + c]).sum();
    }
}
