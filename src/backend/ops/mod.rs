//! The op families: for every [`Kernel`] variant, its CPU reference and its GPU launch
//! (entry point, typed parameters, bindings, grid), kept side by side in one module per
//! family and dispatched from the two matches below.

pub mod batch_norm;
pub mod conv;
pub mod conv_input_grad;
pub mod elementwise;
pub mod gather;
pub mod grad_stats;
pub mod health;
pub mod loss;
pub mod matmul;
pub mod regularization;
pub mod update;
pub mod window;

use super::contract::Entry;
use super::kernel::Kernel;
use super::launch::GpuLaunch;
use super::MatmulVariant;

/// Which kernel families read their large inputs through textures (where they have such
/// entry points): what CPU adapters take ([`crate::backend::GpuOptions::texture_reads`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextureReads {
    /// The optimizer update, the window kernels and batch norm over many rows.
    All,
    /// Batch norm only: on llvmpipe the copies into textures run on lavapipe's one queue
    /// thread while its workers wait, and the update and the window kernels ran faster
    /// from storage there (`docs/benchmarks.md`).
    BatchNorm,
}

/// `launch` (of `kernel`) reading its large inputs through textures where its family has
/// such entry points, `which` takes them, and they fit.
pub fn through_textures(kernel: &Kernel, launch: GpuLaunch, which: TextureReads) -> GpuLaunch {
    let all = which == TextureReads::All;
    match *kernel {
        Kernel::Update { ref tensors, .. } if all => update::through_textures(launch, tensors),
        Kernel::Im2col { ref win }
        | Kernel::Col2im { ref win }
        | Kernel::MaxPool { ref win }
        | Kernel::MaxPoolBackward { ref win }
        | Kernel::MaxPoolActBackward { ref win, .. }
            if all =>
        {
            window::through_textures(launch, win)
        }
        Kernel::BnTrain { rows, cols, .. }
        | Kernel::BnTrainAct { rows, cols, .. }
        | Kernel::BnBackward { rows, cols, .. } => {
            batch_norm::through_textures(launch, rows * cols)
        }
        _ => launch,
    }
}

/// Storage buffers `kernel`'s GPU launch binds (through plain buffer operands, the most
/// any of its variants binds): what fusions check against a device's limit.
pub fn storage_buffers(kernel: &Kernel) -> usize {
    let launch = gpu_launch(kernel, MatmulVariant::RegisterBlocked);
    launch.entry.storage_buffers(&kernel.args())
}

/// Whether a convolution kernel runs on 8-lane subgroups (the implicit matmul, or the
/// entries sharing values through them): the backend passes the subgroup variant where
/// [`conv::runs_on_subgroups`] says so.
fn gemm(variant: MatmulVariant) -> bool {
    variant == MatmulVariant::Subgroup
}

