//! Batch normalization over the last axis (`shaders/batch_norm/`): training-mode
//! forward (batch statistics, the EWMA of the moving statistics and the output in one
//! launch), the inference-mode forward, and the backward pass.

// Index loops on purpose: each one reads like the formula it implements.
#![allow(clippy::needless_range_loop)]

use super::elementwise::{act_derivative_from_output, act_value};
use crate::backend::contract::Entry;
use crate::backend::kernel::ActKind;
use crate::backend::launch::{ceil_div, grid_256, shader_params, GpuLaunch, MAX_WORKGROUPS};
use crate::backend::signature::fits_uniform;

shader_params! {
    /// `Params` of the batch-norm kernels.
    BatchNormParams {
        /// Rows.
        rows: u32,
        /// Columns (features).
        cols: u32,
        /// Synchronized BN: rows of the whole batch.
        total: u32,
        /// `bn_moments`: 1 for the variance pass, 0 for the mean.
        centered: u32,
        /// Variance epsilon.
        eps: f32,
        /// Keras momentum of the moving statistics.
        momentum: f32,
        /// Unused.
        pad2: f32,
        /// Unused.
        pad3: f32,
    }
}

/// The parameters of a launch over `rows`×`cols` (the batch's own statistics).
fn params(rows: usize, cols: usize, eps: f32, momentum: f32) -> BatchNormParams {
    BatchNormParams {
        rows: rows as u32,
        cols: cols as u32,
        eps,
        momentum,
        ..Default::default()
    }
}

/// Lanes of a workgroup of the rows-split entries (`ROW_LANES` in `batch_norm/lanes.wgsl`).
pub const ROW_LANES: usize = 64;

/// Whether batch norm over `rows`×`cols` (columns in whole vec4s) takes the entries whose
/// workgroups split the rows over their lanes, a workgroup a group of four columns: when
/// the per-column entries would not fill one workgroup (at most 256 columns) and every
/// lane gets 48 rows or more (a convolution's channels over N·H·W positions; the seed
/// network's 300 features keep a lane a column group). On llvmpipe, batch norm over 32
/// channels of 25,088 positions: forward 16.6 → 10.0 ms with storage reads, → 3.1–4.1 with
/// texel reads; backward 22 → 4.3 ms; of 4,608: forward 3.0–3.5 → 1.9–2.1 ms, backward
/// 4.0–4.2 → 1.6–2.0; of 1,152 (18 rows a lane): forward 0.84 → 1.5–1.8 ms, backward even.
pub fn split_rows(rows: usize, cols: usize) -> bool {
    cols <= 4 * ROW_LANES && rows >= SPLIT_ROWS_MIN
}

/// Rows from which [`split_rows`] holds (48 a lane).
pub const SPLIT_ROWS_MIN: usize = 48 * ROW_LANES;

/// `launch` (a batch-norm launch over `len` values) reading x (and dy) through textures
/// where its entry has such a twin and they fit one: on CPU adapters a texel load is a
/// gather where a storage load is a loop over the lanes.
pub fn through_textures(launch: GpuLaunch, len: usize) -> GpuLaunch {
    let entry = match launch.entry {
        Entry::BnTrainRows4 => Entry::BnTrainRows4Texture,
        Entry::BnBackwardRows4 => Entry::BnBackwardRows4Texture,
        _ => return launch,
    };
    if !super::matmul::fits_texture(len) {
        return launch;
    }
    GpuLaunch { entry, ..launch }
}

/// GPU launch of one of the four BN entries.
pub fn gpu(entry: Entry, rows: usize, cols: usize, eps: f32, momentum: f32) -> GpuLaunch {
    let p = params(rows, cols, eps, momentum);
    // Four columns an invocation, through the vec4 views, when the columns come in whole
    // vec4s.
    let vec4 = cols.is_multiple_of(4);
    let per_col = (ceil_div(cols, 64), 1, 1);
    let per_vec4 = (ceil_div(cols / 4, 64), 1, 1);
    let rows_split = vec4 && split_rows(rows, cols);
    let per_group = (cols as u32 / 4, 1, 1);
    match entry {
        Entry::BnTrain if rows_split => GpuLaunch::new(Entry::BnTrainRows4, p, per_group),
        Entry::BnBackward if rows_split => GpuLaunch::new(Entry::BnBackwardRows4, p, per_group),
        Entry::BnTrain if vec4 => GpuLaunch::new(Entry::BnTrain4, p, per_vec4),
        Entry::BnBackward if vec4 => GpuLaunch::new(Entry::BnBackward4, p, per_vec4),
        Entry::BnTrain | Entry::BnBackward => GpuLaunch::new(entry, p, per_col),
        Entry::BnApply => GpuLaunch::new(entry, p, grid_256(rows * cols)),
        other => panic!("{other:?} is not a batch-norm entry"),
    }
}

