//! Element-wise and row-wise kernels (`shaders/elementwise/`): activations forward and
//! backward, bias add and its gradient, PReLU, softmax, add and scale — each with its CPU
//! reference beside its GPU launch.

// Index loops on purpose: each one reads like the formula it implements.
#![allow(clippy::needless_range_loop)]

use crate::backend::contract::Entry;
use crate::backend::kernel::{ActKind, SELU_ALPHA, SELU_SCALE};
use crate::backend::launch::{ceil_div, grid_256, grid_64, shader_params, GpuLaunch};

shader_params! {
    /// `Params` of the element-wise kernels.
    ElementwiseParams {
        /// Element count (rows for the row-wise kernels).
        n: u32,
        /// Columns.
        cols: u32,
        /// Activation code ([`ActKind::code`]).
        code: u32,
        /// Bit 0: training mode (RReLU draws slopes); bits 8..: RReLU's layer seed.
        flags: u32,
        /// First float parameter (activation parameter, scale factor).
        f0: f32,
        /// Second float parameter.
        f1: f32,
        /// Stripes of rows (the bias + activation backward's partial sums).
        stripes: u32,
        /// Unused.
        f3: f32,
    }
}

fn params(n: usize, cols: usize) -> ElementwiseParams {
    ElementwiseParams {
        n: n as u32,
        cols: cols as u32,
        ..Default::default()
    }
}

/// Rows from which the bias + activation backward sums its bias gradient over stripes of
/// rows ([`bias_stripes`]): below it, one pass an invocation per column (a dense layer's
/// batch), above it (a convolution's positions) that would leave all but a few lanes idle
/// — on llvmpipe 86,528 rows of 5 columns took 5.6 ms, one invocation walking each column.
pub const BIAS_STRIPES_FROM: usize = 4096;

/// Rows each stripe sums, about.
pub const BIAS_STRIPE_ROWS: usize = 128;

/// Stripes of rows the bias + activation backward over `rows` rows sums its bias gradient
/// in (1: the gradient itself, no column sum after).
pub fn bias_stripes(rows: usize) -> usize {
    if rows < BIAS_STRIPES_FROM {
        1
    } else {
        rows.div_ceil(BIAS_STRIPE_ROWS)
    }
}

/// GPU launch of the fused bias + activation backward over `(rows, cols, stripes)`.
/// Buffers: y, dy, dz, db (`stripes` × `cols` partial sums), step.
pub fn bias_act_backward_gpu(
    act: ActKind,
    (rows, cols, stripes): (usize, usize, usize),
    training: bool,
    seed: u32,
) -> GpuLaunch {
    let (code, f0, f1) = act.code();
    let p = ElementwiseParams {
        code,
        flags: u32::from(training) | (seed << 8),
        f0,
        f1,
        stripes: stripes as u32,
        ..params(rows, cols)
    };
    // A stripe and a column (four through the vec4 views) an invocation, the activation a
    // constant.
    let (entry, grid) = if cols.is_multiple_of(4) {
        (Entry::BiasActBackward4, grid_64(stripes * cols / 4))
    } else {
        (Entry::BiasActBackward, grid_256(stripes * cols))
    };
    GpuLaunch::new(entry, p, grid).with_constants(vec![("BACK_ACT", f64::from(code))])
}

/// GPU launch of [`Kernel::ActBackwardFromOutput`](crate::backend::Kernel::ActBackwardFromOutput):
/// an element an invocation, or four through vec4 views (the activation a constant).
pub fn act_backward_output_gpu(act: ActKind, n: usize, training: bool, seed: u32) -> GpuLaunch {
    let entries = (Entry::ActBackwardFromOutput, Entry::ActBackwardFromOutput4);
    act_launch(act, n, training, seed, entries, "BACK_ACT")
}

/// CPU `dx = f'(y)·dy` from the output alone ([`act_derivative_from_output`]). Buffers: y,
/// dy, dx, step.
pub fn act_backward_output_cpu(
    act: ActKind,
    n: usize,
    training: bool,
    seed: u32,
    b: &mut [&mut [f32]],
) {
    let step = b[3][0].to_bits();
    for i in 0..n {
        b[2][i] = b[1][i] * act_derivative_from_output(act, b[0][i], training, seed, step, i);
    }
}

