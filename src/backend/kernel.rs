//! The op set every backend implements. One enum, so the CPU reference and the GPU
//! cannot drift apart: adding a kernel means adding a variant, its CPU loop and its WGSL
//! launch in the op family's module under [`super::ops`].
//!
//! The step record every training step writes (8 words, [`STEP_WORDS`]) is shared by the
//! kernels: word 0 the global step (u32), word 1 the batch offset (u32), word 2 the
//! learning rate (f32), word 3 unused, words 4–7 the optimizer's per-step scalars (f32).

pub use super::activation::{ActKind, SELU_ALPHA, SELU_SCALE};
pub use super::arena::{arena_end, chunk_count, segment_count, ArenaTensor, CHUNK, SEGMENT};

/// Words in the step record.
pub const STEP_WORDS: usize = 8;

/// Losses computed by the fused loss kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LossKind {
    /// Softmax + categorical cross-entropy on logits (sparse or one-hot targets).
    SoftmaxCrossEntropy,
    /// Sigmoid + binary cross-entropy on logits.
    SigmoidBinaryCrossEntropy,
    /// Mean squared error against one-hot (or scalar) targets.
    MeanSquaredError,
}

impl LossKind {
    /// The code the WGSL kernel switches on.
    pub fn code(&self) -> u32 {
        match self {
            LossKind::SoftmaxCrossEntropy => 0,
            LossKind::SigmoidBinaryCrossEntropy => 1,
            LossKind::MeanSquaredError => 2,
        }
    }
}

/// Gradient clipping, as Keras's optimizer options.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ClipMode {
    /// No norm clipping.
    None,
    /// Each gradient tensor rescaled so its L2 norm is at most c (Keras `clipnorm`).
    PerTensorNorm(f32),
    /// All gradients rescaled jointly by their global norm (Keras `global_clipnorm`).
    GlobalNorm(f32),
}

impl ClipMode {
    /// The code the `clip_scale` kernel switches on, and the threshold.
    pub fn code(&self) -> (u32, f32) {
        match *self {
            ClipMode::None => (0, 0.0),
            ClipMode::PerTensorNorm(c) => (1, c),
            ClipMode::GlobalNorm(c) => (2, c),
        }
    }
}

/// An optimizer's per-element update rule, with Keras's formulas. The state tensors each
/// rule keeps (Keras's variable names) are [`UpdateRule::slots`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum UpdateRule {
    /// `keras.optimizers.SGD`.
    Sgd {
        /// Momentum (0 = plain SGD).
        momentum: f32,
        /// Nesterov momentum.
        nesterov: bool,
    },
    /// `keras.optimizers.Adagrad`.
    Adagrad {
        /// Added to the accumulator under the square root.
        epsilon: f32,
    },
    /// `keras.optimizers.RMSprop`.
    Rmsprop {
        /// Discount of the squared-gradient average.
        rho: f32,
        /// Momentum (0 = none).
        momentum: f32,
        /// Added to the denominator.
        epsilon: f32,
        /// Normalize by the gradient's variance estimate.
        centered: bool,
    },
    /// `keras.optimizers.Adam` (step-dependent scalar: step-record word 4 = alpha).
    Adam {
        /// First-moment decay.
        beta_1: f32,
        /// Second-moment decay.
        beta_2: f32,
        /// Added to the root of the second moment.
        epsilon: f32,
        /// AMSGrad's running maximum.
        amsgrad: bool,
    },
    /// `keras.optimizers.Nadam` (step-record words 4–7: u_t, u_{t+1}, u_product_t,
    /// beta_2^t).
    Nadam {
        /// First-moment decay.
        beta_1: f32,
        /// Second-moment decay.
        beta_2: f32,
        /// Added to the root of the second moment.
        epsilon: f32,
    },
}

impl UpdateRule {
    /// Keras's names of the per-weight state tensors the rule keeps, in buffer order.
    pub fn slots(&self) -> Vec<&'static str> {
        match *self {
            UpdateRule::Sgd { momentum, .. } if momentum != 0.0 => vec!["momentum"],
            UpdateRule::Sgd { .. } => vec![],
            UpdateRule::Adagrad { .. } => vec!["accumulator"],
            UpdateRule::Rmsprop {
                momentum, centered, ..
            } => {
                let mut v = vec!["velocity"];
                if momentum > 0.0 {
                    v.push("momentum");
                }
                if centered {
                    v.push("average_gradient");
                }
                v
            }
            UpdateRule::Adam { amsgrad, .. } => {
                let mut v = vec!["momentum", "velocity"];
                if amsgrad {
                    v.push("velocity_hat");
                }
                v
            }
            UpdateRule::Nadam { .. } => vec!["momentum", "velocity"],
        }
    }
}

