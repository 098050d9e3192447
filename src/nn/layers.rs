//! Layer definitions with Keras's defaults and class names.

use super::init::Initializer;
use crate::backend::ActKind;
use crate::error::{Error, Result};

/// A fully connected layer: `activation(x·kernel + bias)`, kernel of shape (inputs, units).
#[derive(Clone, Debug, PartialEq)]
pub struct Dense {
    /// Output units.
    pub units: usize,
    /// Activation applied to the output (Keras default: linear).
    pub activation: ActKind,
    /// Whether there is a bias (default true).
    pub use_bias: bool,
    /// Kernel initializer (default `glorot_uniform`).
    pub kernel_initializer: Initializer,
    /// Bias initializer (default `zeros`).
    pub bias_initializer: Initializer,
}

/// Batch normalization over the last axis, Keras's defaults: momentum 0.99, epsilon 1e-3.
#[derive(Clone, Debug, PartialEq)]
pub struct BatchNorm {
    /// Weight of the old value in the moving averages.
    pub momentum: f32,
    /// Added to the variance.
    pub epsilon: f32,
    /// Learn a shift (beta).
    pub center: bool,
    /// Learn a scale (gamma).
    pub scale: bool,
}

impl Default for BatchNorm {
    fn default() -> Self {
        BatchNorm {
            momentum: 0.99,
            epsilon: 1e-3,
            center: true,
            scale: true,
        }
    }
}

/// What a layer computes.
#[derive(Clone, Debug, PartialEq)]
pub enum LayerKind {
    /// Reshapes each sample to a vector.
    Flatten,
    /// Fully connected.
    Dense(Dense),
    /// An activation as its own layer (`Activation`, `ReLU`, `LeakyReLU`, `ELU`, `Softmax`, `RReLU`).
    Activation(ActKind),
    /// Parametric ReLU with one learned slope per unit (initialized to 0, as Keras).
    PRelu,
    /// Batch normalization.
    BatchNormalization(BatchNorm),
}

/// A layer of a [`super::Sequential`] model.
#[derive(Clone, Debug, PartialEq)]
pub struct Layer {
    /// What it computes.
    pub kind: LayerKind,
    /// Keras class name (`Dense`, `LeakyReLU`, …).
    pub class_name: String,
    /// Name (`dense_1`); assigned Keras-style when the model is built if left empty.
    pub name: String,
    /// Whether its weights are updated (a frozen BatchNormalization runs in inference mode).
    pub trainable: bool,
    /// Multiplies the optimizer's learning rate for this layer's weights.
    pub lr_multiplier: f32,
}

impl Layer {
    fn new(kind: LayerKind, class_name: &str) -> Layer {
        Layer {
            kind,
            class_name: class_name.into(),
            name: String::new(),
            trainable: true,
            lr_multiplier: 1.0,
        }
    }

    /// `Flatten()`.
    pub fn flatten() -> Layer {
        Layer::new(LayerKind::Flatten, "Flatten")
    }

    /// `Dense(units)` with Keras's defaults.
    pub fn dense(units: usize) -> Layer {
        Layer::new(
            LayerKind::Dense(Dense {
                units,
                activation: ActKind::Linear,
                use_bias: true,
                kernel_initializer: Initializer::GLOROT_UNIFORM,
                bias_initializer: Initializer::Zeros,
            }),
            "Dense",
        )
    }

    /// `Activation(name)`.
    pub fn activation(act: ActKind) -> Layer {
        Layer::new(LayerKind::Activation(act), "Activation")
    }

    /// `LeakyReLU(negative_slope)`; Keras's layer default is 0.3.
    pub fn leaky_relu(alpha: f32) -> Layer {
        Layer::new(
            LayerKind::Activation(ActKind::LeakyRelu { alpha }),
            "LeakyReLU",
        )
    }

    /// `ReLU()`.
    pub fn relu() -> Layer {
        Layer::new(LayerKind::Activation(ActKind::Relu), "ReLU")
    }

    /// `ELU(alpha)`.
    pub fn elu(alpha: f32) -> Layer {
        Layer::new(LayerKind::Activation(ActKind::Elu { alpha }), "ELU")
    }

    /// `Softmax()`.
    pub fn softmax() -> Layer {
        Layer::new(LayerKind::Activation(ActKind::Softmax), "Softmax")
    }