/// GPU launch of an activation forward (`backward` false, buffers x, y, step) or backward
/// (buffers x, y, dy, dx, step).
pub fn act_gpu(act: ActKind, n: usize, training: bool, seed: u32, backward: bool) -> GpuLaunch {
    if backward {
        let entries = (Entry::ActBackward, Entry::ActBackward4);
        act_launch(act, n, training, seed, entries, "BACK_ACT")
    } else {
        let entries = (Entry::ActForward, Entry::ActForward4);
        act_launch(act, n, training, seed, entries, "FWD_ACT")
    }
}

/// An activation kernel's launch: `scalar` an element an invocation, or `vec4` four through
/// the vec4 views (`n` a multiple of 4) with the activation code the pipeline constant
/// `constant`.
fn act_launch(
    act: ActKind,
    n: usize,
    training: bool,
    seed: u32,
    (scalar, vec4): (Entry, Entry),
    constant: &'static str,
) -> GpuLaunch {
    let (code, f0, f1) = act.code();
    let p = ElementwiseParams {
        code,
        flags: u32::from(training) | (seed << 8),
        f0,
        f1,
        ..params(n, 0)
    };
    if n.is_multiple_of(4) {
        return GpuLaunch::new(vec4, p, grid_256(n / 4))
            .with_constants(vec![(constant, f64::from(code))]);
    }
    GpuLaunch::new(scalar, p, grid_256(n))
}

/// GPU launch of the other element-wise kernels.
pub fn simple_gpu(entry: Entry, rows: usize, cols: usize, factor: f32) -> GpuLaunch {
    let (p, grid) = match entry {
        Entry::BiasAdd => (params(rows * cols, cols), grid_256(rows * cols)),
        Entry::ColumnSum => (params(rows, cols), (ceil_div(cols, 256), 1, 1)),
        Entry::PreluForward => (params(rows * cols, cols), grid_256(rows * cols)),
        Entry::PreluBackward => (params(rows, cols), (ceil_div(cols, 256), 1, 1)),
        Entry::SoftmaxForward => (params(rows, cols), (ceil_div(rows, 256), 1, 1)),
        Entry::SoftmaxBackward => (params(rows, cols), (ceil_div(rows, 256), 1, 1)),
        Entry::Add => (params(rows * cols, 1), grid_256(rows * cols)),
        Entry::Scale => (
            ElementwiseParams {
                f0: factor,
                ..params(rows * cols, 1)
            },
            grid_256(rows * cols),
        ),
        other => panic!("{other:?} is not a simple element-wise entry"),
    };
    GpuLaunch::new(entry, p, grid)
}

/// The PCG hash the WGSL kernels use; bit-identical so RReLU slopes match exactly.
pub fn pcg(v: u32) -> u32 {
    let state = v.wrapping_mul(747796405).wrapping_add(2891336453);
    let word = ((state >> ((state >> 28) + 4)) ^ state).wrapping_mul(277803737);
    (word >> 22) ^ word
}

/// Uniform draw in [0, 1) for (seed, step, element), as the GPU computes it.
pub fn uniform01(seed: u32, step: u32, i: u32) -> f32 {
    let h = pcg(seed ^ pcg(step ^ pcg(i)));
    (h >> 8) as f32 * (1.0 / 16777216.0)
}

fn rrelu_slope(lower: f32, upper: f32, training: bool, seed: u32, step: u32, i: usize) -> f32 {
    if training {
        lower + (upper - lower) * uniform01(seed, step, i as u32)
    } else {
        (lower + upper) * 0.5
    }
}