/// One kernel launch: which computation and its sizes. The buffers it reads and writes are
/// given alongside, in the order each variant documents.
#[derive(Clone, Debug, PartialEq, strum::EnumDiscriminants)]
#[strum_discriminants(name(KernelKind), derive(Hash, strum::EnumIter))]
#[strum_discriminants(doc = "The kernel variants without their sizes (for coverage tests).")]
pub enum Kernel {
    /// `c[m,n] = op(a)·op(b)` (or `+=` with `accumulate`). `trans_a`: a is stored `[k,m]`;
    /// `trans_b`: b is stored `[n,k]`. Buffers: a, b, c.
    MatMul {
        /// Rows of C.
        m: usize,
        /// Inner dimension.
        k: usize,
        /// Columns of C.
        n: usize,
        /// A stored transposed.
        trans_a: bool,
        /// B stored transposed.
        trans_b: bool,
        /// Add into C instead of overwriting.
        accumulate: bool,
    },
    /// A dense layer's forward in one launch: `y = f(x·w + bias)`, the bias and the
    /// activation applied as the matmul stores (its epilogue). `f` is one whose derivative
    /// the output tells ([`ActKind::derivative_from_output`]), so the backward pass
    /// ([`Kernel::BiasActBackward`]) needs no pre-activation. Buffers: x, w, bias, y, step.
    Dense {
        /// Rows of x and y.
        m: usize,
        /// Columns of x (rows of w).
        k: usize,
        /// Columns of w and y.
        n: usize,
        /// The activation (`Linear`: bias only).
        act: ActKind,
        /// RReLU draws slopes (training mode).
        training: bool,
        /// Per-layer seed of RReLU's generator.
        seed: u32,
    },
    /// The backward pass of [`Kernel::Dense`]'s epilogue from its output: `dz = f'(y)·dy`
    /// and the bias gradient `db[c] = Σ_r dz[r,c]`. Buffers: y, dy, dz, db, step.
    BiasActBackward {
        /// Rows.
        rows: usize,
        /// Columns.
        cols: usize,
        /// The activation.
        act: ActKind,
        /// RReLU used drawn slopes (training mode).
        training: bool,
        /// Per-layer seed of RReLU's generator.
        seed: u32,
    },
    /// `y = x + bias[col]`. Buffers: x, bias, y.
    BiasAdd {
        /// Rows.
        rows: usize,
        /// Columns.
        cols: usize,
    },
    /// `db[c] = Σ_r dy[r,c]`. Buffers: dy, db.
    ColumnSum {
        /// Rows.
        rows: usize,
        /// Columns.
        cols: usize,
    },
    /// `y = f(x)`. Buffers: x, y, step.
    ActForward {
        /// Which activation (not softmax).
        act: ActKind,
        /// Element count.
        n: usize,
        /// RReLU draws slopes (training mode).
        training: bool,
        /// Per-layer seed of RReLU's generator.
        seed: u32,
    },
    /// `dx = f'(x, y)·dy`. Buffers: x, y, dy, dx, step.
    ActBackward {
        /// Which activation (not softmax).
        act: ActKind,
        /// Element count.
        n: usize,
        /// RReLU used drawn slopes (training mode).
        training: bool,
        /// Per-layer seed of RReLU's generator.
        seed: u32,
    },
    /// Keras PReLU forward. Buffers: x, alpha, y.
    PreluForward {
        /// Rows.
        rows: usize,
        /// Columns (alpha's length).
        cols: usize,
    },
    /// PReLU backward. Buffers: x, alpha, dy, dx, dalpha.
    PreluBackward {
        /// Rows.
        rows: usize,
        /// Columns.
        cols: usize,
    },
    /// Row-wise softmax. Buffers: x, y.
    SoftmaxForward {
        /// Rows.
        rows: usize,
        /// Columns.
        cols: usize,
    },
    /// Softmax backward from its output. Buffers: y, dy, dx.
    SoftmaxBackward {
        /// Rows.
        rows: usize,
        /// Columns.
        cols: usize,
    },
    /// `c = a + b`. Buffers: a, b, c.
    Add {
        /// Element count.
        n: usize,
    },
    /// `y = factor·x`. Buffers: x, y.
    Scale {
        /// Element count.
        n: usize,
        /// Multiplier.
        factor: f32,
    },
    /// Loss and its gradient, the gradient's column sums (the output layer's bias
    /// gradient), and `metrics += (Σ loss, Σ correct, rows)`, in one launch. Buffers:
    /// input, labels (u32), grad, grad_column_sums, metrics.
    Loss {
        /// Which loss.
        kind: LossKind,
        /// Batch rows.
        rows: usize,
        /// Output columns.
        cols: usize,
        /// Rows of the whole batch the loss averages over: `rows` in one process, the
        /// global batch when each rank holds a shard of it (the gradients are then summed
        /// across ranks).
        total: usize,
    },
    /// Training-mode batch normalization in one launch: per column the batch mean and
    /// biased variance (kept for the backward pass), the EWMA of the moving statistics,
    /// and the normalized, scaled, shifted output. Buffers: x, gamma, beta, y, batch
    /// statistics `[2·cols]` (mean then var), moving_mean, moving_var.
    BnTrain {
        /// Rows.
        rows: usize,
        /// Columns.
        cols: usize,
        /// Variance epsilon.
        eps: f32,
        /// Keras momentum (weight of the old moving value).
        momentum: f32,
    },
    /// Inference-mode normalize, scale, shift (with the moving statistics). Buffers: x,
    /// mean, var, gamma, beta, y.
    BnApply {
        /// Rows.
        rows: usize,
        /// Columns.
        cols: usize,
        /// Variance epsilon.
        eps: f32,
    },
    /// BN backward (training mode: through the batch statistics). Buffers: x, batch
    /// statistics `[2·cols]` (mean then var), gamma, dy, dx, dgamma, dbeta.
    BnBackward {
        /// Rows.
        rows: usize,
        /// Columns.
        cols: usize,
        /// Variance epsilon.
        eps: f32,
    },
    /// Synchronized batch norm, a moment of each column over a shard of the batch, divided
    /// by the whole batch's rows (summed across ranks it is the whole batch's moment):
    /// the mean into `stats[..cols]`, or (`centered`) the biased variance about that mean
    /// into `stats[cols..]`. Buffers: x, batch statistics `[2·cols]`.
    BnMoments {
        /// Rows of the shard.
        rows: usize,
        /// Columns.
        cols: usize,
        /// Rows of the whole batch.
        total: usize,
        /// Variance pass (reads the mean) rather than mean pass.
        centered: bool,
    },
    /// Synchronized batch norm's training forward with given batch statistics: the EWMA
    /// of the moving statistics and the normalized, scaled, shifted output. Buffers as
    /// [`Kernel::BnTrain`] (the statistics are read, not written).
    BnNormalize {
        /// Rows of the shard.
        rows: usize,
        /// Columns.
        cols: usize,
        /// Rows of the whole batch (for the backward pass).
        total: usize,
        /// Variance epsilon.
        eps: f32,
        /// Keras momentum (weight of the old moving value).
        momentum: f32,
    },
    /// Synchronized batch norm's backward, first half: the shard's `Σ dy·x̂` and `Σ dy`
    /// per column, into `sums` `[2·cols]` (to be summed across ranks) and into dgamma and
    /// dbeta (this shard's share of their gradients). Buffers: x, batch statistics, sums,
    /// dy, dgamma, dbeta.
    BnBackwardSums {
        /// Rows of the shard.
        rows: usize,
        /// Columns.
        cols: usize,
        /// Variance epsilon.
        eps: f32,
    },
    /// Synchronized batch norm's backward, second half: dx from the whole batch's sums.
    /// Buffers: x, batch statistics, gamma, dy, dx, sums (`Σ dy·x̂` then `Σ dy`).
    BnBackwardDx {
        /// Rows of the shard.
        rows: usize,
        /// Columns.
        cols: usize,
        /// Rows of the whole batch.
        total: usize,
        /// Variance epsilon.
        eps: f32,
    },
    /// First pass of the gradient statistics over a gradient arena: per [`SEGMENT`] of
    /// each tensor, its sum of squares and whether it holds a non-finite value.
    /// Buffers: grads (the arena), partials (2 words per segment, from `first_segment`).
    GradStats {
        /// The tensors, in the arena.
        tensors: Vec<ArenaTensor>,
        /// Where this launch's segments start in the partials (the segments of the
        /// groups before it).
        first_segment: usize,
    },
    /// Health statistics of one activation output `[rows, cols]` into
    /// `health[offset..offset + 4]`: mean, standard deviation, the fraction of units that
    /// output exactly 0 for every row (dead), and the fraction of outputs within 1 % of the
    /// activation's bounds (`saturation`: 0 none, 1 tanh, 2 sigmoid). Buffers: y, health.
    ActStats {
        /// Rows.
        rows: usize,
        /// Columns (units).
        cols: usize,
        /// Which bounds count as saturated.
        saturation: u32,
        /// Where in the health buffer.
        offset: usize,
    },
    /// `health[offset] = ‖b‖²`, `health[offset + 1] = ‖a − b‖²` (a weight after and before
    /// its update). Buffers: a, b, health.
    PairNorms {
        /// Element count.
        n: usize,
        /// Where in the health buffer.
        offset: usize,
    },
    /// Second pass: each tensor's squared norm, norm sum and first non-finite step (u32
    /// bits, `u32::MAX` while none) into `stats[3·slot..]`, and its clip factor into
    /// `scales[slot]` (Keras's `clipnorm` per tensor, `global_clipnorm` over the tensors
    /// listed). Buffers: partials, stats, scales, step.
    ClipScale {
        /// The tensors, as in the [`Kernel::GradStats`] launch before.
        tensors: Vec<ArenaTensor>,
        /// Clipping rule.
        mode: ClipMode,
    },
    /// Fused clip + optimizer update of every tensor listed, in one launch over the
    /// arenas. Buffers: weights, grads, scales, step, then one arena per state slot of the
    /// rule ([`UpdateRule::slots`]); a tensor sits at the same offset in each.
    Update {
        /// The update rule and its hyper-parameters.
        rule: UpdateRule,
        /// The tensors, in the arenas.
        tensors: Vec<ArenaTensor>,
        /// Element-wise clip (0 = off).
        clipvalue: f32,
    },
    /// Gather a batch of byte images (scaled by 1/255) and labels through the shuffled
    /// index buffer at the step's offset. Buffers: data (bytes packed in words), labels
    /// (u32), perm (u32), step, x, y (u32 labels).
    GatherU8 {
        /// Batch rows.
        rows: usize,
        /// Values per sample.
        features: usize,
    },
    /// Same as `GatherU8` for f32 data.
    GatherF32 {
        /// Batch rows.
        rows: usize,
        /// Values per sample.
        features: usize,
    },
}