    /// Randomized leaky ReLU (PyTorch's `RReLU(lower=1/8, upper=1/3)`).
    pub fn rrelu(lower: f32, upper: f32) -> Layer {
        Layer::new(
            LayerKind::Activation(ActKind::Rrelu { lower, upper }),
            "RReLU",
        )
    }

    /// `PReLU()` (alpha initialized to zeros).
    pub fn prelu() -> Layer {
        Layer::new(LayerKind::PRelu, "PReLU")
    }

    /// `BatchNormalization()` with Keras's defaults.
    pub fn batch_norm() -> Layer {
        Layer::new(
            LayerKind::BatchNormalization(BatchNorm::default()),
            "BatchNormalization",
        )
    }

    /// Sets a Dense layer's activation.
    pub fn with_activation(mut self, act: ActKind) -> Layer {
        if let LayerKind::Dense(d) = &mut self.kind {
            d.activation = act;
        }
        self
    }

    /// Sets a Dense layer's kernel initializer.
    pub fn kernel_initializer(mut self, init: Initializer) -> Layer {
        if let LayerKind::Dense(d) = &mut self.kind {
            d.kernel_initializer = init;
        }
        self
    }

    /// Sets whether a Dense layer has a bias.
    pub fn use_bias(mut self, on: bool) -> Layer {
        if let LayerKind::Dense(d) = &mut self.kind {
            d.use_bias = on;
        }
        self
    }

    /// Sets the layer's name.
    pub fn named(mut self, name: &str) -> Layer {
        self.name = name.into();
        self
    }

    /// Freezes or unfreezes the layer.
    pub fn trainable(mut self, on: bool) -> Layer {
        self.trainable = on;
        self
    }

    /// Keras's automatic name stem: the class name in snake case (`LeakyReLU` →
    /// `leaky_re_lu`, `PReLU` → `p_re_lu`).
    pub fn name_stem(&self) -> String {
        to_snake_case(&self.class_name)
    }
}

/// Keras's `to_snake_case`: split before a capitalised word, then between a lower-case
/// letter and a capital, then lower-case everything.
pub fn to_snake_case(name: &str) -> String {
    let c: Vec<char> = name
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    let mut pass1: Vec<char> = Vec::new();
    for i in 0..c.len() {
        let starts_word = i > 0
            && c[i].is_ascii_uppercase()
            && c.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
        if starts_word {
            pass1.push('_');
        }
        pass1.push(c[i]);
    }
    let mut out = String::new();
    for i in 0..pass1.len() {
        if i > 0 && pass1[i].is_ascii_uppercase() && pass1[i - 1].is_ascii_lowercase() {
            out.push('_');
        }
        out.extend(pass1[i].to_lowercase());
    }
    out
}

/// Parses an activation as Keras names it, with an optional parameter after a colon:
/// `relu`, `leaky_relu[:alpha]` (0.2), `rrelu[:lower:upper]` (1/8, 1/3), `elu[:alpha]` (1),
/// `selu`, `tanh`, `sigmoid`, `softmax`, `linear`.
pub fn parse_activation(spec: &str) -> Result<ActKind> {
    let mut parts = spec.split(':');
    let name = parts.next().unwrap_or("").trim().to_ascii_lowercase();
    let nums: Vec<f32> = parts
        .map(|p| {
            p.trim()
                .parse::<f32>()
                .map_err(|_| Error::Config(format!("bad number {p:?} in activation {spec:?}")))
        })
        .collect::<Result<_>>()?;
    let arg = |i: usize, d: f32| nums.get(i).copied().unwrap_or(d);
    Ok(match name.as_str() {
        "linear" | "none" => ActKind::Linear,
        "relu" => ActKind::Relu,
        "leaky_relu" | "leakyrelu" => ActKind::LeakyRelu { alpha: arg(0, 0.2) },
        "rrelu" => ActKind::Rrelu {
            lower: arg(0, 1.0 / 8.0),
            upper: arg(1, 1.0 / 3.0),
        },
        "elu" => ActKind::Elu { alpha: arg(0, 1.0) },
        "selu" => ActKind::Selu,
        "tanh" => ActKind::Tanh,
        "sigmoid" | "logistic" => ActKind::Sigmoid,
        "softmax" => ActKind::Softmax,
        other => {
            return Err(Error::Config(format!(
                "unknown activation {other:?}: expected relu, leaky_relu[:alpha], rrelu, prelu, elu[:alpha], selu, tanh, sigmoid, softmax or linear"
            )))
        }
    })
}