/// `f(x)` for one element (softmax excluded).
pub fn act_value(act: ActKind, x: f32, training: bool, seed: u32, step: u32, i: usize) -> f32 {
    match act {
        ActKind::Linear | ActKind::Softmax => x,
        ActKind::Relu => x.max(0.0),
        ActKind::LeakyRelu { alpha } => {
            if x > 0.0 {
                x
            } else {
                alpha * x
            }
        }
        ActKind::Rrelu { lower, upper } => {
            if x >= 0.0 {
                x
            } else {
                rrelu_slope(lower, upper, training, seed, step, i) * x
            }
        }
        ActKind::Elu { alpha } => {
            if x > 0.0 {
                x
            } else {
                alpha * (x.exp() - 1.0)
            }
        }
        ActKind::Selu => {
            if x > 0.0 {
                SELU_SCALE * x
            } else {
                SELU_SCALE * SELU_ALPHA * (x.exp() - 1.0)
            }
        }
        ActKind::Tanh => x.clamp(-20.0, 20.0).tanh(),
        ActKind::Sigmoid => 1.0 / (1.0 + (-x).exp()),
    }
}

/// `f'(x)` for one element given its input and output (softmax excluded).
pub fn act_derivative(
    act: ActKind,
    x: f32,
    y: f32,
    training: bool,
    seed: u32,
    step: u32,
    i: usize,
) -> f32 {
    let step_fn = |positive: bool, neg: f32| if positive { 1.0 } else { neg };
    match act {
        ActKind::Linear | ActKind::Softmax => 1.0,
        ActKind::Relu => step_fn(x > 0.0, 0.0),
        ActKind::LeakyRelu { alpha } => step_fn(x > 0.0, alpha),
        ActKind::Rrelu { lower, upper } => {
            let positive = if training { x >= 0.0 } else { x > 0.0 };
            step_fn(positive, rrelu_slope(lower, upper, training, seed, step, i))
        }
        ActKind::Elu { alpha } => step_fn(x > 0.0, alpha * x.exp()),
        ActKind::Selu => {
            if x >= 0.0 {
                SELU_SCALE
            } else {
                SELU_SCALE * SELU_ALPHA * x.exp()
            }
        }
        ActKind::Tanh => 1.0 - y * y,
        ActKind::Sigmoid => y * (1.0 - y),
    }
}

/// `f'` for one element from its output alone (TensorFlow's Relu/Elu/Selu gradients do
/// the same); exact when [`ActKind::derivative_from_output`] holds, with the conventions
/// of [`act_derivative`] at 0.
pub fn act_derivative_from_output(
    act: ActKind,
    y: f32,
    training: bool,
    seed: u32,
    step: u32,
    i: usize,
) -> f32 {
    let step_fn = |positive: bool, neg: f32| if positive { 1.0 } else { neg };
    match act {
        ActKind::Linear | ActKind::Softmax => 1.0,
        ActKind::Relu => step_fn(y > 0.0, 0.0),
        ActKind::LeakyRelu { alpha } => step_fn(y > 0.0, alpha),
        ActKind::Rrelu { lower, upper } => {
            let positive = if training {
                !y.is_sign_negative()
            } else {
                y > 0.0
            };
            step_fn(positive, rrelu_slope(lower, upper, training, seed, step, i))
        }
        ActKind::Elu { alpha } => step_fn(y > 0.0, alpha + y),
        ActKind::Selu => {
            if !y.is_sign_negative() {
                SELU_SCALE
            } else {
                SELU_SCALE * SELU_ALPHA + y
            }
        }
        ActKind::Tanh => 1.0 - y * y,
        ActKind::Sigmoid => y * (1.0 - y),
    }
}

/// The rows of stripe `s` of `rows` rows in `stripes` stripes: blocks of
/// `ceil(rows / stripes)` consecutive rows (the last ones shorter or empty), so that a
/// stripe's walk streams through memory.
pub fn stripe_rows(rows: usize, stripes: usize, s: usize) -> std::ops::Range<usize> {
    let per = rows.div_ceil(stripes);
    (s * per).min(rows)..(s * per + per).min(rows)
}

/// CPU backward of a dense layer's fused bias + activation: `dz = f'(y)·dy` and
/// `db[s, c] = Σ dz[r, c]` over the rows `r` of stripe `s` ([`stripe_rows`]). Buffers: y,
/// dy, dz, db, step.
pub fn bias_act_backward_cpu(
    act: ActKind,
    (rows, cols, stripes): (usize, usize, usize),
    training: bool,
    seed: u32,
    b: &mut [&mut [f32]],
) {
    let step = b[4][0].to_bits();
    for c in 0..cols {
        for s in 0..stripes {
            let mut acc = 0.0;
            for r in stripe_rows(rows, stripes, s) {
                let i = r * cols + c;
                let d = act_derivative_from_output(act, b[0][i], training, seed, step, i);
                let dz = b[1][i] * d;
                b[2][i] = dz;
                acc += dz;
            }
            b[3][s * cols + c] = acc;
        }
    }
}

