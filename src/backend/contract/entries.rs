//! Every compute entry point: its WGSL function, its module and how it views its
//! kernel's buffers (the [`Entry`] the `entries!` macro of the parent module generates).

use super::*;

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
    /// [`Entry::ConvDirect4`] over a larger field: 32 positions × 32 filters (64 over more
    /// than 32) a subgroup of 8 lanes, the fields read in place through a texture of x.
    ConvGemm: "conv_gemm" in CONV_GEMM [x: Texture, w: Texture, bias: Uniform, y: Vec4] [];
    /// Its kernel gradient as partial sums over stripes of positions (a workgroup's
    /// stripe its third coordinate): 32 field values × 32 filters (64 over more than 32) a
    /// subgroup.
    ConvGemmWeightGrad: "conv_gemm_weight_grad" in CONV_GEMM_WEIGHT_GRAD [x: Texture, dz: Texture, partials: Vec4] [];
    /// A convolution's input gradient, 32 positions × 32 channels a subgroup of 8 lanes,
    /// reading dz and w through textures.
    ConvInputGrad: "conv_input_grad" in CONV_INPUT_GRAD [dz: Texture, w: Texture] [];
    /// [`Entry::ConvInputGrad`] storing `dx·f'(y)`, y its input as the activation before it
    /// wrote it (read through the texture the forward filled).
    ConvInputGradAct: "conv_input_grad" in CONV_INPUT_GRAD_ACT [dz: Texture, w: Texture, y: Texture] [];
    /// [`Entry::ConvInputGradAct`] with the partial sums of the bias gradient of the layer
    /// whose activation it differentiates.
    ConvInputGradBiasAct: "conv_input_grad" in CONV_INPUT_GRAD_BIAS_ACT [dz: Texture, w: Texture, y: Texture] [];
    /// [`Entry::ConvInputGrad`] computed directly for inputs of at most 8 channels at stride
    /// 1, on any adapter: eight positions of a row and their channels an
    /// invocation, the weights from a uniform block (dz read a float at a time where the
    /// filters are not in whole vec4s).
    ConvDirectInputGrad: "conv_direct_input_grad" in CONV_DIRECT_INPUT_GRAD [dz: Vec4, dz: Scalar, w: Uniform] [];
    /// [`Entry::ConvDirectInputGrad`] on 8-lane subgroups: a channel's weights a lane,
    /// shared through the subgroup.
    ConvDirectInputGrad8: "conv_direct_input_grad8" in CONV_DIRECT_INPUT_GRAD8 [dz: Vec4, dz: Scalar, w: Uniform] [];
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
    MaxPoolActBackward4: "max_pool_act_backward4" in MAX_POOL_ACT_BACKWARD [y: Vec4, y: Scalar, dy: Vec4, argmax: Vec4, dz: Vec4, partials: Vec4] [];
    /// [`Entry::MaxPoolActBackward4`] reading through textures (CPU adapters).
    MaxPoolActBackward4Texture: "max_pool_act_backward4" in MAX_POOL_ACT_BACKWARD_TEXTURE [y: Texture, dy: Texture, argmax: Vec4, dz: Vec4, partials: Vec4] [];
    /// Average pooling.
    AvgPool: "avg_pool" in AVG_POOL [] [];
    /// Average pooling's backward.
    AvgPoolBackward: "avg_pool_backward" in AVG_POOL_BACKWARD [] [];
    /// [`Entry::AvgPoolBackward`], four channels an invocation through vec4 views.
    AvgPoolBackward4: "avg_pool_backward4" in AVG_POOL_BACKWARD [dy: Vec4, dx: Vec4] [];
}
