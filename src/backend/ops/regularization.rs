//! The regularization kernels (`shaders/regularization/`): inverted dropout and alpha
//! dropout with their backward passes (masks from the counter-based generator, so the
//! backward pass regenerates the forward's and the CPU reference draws the same), the
//! L1/L2 weight penalties (the gradient term added in place, the penalty summed into the
//! reported loss) and the max-norm constraint — each CPU reference beside its GPU launch.

// Index loops on purpose: each one reads like the formula it implements.
#![allow(clippy::needless_range_loop)]

use super::elementwise::uniform01;
use super::grad_stats::grid_groups;
use crate::backend::contract::Entry;
use crate::backend::kernel::{ArenaTensor, CHUNK, SELU_ALPHA, SELU_SCALE};
use crate::backend::launch::{ceil_div, grid_256, shader_params, GpuLaunch};

/// What a dropout launch drops: units of samples of shape `sample` (padded on the left to
/// three axes), each axis (the batch first) either drawn per element or `shared` (a
/// `noise_shape` entry of 1: one draw for the whole axis), at `rate`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DropoutMask {
    /// Rows (samples).
    pub rows: usize,
    /// The sample shape, padded on the left with 1s to three axes.
    pub sample: [usize; 3],
    /// Per axis (batch, then the three of `sample`): one draw shared along it.
    pub shared: [bool; 4],
    /// Fraction of units dropped, in [0, 1).
    pub rate: f32,
    /// The layer's generator seed.
    pub seed: u32,
    /// Keras's `AlphaDropout` (SELU networks) instead of inverted dropout.
    pub alpha: bool,
}

impl DropoutMask {
    /// Values of the tensor.
    pub fn len(&self) -> usize {
        self.rows * self.sample.iter().product::<usize>()
    }

    /// Whether the tensor is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Index of element `i`'s draw in the noise tensor (shared axes collapsed to 1).
    pub fn noise_index(&self, i: usize) -> u32 {
        let [d1, d2, d3] = self.sample;
        let c3 = i % d3;
        let c2 = (i / d3) % d2;
        let c1 = (i / (d3 * d2)) % d1;
        let r = i / (d3 * d2 * d1);
        let pick = |k: usize, c: usize| if self.shared[k] { 0 } else { c };
        let dim = |k: usize, d: usize| if self.shared[k] { 1 } else { d };
        let n = ((pick(0, r) * dim(1, d1) + pick(1, c1)) * dim(2, d2) + pick(2, c2)) * dim(3, d3)
            + pick(3, c3);
        n as u32
    }

    /// Whether element `i` is kept at `step`: its draw in [0, 1) is at least the rate.
    pub fn keeps(&self, step: u32, i: usize) -> bool {
        uniform01(self.seed, step, self.noise_index(i)) >= self.rate
    }

    /// `(scale, shift, dropped)`: a kept value becomes `x·scale + shift`, a dropped one
    /// `dropped`. Inverted dropout: `(1/(1 − rate), 0, 0)`; alpha dropout (Keras): with
    /// α′ = −α·λ of SELU, `a = ((1 − rate)(1 + rate·α′²))^(−1/2)`, `b = −a·α′·rate`:
    /// `(a, b, a·α′ + b)`.
    pub fn affine(&self) -> (f32, f32, f32) {
        if self.alpha {
            let alpha_p = -SELU_ALPHA * SELU_SCALE;
            let a = ((1.0 - self.rate) * (1.0 + self.rate * alpha_p * alpha_p)).powf(-0.5);
            let b = -a * alpha_p * self.rate;
            (a, b, a * alpha_p + b)
        } else {
            (1.0 / (1.0 - self.rate), 0.0, 0.0)
        }
    }
}

shader_params! {
    /// `Params` of the dropout kernels.
    DropoutParams {
        /// Element count.
        n: u32,
        /// Sample axis 1 (of three, left-padded with 1s).
        d1: u32,
        /// Sample axis 2.
        d2: u32,
        /// Sample axis 3.
        d3: u32,
        /// Bit k: axis k (0 the batch) shares one draw.
        shared_axes: u32,
        /// The generator's seed.
        seed: u32,
        /// Unused.
        pad0: u32,
        /// Unused.
        pad1: u32,
        /// Fraction dropped.
        rate: f32,
        /// A kept value's scale.
        scale: f32,
        /// A kept value's shift.
        shift: f32,
        /// What a dropped value becomes.
        dropped: f32,
    }
}

