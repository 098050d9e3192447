//! Losses with their gradient, its column sums and the metric accumulation, in one launch
//! (`shaders/loss/`), alone or with the output layer's forward and backward products.

use crate::backend::contract::Entry;
use crate::backend::kernel::LossKind;
use crate::backend::launch::{ceil_div, shader_params, GpuLaunch};

shader_params! {
    /// `Params` of the loss module.
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

shader_params! {
    /// `Params` of the fused output layer (`loss/dense.wgsl`): the loss's, and `k`.
    DenseLossParams {
        /// Batch rows.
        rows: u32,
        /// Output columns.
        cols: u32,
        /// Loss code ([`LossKind::code`]).
        code: u32,
        /// Rows of the whole batch the loss averages over (`rows` in one process).
        total: u32,
        /// Columns of the layer's input h (rows of its kernel).
        k: u32,
    }
}

/// The most output columns of [`Kernel::DenseLoss`](crate::backend::Kernel::DenseLoss)
/// (`HEAD_COLS` in `loss/dense.wgsl`: a row of the head in a lane's registers).
pub const DENSE_LOSS_MAX_COLS: usize = 16;

/// GPU launch of [`Kernel::DenseLoss`](crate::backend::Kernel::DenseLoss) (one workgroup,
/// its width a pipeline constant).
pub fn dense_loss_gpu(
    kind: LossKind,
    rows: usize,
    k: usize,
    cols: usize,
    total: usize,
) -> GpuLaunch {
    let p = dense_loss_params(kind, rows, k, cols, total);
    GpuLaunch::new(Entry::DenseLossBackward, p, (1, 1, 1))
        .with_constants(vec![("HEAD_COLS", cols as f64)])
}

/// Invocations a workgroup of the row-parallel output layer (`workgroup_size` of
/// `loss/dense_rows.wgsl` and `loss/dense_sums.wgsl`): small, so that a batch of 128 rows
/// (32 invocations of four rows) spreads over the cores of a CPU adapter.
const HEAD_GROUP: usize = 8;

fn dense_loss_params(
    kind: LossKind,
    rows: usize,
    k: usize,
    cols: usize,
    total: usize,
) -> DenseLossParams {
    DenseLossParams {
        rows: rows as u32,
        cols: cols as u32,
        code: kind.code(),
        total: total as u32,
        k: k as u32,
    }
}

/// GPU launch of [`Kernel::DenseLossRows`](crate::backend::Kernel::DenseLossRows): an
/// invocation per four rows.
pub fn dense_loss_rows_gpu(
    kind: LossKind,
    rows: usize,
    k: usize,
    cols: usize,
    total: usize,
) -> GpuLaunch {
    let p = dense_loss_params(kind, rows, k, cols, total);
    let invocations = rows.div_ceil(4);
    GpuLaunch::new(
        Entry::DenseLossRows,
        p,
        (ceil_div(invocations, HEAD_GROUP), 1, 1),
    )
    .with_constants(vec![("HEAD_COLS", cols as f64)])
}

/// GPU launch of [`Kernel::DenseLossSums`](crate::backend::Kernel::DenseLossSums): an
/// invocation per four rows of the weight gradient, per column of the bias gradient, and
/// one for the metrics. The rows are a pipeline constant (`HEAD_ROWS`): the metrics walk
/// bounded by a uniform was compiled again at every dispatch on lavapipe (20 ms a step;
/// docs/benchmarks.md, "Loops bounded by a launch's parameters alone").
pub fn dense_loss_sums_gpu(rows: usize, k: usize, cols: usize) -> GpuLaunch {
    let p = dense_loss_params(LossKind::SoftmaxCrossEntropy, rows, k, cols, rows);
    let invocations = k.div_ceil(4) + cols + 1;
    GpuLaunch::new(
        Entry::DenseLossSums,
        p,
        (ceil_div(invocations, HEAD_GROUP), 1, 1),
    )
    .with_constants(vec![("HEAD_COLS", cols as f64), ("HEAD_ROWS", rows as f64)])
}

/// CPU reference of [`Kernel::DenseLossRows`](crate::backend::Kernel::DenseLossRows): the
/// linear dense layer, each row's loss (its loss and hit kept), and `dh = dx·wᵀ`.
/// Buffers: h, w, bias, x, labels, dx, row_metrics, dh.
pub fn dense_loss_rows_cpu(
    kind: LossKind,
    rows: usize,
    k: usize,
    cols: usize,
    total: usize,
    b: &mut [&mut [f32]],
) {
    use super::matmul;
    use crate::backend::kernel::ActKind;
    let [h, w, bias, x, labels, dx, row_metrics, dh] = b else {
        panic!("DenseLossRows takes 8 buffers, got {}", b.len());
    };
    let mut step = [0.0f32; crate::backend::kernel::STEP_WORDS];
    let dense = &mut [&mut **h, &mut **w, &mut **bias, &mut **x, &mut step[..]];
    matmul::dense_cpu(rows, k, cols, ActKind::Linear, true, 0, dense);
    for r in 0..rows {
        let span = r * cols..(r + 1) * cols;
        let label = labels[r].to_bits() as usize;
        let (loss, hit) = row_loss_cpu(kind, total, &x[span.clone()], label, &mut dx[span]);
        row_metrics[2 * r] = loss;
        row_metrics[2 * r + 1] = hit;
    }
    matmul::cpu(
        rows,
        cols,
        k,
        false,
        true,
        false,
        &mut [&mut **dx, &mut **w, &mut **dh],
    );
}

/// CPU reference of [`Kernel::DenseLossSums`](crate::backend::Kernel::DenseLossSums).
/// Buffers: h, dx, row_metrics, dx_sums, metrics, dw.
pub fn dense_loss_sums_cpu(rows: usize, k: usize, cols: usize, b: &mut [&mut [f32]]) {
    use super::matmul;
    let [h, dx, row_metrics, dx_sums, metrics, dw] = b else {
        panic!("DenseLossSums takes 6 buffers, got {}", b.len());
    };
    matmul::cpu(
        k,
        rows,
        cols,
        true,
        false,
        false,
        &mut [&mut **h, &mut **dx, &mut **dw],
    );
    for c in 0..cols {
        dx_sums[c] = (0..rows).map(|r| dx[r * cols + c]).sum();
    }
    metrics[0] += (0..rows).map(|r| row_metrics[2 * r]).sum::<f32>();
    metrics[1] += (0..rows).map(|r| row_metrics[2 * r + 1]).sum::<f32>();
    metrics[2] += rows as f32;
}

/// CPU reference of [`Kernel::DenseLoss`](crate::backend::Kernel::DenseLoss): its two-launch
/// form's references in turn — the linear dense layer, the loss row by row, the two
/// matmuls it replaces and the same sums in the same order (so it equals the four kernels
/// bit for bit; `tests/parity` checks). Buffers: h, w, bias, x, labels, dx, dx_sums,
/// metrics, dh, dw.
pub fn dense_loss_cpu(
    kind: LossKind,
    rows: usize,
    k: usize,
    cols: usize,
    total: usize,
    b: &mut [&mut [f32]],
) {
    let [h, w, bias, x, labels, dx, dx_sums, metrics, dh, dw] = b else {
        panic!("DenseLoss takes 10 buffers, got {}", b.len());
    };
    let mut row_metrics = vec![0.0f32; 2 * rows];
    let rm = &mut row_metrics[..];
    let first = &mut [
        &mut **h,
        &mut **w,
        &mut **bias,
        &mut **x,
        &mut **labels,
        &mut **dx,
        rm,
        &mut **dh,
    ];
    dense_loss_rows_cpu(kind, rows, k, cols, total, first);
    let rm = &mut row_metrics[..];
    let second = &mut [
        &mut **h,
        &mut **dx,
        rm,
        &mut **dx_sums,
        &mut **metrics,
        &mut **dw,
    ];
    dense_loss_sums_cpu(rows, k, cols, second);
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
    let (mut sum, mut right) = (0.0f32, 0.0f32);
    for r in 0..rows {
        let span = r * cols..(r + 1) * cols;
        let label = b[1][r].to_bits() as usize;
        let z = b[0][span.clone()].to_vec();
        let (loss, hit) = row_loss_cpu(kind, total, &z, label, &mut b[2][span]);
        sum += loss;
        right += hit;
    }
    b[4][0] += sum;
    b[4][1] += right;
    b[4][2] += rows as f32;
    for c in 0..cols {
        b[3][c] = (0..rows).map(|r| b[2][r * cols + c]).sum();
    }
}

/// One row's loss over its logits (or outputs) `z` and class `label`, its gradient
/// written to `dz` (of the mean over `total` rows), and whether its prediction is right
/// (1 or 0).
fn row_loss_cpu(
    kind: LossKind,
    total: usize,
    z: &[f32],
    label: usize,
    dz: &mut [f32],
) -> (f32, f32) {
    let cols = z.len();
    let inv_b = 1.0 / total as f32;
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
                dz[c] = (p - target_of(label, c, cols)) * inv_b;
            }
        }
        LossKind::SigmoidBinaryCrossEntropy => {
            let scale = inv_b / cols as f32;
            for c in 0..cols {
                let t = target_of(label, c, cols);
                loss += z[c].max(0.0) - z[c] * t + (1.0 + (-z[c].abs()).exp()).ln();
                dz[c] = (1.0 / (1.0 + (-z[c]).exp()) - t) * scale;
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
                dz[c] = d * scale;
            }
            loss /= cols as f32;
            if cols == 1 {
                arg = mx.round().max(0.0) as usize;
            }
        }
    }
    (loss, if arg == label { 1.0 } else { 0.0 })
}
