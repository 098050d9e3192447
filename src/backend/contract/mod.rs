//! The typed contract between Rust and WGSL, declared once: every compute entry point
//! with its WGSL function, its shader module, its pipeline constants and how it views its
//! kernel's buffers ([`Entry`]); every module with its `Params` struct and its files
//! ([`Module`]). A module's source is generated declarations — the `Params` uniform from
//! the Rust struct, the buffers from the kernel's declared [`Arg`]s
//! ([`super::signature::wgsl_header`]) — followed by its files, so the WGSL names every
//! buffer as Rust does. `tests/contracts.rs` compiles every module through naga and checks
//! that each entry point uses exactly the bindings a launch gives it, writes what its
//! kernel declares written, and shares the op codes Rust uses.

use super::launch::ShaderParams;
use super::ops::{
    batch_norm::{BatchNormParams, BnActParams},
    conv::ConvParams,
    elementwise::ElementwiseParams,
    gather::GatherParams,
    grad_stats::GradStatsParams,
    health::HealthParams,
    loss::{DenseLossParams, LossParams},
    matmul::MatmulParams,
    regularization::{DropoutParams, MaxNormParams, PenaltyParams},
    update::UpdateParams,
    window::{PoolActParams, WindowParams},
};
pub use super::signature::{Access, Arg, Elem, View, TABLE_BINDING};

mod bindings;
pub use bindings::Binding;

/// Every file under `shaders/`, by its path there (embedded by `build.rs`).
const SHADERS: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/shaders.rs"));

/// The source of a file under `shaders/` (e.g. `matmul/body.wgsl`).
pub fn shader_file(path: &str) -> Option<&'static str> {
    SHADERS.iter().find(|(p, _)| *p == path).map(|(_, s)| *s)
}

/// The paths of every file under `shaders/`.
pub fn shader_files() -> impl Iterator<Item = &'static str> {
    SHADERS.iter().map(|(p, _)| *p)
}

/// A WGSL shader module: its `Params` uniform and its files under `shaders/`, in order,
/// after the generated declarations. Every entry point of a module takes buffers of the
/// same names, accesses and element types (its kernels' [`Arg`]s). `NAME / NAME_TEXTURE`
/// declares a second module of the same files for the entry points that read some buffers
/// through textures (their views differ, so their generated declarations do).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Module {
    /// A unique name (the shader module's label).
    pub name: &'static str,
    /// The `Params` fields (name, WGSL type), from the Rust struct ([`ShaderParams`]).
    pub params: &'static [(&'static str, &'static str)],
    /// Files under `shaders/`, in order.
    pub files: &'static [&'static str],
    /// Whether its entry points read a launch's table at [`TABLE_BINDING`].
    pub table: bool,
    /// Whether that table is a uniform block (of at most
    /// [`UNIFORM_VEC4S`](super::signature::UNIFORM_VEC4S) rows) rather than a storage
    /// buffer: the texture twins' (CPU adapters, where a storage load is one per lane).
    pub uniform_table: bool,
    /// Whether its source declares `read_<name>(i)` for each buffer with a vec4 or texture
    /// view (vec4 number i, through the texture when there is one), so that one file
    /// serves the storage and the texture entry points.
    pub readers: bool,
}

impl Module {
    /// How its entry points see a launch's table, if they read one.
    pub fn table(&self) -> Option<View> {
        match (self.table, self.uniform_table) {
            (false, _) => None,
            (true, false) => Some(View::Scalar),
            (true, true) => Some(View::Uniform),
        }
    }

    /// The module's WGSL for kernels taking `args`: the generated declarations (with the
    /// buffer views any of the module's entry points uses), then its files.
    pub fn source(&'static self, args: &[Arg]) -> String {
        let mut views: Vec<(&str, View)> = Vec::new();
        for e in <Entry as strum::IntoEnumIterator>::iter().filter(|e| e.module().name == self.name)
        {
            for &v in e.views() {
                if !views.contains(&v) {
                    views.push(v);
                }
            }
        }
        let mut src =
            super::signature::wgsl_header(self.params, args, &views, self.table(), self.readers);
        for f in self.files {
            src.push_str(&format!("\n// ---- shaders/{f}\n"));
            src.push_str(shader_file(f).unwrap_or_else(|| panic!("shaders/{f} is missing")));
        }
        src
    }
}