/// GPU launch of dropout (`backward`: its gradient).
pub fn dropout_gpu(m: &DropoutMask, backward: bool) -> GpuLaunch {
    let (scale, shift, dropped) = m.affine();
    let shared_axes = (m.shared.iter().enumerate())
        .map(|(k, &s)| u32::from(s) << k)
        .sum();
    let p = DropoutParams {
        n: m.len() as u32,
        d1: m.sample[0] as u32,
        d2: m.sample[1] as u32,
        d3: m.sample[2] as u32,
        shared_axes,
        seed: m.seed,
        rate: m.rate,
        scale,
        shift,
        dropped,
        ..Default::default()
    };
    // Four elements an invocation through the vec4 views where they divide evenly.
    let (entry, grid) = match (backward, m.len().is_multiple_of(4)) {
        (false, false) => (Entry::Dropout, grid_256(m.len())),
        (true, false) => (Entry::DropoutBackward, grid_256(m.len())),
        (false, true) => (Entry::Dropout4, grid_256(m.len() / 4)),
        (true, true) => (Entry::DropoutBackward4, grid_256(m.len() / 4)),
    };
    GpuLaunch::new(entry, p, grid)
}

/// Dropout, training mode. Buffers: x, y, step.
pub fn dropout_cpu(m: &DropoutMask, b: &mut [&mut [f32]]) {
    let step = b[2][0].to_bits();
    let (scale, shift, dropped) = m.affine();
    for i in 0..m.len() {
        b[1][i] = if m.keeps(step, i) {
            b[0][i] * scale + shift
        } else {
            dropped
        };
    }
}

/// Dropout's backward: the kept units' gradients scaled. Buffers: dy, dx, step.
pub fn dropout_backward_cpu(m: &DropoutMask, b: &mut [&mut [f32]]) {
    let step = b[2][0].to_bits();
    let (scale, _, _) = m.affine();
    for i in 0..m.len() {
        b[1][i] = if m.keeps(step, i) {
            b[0][i] * scale
        } else {
            0.0
        };
    }
}

/// A weight tensor with an L1/L2 penalty (Keras's `kernel_regularizer`, …).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Penalized {
    /// The tensor, in the weight and gradient arenas.
    pub tensor: ArenaTensor,
    /// L1 factor: `l1·Σ|w|`.
    pub l1: f32,
    /// L2 factor: `l2·Σw²` (no ½, as Keras).
    pub l2: f32,
}

shader_params! {
    /// `Params` of the penalty kernels.
    PenaltyParams {
        /// Rows of the chunk table (penalty) or partial sums (add_penalty).
        n: u32,
        /// Where this launch's partial sums start.
        first: u32,
        /// add_penalty: the batch rows the metrics' loss sum counts.
        rows: u32,
        /// Unused.
        pad0: u32,
    }
}

/// Per [`CHUNK`] of each tensor: (first vec4, words of the tensor from there, l1 bits, l2
/// bits).
fn penalty_table(tensors: &[Penalized]) -> Vec<[u32; 4]> {
    let mut rows = Vec::new();
    for t in tensors {
        let a = t.tensor;
        for c in 0..a.n.div_ceil(CHUNK) {
            let words = (a.n - c * CHUNK) as u32;
            let first = ((a.offset + c * CHUNK) / 4) as u32;
            rows.push([first, words, t.l1.to_bits(), t.l2.to_bits()]);
        }
    }
    rows
}

/// Chunks of `tensors` (the partial sums a penalty launch writes).
pub fn penalty_chunks(tensors: &[Penalized]) -> usize {
    tensors.iter().map(|t| t.tensor.n.div_ceil(CHUNK)).sum()
}