impl Kernel {
    /// Number of buffers the kernel takes.
    pub fn arity(&self) -> usize {
        match self {
            Kernel::MatMul { .. } | Kernel::BiasAdd { .. } | Kernel::Add { .. } => 3,
            Kernel::ColumnSum { .. } | Kernel::Scale { .. } => 2,
            Kernel::Dense { .. } | Kernel::BiasActBackward { .. } => 5,
            Kernel::ActForward { .. } => 3,
            Kernel::ActBackward { .. } => 5,
            Kernel::PreluForward { .. } => 3,
            Kernel::PreluBackward { .. } => 5,
            Kernel::SoftmaxForward { .. } => 2,
            Kernel::SoftmaxBackward { .. } => 3,
            Kernel::Loss { .. } => 5,
            Kernel::BnTrain { .. } => 7,
            Kernel::BnApply { .. } => 6,
            Kernel::BnBackward { .. } => 7,
            Kernel::BnMoments { .. } => 2,
            Kernel::BnNormalize { .. } => 7,
            Kernel::BnBackwardSums { .. } | Kernel::BnBackwardDx { .. } => 6,
            Kernel::GradStats { .. } => 2,
            Kernel::ActStats { .. } => 2,
            Kernel::PairNorms { .. } => 3,
            Kernel::ClipScale { .. } => 4,
            Kernel::Update { rule, .. } => 4 + rule.slots().len(),
            Kernel::GatherU8 { .. } | Kernel::GatherF32 { .. } => 6,
        }
    }