/// `launch` (a training-mode batch-norm launch) applying `act` as it stores its output
/// ([`Kernel::BnTrainAct`](crate::backend::Kernel::BnTrainAct); `batch_norm/out_act.wgsl`).
pub fn with_out_act(launch: GpuLaunch, act: ActKind) -> GpuLaunch {
    let (code, f0, f1) = act.code();
    let mut constants = launch.constants.clone();
    constants.extend([
        ("OUT_ACT", f64::from(code)),
        ("OUT_F0", f64::from(f0)),
        ("OUT_F1", f64::from(f1)),
    ]);
    launch.with_constants(constants)
}

/// GPU launch of one of the synchronized-BN entries (one invocation per column).
pub fn sync_gpu(
    entry: Entry,
    rows: usize,
    cols: usize,
    total: usize,
    eps: f32,
    momentum: f32,
    centered: bool,
) -> GpuLaunch {
    let p = BatchNormParams {
        total: total as u32,
        centered: u32::from(centered),
        ..params(rows, cols, eps, momentum)
    };
    assert!(
        matches!(
            entry,
            Entry::BnMoments | Entry::BnNormalize | Entry::BnBackwardSums | Entry::BnBackwardDx
        ),
        "{entry:?} is not a synchronized batch-norm entry"
    );
    GpuLaunch::new(entry, p, (ceil_div(cols, 64), 1, 1))
}

/// CPU [`train_cpu`], then `act` over its output (RReLU at its mean slope), as the
/// activation layer it stands for computes it. Buffers as [`train_cpu`]'s.
pub fn train_act_cpu(
    rows: usize,
    cols: usize,
    eps: f32,
    momentum: f32,
    act: ActKind,
    b: &mut [&mut [f32]],
) {
    train_cpu(rows, cols, eps, momentum, b);
    for (i, y) in b[3][..rows * cols].iter_mut().enumerate() {
        *y = act_value(act, *y, false, 0, 0, i);
    }
}

/// CPU training-mode forward: per column the batch mean and biased variance, the EWMA of
/// the moving statistics, and the normalized output. Buffers: x, gamma, beta, y, batch
/// statistics (mean then var), moving_mean, moving_var.
pub fn train_cpu(rows: usize, cols: usize, eps: f32, momentum: f32, b: &mut [&mut [f32]]) {
    for c in 0..cols {
        // Sums in f64, so the statistics are the batch's own to float precision whatever
        // the order the GPU adds in.
        let column = || (0..rows).map(|r| f64::from(b[0][r * cols + c]));
        let mean = (column().sum::<f64>() / rows as f64) as f32;
        let var =
            (column().map(|v| (v - f64::from(mean)).powi(2)).sum::<f64>() / rows as f64) as f32;
        b[4][c] = mean;
        b[4][cols + c] = var;
    }
    normalize_cpu(rows, cols, eps, momentum, b);
}

/// GPU launch of [`Kernel::BnTrainGatherU8`](crate::backend::Kernel::BnTrainGatherU8):
/// four columns (a word of pixels) an invocation; `xhat`: x̂ left in x (`XHAT_IN_X`).
/// gamma, beta and the step record come through uniform blocks where gamma fits one.
pub fn train_gather_gpu(
    rows: usize,
    cols: usize,
    eps: f32,
    momentum: f32,
    xhat: bool,
) -> GpuLaunch {
    let p = params(rows, cols, eps, momentum);
    // gamma and beta from uniform blocks where they fit one (three storage buffers fewer).
    let entry = if fits_uniform(cols) {
        Entry::BnTrainGather4Uniform
    } else {
        Entry::BnTrainGather4
    };
    let launch = GpuLaunch::new(entry, p, (ceil_div(cols / 4, 64), 1, 1));
    if xhat {
        launch.with_constants(vec![("XHAT_IN_X", 1.0)])
    } else {
        launch
    }
}

