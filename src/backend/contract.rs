//! The typed contract between Rust and WGSL: which shader module an entry point lives in,
//! the uniform parameter struct each module declares, and the storage bindings each entry
//! point uses. `tests/contracts.rs` parses the shaders and fails when a `Params` layout, a
//! binding, an entry point or an op code disagrees with what is declared here.

/// A WGSL shader module: one file under `shaders/`, or shared files plus its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, strum::EnumIter)]
pub enum Module {
    /// `matmul_store.wgsl` + `matmul_buffer_operands.wgsl` + `matmul_body.wgsl`: the
    /// matmul variants, stored plainly.
    Matmul,
    /// `activation.wgsl` + `dense_store.wgsl` + `matmul_buffer_operands.wgsl` +
    /// `matmul_body.wgsl`: the same variants, stored through the dense layer's bias +
    /// activation epilogue.
    Dense,
    /// [`Module::Matmul`] with the vec4 kernels reading A and B from textures
    /// (`matmul_texture_operands.wgsl`).
    MatmulTexture,
    /// [`Module::Dense`] with the vec4 kernels reading A and B from textures.
    DenseTexture,
    /// `activation.wgsl` + `elementwise.wgsl`: activations, bias, PReLU, softmax, add,
    /// scale.
    Elementwise,
    /// `loss.wgsl`.
    Loss,
    /// `batch_norm.wgsl`.
    BatchNorm,
    /// `grad_stats.wgsl`: gradient statistics and clip factors.
    GradStats,
    /// `update_common.wgsl` + `update_sgd.wgsl`.
    UpdateSgd,
    /// `update_common.wgsl` + `update_adagrad.wgsl`.
    UpdateAdagrad,
    /// `update_common.wgsl` + `update_rmsprop.wgsl`.
    UpdateRmsprop,
    /// `update_common.wgsl` + `update_adam.wgsl`.
    UpdateAdam,
    /// `update_common.wgsl` + `update_nadam.wgsl`.
    UpdateNadam,
    /// `gather.wgsl`.
    Gather,
    /// `health.wgsl`.
    Health,
}

/// Every shader file, by name.
const SHADERS: &[(&str, &str)] = &[
    (
        "activation.wgsl",
        include_str!("../../shaders/activation.wgsl"),
    ),
    (
        "matmul_body.wgsl",
        include_str!("../../shaders/matmul_body.wgsl"),
    ),
    (
        "matmul_store.wgsl",
        include_str!("../../shaders/matmul_store.wgsl"),
    ),
    (
        "dense_store.wgsl",
        include_str!("../../shaders/dense_store.wgsl"),
    ),
    (
        "matmul_buffer_operands.wgsl",
        include_str!("../../shaders/matmul_buffer_operands.wgsl"),
    ),
    (
        "matmul_texture_operands.wgsl",
        include_str!("../../shaders/matmul_texture_operands.wgsl"),
    ),
    (
        "elementwise.wgsl",
        include_str!("../../shaders/elementwise.wgsl"),
    ),
    ("loss.wgsl", include_str!("../../shaders/loss.wgsl")),
    (
        "batch_norm.wgsl",
        include_str!("../../shaders/batch_norm.wgsl"),
    ),
    (
        "grad_stats.wgsl",
        include_str!("../../shaders/grad_stats.wgsl"),
    ),
    (
        "update_common.wgsl",
        include_str!("../../shaders/update_common.wgsl"),
    ),
    (
        "update_sgd.wgsl",
        include_str!("../../shaders/update_sgd.wgsl"),
    ),
    (
        "update_adagrad.wgsl",
        include_str!("../../shaders/update_adagrad.wgsl"),
    ),
    (
        "update_rmsprop.wgsl",
        include_str!("../../shaders/update_rmsprop.wgsl"),
    ),
    (
        "update_adam.wgsl",
        include_str!("../../shaders/update_adam.wgsl"),
    ),
    (
        "update_nadam.wgsl",
        include_str!("../../shaders/update_nadam.wgsl"),
    ),
    ("gather.wgsl", include_str!("../../shaders/gather.wgsl")),
    ("health.wgsl", include_str!("../../shaders/health.wgsl")),
];

