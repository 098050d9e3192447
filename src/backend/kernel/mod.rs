//! The op set every backend implements. One enum, so the CPU reference and the GPU
//! cannot drift apart: adding a kernel means adding a variant, its CPU loop and its WGSL
//! launch in the op family's module under [`super::ops`].
//!
//! The step record every training step writes (8 words, [`STEP_WORDS`]) is shared by the
//! kernels: word 0 the global step (u32), word 1 the batch offset (u32), word 2 the
//! learning rate (f32), word 3 unused, words 4–7 the optimizer's per-step scalars (f32).

pub use super::activation::{ActKind, SELU_ALPHA, SELU_SCALE};
pub use super::arena::{arena_end, chunk_count, segment_count, ArenaTensor, CHUNK, SEGMENT};
pub use super::ops::conv_input_grad::input_grad_partial_rows;
pub use super::ops::regularization::{DropoutMask, Penalized};
pub use super::ops::window::{pool_chunks, POOL_CHUNK_CELLS, POOL_CHUNK_ROWS};
pub use super::signature::{Access, Arg, Elem};
pub use super::window::{Padding, Window};
pub use rules::{ClipMode, LossKind, UpdateRule};

mod args;
mod rules;

/// Words in the step record.
pub const STEP_WORDS: usize = 8;