/// CPU reference of the gather and batch norm in one: [`super::gather::cpu`] over the
/// first six buffers (data, labels, perm, step, x, y), then [`train_cpu`] over x and the
/// rest (gamma, beta, out, batch statistics, moving_mean, moving_var); `xhat`: then x
/// overwritten with `(x − mean)/√(var + ε)`.
pub fn train_gather_cpu(
    rows: usize,
    cols: usize,
    eps: f32,
    momentum: f32,
    xhat: bool,
    b: &mut [&mut [f32]],
) {
    let (gather, bn) = b.split_at_mut(6);
    super::gather::cpu(rows, cols, true, gather);
    let mut bufs: Vec<&mut [f32]> = vec![&mut *gather[4]];
    bufs.extend(bn.iter_mut().map(|t| &mut **t));
    train_cpu(rows, cols, eps, momentum, &mut bufs);
    if xhat {
        normalize_in_place(rows, cols, eps, &*bn[3], &mut *gather[4]);
    }
}

/// GPU launch of [`Kernel::BnTrainXhat`](crate::backend::Kernel::BnTrainXhat): four
/// columns an invocation (cols a multiple of 4).
pub fn train_xhat_gpu(rows: usize, cols: usize, eps: f32, momentum: f32) -> GpuLaunch {
    let p = params(rows, cols, eps, momentum);
    GpuLaunch::new(Entry::BnTrainXhat4, p, (ceil_div(cols / 4, 64), 1, 1))
}

/// CPU reference of [`Kernel::BnTrainXhat`](crate::backend::Kernel::BnTrainXhat):
/// [`train_cpu`] over the first seven buffers, then `xhat = (x − mean)/√(var + ε)`.
pub fn train_xhat_cpu(rows: usize, cols: usize, eps: f32, momentum: f32, b: &mut [&mut [f32]]) {
    train_cpu(rows, cols, eps, momentum, &mut b[..7]);
    let (ins, xhat) = b.split_at_mut(7);
    xhat[0][..rows * cols].copy_from_slice(&ins[0][..rows * cols]);
    normalize_in_place(rows, cols, eps, &*ins[4], &mut *xhat[0]);
}

/// `x = (x − mean)/√(var + ε)` by column, from the batch statistics `stats`.
fn normalize_in_place(rows: usize, cols: usize, eps: f32, stats: &[f32], x: &mut [f32]) {
    for i in 0..rows * cols {
        let c = i % cols;
        x[i] = (x[i] - stats[c]) / (stats[cols + c] + eps).sqrt();
    }
}

/// GPU launch of [`Kernel::BnDenseBackward`](crate::backend::Kernel::BnDenseBackward): an
/// invocation an input feature, 64 a workgroup (folded into 2-D past 65,535 workgroups),
/// four units at a time where they come in whole vec4s.
pub fn dense_backward_gpu(features: usize, units: usize) -> GpuLaunch {
    let p = params(features, units, 0.0, 0.0);
    let groups = features.div_ceil(64).max(1);
    let x = groups.min(MAX_WORKGROUPS);
    let grid = (x as u32, groups.div_ceil(x) as u32, 1);
    let entry = if units.is_multiple_of(4) {
        Entry::BnDenseBackward4
    } else {
        Entry::BnDenseBackward
    };
    GpuLaunch::new(entry, p, grid)
}

/// CPU reference of [`Kernel::BnDenseBackward`](crate::backend::Kernel::BnDenseBackward).
/// Buffers: w, gamma, beta, dz_sums, dw (holding `x̂ᵀ·dz`, rewritten), dgamma, dbeta, db.
pub fn dense_backward_cpu(features: usize, units: usize, b: &mut [&mut [f32]]) {
    let (sums, db) = b.split_at_mut(7);
    db[0][..units].copy_from_slice(&sums[3][..units]);
    for j in 0..features {
        let (mut sum_g, mut sum_b) = (0.0f32, 0.0f32);
        for o in 0..units {
            let i = j * units + o;
            let (c, w, s) = (b[4][i], b[0][i], b[3][o]);
            sum_g += w * c;
            sum_b += w * s;
            b[4][i] = b[1][j] * c + b[2][j] * s;
        }
        b[5][j] = sum_g;
        b[6][j] = sum_b;
    }
}