impl Module {
    /// The file names the module's source is assembled from, in order.
    pub fn files(&self) -> &'static [&'static str] {
        match self {
            Module::Matmul => &[
                "matmul_store.wgsl",
                "matmul_buffer_operands.wgsl",
                "matmul_body.wgsl",
            ],
            Module::Dense => &[
                "activation.wgsl",
                "dense_store.wgsl",
                "matmul_buffer_operands.wgsl",
                "matmul_body.wgsl",
            ],
            Module::MatmulTexture => &[
                "matmul_store.wgsl",
                "matmul_texture_operands.wgsl",
                "matmul_body.wgsl",
            ],
            Module::DenseTexture => &[
                "activation.wgsl",
                "dense_store.wgsl",
                "matmul_texture_operands.wgsl",
                "matmul_body.wgsl",
            ],
            Module::Elementwise => &["activation.wgsl", "elementwise.wgsl"],
            Module::Loss => &["loss.wgsl"],
            Module::BatchNorm => &["batch_norm.wgsl"],
            Module::GradStats => &["grad_stats.wgsl"],
            Module::UpdateSgd => &["update_common.wgsl", "update_sgd.wgsl"],
            Module::UpdateAdagrad => &["update_common.wgsl", "update_adagrad.wgsl"],
            Module::UpdateRmsprop => &["update_common.wgsl", "update_rmsprop.wgsl"],
            Module::UpdateAdam => &["update_common.wgsl", "update_adam.wgsl"],
            Module::UpdateNadam => &["update_common.wgsl", "update_nadam.wgsl"],
            Module::Gather => &["gather.wgsl"],
            Module::Health => &["health.wgsl"],
        }
    }

    /// The module's WGSL source: its files, in order.
    pub fn source(&self) -> String {
        let file = |name: &str| {
            SHADERS
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, src)| *src)
                .expect("every module file is in SHADERS")
        };
        let parts: Vec<&str> = self.files().iter().map(|f| file(f)).collect();
        parts.join("\n")
    }

    /// Field names and WGSL types of the module's `Params` uniform, in order.
    pub fn params_fields(&self) -> &'static [(&'static str, &'static str)] {
        use super::ops::*;
        match self {
            Module::Matmul | Module::Dense | Module::MatmulTexture | Module::DenseTexture => {
                matmul::MatmulParams::FIELDS
            }
            Module::Elementwise => elementwise::ElementwiseParams::FIELDS,
            Module::Loss => loss::LossParams::FIELDS,
            Module::BatchNorm => batch_norm::BatchNormParams::FIELDS,
            Module::GradStats => grad_stats::GradStatsParams::FIELDS,
            Module::UpdateSgd
            | Module::UpdateAdagrad
            | Module::UpdateRmsprop
            | Module::UpdateAdam
            | Module::UpdateNadam => update::UpdateParams::FIELDS,
            Module::Gather => gather::GatherParams::FIELDS,
            Module::Health => health::HealthParams::FIELDS,
        }
    }
}