/// CPU activation forward. Buffers: x, y, step.
pub fn act_forward_cpu(act: ActKind, n: usize, training: bool, seed: u32, b: &mut [&mut [f32]]) {
    let step = b[2][0].to_bits();
    for i in 0..n {
        b[1][i] = act_value(act, b[0][i], training, seed, step, i);
    }
}

/// CPU activation backward. Buffers: x, y, dy, dx, step.
pub fn act_backward_cpu(act: ActKind, n: usize, training: bool, seed: u32, b: &mut [&mut [f32]]) {
    let step = b[4][0].to_bits();
    for i in 0..n {
        b[3][i] = b[2][i] * act_derivative(act, b[0][i], b[1][i], training, seed, step, i);
    }
}

/// CPU `y = x + bias[col]`. Buffers: x, bias, y.
pub fn bias_add_cpu(rows: usize, cols: usize, b: &mut [&mut [f32]]) {
    for i in 0..rows * cols {
        b[2][i] = b[0][i] + b[1][i % cols];
    }
}

/// CPU column sums. Buffers: dy, db.
pub fn column_sum_cpu(rows: usize, cols: usize, b: &mut [&mut [f32]]) {
    for c in 0..cols {
        b[1][c] = (0..rows).map(|r| b[0][r * cols + c]).sum();
    }
}

/// CPU PReLU forward. Buffers: x, alpha, y.
pub fn prelu_forward_cpu(rows: usize, cols: usize, b: &mut [&mut [f32]]) {
    for i in 0..rows * cols {
        let x = b[0][i];
        b[2][i] = x.max(0.0) + b[1][i % cols] * x.min(0.0);
    }
}

/// CPU PReLU backward (Keras: gradient 0 at x = 0). Buffers: x, alpha, dy, dx, dalpha.
pub fn prelu_backward_cpu(rows: usize, cols: usize, b: &mut [&mut [f32]]) {
    for c in 0..cols {
        let alpha = b[1][c];
        let mut da = 0.0;
        for r in 0..rows {
            let i = r * cols + c;
            let (x, dy) = (b[0][i], b[2][i]);
            let g = if x > 0.0 {
                1.0
            } else if x < 0.0 {
                alpha
            } else {
                0.0
            };
            b[3][i] = dy * g;
            da += dy * x.min(0.0);
        }
        b[4][c] = da;
    }
}

/// CPU row-wise softmax. Buffers: x, y.
pub fn softmax_forward_cpu(rows: usize, cols: usize, b: &mut [&mut [f32]]) {
    for r in 0..rows {
        let x = &b[0][r * cols..(r + 1) * cols];
        let mx = x.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
        let e: Vec<f32> = x.iter().map(|v| (v - mx).exp()).collect();
        let s: f32 = e.iter().sum();
        for c in 0..cols {
            b[1][r * cols + c] = e[c] / s;
        }
    }
}

/// CPU softmax backward from its output. Buffers: y, dy, dx.
pub fn softmax_backward_cpu(rows: usize, cols: usize, b: &mut [&mut [f32]]) {
    for r in 0..rows {
        let base = r * cols;
        let dot: f32 = (0..cols).map(|c| b[0][base + c] * b[1][base + c]).sum();
        for c in 0..cols {
            b[2][base + c] = b[0][base + c] * (b[1][base + c] - dot);
        }
    }
}

/// CPU `c = a + b`. Buffers: a, b, c.
pub fn add_cpu(n: usize, b: &mut [&mut [f32]]) {
    for i in 0..n {
        b[2][i] = b[0][i] + b[1][i];
    }
}

/// CPU `y = factor·x`. Buffers: x, y.
pub fn scale_cpu(n: usize, factor: f32, b: &mut [&mut [f32]]) {
    for i in 0..n {
        b[1][i] = factor * b[0][i];
    }
}