/// CPU inference-mode normalize, scale, shift. Buffers: x, mean, var, gamma, beta, y.
pub fn apply_cpu(rows: usize, cols: usize, eps: f32, b: &mut [&mut [f32]]) {
    for i in 0..rows * cols {
        let c = i % cols;
        let inv = b[3][c] / (b[2][c] + eps).sqrt();
        b[5][i] = (b[0][i] - b[1][c]) * inv + b[4][c];
    }
}

/// CPU backward. Buffers: x, batch statistics (mean then var), gamma, dy, dx, dgamma, dbeta.
pub fn backward_cpu(rows: usize, cols: usize, eps: f32, b: &mut [&mut [f32]]) {
    for c in 0..cols {
        let (sum_dy_xhat, sum_dy) = column_sums(rows, cols, eps, c, b[0], b[1], b[3]);
        b[5][c] = sum_dy_xhat;
        b[6][c] = sum_dy;
        let (ins, outs) = b.split_at_mut(4);
        let ins = [&*ins[0], &*ins[1], &*ins[2], &*ins[3]];
        dx_column(
            rows,
            cols,
            rows,
            eps,
            c,
            ins,
            [sum_dy_xhat, sum_dy],
            outs[0],
        );
    }
}

/// Column `c`'s `Σ dy·x̂` and `Σ dy`.
fn column_sums(
    rows: usize,
    cols: usize,
    eps: f32,
    c: usize,
    x: &[f32],
    stats: &[f32],
    dy: &[f32],
) -> (f32, f32) {
    let mean = stats[c];
    let invstd = 1.0 / (stats[cols + c] + eps).sqrt();
    let sum_dy: f32 = (0..rows).map(|r| dy[r * cols + c]).sum();
    let sum_dy_xhat: f32 = (0..rows)
        .map(|r| dy[r * cols + c] * (x[r * cols + c] - mean) * invstd)
        .sum();
    (sum_dy_xhat, sum_dy)
}

/// Column `c` of dx from the batch's `[Σ dy·x̂, Σ dy]` over `n` rows:
/// `dx = γ/(n·σ)·(n·dy − Σdy − x̂·Σdy·x̂)`. `inputs`: x, statistics, gamma, dy.
#[allow(clippy::too_many_arguments)]
fn dx_column(
    rows: usize,
    cols: usize,
    n: usize,
    eps: f32,
    c: usize,
    [x, stats, gamma, dy]: [&[f32]; 4],
    [sum_dy_xhat, sum_dy]: [f32; 2],
    dx: &mut [f32],
) {
    let n = n as f32;
    let mean = stats[c];
    let invstd = 1.0 / (stats[cols + c] + eps).sqrt();
    let k = gamma[c] * invstd / n;
    for r in 0..rows {
        let i = r * cols + c;
        let xhat = (x[i] - mean) * invstd;
        dx[i] = k * (n * dy[i] - sum_dy - xhat * sum_dy_xhat);
    }
}

/// CPU share of a batch moment (synchronized BN): the column mean of the shard's rows
/// divided by `total` into `stats[..cols]`, or (`centered`) the squared deviations from
/// `stats[c]` over `total` into `stats[cols..]`. Buffers: x, batch statistics.
pub fn moments_cpu(rows: usize, cols: usize, total: usize, centered: bool, b: &mut [&mut [f32]]) {
    for c in 0..cols {
        if centered {
            let mean = b[1][c];
            let sq: f32 = (0..rows).map(|r| (b[0][r * cols + c] - mean).powi(2)).sum();
            b[1][cols + c] = sq / total as f32;
        } else {
            let sum: f32 = (0..rows).map(|r| b[0][r * cols + c]).sum();
            b[1][c] = sum / total as f32;
        }
    }
}

/// CPU training-mode forward from given batch statistics (synchronized BN): the EWMA of
/// the moving statistics and the output. Buffers as [`train_cpu`].
pub fn normalize_cpu(rows: usize, cols: usize, eps: f32, momentum: f32, b: &mut [&mut [f32]]) {
    for c in 0..cols {
        let (mean, var) = (b[4][c], b[4][cols + c]);
        b[5][c] = b[5][c] * momentum + mean * (1.0 - momentum);
        b[6][c] = b[6][c] * momentum + var * (1.0 - momentum);
        let inv = b[1][c] / (var + eps).sqrt();
        for r in 0..rows {
            let i = r * cols + c;
            b[3][i] = (b[0][i] - mean) * inv + b[2][c];
        }
    }
}

