//! The activation functions the kernels know ([`ActKind`]), with Keras's parameters and
//! the codes the WGSL switches on (`shaders/activation.wgsl`).

/// Activation functions, with Keras's parameters. Adding one: its variant here (the
/// compiler then asks for its code and name below, its CPU value and derivative in
/// [`super::ops::elementwise`]); its `ACT_*` constant and cases in `activation.wgsl`
/// (`tests/contracts.rs` and the parity suite check them for every variant of
/// [`ActKind::all`]); its name in `parse_activation` (`src/nn/layers/activation.rs`).
#[derive(Clone, Copy, Debug, PartialEq, strum::EnumIter)]
pub enum ActKind {
    /// Identity.
    Linear,
    /// `max(x, 0)`; derivative 0 at 0 (TensorFlow's convention).
    Relu,
    /// `x` for x > 0, else `alpha·x`.
    LeakyRelu {
        /// Slope for negative inputs.
        alpha: f32,
    },
    /// Randomized leaky ReLU (PyTorch's definition): slope ~ U(lower, upper) per element
    /// and step while training, `(lower + upper) / 2` at inference.
    Rrelu {
        /// Lowest slope.
        lower: f32,
        /// Highest slope.
        upper: f32,
    },
    /// `x` for x > 0, else `alpha·(e^x − 1)`.
    Elu {
        /// Scale of the negative part.
        alpha: f32,
    },
    /// Scaled ELU with Keras's constants.
    Selu,
    /// Hyperbolic tangent.
    Tanh,
    /// Logistic function.
    Sigmoid,
    /// Row-wise softmax (not element-wise: handled by its own kernels).
    Softmax,
}

/// SELU's alpha, as Keras writes it.
pub const SELU_ALPHA: f32 = 1.673_263_2;
/// SELU's scale, as Keras writes it.
pub const SELU_SCALE: f32 = 1.050_701;

impl ActKind {
    /// Every activation, with Keras's default parameters.
    pub fn all() -> Vec<ActKind> {
        use strum::IntoEnumIterator;
        ActKind::iter()
            .map(|a| match a {
                ActKind::LeakyRelu { .. } => ActKind::LeakyRelu { alpha: 0.2 },
                ActKind::Rrelu { .. } => ActKind::Rrelu {
                    lower: 1.0 / 8.0,
                    upper: 1.0 / 3.0,
                },
                ActKind::Elu { .. } => ActKind::Elu { alpha: 1.0 },
                other => other,
            })
            .collect()
    }

    /// Whether the output alone tells the derivative (its sign tells the input's): what a
    /// dense layer needs to fuse the activation into its matmul and differentiate it
    /// without keeping the pre-activation. False for softmax and for parameters that
    /// flip signs (a negative ELU alpha, a negative leaky or RReLU slope).
    pub fn derivative_from_output(&self) -> bool {
        match *self {
            ActKind::Softmax => false,
            ActKind::LeakyRelu { alpha } => alpha >= 0.0,
            ActKind::Rrelu { lower, .. } => lower >= 0.0,
            ActKind::Elu { alpha } => alpha > 0.0,
            _ => true,
        }
    }

    /// The code the WGSL kernels switch on, and the two float parameters.
    pub fn code(&self) -> (u32, f32, f32) {
        match *self {
            ActKind::Linear => (0, 0.0, 0.0),
            ActKind::Relu => (1, 0.0, 0.0),
            ActKind::LeakyRelu { alpha } => (2, alpha, 0.0),
            ActKind::Rrelu { lower, upper } => (3, lower, upper),
            ActKind::Elu { alpha } => (4, alpha, 0.0),
            ActKind::Selu => (5, 0.0, 0.0),
            ActKind::Tanh => (6, 0.0, 0.0),
            ActKind::Sigmoid => (7, 0.0, 0.0),
            ActKind::Softmax => (8, 0.0, 0.0),
        }
    }

    /// Keras's name for the activation (`relu`, `leaky_relu`, …).
    pub fn keras_name(&self) -> &'static str {
        match self {
            ActKind::Linear => "linear",
            ActKind::Relu => "relu",
            ActKind::LeakyRelu { .. } => "leaky_relu",
            ActKind::Rrelu { .. } => "rrelu",
            ActKind::Elu { .. } => "elu",
            ActKind::Selu => "selu",
            ActKind::Tanh => "tanh",
            ActKind::Sigmoid => "sigmoid",
            ActKind::Softmax => "softmax",
        }
    }
}
