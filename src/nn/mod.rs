//! Keras-style models, independent of any backend: the layer kinds ([`layers`], one file
//! each), what a layer provides ([`layer`]), weight initializers ([`init`]) and the
//! [`Sequential`] container (naming, shapes, weights, summary, surgery, lowering).

pub mod advice;
pub mod init;
pub mod layer;
pub mod layers;
pub mod sequential;
pub mod summary;

pub use init::Initializer;
pub use layer::{Layer, LayerOps, Lowered, Lowering, WeightSpec};
pub use layers::{
    parse_activation, Activation, BatchNormalization, Dense, Flatten, LayerKind, LeakyRelu, Prelu,
    Rrelu,
};
pub use sequential::{Sequential, Weight};

/// Shorthands for building layers.
impl Layer {
    /// `Flatten()`.
    pub fn flatten() -> Layer {
        Flatten.into()
    }
    /// `Dense(units)` with Keras's defaults.
    pub fn dense(units: usize) -> Dense {
        Dense::new(units)
    }
    /// `BatchNormalization()` with Keras's defaults.
    pub fn batch_norm() -> Layer {
        BatchNormalization::default().into()
    }
    /// `Activation(act)`.
    pub fn activation(act: crate::backend::ActKind) -> Layer {
        Activation::new(act).into()
    }
    /// `ReLU()`.
    pub fn relu() -> Layer {
        Activation::relu().into()
    }
    /// `ELU(alpha)`.
    pub fn elu(alpha: f32) -> Layer {
        Activation::elu(alpha).into()
    }
    /// `Softmax()`.
    pub fn softmax() -> Layer {
        Activation::softmax().into()
    }
    /// `LeakyReLU(negative_slope)`.
    pub fn leaky_relu(negative_slope: f32) -> Layer {
        LeakyRelu { negative_slope }.into()
    }
    /// `RReLU(lower, upper)`.
    pub fn rrelu(lower: f32, upper: f32) -> Layer {
        Rrelu { lower, upper }.into()
    }
    /// `PReLU()`.
    pub fn prelu() -> Layer {
        Prelu.into()
    }
}