/// A compute entry point. Every kernel launch names one; there is no lookup by string.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, strum::EnumIter)]
pub enum Entry {
    /// Register-blocked matmul reading scalars.
    MatmulRegblock,
    /// Matmul of at most 16 output columns, a row of C an invocation.
    MatmulNarrow,
    /// Register-blocked matmul reading vec4s (aligned shapes).
    MatmulVec4,
    /// Register-blocked matmul, 8×8 outputs per invocation, reading vec4s.
    MatmulVec8,
    /// Register-blocked matmul, 16×16 outputs per invocation, reading vec4s.
    MatmulVec16,
    /// Workgroup-tiled matmul.
    MatmulTiled,
    /// Register-blocked matmul, 8×8 outputs per invocation, reading vec4 texels.
    MatmulTexture8,
    /// Register-blocked matmul, 16×16 outputs per invocation, reading vec4 texels.
    MatmulTexture16,
    /// Register-blocked matmul, 16×20 outputs per invocation, reading vec4 texels.
    MatmulTexture16x20,
    /// Dense layer forward (bias + activation epilogue), scalar register-blocked body.
    DenseRegblock,
    /// Dense layer forward, narrow body (at most 16 output columns).
    DenseNarrow,
    /// Dense layer forward, vec4 body.
    DenseVec4,
    /// Dense layer forward, 8×8 vec4 body.
    DenseVec8,
    /// Dense layer forward, 16×16 vec4 body.
    DenseVec16,
    /// Dense layer forward, workgroup-tiled body.
    DenseTiled,
    /// Dense layer forward, 8×8 body reading texels.
    DenseTexture8,
    /// Dense layer forward, 16×16 body reading texels.
    DenseTexture16,
    /// Dense layer forward, 16×20 body reading texels.
    DenseTexture16x20,
    /// The dense epilogue's backward: activation derivative and bias gradient.
    BiasActBackward,
    /// [`Entry::BiasActBackward`], four columns an invocation through vec4 bindings.
    BiasActBackward4,
    /// `y = x + bias[col]`.
    BiasAdd,
    /// Column sums.
    ColumnSum,
    /// Activation forward.
    ActForward,
    /// Activation backward.
    ActBackward,
    /// PReLU forward.
    PreluForward,
    /// PReLU backward.
    PreluBackward,
    /// Row-wise softmax.
    SoftmaxForward,
    /// Softmax backward.
    SoftmaxBackward,
    /// `c = a + b`.
    Add,
    /// `y = factor·x`.
    Scale,
    /// Loss and its gradient.
    LossForwardBackward,
    /// BN training-mode forward: statistics, moving statistics, output.
    BnTrain,
    /// [`Entry::BnTrain`], four columns an invocation through vec4 bindings.
    BnTrain4,
    /// BN normalize.
    BnApply,
    /// BN backward.
    BnBackward,
    /// [`Entry::BnBackward`], four columns an invocation through vec4 bindings.
    BnBackward4,
    /// Synchronized BN: a shard's share of the batch mean or variance.
    BnMoments,
    /// Synchronized BN: moving statistics and output from given batch statistics.
    BnNormalize,
    /// Synchronized BN backward: a shard's `Σ dy·x̂` and `Σ dy`.
    BnBackwardSums,
    /// Synchronized BN backward: dx from the whole batch's sums.
    BnBackwardDx,
    /// Gradient statistics.
    GradStats,
    /// Clip factors.
    ClipScale,
    /// Plain SGD.
    SgdUpdate,
    /// SGD with momentum (and Nesterov).
    SgdMomentumUpdate,
    /// AdaGrad.
    AdagradUpdate,
    /// RMSprop.
    RmspropUpdate,
    /// RMSprop with momentum.
    RmspropMomentumUpdate,
    /// Centered RMSprop.
    RmspropCenteredUpdate,
    /// Centered RMSprop with momentum.
    RmspropCenteredMomentumUpdate,
    /// Adam.
    AdamUpdate,
    /// Adam with AMSGrad.
    AmsgradUpdate,
    /// Nadam.
    NadamUpdate,
    /// Gather of byte images.
    GatherU8,
    /// Gather of byte images whose rows are whole words, a word an invocation.
    GatherU8Words,
    /// Gather of f32 samples.
    GatherF32,
    /// Activation health statistics.
    ActStats,
    /// Weight and update norms.
    PairNorms,
}