/// CPU backward's first half (synchronized BN): the shard's `Σ dy·x̂` and `Σ dy` per
/// column into `sums`, dgamma and dbeta. Buffers: x, batch statistics, sums, dy, dgamma,
/// dbeta.
pub fn backward_sums_cpu(rows: usize, cols: usize, eps: f32, b: &mut [&mut [f32]]) {
    for c in 0..cols {
        let (sum_dy_xhat, sum_dy) = column_sums(rows, cols, eps, c, b[0], b[1], b[3]);
        b[2][c] = sum_dy_xhat;
        b[2][cols + c] = sum_dy;
        b[4][c] = sum_dy_xhat;
        b[5][c] = sum_dy;
    }
}

/// CPU backward's second half (synchronized BN): dx from the whole batch's sums, with
/// `n = total`. Buffers: x, batch statistics, gamma, dy, dx, sums.
pub fn backward_dx_cpu(rows: usize, cols: usize, total: usize, eps: f32, b: &mut [&mut [f32]]) {
    for c in 0..cols {
        let sums = [b[5][c], b[5][cols + c]];
        let (ins, outs) = b.split_at_mut(4);
        let ins = [&*ins[0], &*ins[1], &*ins[2], &*ins[3]];
        dx_column(rows, cols, total, eps, c, ins, sums, outs[0]);
    }
}

shader_params! {
    /// `Params` of batch norm's backward fused with the activation derivative before it.
    BnActParams {
        /// Rows.
        rows: u32,
        /// Columns (features).
        cols: u32,
        /// Activation code ([`ActKind::code`]).
        code: u32,
        /// Bit 0: training mode (RReLU drew slopes); bits 8..: RReLU's layer seed.
        flags: u32,
        /// Variance epsilon.
        eps: f32,
        /// The activation's first parameter.
        f0: f32,
        /// The activation's second parameter.
        f1: f32,
        /// Unused.
        pad: f32,
    }
}

/// GPU launch of [`Kernel::BnActBackward`](crate::backend::Kernel::BnActBackward):
/// four columns an invocation when the columns come in whole vec4s; the activation a
/// pipeline constant.
pub fn act_backward_gpu(
    rows: usize,
    cols: usize,
    eps: f32,
    act: ActKind,
    training: bool,
    seed: u32,
) -> GpuLaunch {
    let (code, f0, f1) = act.code();
    let p = BnActParams {
        rows: rows as u32,
        cols: cols as u32,
        code,
        flags: u32::from(training) | (seed << 8),
        eps,
        f0,
        f1,
        pad: 0.0,
    };
    let launch = if cols.is_multiple_of(4) {
        GpuLaunch::new(Entry::BnActBackward4, p, (ceil_div(cols / 4, 64), 1, 1))
    } else {
        GpuLaunch::new(Entry::BnActBackward, p, (ceil_div(cols, 64), 1, 1))
    };
    launch.with_constants(vec![("BACK_ACT", f64::from(code))])
}

/// CPU batch-norm backward fused with the derivative of the activation whose output `x`
/// is: dx as [`backward_cpu`] computes it, then, as the dense epilogue's backward
/// ([`bias_act_backward_cpu`](super::elementwise::bias_act_backward_cpu)) does, `dz = dx·f'(x)` and `db = Σ_rows dz`. Buffers: x,
/// batch statistics, gamma, dy, dz, dgamma, dbeta, db, step.
#[allow(clippy::too_many_arguments)]
pub fn act_backward_cpu(
    rows: usize,
    cols: usize,
    eps: f32,
    act: ActKind,
    training: bool,
    seed: u32,
    b: &mut [&mut [f32]],
) {
    let step = b[8][0].to_bits();
    let mut dx = vec![0.0f32; rows * cols];
    for c in 0..cols {
        let (sum_dy_xhat, sum_dy) = column_sums(rows, cols, eps, c, b[0], b[1], b[3]);
        b[5][c] = sum_dy_xhat;
        b[6][c] = sum_dy;
        let ins = [&*b[0], &*b[1], &*b[2], &*b[3]];
        dx_column(
            rows,
            cols,
            rows,
            eps,
            c,
            ins,
            [sum_dy_xhat, sum_dy],
            &mut dx,
        );
        let mut acc = 0.0;
        for r in 0..rows {
            let i = r * cols + c;
            let dz = dx[i] * act_derivative_from_output(act, b[0][i], training, seed, step, i);
            b[4][i] = dz;
            acc += dz;
        }
        b[7][c] = acc;
    }
}