/// One kernel launch: which computation and its sizes. The buffers it reads and writes are
/// given alongside, in the order [`Kernel::args`] declares.
#[derive(Clone, Debug, PartialEq, strum::EnumDiscriminants)]
#[strum_discriminants(name(KernelKind), derive(Hash, strum::EnumIter))]
#[strum_discriminants(doc = "The kernel variants without their sizes (for coverage tests).")]
pub enum Kernel {
    /// `c[m,n] = op(a)·op(b)` (or `+=` with `accumulate`). `trans_a`: a is stored `[k,m]`;
    /// `trans_b`: b is stored `[n,k]`.
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
    /// ([`Kernel::BiasActBackward`]) needs no pre-activation.
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
    /// and the bias gradient `db[c] = Σ_r dz[r,c]` — as partial sums over `stripes` stripes
    /// of consecutive rows (`ops::elementwise::stripe_rows`), a [`Kernel::ColumnSum`] of
    /// them after, where there are many rows (a convolution's positions).
    BiasActBackward {
        /// Rows.
        rows: usize,
        /// Columns.
        cols: usize,
        /// Stripes of rows db sums (1: db is the bias gradient itself).
        stripes: usize,
        /// The activation.
        act: ActKind,
        /// RReLU used drawn slopes (training mode).
        training: bool,
        /// Per-layer seed of RReLU's generator.
        seed: u32,
    },
    /// `y = x + bias[col]`.
    BiasAdd {
        /// Rows.
        rows: usize,
        /// Columns.
        cols: usize,
    },
    /// `db[c] = Σ_r dy[r,c]`.
    ColumnSum {
        /// Rows.
        rows: usize,
        /// Columns.
        cols: usize,
    },
    /// `y = f(x)`.
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
    /// `dx = f'(x, y)·dy`.
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
    /// `dx = f'(y)·dy` from the output alone (the derivative as
    /// [`ActKind::derivative_from_output`] allows): an activation layer whose input nothing
    /// else needs kept, as after a batch norm that stores the activated output
    /// ([`Kernel::BnTrainAct`]).
    ActBackwardFromOutput {
        /// Which activation (one whose output tells its derivative).
        act: ActKind,
        /// Element count.
        n: usize,
        /// RReLU used drawn slopes (training mode).
        training: bool,
        /// Per-layer seed of RReLU's generator.
        seed: u32,
    },
    /// Keras PReLU forward.
    PreluForward {
        /// Rows.
        rows: usize,
        /// Columns (alpha's length).
        cols: usize,
    },
    /// PReLU backward.
    PreluBackward {
        /// Rows.
        rows: usize,
        /// Columns.
        cols: usize,
    },
    /// Row-wise softmax.
    SoftmaxForward {
        /// Rows.
        rows: usize,
        /// Columns.
        cols: usize,
    },
    /// Softmax backward from its output.
    SoftmaxBackward {
        /// Rows.
        rows: usize,
        /// Columns.
        cols: usize,
    },
    /// `c = a + b`.
    Add {
        /// Element count.
        n: usize,
    },
    /// `y = factor·x`.
    Scale {
        /// Element count.
        n: usize,
        /// Multiplier.
        factor: f32,
    },
    /// Loss and its gradient, the gradient's column sums (the output layer's bias
    /// gradient), and `metrics += (Σ loss, Σ correct, rows)`, in one launch.
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
    /// The output layer's training step in one launch (a fusion, `graph/fuse/`): its
    /// logits `x = h·w + bias`, [`Kernel::Loss`] on them, and both backward products, the
    /// weight gradient `dw = hᵀ·dx` and the input gradient `dh = dx·wᵀ` — what a linear
    /// [`Kernel::Dense`], the loss and two [`Kernel::MatMul`]s compute, in their order.
    DenseLoss {
        /// Which loss.
        kind: LossKind,
        /// Batch rows.
        rows: usize,
        /// Columns of h (rows of w).
        k: usize,
        /// Output columns.
        cols: usize,
        /// As [`Kernel::Loss`]'s.
        total: usize,
    },
    /// [`Kernel::DenseLoss`] for a larger batch, part one (a fusion, `graph/fuse/`): each
    /// row's logits, loss, gradient and input gradient `dh = dx·wᵀ`, and its loss and hit
    /// (`row_metrics`, two values a row) for [`Kernel::DenseLossSums`] (on the GPU four rows
    /// an invocation).
    DenseLossRows {
        /// Which loss.
        kind: LossKind,
        /// Batch rows.
        rows: usize,
        /// Columns of h (rows of w).
        k: usize,
        /// Output columns.
        cols: usize,
        /// As [`Kernel::Loss`]'s.
        total: usize,
    },
    /// Part two after [`Kernel::DenseLossRows`]: the sums over the rows — the weight
    /// gradient `dw = hᵀ·dx`, the bias gradient (dx's column sums) and
    /// `metrics += (Σ loss, Σ hits, rows)`.
    DenseLossSums {
        /// Batch rows.
        rows: usize,
        /// Columns of h (rows of w).
        k: usize,
        /// Output columns.
        cols: usize,
    },
    /// Training-mode batch normalization in one launch: per column the batch mean and
    /// biased variance (kept for the backward pass), the EWMA of the moving statistics,
    /// and the normalized, scaled, shifted output.
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
    /// [`Kernel::BnTrain`] followed by an activation applied as the output is stored (a
    /// batch norm whose output only an activation layer reads: `graph::fuse` makes it),
    /// the buffers [`Kernel::BnTrain`]'s. Any activation but RReLU drawing slopes.
    BnTrainAct {
        /// Rows.
        rows: usize,
        /// Columns.
        cols: usize,
        /// Variance epsilon.
        eps: f32,
        /// Keras momentum (weight of the old moving value).
        momentum: f32,
        /// The activation (RReLU at its mean slope: not training).
        act: ActKind,
    },
    /// [`Kernel::GatherU8`] and then [`Kernel::BnTrain`] over the gathered batch, in one
    /// launch (whole words of pixels a row): the batch and its labels written as the
    /// gather writes them, then the statistics, moving statistics and output.
    BnTrainGatherU8 {
        /// Rows (the batch).
        rows: usize,
        /// Columns (pixels a sample, a multiple of 4).
        cols: usize,
        /// Variance epsilon.
        eps: f32,
        /// Keras momentum of the moving statistics.
        momentum: f32,
        /// x is left holding x̂ = (x − mean)/√(var + ε) instead of the gathered values: the
        /// one reader left is the next dense layer's weight gradient, as
        /// [`Kernel::BnDenseBackward`] takes it.
        xhat: bool,
    },
    /// [`Kernel::BnTrain`] that also writes x̂ = (x − mean)/√(var + ε) into a buffer of its
    /// own, for [`Kernel::BnDenseBackward`] (columns in whole vec4s: cols a multiple of 4).
    BnTrainXhat {
        /// Rows.
        rows: usize,
        /// Columns (a multiple of 4).
        cols: usize,
        /// Variance epsilon.
        eps: f32,
        /// Keras momentum of the moving statistics.
        momentum: f32,
    },
    /// Batch norm over data that needs no gradient, feeding a dense layer (`y = γ·x̂ + β`,
    /// `z = y·w + b`): from `c = x̂ᵀ·dz` (in `dw`) and `s = Σ dz` (`dz_sums`), per input
    /// feature j `dgamma = Σₒ w·c` and `dbeta = Σₒ w·s` (`Σ dy·x̂` and `Σ dy` without
    /// forming `dy = dz·wᵀ`), `dw` rewritten in place as `γ·c + β·s` (`= yᵀ·dz`), and s
    /// handed on as the layer's bias gradient `db` (gradients share one buffer, which a
    /// launch binds read-write: so s comes in a buffer of its own).
    BnDenseBackward {
        /// Input features (batch norm's columns, the kernel's rows).
        features: usize,
        /// The dense layer's units.
        units: usize,
    },
    /// Inference-mode normalize, scale, shift (with the moving statistics).
    BnApply {
        /// Rows.
        rows: usize,
        /// Columns.
        cols: usize,
        /// Variance epsilon.
        eps: f32,
    },
    /// BN backward (training mode: through the batch statistics).
    BnBackward {
        /// Rows.
        rows: usize,
        /// Columns.
        cols: usize,
        /// Variance epsilon.
        eps: f32,
    },
    /// [`Kernel::BnBackward`] fused with the backward of the activation epilogue before it
    /// ([`Kernel::BiasActBackward`]): `x` is that layer's output, and instead of dx the
    /// kernel writes `dz = f'(x)·dx` and the layer's bias gradient `db = Σ_r dz[r,c]`.
    BnActBackward {
        /// Rows.
        rows: usize,
        /// Columns.
        cols: usize,
        /// Variance epsilon.
        eps: f32,
        /// The activation whose output `x` is.
        act: ActKind,
        /// RReLU drew slopes (training mode).
        training: bool,
        /// Per-layer seed of RReLU's generator.
        seed: u32,
    },
    /// Synchronized batch norm, a moment of each column over a shard of the batch, divided
    /// by the whole batch's rows (summed across ranks it is the whole batch's moment):
    /// the mean into `stats[..cols]`, or (`centered`) the biased variance about that mean
    /// into `stats[cols..]`.
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
    /// of the moving statistics and the normalized, scaled, shifted output.
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
    /// dbeta (this shard's share of their gradients).
    BnBackwardSums {
        /// Rows of the shard.
        rows: usize,
        /// Columns.
        cols: usize,
        /// Variance epsilon.
        eps: f32,
    },
    /// Synchronized batch norm's backward, second half: dx from the whole batch's sums.
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
    /// activation's bounds (`saturation`: 0 none, 1 tanh, 2 sigmoid).
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
    /// its update).
    PairNorms {
        /// Element count.
        n: usize,
        /// Where in the health buffer.
        offset: usize,
    },
    /// Second pass: each tensor's squared norm, norm sum and first non-finite step (u32
    /// bits, `u32::MAX` while none) into `stats[3·slot..]`, and its clip factor into
    /// `scales[slot]` (Keras's `clipnorm` per tensor, `global_clipnorm` over the tensors
    /// listed).
    ClipScale {
        /// The tensors, as in the [`Kernel::GradStats`] launch before.
        tensors: Vec<ArenaTensor>,
        /// Clipping rule.
        mode: ClipMode,
    },
    /// Fused clip + weight decay + optimizer update of every tensor listed, in one launch
    /// over the arenas.
    Update {
        /// The update rule and its hyper-parameters.
        rule: UpdateRule,
        /// The tensors, in the arenas.
        tensors: Vec<ArenaTensor>,
        /// Element-wise clip (0 = off).
        clipvalue: f32,
        /// Keras's decoupled `weight_decay` (0 = off): `w ← w − w·wd·lr` before the step.
        weight_decay: f32,
    },
    /// im2col: each output position's receptive field as a row of `kh·kw·c` values (in
    /// `(ky, kx, channel)` order, zeros in the padding), so a convolution is a matmul of
    /// these rows with its `(kh, kw, c, filters)` kernel.
    Im2col {
        /// The window.
        win: Window,
    },
    /// [`Kernel::Im2col`]'s backward: each input value the sum of the row entries that
    /// copied it.
    Col2im {
        /// The window.
        win: Window,
    },
    /// A convolution straight from the image: `y[pos, f] = act(bias[f] + Σ_k patch(pos)[k]·
    /// w[k, f])` (im2col's patch order, [`Kernel::Dense`]'s activation); over a larger field
    /// on 8-lane subgroups an implicit matmul ([`crate::backend::ops::conv::runs_on_subgroups`]).
    ConvDirect {
        /// The window.
        win: Window,
        /// Filters (output channels).
        filters: usize,
        /// The activation (`Linear`: bias only).
        act: ActKind,
        /// RReLU draws slopes (training mode).
        training: bool,
        /// Per-layer seed of RReLU's generator.
        seed: u32,
    },
    /// [`Kernel::ConvDirect`]'s kernel gradient as partial sums over `stripes` stripes of
    /// positions (blocks of positions or of their rows): `partials[s, k, f] = Σ
    /// patch(pos)[k]·dz[pos, f]`, whose column sum (one stripe: itself) is the gradient.
    ConvDirectWeightGrad {
        /// The window.
        win: Window,
        /// Filters (output channels).
        filters: usize,
        /// Stripes of positions.
        stripes: usize,
    },
    /// A convolution's input gradient straight from its output gradient, without im2col
    /// rows: `dx[img, y, x, c] = Σ dz[img, oy, ox, f]·w[ky, kx, c, f]` over the filters and
    /// the taps `(ky, kx)` whose output position `(oy, ox)` reads `(y, x)` — what
    /// [`Kernel::MatMul`] into the rows (`dz·wᵀ`) followed by [`Kernel::Col2im`] computes.
    /// Where `ops::conv_input_grad::input_grad_runs` takes the shape: inputs of at most 8 channels at
    /// stride 1 on any adapter, wider ones at any stride on adapters with 8-lane subgroups
    /// (`graph::fuse` puts it in their place there).
    ConvInputGrad {
        /// The window.
        win: Window,
        /// Filters (output channels).
        filters: usize,
    },
    /// [`Kernel::ConvInputGrad`] with the [`Kernel::ActBackwardFromOutput`] after it: writes
    /// `dx·f'(y)`, y the convolution's input (the activation's output); 8-lane subgroups.
    /// With `bias`, the [`Kernel::BiasActBackward`] of the layer that wrote y instead: also
    /// the partial sums of that layer's bias gradient, one row of channels per workgroup
    /// ([`input_grad_partial_rows`]).
    ConvInputGradAct {
        /// The window.
        win: Window,
        /// Filters (output channels).
        filters: usize,
        /// The activation whose output `y` is.
        act: ActKind,
        /// RReLU drew slopes (training mode).
        training: bool,
        /// Per-layer seed of RReLU's generator.
        seed: u32,
        /// Also the bias gradient's partial sums.
        bias: bool,
    },
    /// Max pooling over each window's values (the padding ignored), and the index in x of
    /// the value taken (the first in window order among equals) for the backward pass.
    MaxPool {
        /// The window.
        win: Window,
    },
    /// Max pooling's backward: each input value receives the gradients of the windows
    /// that took it.
    MaxPoolBackward {
        /// The window.
        win: Window,
    },
    /// [`Kernel::MaxPoolBackward`] fused with the backward of the activation epilogue
    /// before it ([`Kernel::BiasActBackward`]): `y` is that layer's output (the pooling's
    /// input), and instead of dx the kernel writes `dz = f'(y)·dx` (0 where no window took
    /// the position) and, per chunk ([`pool_chunks`]) and channel, the partial sum of dz
    /// (the layer's bias gradient is their column sum).
    MaxPoolActBackward {
        /// The window.
        win: Window,
        /// The activation whose output `y` is.
        act: ActKind,
        /// RReLU drew slopes (training mode).
        training: bool,
        /// Per-layer seed of RReLU's generator.
        seed: u32,
    },
    /// Average pooling: the mean of each window's values inside the image (padding
    /// excluded from the count, as TensorFlow does).
    AvgPool {
        /// The window.
        win: Window,
    },
    /// Average pooling's backward: each input value receives `dy / count` of every window
    /// holding it.
    AvgPoolBackward {
        /// The window.
        win: Window,
    },
    /// Dropout in training mode (inverted, or alpha dropout): each unit kept with
    /// probability `1 − rate` by a draw of the counter-based generator for (seed, step,
    /// its index in the noise shape).
    Dropout {
        /// What is dropped, and how.
        mask: DropoutMask,
    },
    /// [`Kernel::Dropout`]'s backward, the mask drawn again.
    DropoutBackward {
        /// As the forward's.
        mask: DropoutMask,
    },
    /// L1/L2 penalties of the tensors listed: their gradient term added to the gradient
    /// arena in place, each chunk's penalty into the partial sums from `first`.
    Penalty {
        /// The penalized tensors, in the arenas.
        tensors: Vec<Penalized>,
        /// Where this launch's partial sums start (the chunks of the groups before it).
        first: usize,
    },
    /// The penalty's partial sums (`chunks` of them) times the batch `rows`, added to the
    /// metrics' loss sum.
    AddPenalty {
        /// Partial sums.
        chunks: usize,
        /// Batch rows (this rank's).
        rows: usize,
    },
    /// Keras's `MaxNorm` on a weight viewed as `[rows, cols]`: each column's norm (or each
    /// row's, `per_row`) brought to at most `max_value`.
    MaxNorm {
        /// Rows.
        rows: usize,
        /// Columns.
        cols: usize,
        /// Norms of rows rather than of columns.
        per_row: bool,
        /// The largest norm.
        max_value: f32,
    },
    /// Gather a batch of byte images (scaled by 1/255) and labels through the shuffled
    /// index buffer at the step's offset.
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
        self.args().len()
    }

    /// Positions (in the buffer list) of the buffers the kernel writes.
    pub fn writes(&self) -> Vec<usize> {
        (self.args().iter().enumerate())
            .filter(|(_, a)| a.writes())
            .map(|(i, _)| i)
            .collect()
    }
}