impl Entry {
    /// The entry point's WGSL function name.
    pub fn name(&self) -> &'static str {
        match self {
            Entry::MatmulRegblock | Entry::DenseRegblock => "matmul_regblock",
            Entry::MatmulNarrow | Entry::DenseNarrow => "matmul_narrow",
            Entry::MatmulVec4 | Entry::DenseVec4 => "matmul_vec4",
            Entry::MatmulVec8 | Entry::DenseVec8 | Entry::MatmulTexture8 | Entry::DenseTexture8 => {
                "matmul_vec8"
            }
            Entry::MatmulVec16
            | Entry::DenseVec16
            | Entry::MatmulTexture16
            | Entry::DenseTexture16 => "matmul_vec16",
            Entry::MatmulTexture16x20 | Entry::DenseTexture16x20 => "matmul_vec16x20",
            Entry::MatmulTiled | Entry::DenseTiled => "matmul_tiled",
            Entry::BiasActBackward => "bias_act_backward",
            Entry::BiasActBackward4 => "bias_act_backward4",
            Entry::BiasAdd => "bias_add",
            Entry::ColumnSum => "column_sum",
            Entry::ActForward => "act_forward",
            Entry::ActBackward => "act_backward",
            Entry::PreluForward => "prelu_forward",
            Entry::PreluBackward => "prelu_backward",
            Entry::SoftmaxForward => "softmax_forward",
            Entry::SoftmaxBackward => "softmax_backward",
            Entry::Add => "add",
            Entry::Scale => "scale",
            Entry::LossForwardBackward => "loss_forward_backward",
            Entry::BnTrain => "bn_train",
            Entry::BnTrain4 => "bn_train4",
            Entry::BnApply => "bn_apply",
            Entry::BnBackward => "bn_backward",
            Entry::BnBackward4 => "bn_backward4",
            Entry::BnMoments => "bn_moments",
            Entry::BnNormalize => "bn_normalize",
            Entry::BnBackwardSums => "bn_backward_sums",
            Entry::BnBackwardDx => "bn_backward_dx",
            Entry::GradStats => "grad_stats",
            Entry::ClipScale => "clip_scale",
            Entry::SgdUpdate => "sgd_update",
            Entry::SgdMomentumUpdate => "sgd_momentum_update",
            Entry::AdagradUpdate => "adagrad_update",
            Entry::RmspropUpdate => "rmsprop_update",
            Entry::RmspropMomentumUpdate => "rmsprop_momentum_update",
            Entry::RmspropCenteredUpdate => "rmsprop_centered_update",
            Entry::RmspropCenteredMomentumUpdate => "rmsprop_centered_momentum_update",
            Entry::AdamUpdate => "adam_update",
            Entry::AmsgradUpdate => "amsgrad_update",
            Entry::NadamUpdate => "nadam_update",
            Entry::GatherU8 => "gather_u8",
            Entry::GatherU8Words => "gather_u8_words",
            Entry::GatherF32 => "gather_f32",
            Entry::ActStats => "act_stats",
            Entry::PairNorms => "pair_norms",
        }
    }

    /// The module that defines it.
    pub fn module(&self) -> Module {
        match self {
            Entry::MatmulRegblock
            | Entry::MatmulNarrow
            | Entry::MatmulVec4
            | Entry::MatmulVec8
            | Entry::MatmulVec16
            | Entry::MatmulTiled => Module::Matmul,
            Entry::DenseRegblock
            | Entry::DenseNarrow
            | Entry::DenseVec4
            | Entry::DenseVec8
            | Entry::DenseVec16
            | Entry::DenseTiled => Module::Dense,
            Entry::MatmulTexture8 | Entry::MatmulTexture16 | Entry::MatmulTexture16x20 => {
                Module::MatmulTexture
            }
            Entry::DenseTexture8 | Entry::DenseTexture16 | Entry::DenseTexture16x20 => {
                Module::DenseTexture
            }
            Entry::BiasActBackward
            | Entry::BiasActBackward4
            | Entry::BiasAdd
            | Entry::ColumnSum
            | Entry::ActForward
            | Entry::ActBackward
            | Entry::PreluForward
            | Entry::PreluBackward
            | Entry::SoftmaxForward
            | Entry::SoftmaxBackward
            | Entry::Add
            | Entry::Scale => Module::Elementwise,
            Entry::LossForwardBackward => Module::Loss,
            Entry::BnTrain
            | Entry::BnTrain4
            | Entry::BnApply
            | Entry::BnBackward
            | Entry::BnBackward4
            | Entry::BnMoments
            | Entry::BnNormalize
            | Entry::BnBackwardSums
            | Entry::BnBackwardDx => Module::BatchNorm,
            Entry::GradStats | Entry::ClipScale => Module::GradStats,
            Entry::SgdUpdate | Entry::SgdMomentumUpdate => Module::UpdateSgd,
            Entry::AdagradUpdate => Module::UpdateAdagrad,
            Entry::RmspropUpdate
            | Entry::RmspropMomentumUpdate
            | Entry::RmspropCenteredUpdate
            | Entry::RmspropCenteredMomentumUpdate => Module::UpdateRmsprop,
            Entry::AdamUpdate | Entry::AmsgradUpdate => Module::UpdateAdam,
            Entry::NadamUpdate => Module::UpdateNadam,
            Entry::GatherU8 | Entry::GatherU8Words | Entry::GatherF32 => Module::Gather,
            Entry::ActStats | Entry::PairNorms => Module::Health,
        }
    }

    /// Pipeline-overridable constants the entry is created with.
    pub fn constants(&self) -> &'static [(&'static str, f64)] {
        match self {
            // A row an invocation: eight rows a workgroup, one SIMD row of a CPU adapter.
            Entry::MatmulNarrow | Entry::DenseNarrow => &[("WG_X", 8.0), ("WG_Y", 1.0)],
            Entry::MatmulRegblock | Entry::MatmulVec4 | Entry::DenseRegblock | Entry::DenseVec4 => {
                &[("WG_X", 8.0), ("WG_Y", 8.0)]
            }
            // Eight rows of C per invocation: 8×4 workgroups cover a 32-row batch exactly
            // (with 8×8, half of each workgroup sits idle there: measured 25 % slower).
            Entry::MatmulVec8 | Entry::DenseVec8 | Entry::MatmulTexture8 | Entry::DenseTexture8 => {
                &[("WG_X", 8.0), ("WG_Y", 4.0)]
            }
            // 16×16 per invocation: 4×2 workgroups cover a 32-row batch exactly and keep
            // enough workgroups along the columns for two threads.
            Entry::MatmulVec16 | Entry::DenseVec16 => &[("WG_X", 8.0), ("WG_Y", 2.0)],
            // Texels: 8×1 workgroups (measured on llvmpipe against 8×2: equal on large
            // shapes, up to 1.5× faster on a 32-row batch).
            Entry::MatmulTexture16
            | Entry::DenseTexture16
            | Entry::MatmulTexture16x20
            | Entry::DenseTexture16x20 => &[("WG_X", 8.0), ("WG_Y", 1.0)],
            _ => &[],
        }
    }
}