/// The GPU launch of `kernel`.
pub fn gpu_launch(kernel: &Kernel, matmul_variant: MatmulVariant) -> GpuLaunch {
    use elementwise::simple_gpu;
    match *kernel {
        Kernel::MatMul {
            m,
            k,
            n,
            trans_a,
            trans_b,
            accumulate,
        } => matmul::gpu(m, k, n, trans_a, trans_b, accumulate, matmul_variant),
        Kernel::Dense {
            m,
            k,
            n,
            act,
            training,
            seed,
        } => matmul::dense_gpu(m, k, n, act, training, seed, matmul_variant),
        Kernel::BiasActBackward {
            rows,
            cols,
            stripes,
            act,
            training,
            seed,
        } => elementwise::bias_act_backward_gpu(act, (rows, cols, stripes), training, seed),
        Kernel::BiasAdd { rows, cols } => simple_gpu(Entry::BiasAdd, rows, cols, 0.0),
        Kernel::ColumnSum { rows, cols } => simple_gpu(Entry::ColumnSum, rows, cols, 0.0),
        Kernel::ActForward {
            act,
            n,
            training,
            seed,
        } => elementwise::act_gpu(act, n, training, seed, false),
        Kernel::ActBackward {
            act,
            n,
            training,
            seed,
        } => elementwise::act_gpu(act, n, training, seed, true),
        Kernel::ActBackwardFromOutput {
            act,
            n,
            training,
            seed,
        } => elementwise::act_backward_output_gpu(act, n, training, seed),
        Kernel::PreluForward { rows, cols } => simple_gpu(Entry::PreluForward, rows, cols, 0.0),
        Kernel::PreluBackward { rows, cols } => simple_gpu(Entry::PreluBackward, rows, cols, 0.0),
        Kernel::SoftmaxForward { rows, cols } => simple_gpu(Entry::SoftmaxForward, rows, cols, 0.0),
        Kernel::SoftmaxBackward { rows, cols } => {
            simple_gpu(Entry::SoftmaxBackward, rows, cols, 0.0)
        }
        Kernel::Add { n } => simple_gpu(Entry::Add, n, 1, 0.0),
        Kernel::Scale { n, factor } => simple_gpu(Entry::Scale, n, 1, factor),
        Kernel::Loss {
            kind,
            rows,
            cols,
            total,
        } => loss::loss_gpu(kind, rows, cols, total),
        Kernel::DenseLoss {
            kind,
            rows,
            k,
            cols,
            total,
        } => loss::dense_loss_gpu(kind, rows, k, cols, total),
        Kernel::DenseLossRows {
            kind,
            rows,
            k,
            cols,
            total,
        } => loss::dense_loss_rows_gpu(kind, rows, k, cols, total),
        Kernel::DenseLossSums { rows, k, cols } => loss::dense_loss_sums_gpu(rows, k, cols),
        Kernel::BnTrain {
            rows,
            cols,
            eps,
            momentum,
        } => batch_norm::gpu(Entry::BnTrain, rows, cols, eps, momentum),
        Kernel::BnTrainAct {
            rows,
            cols,
            eps,
            momentum,
            act,
        } => batch_norm::with_out_act(
            batch_norm::gpu(Entry::BnTrain, rows, cols, eps, momentum),
            act,
        ),
        Kernel::BnTrainGatherU8 {
            rows,
            cols,
            eps,
            momentum,
            xhat,
        } => batch_norm::train_gather_gpu(rows, cols, eps, momentum, xhat),
        Kernel::BnTrainXhat {
            rows,
            cols,
            eps,
            momentum,
        } => batch_norm::train_xhat_gpu(rows, cols, eps, momentum),
        Kernel::BnDenseBackward { features, units } => {
            batch_norm::dense_backward_gpu(features, units)
        }
        Kernel::BnApply { rows, cols, eps } => {
            batch_norm::gpu(Entry::BnApply, rows, cols, eps, 0.0)
        }
        Kernel::BnBackward { rows, cols, eps } => {
            batch_norm::gpu(Entry::BnBackward, rows, cols, eps, 0.0)
        }
        Kernel::BnMoments {
            rows,
            cols,
            total,
            centered,
        } => batch_norm::sync_gpu(Entry::BnMoments, rows, cols, total, 0.0, 0.0, centered),
        Kernel::BnNormalize {
            rows,
            cols,
            total,
            eps,
            momentum,
        } => batch_norm::sync_gpu(Entry::BnNormalize, rows, cols, total, eps, momentum, false),
        Kernel::BnActBackward {
            rows,
            cols,
            eps,
            act,
            training,
            seed,
        } => batch_norm::act_backward_gpu(rows, cols, eps, act, training, seed),
        Kernel::BnBackwardSums { rows, cols, eps } => {
            batch_norm::sync_gpu(Entry::BnBackwardSums, rows, cols, rows, eps, 0.0, false)
        }
        Kernel::BnBackwardDx {
            rows,
            cols,
            total,
            eps,
        } => batch_norm::sync_gpu(Entry::BnBackwardDx, rows, cols, total, eps, 0.0, false),
        Kernel::GradStats {
            ref tensors,
            first_segment,
        } => grad_stats::stats_gpu(tensors, first_segment),
        Kernel::ClipScale { ref tensors, mode } => grad_stats::clip_gpu(tensors, mode),
        Kernel::ActStats {
            rows,
            cols,
            saturation,
            offset,
        } => health::act_stats_gpu(rows, cols, saturation, offset),
        Kernel::PairNorms { n, offset } => health::pair_norms_gpu(n, offset),
        Kernel::Update {
            rule,
            ref tensors,
            clipvalue,
            weight_decay,
        } => update::gpu(rule, tensors, clipvalue, weight_decay),
        Kernel::GatherU8 { rows, features } => gather::gpu(rows, features, true),
        Kernel::GatherF32 { rows, features } => gather::gpu(rows, features, false),
        Kernel::Dropout { ref mask } => regularization::dropout_gpu(mask, false),
        Kernel::DropoutBackward { ref mask } => regularization::dropout_gpu(mask, true),
        Kernel::Penalty { ref tensors, first } => regularization::penalty_gpu(tensors, first),
        Kernel::AddPenalty { chunks, rows } => regularization::add_penalty_gpu(chunks, rows),
        Kernel::MaxNorm {
            rows,
            cols,
            per_row,
            max_value,
        } => regularization::max_norm_gpu(rows, cols, per_row, max_value),
        Kernel::ConvDirect {
            ref win,
            filters,
            act,
            training,
            seed,
        } => conv::forward_gpu(win, filters, act, training, seed, gemm(matmul_variant)),
        Kernel::ConvDirectWeightGrad {
            ref win,
            filters,
            stripes,
        } => conv::weight_grad_gpu(win, filters, stripes, 1, gemm(matmul_variant)),
        Kernel::ConvInputGrad { ref win, filters } => {
            conv_input_grad::input_grad_gpu(win, filters, gemm(matmul_variant))
        }
        Kernel::ConvInputGradAct {
            ref win,
            filters,
            act,
            training,
            seed,
            bias,
        } => conv_input_grad::input_grad_act_gpu(win, filters, act, training, seed, bias),
        Kernel::Im2col { ref win } => window::gpu(Entry::Im2col, win),
        Kernel::Col2im { ref win } => window::gpu(Entry::Col2im, win),
        Kernel::MaxPool { ref win } => window::gpu(Entry::MaxPool, win),
        Kernel::MaxPoolBackward { ref win } => window::gpu(Entry::MaxPoolBackward, win),
        Kernel::MaxPoolActBackward {
            ref win,
            act,
            training,
            seed,
        } => window::max_pool_act_backward_gpu(win, act, training, seed),
        Kernel::AvgPool { ref win } => window::gpu(Entry::AvgPool, win),
        Kernel::AvgPoolBackward { ref win } => window::gpu(Entry::AvgPoolBackward, win),
    }
}