macro_rules! modules {
    ($($(#[$doc:meta])* $name:ident $(/ $tex:ident)?: $params:ty, [$($file:literal),* $(,)?] $(, $flag:ident)*;)*) => {
        $(
            $(#[$doc])*
            pub const $name: Module = Module {
                name: stringify!($name),
                params: <$params as ShaderParams>::FIELDS,
                files: &[$($file),*],
                table: false $(|| modules!(@is table $flag))*,
                uniform_table: false,
                readers: false $(|| modules!(@is readers $flag))*,
            };
            $(
                #[doc = concat!("[`", stringify!($name), "`] for the entry points that read through textures (and their table from a uniform block).")]
                pub const $tex: Module = Module { name: stringify!($tex), uniform_table: $name.table, ..$name };
            )?
        )*
        /// Every module.
        pub const MODULES: &[&Module] = &[$(&$name, $(&$tex,)?)*];
    };
    (@is table table) => { true };
    (@is table readers) => { false };
    (@is readers readers) => { true };
    (@is readers table) => { false };
}

modules! {
    /// The matmul bodies, stored plainly (or accumulated).
    MATMUL: MatmulParams, ["matmul/store.wgsl", "matmul/buffer_operands.wgsl", "matmul/body.wgsl"];
    /// [`MATMUL`] with the vec4 bodies reading A and B from textures.
    MATMUL_TEXTURE: MatmulParams, ["matmul/store.wgsl", "matmul/texture_operands.wgsl", "matmul/body.wgsl"];
    /// The matmul bodies stored through the dense layer's bias + activation epilogue.
    DENSE: MatmulParams, ["activation.wgsl", "matmul/dense_store.wgsl", "matmul/buffer_operands.wgsl", "matmul/body.wgsl"], readers;
    /// [`DENSE`] with the vec4 bodies reading A and B from textures and the bias from a
    /// uniform block.
    DENSE_TEXTURE: MatmulParams, ["activation.wgsl", "matmul/dense_store.wgsl", "matmul/texture_operands.wgsl", "matmul/body.wgsl"], readers;
    /// The 8-lane subgroup body (adapters whose subgroups are exactly 8 lanes: llvmpipe)
    /// reading A and B from textures, stored plainly.
    MATMUL_SUBGROUP: MatmulParams, ["matmul/store.wgsl", "matmul/texture_operands.wgsl", "matmul/lanes8.wgsl", "matmul/rows8.wgsl", "matmul/subgroup.wgsl"];
    /// [`MATMUL_SUBGROUP`] stored through the dense epilogue (the bias from a uniform block).
    DENSE_SUBGROUP: MatmulParams, ["activation.wgsl", "matmul/dense_store.wgsl", "matmul/texture_operands.wgsl", "matmul/lanes8.wgsl", "matmul/rows8.wgsl", "matmul/subgroup.wgsl"], readers;
    /// [`DENSE`] with A read from a texture, B and the bias from uniform blocks (a small
    /// weight matrix: a convolution over few input channels).
    DENSE_UNIFORM: MatmulParams, ["activation.wgsl", "matmul/dense_store.wgsl", "matmul/uniform_operands.wgsl", "matmul/body.wgsl"], readers;
    /// Activation forward.
    ACT_FORWARD: ElementwiseParams, ["activation.wgsl", "elementwise/common.wgsl", "elementwise/act_forward.wgsl"];
    /// Activation backward.
    ACT_BACKWARD: ElementwiseParams, ["activation.wgsl", "elementwise/common.wgsl", "elementwise/act_backward.wgsl"];
    /// The activations' backward from their output alone.
    ACT_BACKWARD_OUTPUT: ElementwiseParams, ["activation.wgsl", "elementwise/common.wgsl", "elementwise/act_backward_output.wgsl"];
    /// The dense epilogue's backward.
    BIAS_ACT_BACKWARD: ElementwiseParams, ["loops.wgsl", "activation.wgsl", "elementwise/common.wgsl", "elementwise/bias_act_backward.wgsl"];
    /// Bias add.
    BIAS_ADD: ElementwiseParams, ["elementwise/common.wgsl", "elementwise/bias_add.wgsl"];
    /// Column sums.
    COLUMN_SUM: ElementwiseParams, ["loops.wgsl", "elementwise/common.wgsl", "elementwise/column_sum.wgsl"];
    /// PReLU forward.
    PRELU_FORWARD: ElementwiseParams, ["elementwise/common.wgsl", "elementwise/prelu_forward.wgsl"];
    /// PReLU backward.
    PRELU_BACKWARD: ElementwiseParams, ["elementwise/common.wgsl", "elementwise/prelu_backward.wgsl"];
    /// Softmax forward.
    SOFTMAX_FORWARD: ElementwiseParams, ["elementwise/common.wgsl", "elementwise/softmax_forward.wgsl"];
    /// Softmax backward.
    SOFTMAX_BACKWARD: ElementwiseParams, ["elementwise/common.wgsl", "elementwise/softmax_backward.wgsl"];
    /// `c = a + b`.
    ADD: ElementwiseParams, ["elementwise/common.wgsl", "elementwise/add.wgsl"];
    /// `y = factor·x`.
    SCALE: ElementwiseParams, ["elementwise/common.wgsl", "elementwise/scale.wgsl"];
    /// Loss, its gradient and the metrics.
    LOSS: LossParams, ["loss/row_loss.wgsl", "loss/rows.wgsl", "loss/loss.wgsl"];
    /// The output layer's forward, loss and backward products.
    DENSE_LOSS: DenseLossParams, ["loss/row_loss.wgsl", "loss/rows.wgsl", "loss/head.wgsl", "loss/head_w.wgsl", "loss/dense.wgsl"];
    /// The output layer's rows: forward, loss, input gradient.
    DENSE_LOSS_ROWS: DenseLossParams, ["loss/row_loss.wgsl", "loss/head.wgsl", "loss/head_w.wgsl", "loss/dense_rows.wgsl"];
    /// The output layer's sums over its rows.
    DENSE_LOSS_SUMS: DenseLossParams, ["loss/head.wgsl", "loss/dense_sums.wgsl"];
    /// Batch norm, training forward.
    BN_TRAIN / BN_TRAIN_TEXTURE: BatchNormParams, ["loops.wgsl", "activation.wgsl", "batch_norm/out_act.wgsl", "batch_norm/lanes.wgsl", "batch_norm/normalize.wgsl", "batch_norm/normalize4.wgsl", "batch_norm/train.wgsl"], readers;
    /// Batch norm's training forward over a batch it gathers itself.
    BN_TRAIN_GATHER: BatchNormParams, ["loops.wgsl", "activation.wgsl", "batch_norm/out_act.wgsl", "batch_norm/normalize4.wgsl", "batch_norm/xhat_walk.wgsl", "batch_norm/train_gather.wgsl"], readers;
    /// The same, reading gamma, beta and the step record from uniform blocks.
    BN_TRAIN_GATHER_UNIFORM: BatchNormParams, ["loops.wgsl", "activation.wgsl", "batch_norm/out_act.wgsl", "batch_norm/normalize4.wgsl", "batch_norm/xhat_walk.wgsl", "batch_norm/train_gather.wgsl"], readers;
    /// Batch norm's training forward that also writes x̂.
    BN_TRAIN_XHAT: BatchNormParams, ["loops.wgsl", "activation.wgsl", "batch_norm/out_act.wgsl", "batch_norm/normalize4.wgsl", "batch_norm/xhat_walk.wgsl", "batch_norm/train_xhat.wgsl"], readers;
    /// Batch norm, inference forward.
    BN_APPLY: BatchNormParams, ["batch_norm/apply.wgsl"];
    /// Batch norm backward.
    BN_BACKWARD / BN_BACKWARD_TEXTURE: BatchNormParams, ["loops.wgsl", "batch_norm/lanes.wgsl", "batch_norm/column_sums.wgsl", "batch_norm/column_sums4.wgsl", "batch_norm/dx_column.wgsl", "batch_norm/backward.wgsl"], readers;
    /// Batch norm backward fused with the activation derivative before it.
    BN_ACT_BACKWARD: BnActParams, ["loops.wgsl", "activation.wgsl", "batch_norm/column_sums.wgsl", "batch_norm/column_sums4.wgsl", "batch_norm/act_backward.wgsl"], readers;
    /// Synchronized batch norm: a shard's share of a moment.
    BN_MOMENTS: BatchNormParams, ["loops.wgsl", "batch_norm/moments.wgsl"];
    /// Synchronized batch norm: the output from given statistics.
    BN_NORMALIZE: BatchNormParams, ["loops.wgsl", "activation.wgsl", "batch_norm/out_act.wgsl", "batch_norm/normalize.wgsl", "batch_norm/normalize_sync.wgsl"];
    /// Synchronized batch norm backward: a shard's sums.
    BN_BACKWARD_SUMS: BatchNormParams, ["loops.wgsl", "batch_norm/column_sums.wgsl", "batch_norm/backward_sums.wgsl"];
    /// Synchronized batch norm backward: dx from the whole batch's sums.
    BN_BACKWARD_DX: BatchNormParams, ["loops.wgsl", "batch_norm/dx_column.wgsl", "batch_norm/backward_dx.wgsl"];
    /// Batch norm over the data and the dense layer after it: their gradients without the
    /// layer's input gradient.
    BN_DENSE_BACKWARD: BatchNormParams, ["batch_norm/dense_backward.wgsl"];
    /// Gradient statistics, first pass.
    GRAD_STATS: GradStatsParams, ["grad_stats/stats.wgsl"], table;
    /// Gradient statistics, second pass, and clip factors.
    CLIP_SCALE: GradStatsParams, ["grad_stats/clip_scale.wgsl"], table;
    /// Plain SGD.
    UPDATE_SGD / UPDATE_SGD_TEXTURE: UpdateParams, ["update/common.wgsl", "update/sgd.wgsl"], table, readers;
    /// SGD with momentum.
    UPDATE_SGD_MOMENTUM / UPDATE_SGD_MOMENTUM_TEXTURE: UpdateParams, ["update/common.wgsl", "update/sgd_momentum.wgsl"], table, readers;
    /// AdaGrad.
    UPDATE_ADAGRAD / UPDATE_ADAGRAD_TEXTURE: UpdateParams, ["update/common.wgsl", "update/adagrad.wgsl"], table, readers;
    /// RMSprop.
    UPDATE_RMSPROP / UPDATE_RMSPROP_TEXTURE: UpdateParams, ["update/common.wgsl", "update/rmsprop_common.wgsl", "update/rmsprop.wgsl"], table, readers;
    /// RMSprop with momentum.
    UPDATE_RMSPROP_MOMENTUM / UPDATE_RMSPROP_MOMENTUM_TEXTURE: UpdateParams, ["update/common.wgsl", "update/rmsprop_common.wgsl", "update/rmsprop_momentum.wgsl"], table, readers;
    /// Centered RMSprop.
    UPDATE_RMSPROP_CENTERED / UPDATE_RMSPROP_CENTERED_TEXTURE: UpdateParams, ["update/common.wgsl", "update/rmsprop_common.wgsl", "update/rmsprop_centered.wgsl"], table, readers;
    /// Centered RMSprop with momentum.
    UPDATE_RMSPROP_CENTERED_MOMENTUM / UPDATE_RMSPROP_CENTERED_MOMENTUM_TEXTURE: UpdateParams, ["update/common.wgsl", "update/rmsprop_common.wgsl", "update/rmsprop_centered_momentum.wgsl"], table, readers;
    /// Adam.
    UPDATE_ADAM / UPDATE_ADAM_TEXTURE: UpdateParams, ["update/common.wgsl", "update/adam_moments.wgsl", "update/adam.wgsl"], table, readers;
    /// Adam with AMSGrad.
    UPDATE_AMSGRAD / UPDATE_AMSGRAD_TEXTURE: UpdateParams, ["update/common.wgsl", "update/adam_moments.wgsl", "update/amsgrad.wgsl"], table, readers;
    /// Nadam.
    UPDATE_NADAM / UPDATE_NADAM_TEXTURE: UpdateParams, ["update/common.wgsl", "update/adam_moments.wgsl", "update/nadam.wgsl"], table, readers;
    /// Adamax.
    UPDATE_ADAMAX / UPDATE_ADAMAX_TEXTURE: UpdateParams, ["update/common.wgsl", "update/adamax.wgsl"], table, readers;
    /// Gather of byte images.
    GATHER_U8: GatherParams, ["gather/u8.wgsl"];
    /// Gather of f32 samples.
    GATHER_F32: GatherParams, ["gather/f32.wgsl"];
    /// Activation health statistics.
    ACT_STATS: HealthParams, ["loops.wgsl", "health/act_stats.wgsl", "health/reduce.wgsl"];
    /// Weight and update norms.
    PAIR_NORMS: HealthParams, ["health/pair_norms.wgsl", "health/reduce.wgsl"];
    /// Dropout.
    DROPOUT: DropoutParams, ["activation.wgsl", "regularization/dropout_mask.wgsl", "regularization/dropout.wgsl"];
    /// Dropout's backward.
    DROPOUT_BACKWARD: DropoutParams, ["activation.wgsl", "regularization/dropout_mask.wgsl", "regularization/dropout_backward.wgsl"];
    /// L1/L2 penalties.
    PENALTY: PenaltyParams, ["regularization/penalty.wgsl"], table;
    /// The penalty's sum into the metrics.
    ADD_PENALTY: PenaltyParams, ["regularization/add_penalty.wgsl"];
    /// The max-norm constraint.
    MAX_NORM: MaxNormParams, ["regularization/max_norm.wgsl"];
    /// The direct convolution over a small receptive field.
    CONV_DIRECT: ConvParams, ["activation.wgsl", "window/common.wgsl", "window/conv_patch.wgsl", "window/conv_store.wgsl", "window/conv_direct.wgsl", "window/conv_direct_entry.wgsl"], readers;
    /// Its entries on 8-lane subgroups (the weights shared through the subgroup).
    CONV_DIRECT8: ConvParams, ["activation.wgsl", "window/common.wgsl", "window/conv_patch.wgsl", "window/conv_store.wgsl", "matmul/lanes8.wgsl", "window/conv_direct.wgsl", "window/conv_direct_entry8.wgsl"], readers;
    /// The convolution over a larger field, an implicit matmul on 8-lane subgroups.
    CONV_GEMM: ConvParams, ["activation.wgsl", "window/common.wgsl", "window/conv_store.wgsl", "matmul/lanes8.wgsl", "matmul/rows8.wgsl", "window/conv_gemm_taps.wgsl", "window/conv_gemm.wgsl"], readers;
    /// Its kernel gradient.
    CONV_GEMM_WEIGHT_GRAD: ConvParams, ["loops.wgsl", "window/common.wgsl", "matmul/lanes8.wgsl", "matmul/rows8.wgsl", "window/conv_gemm_taps.wgsl", "window/conv_gemm_weight_grad.wgsl"], readers;
    /// The direct convolution's kernel gradient, as partial sums.
    CONV_DIRECT_WEIGHT_GRAD: ConvParams, ["loops.wgsl", "window/common.wgsl", "window/conv_patch.wgsl", "window/conv_direct_weight_grad.wgsl"];
    /// A convolution's input gradient from its output gradient (8-lane subgroups).
    CONV_INPUT_GRAD: WindowParams, ["window/common.wgsl", "matmul/lanes8.wgsl", "matmul/rows8.wgsl", "window/conv_input_grad.wgsl", "window/conv_input_grad_store.wgsl", "window/conv_input_grad_no_bias.wgsl"], readers;
    /// It through the derivative of the activation before the convolution.
    CONV_INPUT_GRAD_ACT: PoolActParams, ["activation.wgsl", "window/common.wgsl", "matmul/lanes8.wgsl", "matmul/rows8.wgsl", "window/conv_input_grad.wgsl", "window/conv_input_grad_act.wgsl", "window/conv_input_grad_no_bias.wgsl"], readers;
    /// That, and the partial sums of the bias gradient of the layer the activation ends.
    CONV_INPUT_GRAD_BIAS_ACT: PoolActParams, ["activation.wgsl", "window/common.wgsl", "matmul/lanes8.wgsl", "matmul/rows8.wgsl", "window/conv_input_grad.wgsl", "window/conv_input_grad_act.wgsl", "window/conv_input_grad_bias.wgsl"], readers;
    /// A convolution's input gradient computed directly (stride 1, at most 8 channels).
    CONV_DIRECT_INPUT_GRAD: WindowParams, ["window/common.wgsl", "window/conv_direct_input_grad.wgsl", "window/conv_direct_input_grad_entry.wgsl"], readers;
    /// Its entry on 8-lane subgroups (the weights shared through the subgroup).
    CONV_DIRECT_INPUT_GRAD8: WindowParams, ["window/common.wgsl", "matmul/lanes8.wgsl", "window/conv_direct_input_grad.wgsl", "window/conv_direct_input_grad_entry8.wgsl"], readers;
    /// A convolution's im2col.
    IM2COL / IM2COL_TEXTURE: WindowParams, ["window/common.wgsl", "window/im2col.wgsl"], readers;
    /// im2col's backward.
    COL2IM / COL2IM_TEXTURE: WindowParams, ["window/common.wgsl", "window/col2im.wgsl"], readers;
    /// Max pooling.
    MAX_POOL / MAX_POOL_TEXTURE: WindowParams, ["window/common.wgsl", "window/max_pool.wgsl"], readers;
    /// Max pooling's backward.
    MAX_POOL_BACKWARD / MAX_POOL_BACKWARD_TEXTURE: WindowParams, ["window/common.wgsl", "window/pool_cells.wgsl", "window/max_pool_grad.wgsl", "window/max_pool_backward.wgsl"], readers;
    /// Max pooling's backward fused with the activation derivative before it.
    MAX_POOL_ACT_BACKWARD / MAX_POOL_ACT_BACKWARD_TEXTURE: PoolActParams, ["activation.wgsl", "window/common.wgsl", "window/pool_cells.wgsl", "window/max_pool_grad.wgsl", "window/max_pool_act_backward.wgsl"], readers;
    /// Average pooling.
    AVG_POOL: WindowParams, ["window/common.wgsl", "window/avg_pool.wgsl"];
    /// Average pooling's backward.
    AVG_POOL_BACKWARD: WindowParams, ["window/common.wgsl", "window/avg_pool_backward.wgsl"];
}

macro_rules! entries {
    ($($(#[$doc:meta])* $variant:ident: $fn:literal in $module:ident
        [$($arg:ident: $view:ident),*] [$($cname:ident = $cval:expr),*];)*) => {
        /// A compute entry point. Every kernel launch names one; there is no lookup by string.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, strum::EnumIter)]
        pub enum Entry {
            $($(#[$doc])* $variant,)*
        }

        impl Entry {
            /// The entry point's WGSL function name.
            pub fn name(&self) -> &'static str {
                match self { $(Entry::$variant => $fn,)* }
            }

            /// The module that defines it.
            pub fn module(&self) -> &'static Module {
                match self { $(Entry::$variant => &$module,)* }
            }

            /// The buffers it sees other than as scalars (by name), and how.
            pub fn views(&self) -> &'static [(&'static str, View)] {
                match self { $(Entry::$variant => &[$((stringify!($arg), View::$view)),*],)* }
            }

            /// Pipeline-overridable constants the entry is created with.
            pub fn constants(&self) -> &'static [(&'static str, f64)] {
                match self { $(Entry::$variant => &[$((stringify!($cname), $cval as f64)),*],)* }
            }
        }
    };
}

mod entries;
pub use entries::Entry;

/// Texels a row of an operand texture: vec4 number `i` of the buffer is texel
/// `(i % TEXTURE_ROW, i / TEXTURE_ROW)` (`const TEXTURE_ROW` in the WGSL).
pub const TEXTURE_ROW: usize = 1024;

/// Rows an operand texture may have: WebGPU's guaranteed 2-D texture size, so buffers
/// up to `TEXTURE_ROW × TEXTURE_MAX_ROWS` vec4s can be read as textures on any adapter.
pub const TEXTURE_MAX_ROWS: usize = 8192;
