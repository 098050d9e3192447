//! The choices a kernel is parameterized by that are not sizes: the loss, gradient
//! clipping and the optimizer's update rule (Keras's formulas).

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
    /// Every loss, in code order.
    pub const ALL: [LossKind; 3] = [
        LossKind::SoftmaxCrossEntropy,
        LossKind::SigmoidBinaryCrossEntropy,
        LossKind::MeanSquaredError,
    ];

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
/// rule keeps (Keras's variable names) are [`UpdateRule::slots`]. SGD's and RMSprop's
/// momentum is read from step-record word 4 (a schedule may change it step by step, as
/// the 1cycle policy does); the rule's own value chooses whether there is a momentum
/// slot.
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
    /// `keras.optimizers.Adamax` (step-record word 4: 1 − beta_1^t).
    Adamax {
        /// First-moment decay.
        beta_1: f32,
        /// Decay of the infinity norm.
        beta_2: f32,
        /// Added to the norm.
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
            UpdateRule::Adamax { .. } => vec!["momentum", "norm"],
        }
    }
}