/// Runs `kernel` on host buffers given in the kernel's documented buffer order.
pub fn run_cpu(kernel: &Kernel, b: &mut [&mut [f32]]) {
    use elementwise as ew;
    match *kernel {
        Kernel::MatMul {
            m,
            k,
            n,
            trans_a,
            trans_b,
            accumulate,
        } => matmul::cpu(m, k, n, trans_a, trans_b, accumulate, b),
        Kernel::Dense {
            m,
            k,
            n,
            act,
            training,
            seed,
        } => matmul::dense_cpu(m, k, n, act, training, seed, b),
        Kernel::BiasActBackward {
            rows,
            cols,
            stripes,
            act,
            training,
            seed,
        } => ew::bias_act_backward_cpu(act, (rows, cols, stripes), training, seed, b),
        Kernel::BiasAdd { rows, cols } => ew::bias_add_cpu(rows, cols, b),
        Kernel::ColumnSum { rows, cols } => ew::column_sum_cpu(rows, cols, b),
        Kernel::ActForward {
            act,
            n,
            training,
            seed,
        } => ew::act_forward_cpu(act, n, training, seed, b),
        Kernel::ActBackward {
            act,
            n,
            training,
            seed,
        } => ew::act_backward_cpu(act, n, training, seed, b),
        Kernel::ActBackwardFromOutput {
            act,
            n,
            training,
            seed,
        } => ew::act_backward_output_cpu(act, n, training, seed, b),
        Kernel::PreluForward { rows, cols } => ew::prelu_forward_cpu(rows, cols, b),
        Kernel::PreluBackward { rows, cols } => ew::prelu_backward_cpu(rows, cols, b),
        Kernel::SoftmaxForward { rows, cols } => ew::softmax_forward_cpu(rows, cols, b),
        Kernel::SoftmaxBackward { rows, cols } => ew::softmax_backward_cpu(rows, cols, b),
        Kernel::Add { n } => ew::add_cpu(n, b),
        Kernel::Scale { n, factor } => ew::scale_cpu(n, factor, b),
        Kernel::Loss {
            kind,
            rows,
            cols,
            total,
        } => loss::loss_cpu(kind, rows, cols, total, b),
        Kernel::DenseLoss {
            kind,
            rows,
            k,
            cols,
            total,
        } => loss::dense_loss_cpu(kind, rows, k, cols, total, b),
        Kernel::DenseLossRows {
            kind,
            rows,
            k,
            cols,
            total,
        } => loss::dense_loss_rows_cpu(kind, rows, k, cols, total, b),
        Kernel::DenseLossSums { rows, k, cols } => loss::dense_loss_sums_cpu(rows, k, cols, b),
        Kernel::BnTrain {
            rows,
            cols,
            eps,
            momentum,
        } => batch_norm::train_cpu(rows, cols, eps, momentum, b),
        Kernel::BnTrainAct {
            rows,
            cols,
            eps,
            momentum,
            act,
        } => batch_norm::train_act_cpu(rows, cols, eps, momentum, act, b),
        Kernel::BnTrainGatherU8 {
            rows,
            cols,
            eps,
            momentum,
            xhat,
        } => batch_norm::train_gather_cpu(rows, cols, eps, momentum, xhat, b),
        Kernel::BnTrainXhat {
            rows,
            cols,
            eps,
            momentum,
        } => batch_norm::train_xhat_cpu(rows, cols, eps, momentum, b),
        Kernel::BnDenseBackward { features, units } => {
            batch_norm::dense_backward_cpu(features, units, b)
        }
        Kernel::BnApply { rows, cols, eps } => batch_norm::apply_cpu(rows, cols, eps, b),
        Kernel::BnBackward { rows, cols, eps } => batch_norm::backward_cpu(rows, cols, eps, b),
        Kernel::BnActBackward {
            rows,
            cols,
            eps,
            act,
            training,
            seed,
        } => batch_norm::act_backward_cpu(rows, cols, eps, act, training, seed, b),
        Kernel::BnMoments {
            rows,
            cols,
            total,
            centered,
        } => batch_norm::moments_cpu(rows, cols, total, centered, b),
        Kernel::BnNormalize {
            rows,
            cols,
            eps,
            momentum,
            ..
        } => batch_norm::normalize_cpu(rows, cols, eps, momentum, b),
        Kernel::BnBackwardSums { rows, cols, eps } => {
            batch_norm::backward_sums_cpu(rows, cols, eps, b)
        }
        Kernel::BnBackwardDx {
            rows,
            cols,
            total,
            eps,
        } => batch_norm::backward_dx_cpu(rows, cols, total, eps, b),
        Kernel::GradStats {
            ref tensors,
            first_segment,
        } => grad_stats::stats_cpu(tensors, first_segment, b),
        Kernel::ClipScale { ref tensors, mode } => grad_stats::clip_cpu(tensors, mode, b),
        Kernel::ActStats {
            rows,
            cols,
            saturation,
            offset,
        } => health::act_stats_cpu(rows, cols, saturation, offset, b),
        Kernel::PairNorms { n, offset } => health::pair_norms_cpu(n, offset, b),
        Kernel::Update {
            rule,
            ref tensors,
            clipvalue,
            weight_decay,
        } => update::cpu(rule, tensors, (clipvalue, weight_decay), b),
        Kernel::GatherU8 { rows, features } => gather::cpu(rows, features, true, b),
        Kernel::GatherF32 { rows, features } => gather::cpu(rows, features, false, b),
        Kernel::Dropout { ref mask } => regularization::dropout_cpu(mask, b),
        Kernel::DropoutBackward { ref mask } => regularization::dropout_backward_cpu(mask, b),
        Kernel::Penalty { ref tensors, first } => regularization::penalty_cpu(tensors, first, b),
        Kernel::AddPenalty { chunks, rows } => regularization::add_penalty_cpu(chunks, rows, b),
        Kernel::MaxNorm {
            rows,
            cols,
            per_row,
            max_value,
        } => regularization::max_norm_cpu(rows, cols, per_row, max_value, b),
        Kernel::ConvDirect {
            ref win,
            filters,
            act,
            training,
            seed,
        } => conv::forward_cpu(win, filters, act, training, seed, b),
        Kernel::ConvDirectWeightGrad {
            ref win,
            filters,
            stripes,
        } => conv::weight_grad_cpu(win, filters, stripes, b),
        Kernel::ConvInputGrad { ref win, filters } => {
            conv_input_grad::input_grad_cpu(win, filters, b)
        }
        Kernel::ConvInputGradAct {
            ref win,
            filters,
            act,
            training,
            seed,
            bias,
        } => {
            let act = (act, training, seed);
            conv_input_grad::input_grad_act_cpu(win, filters, act, bias, b)
        }
        Kernel::Im2col { ref win } => window::im2col_cpu(win, b),
        Kernel::Col2im { ref win } => window::col2im_cpu(win, b),
        Kernel::MaxPool { ref win } => window::max_pool_cpu(win, b),
        Kernel::MaxPoolBackward { ref win } => window::max_pool_backward_cpu(win, b),
        Kernel::MaxPoolActBackward {
            ref win,
            act,
            training,
            seed,
        } => window::max_pool_act_backward_cpu(win, act, training, seed, b),
        Kernel::AvgPool { ref win } => window::avg_pool_cpu(win, b),
        Kernel::AvgPoolBackward { ref win } => window::avg_pool_backward_cpu(win, b),
    }
}