/// One binding of an entry point: its `@binding` number, whether the shader declares it
/// `var<storage, read>`, and whether it is a `texture_2d<f32>` the backend fills from the
/// buffer before the launch (see [`TEXTURE_ROW`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Binding {
    /// `@binding(N)` in group 0 (0 is always the `Params` uniform).
    pub index: u32,
    /// Declared `read` (true) or `read_write`; textures are read-only.
    pub read_only: bool,
    /// A `texture_2d<f32>` (rgba32float) holding the buffer's vec4s, not the buffer.
    pub texture: bool,
}

/// Texels a row of an operand texture: vec4 number `i` of the buffer is texel
/// `(i % TEXTURE_ROW, i / TEXTURE_ROW)` (`const TEXTURE_ROW` in the WGSL).
pub const TEXTURE_ROW: usize = 1024;

/// Rows an operand texture may have: WebGPU's guaranteed 2-D texture size, so buffers
/// up to `TEXTURE_ROW × TEXTURE_MAX_ROWS` vec4s can be read as textures on any adapter.
pub const TEXTURE_MAX_ROWS: usize = 8192;

impl Binding {
    /// A `read_write` binding.
    pub const fn rw(index: u32) -> Binding {
        Binding {
            index,
            read_only: false,
            texture: false,
        }
    }
    /// A `read` binding.
    pub const fn ro(index: u32) -> Binding {
        Binding {
            index,
            read_only: true,
            texture: false,
        }
    }
    /// A texture binding filled from the buffer before the launch.
    pub const fn texture(index: u32) -> Binding {
        Binding {
            index,
            read_only: true,
            texture: true,
        }
    }
}

