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
    CONV_GEMM_WEIGHT_GRAD: ConvParams, ["window/common.wgsl", "matmul/lanes8.wgsl", "matmul/rows8.wgsl", "window/conv_gemm_taps.wgsl", "window/conv_gemm_weight_grad.wgsl"], readers;
    /// The direct convolution's kernel gradient, as partial sums.
    CONV_DIRECT_WEIGHT_GRAD: ConvParams, ["window/common.wgsl", "window/conv_patch.wgsl", "window/conv_direct_weight_grad.wgsl"];
    /// A convolution's input gradient from its output gradient (8-lane subgroups).
    CONV_INPUT_GRAD: WindowParams, ["window/common.wgsl", "matmul/lanes8.wgsl", "matmul/rows8.wgsl", "window/conv_input_grad.wgsl"], readers;
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

entries! {
    // Workgroup shapes: 8×8 for the 4×4-register bodies; 8×4 for 8×8 outputs (covers a
    // 32-row batch exactly; 8×8 left half of each workgroup idle there: measured 25 %
    // slower); 8×2 for 16×16 outputs (4×2 workgroups cover a 32-row batch and keep enough
    // along the columns for two threads); 8×1 for the texel bodies (measured on llvmpipe
    // against 8×2: equal on large shapes, up to 1.5× faster on a 32-row batch); the narrow
    // body a row an invocation, eight rows a workgroup (one SIMD row of a CPU adapter).
    /// Register-blocked matmul reading scalars.
    MatmulRegblock: "matmul_regblock" in MATMUL [] [WG_X = 8, WG_Y = 8];
    /// Matmul of at most 16 output columns, a row of C an invocation.
    MatmulNarrow: "matmul_narrow" in MATMUL [] [WG_X = 8, WG_Y = 1];
    /// [`Entry::MatmulNarrow`] reading A and B as textures.
    MatmulNarrowTexture: "matmul_narrow" in MATMUL_TEXTURE [a: Texture, b: Texture] [WG_X = 8, WG_Y = 1];
    /// Register-blocked matmul reading vec4s (aligned shapes).
    MatmulVec4: "matmul_vec4" in MATMUL [a: Vec4, b: Vec4] [WG_X = 8, WG_Y = 8];
    /// Register-blocked matmul, 8×8 outputs per invocation, reading vec4s.
    MatmulVec8: "matmul_vec8" in MATMUL [a: Vec4, b: Vec4] [WG_X = 8, WG_Y = 4];
    /// Register-blocked matmul, 16×16 outputs per invocation, reading vec4s.
    MatmulVec16: "matmul_vec16" in MATMUL [a: Vec4, b: Vec4] [WG_X = 8, WG_Y = 2];
    /// Workgroup-tiled matmul.
    MatmulTiled: "matmul_tiled" in MATMUL [] [];
    /// Matmul of few outputs over a long inner dimension: a workgroup a 4×4 block.
    MatmulReduce: "matmul_reduce" in MATMUL [] [];
    /// Register-blocked matmul, 8×8 outputs per invocation, reading vec4 texels.
    MatmulTexture8: "matmul_vec8" in MATMUL_TEXTURE [a: Texture, b: Texture] [WG_X = 8, WG_Y = 4];
    /// Register-blocked matmul, 16×16 outputs per invocation, reading vec4 texels.
    MatmulTexture16: "matmul_vec16" in MATMUL_TEXTURE [a: Texture, b: Texture] [WG_X = 8, WG_Y = 1];
    /// Register-blocked matmul, 16×20 outputs per invocation, reading vec4 texels.
    MatmulTexture16x20: "matmul_vec16x20" in MATMUL_TEXTURE [a: Texture, b: Texture] [WG_X = 8, WG_Y = 1];
    /// 32×32 blocks of C a subgroup of 8 lanes, reading vec4 texels.
    MatmulSubgroup: "matmul_subgroup" in MATMUL_SUBGROUP [a: Texture, b: Texture] [];
    /// Dense layer forward (bias + activation epilogue), scalar register-blocked body.
    DenseRegblock: "matmul_regblock" in DENSE [] [WG_X = 8, WG_Y = 8];
    /// Dense layer forward, narrow body (at most 16 output columns).
    DenseNarrow: "matmul_narrow" in DENSE [] [WG_X = 8, WG_Y = 1];
    /// Dense layer forward, narrow body reading texels.
    DenseNarrowTexture: "matmul_narrow" in DENSE_TEXTURE [a: Texture, b: Texture, bias: Uniform] [WG_X = 8, WG_Y = 1];
    /// Dense layer forward, narrow body reading texels of A and a uniform block of B.
    DenseNarrowUniform: "matmul_narrow" in DENSE_UNIFORM [a: Texture, b: Uniform, bias: Uniform] [WG_X = 8, WG_Y = 1];
    /// Dense layer forward, vec4 body.
    DenseVec4: "matmul_vec4" in DENSE [a: Vec4, b: Vec4] [WG_X = 8, WG_Y = 8];
    /// Dense layer forward, 8×8 vec4 body.
    DenseVec8: "matmul_vec8" in DENSE [a: Vec4, b: Vec4] [WG_X = 8, WG_Y = 4];
    /// Dense layer forward, 16×16 vec4 body.
    DenseVec16: "matmul_vec16" in DENSE [a: Vec4, b: Vec4] [WG_X = 8, WG_Y = 2];
    /// Dense layer forward, workgroup-tiled body.
    DenseTiled: "matmul_tiled" in DENSE [] [];
    /// Dense layer forward, a workgroup a 4×4 block (few outputs, a long inner dimension).
    DenseReduce: "matmul_reduce" in DENSE [] [];
    /// Dense layer forward, 8×8 body reading texels.
    DenseTexture8: "matmul_vec8" in DENSE_TEXTURE [a: Texture, b: Texture, bias: Uniform] [WG_X = 8, WG_Y = 4];
    /// Dense layer forward, 16×16 body reading texels.
    DenseTexture16: "matmul_vec16" in DENSE_TEXTURE [a: Texture, b: Texture, bias: Uniform] [WG_X = 8, WG_Y = 1];
    /// Dense layer forward, 16×20 body reading texels.
    DenseTexture16x20: "matmul_vec16x20" in DENSE_TEXTURE [a: Texture, b: Texture, bias: Uniform] [WG_X = 8, WG_Y = 1];
    /// Dense layer forward, the subgroup body.
    DenseSubgroup: "matmul_subgroup" in DENSE_SUBGROUP [a: Texture, b: Texture, bias: Uniform] [];
    /// The dense epilogue's backward: activation derivative and bias gradient (as partial
    /// sums over stripes of rows), an invocation per stripe and column.
    BiasActBackward: "bias_act_backward" in BIAS_ACT_BACKWARD [] [];
    /// [`Entry::BiasActBackward`], four columns an invocation through vec4 views.
    BiasActBackward4: "bias_act_backward4" in BIAS_ACT_BACKWARD [y: Vec4, dy: Vec4, dz: Vec4, db: Vec4] [];
    /// `y = x + bias[col]`.
    BiasAdd: "bias_add" in BIAS_ADD [] [];
    /// Column sums.
    ColumnSum: "column_sum" in COLUMN_SUM [] [];
    /// Activation forward.
    ActForward: "act_forward" in ACT_FORWARD [] [];
    /// [`Entry::ActForward`], four elements an invocation through vec4 views.
    ActForward4: "act_forward4" in ACT_FORWARD [x: Vec4, y: Vec4] [];
    /// Activation backward.
    ActBackward: "act_backward" in ACT_BACKWARD [] [];
    /// [`Entry::ActBackward`], four elements an invocation through vec4 views.
    ActBackward4: "act_backward4" in ACT_BACKWARD [x: Vec4, y: Vec4, dy: Vec4, dx: Vec4] [];
    /// The activation's backward from its output alone.
    ActBackwardFromOutput: "act_backward_output" in ACT_BACKWARD_OUTPUT [] [];
    /// [`Entry::ActBackwardFromOutput`], four elements an invocation through vec4 views.
    ActBackwardFromOutput4: "act_backward_output4" in ACT_BACKWARD_OUTPUT [y: Vec4, dy: Vec4, dx: Vec4] [];
    /// PReLU forward.
    PreluForward: "prelu_forward" in PRELU_FORWARD [] [];
    /// PReLU backward.
    PreluBackward: "prelu_backward" in PRELU_BACKWARD [] [];
    /// Row-wise softmax.
    SoftmaxForward: "softmax_forward" in SOFTMAX_FORWARD [] [];
    /// Softmax backward.
    SoftmaxBackward: "softmax_backward" in SOFTMAX_BACKWARD [] [];
    /// `c = a + b`.
    Add: "add" in ADD [] [];
    /// `y = factor·x`.
    Scale: "scale" in SCALE [] [];
    /// Loss and its gradient.
    LossForwardBackward: "loss_forward_backward" in LOSS [] [];
    /// The output layer's training step: logits, loss, gradients.
    DenseLossBackward: "dense_loss_backward" in DENSE_LOSS [] [];
    /// The output layer's rows (part one of two).
    DenseLossRows: "dense_loss_rows" in DENSE_LOSS_ROWS [] [];
    /// The output layer's sums over its rows (part two of two).
    DenseLossSums: "dense_loss_sums" in DENSE_LOSS_SUMS [] [];
    /// BN training-mode forward: statistics, moving statistics, output.
    BnTrain: "bn_train" in BN_TRAIN [] [];
    /// [`Entry::BnTrain`], four columns an invocation through vec4 views.
    BnTrain4: "bn_train4" in BN_TRAIN [x: Vec4, gamma: Vec4, beta: Vec4, y: Vec4, stats: Vec4, moving_mean: Vec4, moving_var: Vec4] [];
    /// [`Entry::BnTrain4`] over many rows: a workgroup a column group, its lanes splitting the rows.
    BnTrainRows4: "bn_train_rows4" in BN_TRAIN [x: Vec4, gamma: Vec4, beta: Vec4, y: Vec4, stats: Vec4, moving_mean: Vec4, moving_var: Vec4] [];
    /// [`Entry::BnTrainRows4`] reading x through a texture (CPU adapters).
    BnTrainRows4Texture: "bn_train_rows4" in BN_TRAIN_TEXTURE [x: Texture, gamma: Vec4, beta: Vec4, y: Vec4, stats: Vec4, moving_mean: Vec4, moving_var: Vec4] [];
    /// The byte-image gather and BN's training forward, four columns an invocation.
    BnTrainGather4: "bn_train_gather4" in BN_TRAIN_GATHER [x: Vec4, gamma: Vec4, beta: Vec4, y: Vec4, stats: Vec4, moving_mean: Vec4, moving_var: Vec4] [];
    /// [`Entry::BnTrainGather4`] reading gamma, beta and the step record from uniform blocks
    /// (9 storage buffers where it binds 12).
    BnTrainGather4Uniform: "bn_train_gather4" in BN_TRAIN_GATHER_UNIFORM [x: Vec4, gamma: Uniform, beta: Uniform, y: Vec4, stats: Vec4, moving_mean: Vec4, moving_var: Vec4, step: Uniform] [];
    /// BN's training forward writing x̂ too, four columns an invocation.
    BnTrainXhat4: "bn_train_xhat4" in BN_TRAIN_XHAT [x: Vec4, gamma: Vec4, beta: Vec4, y: Vec4, stats: Vec4, moving_mean: Vec4, moving_var: Vec4, xhat: Vec4] [];
    /// BN normalize with the moving statistics.
    BnApply: "bn_apply" in BN_APPLY [] [];
    /// BN backward.
    BnBackward: "bn_backward" in BN_BACKWARD [] [];
    /// [`Entry::BnBackward`], four columns an invocation through vec4 views.
    BnBackward4: "bn_backward4" in BN_BACKWARD [x: Vec4, stats: Vec4, gamma: Vec4, dy: Vec4, dx: Vec4, dgamma: Vec4, dbeta: Vec4] [];
    /// [`Entry::BnBackward4`] over many rows: a workgroup a column group, its lanes splitting the rows.
    BnBackwardRows4: "bn_backward_rows4" in BN_BACKWARD [x: Vec4, stats: Vec4, gamma: Vec4, dy: Vec4, dx: Vec4, dgamma: Vec4, dbeta: Vec4] [];
    /// [`Entry::BnBackwardRows4`] reading x and dy through textures (CPU adapters).
    BnBackwardRows4Texture: "bn_backward_rows4" in BN_BACKWARD_TEXTURE [x: Texture, stats: Vec4, gamma: Vec4, dy: Texture, dx: Vec4, dgamma: Vec4, dbeta: Vec4] [];
    /// BN backward fused with the activation derivative before it.
    BnActBackward: "bn_act_backward" in BN_ACT_BACKWARD [] [];
    /// [`Entry::BnActBackward`], four columns an invocation through vec4 views.
    BnActBackward4: "bn_act_backward4" in BN_ACT_BACKWARD [x: Vec4, stats: Vec4, gamma: Vec4, dy: Vec4, dz: Vec4, dgamma: Vec4, dbeta: Vec4, db: Vec4] [];
    /// Synchronized BN: a shard's share of the batch mean or variance.
    BnMoments: "bn_moments" in BN_MOMENTS [] [];
    /// Synchronized BN: moving statistics and output from given batch statistics.
    BnNormalize: "bn_normalize" in BN_NORMALIZE [] [];
    /// Synchronized BN backward: a shard's `Σ dy·x̂` and `Σ dy`.
    BnBackwardSums: "bn_backward_sums" in BN_BACKWARD_SUMS [] [];
    /// Synchronized BN backward: dx from the whole batch's sums.
    BnBackwardDx: "bn_backward_dx" in BN_BACKWARD_DX [] [];
    /// Batch norm over the data and the dense layer after it: dgamma, dbeta and dw from x̂ᵀ·dz,
    /// a workgroup an input feature.
    BnDenseBackward: "bn_dense_backward" in BN_DENSE_BACKWARD [] [];
    /// [`Entry::BnDenseBackward`], four units at a time through vec4 views.
    BnDenseBackward4: "bn_dense_backward4" in BN_DENSE_BACKWARD [w: Vec4, dz_sums: Vec4, dw: Vec4, db: Vec4] [];
    /// Gradient statistics.
    GradStats: "grad_stats" in GRAD_STATS [grads: Vec4] [];
    /// Clip factors.
    ClipScale: "clip_scale" in CLIP_SCALE [] [];
    /// Plain SGD.
    SgdUpdate: "sgd_update" in UPDATE_SGD [w: Vec4, grad: Vec4] [];
    /// SGD with momentum (and Nesterov).
    SgdMomentumUpdate: "sgd_momentum_update" in UPDATE_SGD_MOMENTUM [w: Vec4, grad: Vec4, momentum: Vec4] [];
    /// AdaGrad.
    AdagradUpdate: "adagrad_update" in UPDATE_ADAGRAD [w: Vec4, grad: Vec4, accumulator: Vec4] [];
    /// RMSprop.
    RmspropUpdate: "rmsprop_update" in UPDATE_RMSPROP [w: Vec4, grad: Vec4, velocity: Vec4] [];
    /// RMSprop with momentum.
    RmspropMomentumUpdate: "rmsprop_momentum_update" in UPDATE_RMSPROP_MOMENTUM [w: Vec4, grad: Vec4, velocity: Vec4, momentum: Vec4] [];
    /// Centered RMSprop.
    RmspropCenteredUpdate: "rmsprop_centered_update" in UPDATE_RMSPROP_CENTERED [w: Vec4, grad: Vec4, velocity: Vec4, average_gradient: Vec4] [];
    /// Centered RMSprop with momentum.
    RmspropCenteredMomentumUpdate: "rmsprop_centered_momentum_update" in UPDATE_RMSPROP_CENTERED_MOMENTUM [w: Vec4, grad: Vec4, velocity: Vec4, momentum: Vec4, average_gradient: Vec4] [];
    /// Adam.
    AdamUpdate: "adam_update" in UPDATE_ADAM [w: Vec4, grad: Vec4, momentum: Vec4, velocity: Vec4] [];
    /// Adam with AMSGrad.
    AmsgradUpdate: "amsgrad_update" in UPDATE_AMSGRAD [w: Vec4, grad: Vec4, momentum: Vec4, velocity: Vec4, velocity_hat: Vec4] [];
    /// Nadam.
    NadamUpdate: "nadam_update" in UPDATE_NADAM [w: Vec4, grad: Vec4, momentum: Vec4, velocity: Vec4] [];
    /// Adamax.
    AdamaxUpdate: "adamax_update" in UPDATE_ADAMAX [w: Vec4, grad: Vec4, momentum: Vec4, norm: Vec4] [];
    /// Plain SGD, reading through textures (CPU adapters).
    SgdUpdateTexture: "sgd_update" in UPDATE_SGD_TEXTURE [w: Vec4, w: Texture, grad: Texture, scales: Uniform, step: Uniform] [];
    /// SGD with momentum (and Nesterov), reading through textures (CPU adapters).
    SgdMomentumUpdateTexture: "sgd_momentum_update" in UPDATE_SGD_MOMENTUM_TEXTURE [w: Vec4, w: Texture, grad: Texture, momentum: Vec4, momentum: Texture, scales: Uniform, step: Uniform] [];
    /// AdaGrad, reading through textures (CPU adapters).
    AdagradUpdateTexture: "adagrad_update" in UPDATE_ADAGRAD_TEXTURE [w: Vec4, w: Texture, grad: Texture, accumulator: Vec4, accumulator: Texture, scales: Uniform, step: Uniform] [];
    /// RMSprop, reading through textures (CPU adapters).
    RmspropUpdateTexture: "rmsprop_update" in UPDATE_RMSPROP_TEXTURE [w: Vec4, w: Texture, grad: Texture, velocity: Vec4, velocity: Texture, scales: Uniform, step: Uniform] [];
    /// RMSprop with momentum, reading through textures (CPU adapters).
    RmspropMomentumUpdateTexture: "rmsprop_momentum_update" in UPDATE_RMSPROP_MOMENTUM_TEXTURE [w: Vec4, w: Texture, grad: Texture, velocity: Vec4, velocity: Texture, momentum: Vec4, momentum: Texture, scales: Uniform, step: Uniform] [];
    /// Centered RMSprop, reading through textures (CPU adapters).
    RmspropCenteredUpdateTexture: "rmsprop_centered_update" in UPDATE_RMSPROP_CENTERED_TEXTURE [w: Vec4, w: Texture, grad: Texture, velocity: Vec4, velocity: Texture, average_gradient: Vec4, average_gradient: Texture, scales: Uniform, step: Uniform] [];
    /// Centered RMSprop with momentum, reading through textures (CPU adapters).
    RmspropCenteredMomentumUpdateTexture: "rmsprop_centered_momentum_update" in UPDATE_RMSPROP_CENTERED_MOMENTUM_TEXTURE [w: Vec4, w: Texture, grad: Texture, velocity: Vec4, velocity: Texture, momentum: Vec4, momentum: Texture, average_gradient: Vec4, average_gradient: Texture, scales: Uniform, step: Uniform] [];
    /// Adam, reading through textures (CPU adapters).
    AdamUpdateTexture: "adam_update" in UPDATE_ADAM_TEXTURE [w: Vec4, w: Texture, grad: Texture, momentum: Vec4, momentum: Texture, velocity: Vec4, velocity: Texture, scales: Uniform, step: Uniform] [];
    /// Adam with AMSGrad, reading through textures (CPU adapters).
    AmsgradUpdateTexture: "amsgrad_update" in UPDATE_AMSGRAD_TEXTURE [w: Vec4, w: Texture, grad: Texture, momentum: Vec4, momentum: Texture, velocity: Vec4, velocity: Texture, velocity_hat: Vec4, velocity_hat: Texture, scales: Uniform, step: Uniform] [];
    /// Nadam, reading through textures (CPU adapters).
    NadamUpdateTexture: "nadam_update" in UPDATE_NADAM_TEXTURE [w: Vec4, w: Texture, grad: Texture, momentum: Vec4, momentum: Texture, velocity: Vec4, velocity: Texture, scales: Uniform, step: Uniform] [];
    /// Adamax, reading through textures (CPU adapters).
    AdamaxUpdateTexture: "adamax_update" in UPDATE_ADAMAX_TEXTURE [w: Vec4, w: Texture, grad: Texture, momentum: Vec4, momentum: Texture, norm: Vec4, norm: Texture, scales: Uniform, step: Uniform] [];
    /// Gather of byte images.
    GatherU8: "gather_u8" in GATHER_U8 [] [];
    /// Gather of byte images whose rows are whole words, a word an invocation.
    GatherU8Words: "gather_u8_words" in GATHER_U8 [x: Vec4] [];
    /// Gather of f32 samples.
    GatherF32: "gather_f32" in GATHER_F32 [] [];
    /// Activation health statistics.
    ActStats: "act_stats" in ACT_STATS [] [];
    /// Weight and update norms.
    PairNorms: "pair_norms" in PAIR_NORMS [] [];
    /// Dropout.
    Dropout: "dropout" in DROPOUT [] [];
    /// Dropout's backward.
    DropoutBackward: "dropout_backward" in DROPOUT_BACKWARD [] [];
    /// [`Entry::Dropout`], four elements an invocation through vec4 views.
    Dropout4: "dropout4" in DROPOUT [x: Vec4, y: Vec4] [];
    /// [`Entry::DropoutBackward`], four elements an invocation through vec4 views.
    DropoutBackward4: "dropout_backward4" in DROPOUT_BACKWARD [dy: Vec4, dx: Vec4] [];
    /// L1/L2 penalties.
    Penalty: "penalty" in PENALTY [w: Vec4, grad: Vec4] [];
    /// The penalty's sum into the metrics.
    AddPenalty: "add_penalty" in ADD_PENALTY [] [];
    /// The max-norm constraint.
    MaxNorm: "max_norm" in MAX_NORM [] [];
    /// The direct convolution, all filters of a position an invocation (the weights and
    /// bias from uniform blocks).
    ConvDirect4: "conv_direct4" in CONV_DIRECT [w: Uniform, bias: Uniform, y: Vec4] [];
    /// [`Entry::ConvDirect4`] for filters not in whole vec4s: the weights and bias read a
    /// float at a time from their blocks, y stored a float at a time.
    ConvDirect: "conv_direct" in CONV_DIRECT [w: Uniform, bias: Uniform] [];
    /// [`Entry::ConvDirect4`] on 8-lane subgroups for at most 16 filters: the weights shared
    /// through the subgroup.
    ConvDirect4Lanes8: "conv_direct4_lanes8" in CONV_DIRECT8 [w: Uniform, bias: Uniform, y: Vec4] [];
    /// [`Entry::ConvDirect`] on 8-lane subgroups for at most 16 filters.
    ConvDirectLanes8: "conv_direct_lanes8" in CONV_DIRECT8 [w: Uniform, bias: Uniform] [];
    /// The direct convolution's kernel gradient, a stripe and vec4 of filters an invocation.
    ConvDirectWeightGrad4: "conv_direct_weight_grad4" in CONV_DIRECT_WEIGHT_GRAD [dz: Vec4, partials: Vec4] [];
    /// [`Entry::ConvDirectWeightGrad4`] for filters not in whole vec4s: dz read and the
    /// partial sums stored a float at a time.
    ConvDirectWeightGrad: "conv_direct_weight_grad" in CONV_DIRECT_WEIGHT_GRAD [] [];
    /// [`Entry::ConvDirect4`] over a larger field: 32 positions × 32 filters a subgroup of 8
    /// lanes, the fields read in place through a texture of x.
    ConvGemm: "conv_gemm" in CONV_GEMM [x: Texture, w: Texture, bias: Uniform, y: Vec4] [];
    /// Its kernel gradient in one stripe: 32 field values × 32 filters a subgroup.
    ConvGemmWeightGrad: "conv_gemm_weight_grad" in CONV_GEMM_WEIGHT_GRAD [x: Texture, dz: Texture, partials: Vec4] [];
    /// A convolution's input gradient, 32 positions × 32 channels a subgroup of 8 lanes,
    /// reading dz and w through textures.
    ConvInputGrad: "conv_input_grad" in CONV_INPUT_GRAD [dz: Texture, w: Texture] [];
    /// [`Entry::ConvInputGrad`] computed directly for inputs of at most 8 channels, stride
    /// and dilation 1 across, on any adapter: eight positions of a row and their channels an
    /// invocation, the weights from a uniform block.
    ConvDirectInputGrad: "conv_direct_input_grad" in CONV_DIRECT_INPUT_GRAD [dz: Vec4, w: Uniform] [];
    /// [`Entry::ConvDirectInputGrad`] on 8-lane subgroups: a channel's weights a lane,
    /// shared through the subgroup.
    ConvDirectInputGrad8: "conv_direct_input_grad8" in CONV_DIRECT_INPUT_GRAD8 [dz: Vec4, w: Uniform] [];
    /// im2col.
    Im2col: "im2col" in IM2COL [] [];
    /// [`Entry::Im2col`] reading through textures (CPU adapters).
    Im2colTexture: "im2col" in IM2COL_TEXTURE [x: Texture] [];
    /// [`Entry::Im2col`] four channels an invocation (channels a multiple of 4).
    Im2col4: "im2col4" in IM2COL [x: Vec4, cols: Vec4] [];
    /// [`Entry::Im2col4`] reading through textures (CPU adapters).
    Im2col4Texture: "im2col4" in IM2COL_TEXTURE [x: Texture, cols: Vec4] [];
    /// col2im.
    Col2im: "col2im" in COL2IM [] [];
    /// [`Entry::Col2im`] reading through textures (CPU adapters).
    Col2imTexture: "col2im" in COL2IM_TEXTURE [cols: Texture] [];
    /// [`Entry::Col2im`] four channels an invocation (channels a multiple of 4).
    Col2im4: "col2im4" in COL2IM [cols: Vec4, dx: Vec4] [];
    /// [`Entry::Col2im4`] reading through textures (CPU adapters).
    Col2im4Texture: "col2im4" in COL2IM_TEXTURE [cols: Texture, dx: Vec4] [];
    /// Max pooling.
    MaxPool: "max_pool" in MAX_POOL [] [];
    /// [`Entry::MaxPool`] reading through textures (CPU adapters).
    MaxPoolTexture: "max_pool" in MAX_POOL_TEXTURE [x: Texture] [];
    /// [`Entry::MaxPool`] four channels an invocation (channels a multiple of 4).
    MaxPool4: "max_pool4" in MAX_POOL [x: Vec4, y: Vec4, argmax: Vec4] [];
    /// [`Entry::MaxPool4`] reading through textures (CPU adapters).
    MaxPool4Texture: "max_pool4" in MAX_POOL_TEXTURE [x: Texture, y: Vec4, argmax: Vec4] [];
    /// Max pooling's backward.
    MaxPoolBackward: "max_pool_backward" in MAX_POOL_BACKWARD [] [];
    /// [`Entry::MaxPoolBackward`] four channels an invocation (channels a multiple of 4):
    /// a cell of tiling windows, or a position, an invocation.
    MaxPoolBackward4: "max_pool_backward4" in MAX_POOL_BACKWARD [dy: Vec4, argmax: Vec4, dx: Vec4] [];
    /// [`Entry::MaxPoolBackward4`] reading dy through a texture (CPU adapters).
    MaxPoolBackward4Texture: "max_pool_backward4" in MAX_POOL_BACKWARD_TEXTURE [dy: Texture, argmax: Vec4, dx: Vec4] [];
    /// Max pooling's backward fused with the activation derivative before it.
    MaxPoolActBackward: "max_pool_act_backward" in MAX_POOL_ACT_BACKWARD [] [];
    /// [`Entry::MaxPoolActBackward`] reading through textures (CPU adapters).
    MaxPoolActBackwardTexture: "max_pool_act_backward" in MAX_POOL_ACT_BACKWARD_TEXTURE [y: Texture, dy: Texture] [];
    /// [`Entry::MaxPoolActBackward`] over tiling windows four channels an invocation
    /// (channels a multiple of 4).
    MaxPoolActBackward4: "max_pool_act_backward4" in MAX_POOL_ACT_BACKWARD [dy: Vec4, argmax: Vec4, dz: Vec4, partials: Vec4] [];
    /// [`Entry::MaxPoolActBackward4`] reading through textures (CPU adapters).
    MaxPoolActBackward4Texture: "max_pool_act_backward4" in MAX_POOL_ACT_BACKWARD_TEXTURE [y: Texture, dy: Texture, argmax: Vec4, dz: Vec4, partials: Vec4] [];
    /// Average pooling.
    AvgPool: "avg_pool" in AVG_POOL [] [];
    /// Average pooling's backward.
    AvgPoolBackward: "avg_pool_backward" in AVG_POOL_BACKWARD [] [];
    /// [`Entry::AvgPoolBackward`], four channels an invocation through vec4 views.
    AvgPoolBackward4: "avg_pool_backward4" in AVG_POOL_BACKWARD [dy: Vec4, dx: Vec4] [];
}

/// Texels a row of an operand texture: vec4 number `i` of the buffer is texel
/// `(i % TEXTURE_ROW, i / TEXTURE_ROW)` (`const TEXTURE_ROW` in the WGSL).
pub const TEXTURE_ROW: usize = 1024;

/// Rows an operand texture may have: WebGPU's guaranteed 2-D texture size, so buffers
/// up to `TEXTURE_ROW × TEXTURE_MAX_ROWS` vec4s can be read as textures on any adapter.
pub const TEXTURE_MAX_ROWS: usize = 8192;