/// GPU launch of the penalty pass: a workgroup per chunk.
pub fn penalty_gpu(tensors: &[Penalized], first: usize) -> GpuLaunch {
    let table = penalty_table(tensors);
    let p = PenaltyParams {
        n: table.len() as u32,
        first: first as u32,
        ..Default::default()
    };
    GpuLaunch::new(Entry::Penalty, p, grid_groups(table.len())).with_table(table)
}

/// The penalty's gradient added to each tensor's (`l1·sign(w) + 2·l2·w`; sign(0) = 0, as
/// TensorFlow's), and each chunk's penalty `Σ l1·|w| + l2·w²` into the partial sums.
/// Buffers: weights, grads, partials.
pub fn penalty_cpu(tensors: &[Penalized], first: usize, b: &mut [&mut [f32]]) {
    let mut chunk = first;
    for t in tensors {
        let a = t.tensor;
        for c in 0..a.n.div_ceil(CHUNK) {
            let mut sum = 0.0f32;
            for i in a.offset + c * CHUNK..a.offset + a.n.min((c + 1) * CHUNK) {
                let w = b[0][i];
                let sign = if w > 0.0 {
                    1.0
                } else if w < 0.0 {
                    -1.0
                } else {
                    0.0
                };
                b[1][i] += t.l1 * sign + 2.0 * t.l2 * w;
                sum += t.l1 * w.abs() + t.l2 * w * w;
            }
            b[2][chunk] = sum;
            chunk += 1;
        }
    }
}

/// GPU launch of the penalty's sum into the metrics: one workgroup.
pub fn add_penalty_gpu(chunks: usize, rows: usize) -> GpuLaunch {
    let p = PenaltyParams {
        n: chunks as u32,
        rows: rows as u32,
        ..Default::default()
    };
    GpuLaunch::new(Entry::AddPenalty, p, (1, 1, 1))
}

/// The penalty summed, times the batch rows, added to the metrics' loss sum (so the
/// reported loss is the batch-mean loss plus the penalty, as Keras reports it). Buffers:
/// partials, metrics.
pub fn add_penalty_cpu(chunks: usize, rows: usize, b: &mut [&mut [f32]]) {
    let total: f32 = b[0][..chunks].iter().sum();
    b[1][0] += total * rows as f32;
}

shader_params! {
    /// `Params` of the max-norm constraint.
    MaxNormParams {
        /// Rows of the weight viewed as a matrix.
        rows: u32,
        /// Its columns.
        cols: u32,
        /// 1: the norms are of rows (the reduced axes are the last), 0: of columns.
        per_row: u32,
        /// Unused.
        pad0: u32,
        /// The largest norm.
        max_value: f32,
        /// Unused.
        pad1: f32,
        /// Unused.
        pad2: f32,
        /// Unused.
        pad3: f32,
    }
}

/// GPU launch of the max-norm constraint: an invocation per norm.
pub fn max_norm_gpu(rows: usize, cols: usize, per_row: bool, max_value: f32) -> GpuLaunch {
    let p = MaxNormParams {
        rows: rows as u32,
        cols: cols as u32,
        per_row: u32::from(per_row),
        max_value,
        ..Default::default()
    };
    let norms = if per_row { rows } else { cols };
    GpuLaunch::new(Entry::MaxNorm, p, (ceil_div(norms, 64), 1, 1))
}

/// Keras's `MaxNorm`: each norm over the reduced axes (a column's, or with `per_row` a
/// row's) brought to at most `max_value`: `w · clip(‖w‖, 0, max) / (1e-7 + ‖w‖)`.
/// Buffers: w.
pub fn max_norm_cpu(rows: usize, cols: usize, per_row: bool, max_value: f32, b: &mut [&mut [f32]]) {
    let (outer, inner) = if per_row { (rows, cols) } else { (cols, rows) };
    let at = |o: usize, k: usize| if per_row { o * cols + k } else { k * cols + o };
    for o in 0..outer {
        let sq: f32 = (0..inner).map(|k| b[0][at(o, k)].powi(2)).sum();
        let norm = sq.sqrt();
        let factor = norm.clamp(0.0, max_value) / (1e-7 + norm);
        for k in 0..inner {
            b[0][at(o, k)] *= factor;
        }
    }
}