    /// Positions (in the buffer list) of the buffers the kernel writes.
    pub fn writes(&self) -> &'static [usize] {
        const UPDATE_WRITES: [&[usize]; 4] = [&[0], &[0, 4], &[0, 4, 5], &[0, 4, 5, 6]];
        match self {
            Kernel::MatMul { .. } | Kernel::BiasAdd { .. } | Kernel::Add { .. } => &[2],
            Kernel::PreluForward { .. } | Kernel::SoftmaxBackward { .. } => &[2],
            Kernel::ColumnSum { .. } | Kernel::Scale { .. } => &[1],
            Kernel::Dense { .. } => &[3],
            Kernel::BiasActBackward { .. } => &[2, 3],
            Kernel::ActForward { .. } | Kernel::SoftmaxForward { .. } => &[1],
            Kernel::GradStats { .. } => &[1],
            Kernel::ActStats { .. } => &[1],
            Kernel::PairNorms { .. } => &[2],
            Kernel::ClipScale { .. } => &[1, 2],
            Kernel::ActBackward { .. } => &[3],
            Kernel::PreluBackward { .. } => &[3, 4],
            Kernel::Loss { .. } => &[2, 3, 4],
            Kernel::BnTrain { .. } => &[3, 4, 5, 6],
            Kernel::BnApply { .. } => &[5],
            Kernel::BnBackward { .. } => &[4, 5, 6],
            Kernel::BnMoments { .. } => &[1],
            Kernel::BnNormalize { .. } => &[3, 5, 6],
            Kernel::BnBackwardSums { .. } => &[2, 4, 5],
            Kernel::BnBackwardDx { .. } => &[4],
            Kernel::Update { rule, .. } => UPDATE_WRITES[rule.slots().len()],
            Kernel::GatherU8 { .. } | Kernel::GatherF32 { .. } => &[4, 5],
        }
    }

    /// Minimum length (in 4-byte words) each buffer must have; checked before a launch is
    /// prepared so a size bug is a typed error, not an out-of-bounds read on the GPU.
    pub fn min_lens(&self) -> Vec<usize> {
        match *self {
            Kernel::MatMul { m, k, n, .. } => vec![m * k, k * n, m * n],
            Kernel::BiasAdd { rows, cols } => vec![rows * cols, cols, rows * cols],
            Kernel::Dense { m, k, n, .. } => vec![m * k, k * n, n, m * n, STEP_WORDS],
            Kernel::BiasActBackward { rows, cols, .. } => {
                vec![rows * cols, rows * cols, rows * cols, cols, STEP_WORDS]
            }
            Kernel::ColumnSum { rows, cols } => vec![rows * cols, cols],
            Kernel::ActForward { n, .. } => vec![n, n, STEP_WORDS],
            Kernel::ActBackward { n, .. } => vec![n, n, n, n, STEP_WORDS],
            Kernel::PreluForward { rows, cols } => vec![rows * cols, cols, rows * cols],
            Kernel::PreluBackward { rows, cols } => {
                vec![rows * cols, cols, rows * cols, rows * cols, cols]
            }
            Kernel::SoftmaxForward { rows, cols } => vec![rows * cols, rows * cols],
            Kernel::SoftmaxBackward { rows, cols } => vec![rows * cols; 3],
            Kernel::Add { n } => vec![n, n, n],
            Kernel::Scale { n, .. } => vec![n, n],
            Kernel::Loss { rows, cols, .. } => vec![rows * cols, rows, rows * cols, cols, 3],
            Kernel::BnTrain { rows, cols, .. } => {
                let n = rows * cols;
                vec![n, cols, cols, n, 2 * cols, cols, cols]
            }
            Kernel::BnApply { rows, cols, .. } => {
                vec![rows * cols, cols, cols, cols, cols, rows * cols]
            }
            Kernel::BnBackward { rows, cols, .. } => {
                let n = rows * cols;
                vec![n, 2 * cols, cols, n, n, cols, cols]
            }
            Kernel::BnMoments { rows, cols, .. } => vec![rows * cols, 2 * cols],
            Kernel::BnNormalize { rows, cols, .. } => {
                let n = rows * cols;
                vec![n, cols, cols, n, 2 * cols, cols, cols]
            }
            Kernel::BnBackwardSums { rows, cols, .. } => {
                let n = rows * cols;
                vec![n, 2 * cols, 2 * cols, n, cols, cols]
            }
            Kernel::BnBackwardDx { rows, cols, .. } => {
                let n = rows * cols;
                vec![n, 2 * cols, cols, n, n, 2 * cols]
            }
            Kernel::GradStats {
                ref tensors,
                first_segment,
            } => vec![
                arena_end(tensors),
                2 * (first_segment + segment_count(tensors)),
            ],
            Kernel::ActStats {
                rows, cols, offset, ..
            } => vec![rows * cols, offset + 4],
            Kernel::PairNorms { n, offset } => vec![n, n, offset + 2],
            Kernel::ClipScale { ref tensors, .. } => {
                let slots = tensors.iter().map(|t| t.slot + 1).max().unwrap_or(0);
                vec![2 * segment_count(tensors), 3 * slots, slots, STEP_WORDS]
            }
            Kernel::Update {
                rule, ref tensors, ..
            } => {
                let end = arena_end(tensors);
                let slots = tensors.iter().map(|t| t.slot + 1).max().unwrap_or(0);
                let mut v = vec![end, end, slots, STEP_WORDS];
                v.extend(rule.slots().iter().map(|_| end));
                v
            }
            Kernel::GatherU8 { rows, features } => {
                vec![0, 0, rows, STEP_WORDS, rows * features, rows]
            }
            Kernel::GatherF32 { rows, features } => {
                vec![0, 0, rows, STEP_WORDS, rows * features, rows]
            }
        }
    }
}