/// `read_write` bindings 1..=n, the common case.
pub fn rw_seq(n: u32) -> Vec<Binding> {
    (1..=n).map(Binding::rw).collect()
}

/// Everything the GPU needs to launch one kernel: entry point, bindings (in the kernel's
/// buffer order), the `Params` bytes and the workgroup grid.
#[derive(Clone, Debug, PartialEq)]
pub struct GpuLaunch {
    /// Entry point.
    pub entry: Entry,
    /// Binding of each buffer, in the kernel's documented buffer order.
    pub bindings: Vec<Binding>,
    /// The module's `Params` struct as bytes.
    pub params: Vec<u8>,
    /// Workgroups in x, y, z.
    pub grid: (u32, u32, u32),
    /// A read-only table of `vec4<u32>` rows the launch reads at [`TABLE_BINDING`] (the
    /// arena kernels' per-chunk and per-tensor records); the backend keeps it in a buffer
    /// of the launch's own. Empty: none.
    pub table: Vec<[u32; 4]>,
    /// Pipeline-overridable constants of this launch, beside the entry's own
    /// ([`Entry::constants`]): a pipeline is built per distinct set, so values that would
    /// otherwise be uniforms branched on inside a loop are folded away.
    pub constants: Vec<(&'static str, f64)>,
}

/// Where the arena kernels read their table (see [`GpuLaunch::table`]).
pub const TABLE_BINDING: u32 = 15;

impl GpuLaunch {
    /// A launch with `params` serialized from a typed parameter struct.
    pub fn new<P: ShaderParams>(
        entry: Entry,
        bindings: Vec<Binding>,
        params: P,
        grid: (u32, u32, u32),
    ) -> Self {
        GpuLaunch {
            entry,
            bindings,
            params: bytemuck::bytes_of(&params).to_vec(),
            grid,
            table: Vec::new(),
            constants: Vec::new(),
        }
    }

    /// The launch with its own pipeline constants (see [`GpuLaunch::constants`]).
    pub fn with_constants(mut self, constants: Vec<(&'static str, f64)>) -> Self {
        self.constants = constants;
        self
    }

    /// The launch with a table at [`TABLE_BINDING`] (listed last among its bindings).
    pub fn with_table(mut self, table: Vec<[u32; 4]>) -> Self {
        self.bindings.push(Binding::ro(TABLE_BINDING));
        self.table = table;
        self
    }
}

/// A `#[repr(C)]` uniform parameter struct mirrored by a WGSL `struct Params`.
pub trait ShaderParams: bytemuck::Pod {
    /// Field names and WGSL types, in order.
    const FIELDS: &'static [(&'static str, &'static str)];
}

/// Declares a `#[repr(C)]` parameter struct together with its field list, so the
/// contract test can compare it with the shader's `struct Params`.
macro_rules! shader_params {
    ($(#[$meta:meta])* $name:ident { $($(#[$fmeta:meta])* $field:ident : $ty:ident),* $(,)? }) => {
        $(#[$meta])*
        #[repr(C)]
        #[derive(Clone, Copy, Debug, Default, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
        pub struct $name {
            $($(#[$fmeta])* pub $field: $ty),*
        }
        impl $crate::backend::contract::ShaderParams for $name {
            const FIELDS: &'static [(&'static str, &'static str)] =
                &[$((stringify!($field), stringify!($ty))),*];
        }
    };
}
pub(crate) use shader_params;

/// Workgroups one dispatch may have along each dimension (WebGPU's guaranteed
/// `maxComputeWorkgroupsPerDimension`).
pub const MAX_WORKGROUPS: usize = 65_535;

/// `ceil(a / b)` as a workgroup count (at least 1).
pub fn ceil_div(a: usize, b: usize) -> u32 {
    a.div_ceil(b).max(1) as u32
}

/// A 1-D launch of `count` invocations in 256-wide workgroups, folded into 2-D when it
/// exceeds the 65,535 workgroups one dimension allows.
pub fn grid_256(count: usize) -> (u32, u32, u32) {
    let groups = ceil_div(count, 256);
    let x = groups.min(MAX_WORKGROUPS as u32);
    (x, groups.div_ceil(x), 1)
}
