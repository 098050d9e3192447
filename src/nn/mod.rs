//! Keras-style models, independent of any backend: the layer kinds ([`layers`], one file
//! each), what a layer provides ([`layer`]), weight initializers ([`init`]) and the
//! [`Sequential`] container (naming, shapes, weights, summary, surgery, lowering).
//!
//! Builders belong to the layer kind they configure, so configuring the wrong kind does
//! not compile (it used to be silently ignored):
//!
//! ```compile_fail
//! use steadygrad::nn::Layer;
//! use steadygrad::nn::Initializer;
//! // BatchNormalization has no kernel: no such builder.
//! let l = Layer::batch_norm().kernel_initializer(Initializer::HE_NORMAL);
//! ```
//!
//! ```
//! use steadygrad::backend::ActKind;
//! use steadygrad::nn::{Initializer, Layer, Sequential};
//! use steadygrad::train::Session;
//!
//! let model = Sequential::new(&[4], vec![
//!     Layer::dense(3).activation(ActKind::Relu).kernel_initializer(Initializer::HE_NORMAL).into(),
//!     Layer::dense(2).activation(ActKind::Softmax).into(),
//! ], 1)?;
//! assert_eq!(model.weights()[0].shape, vec![4, 3]);
//! // Inference needs no optimizer.
//! let mut s = Session::with_backend(model, Box::new(steadygrad::CpuBackend::new()))?;
//! let p = s.predict(&[0.1, 0.2, 0.3, 0.4], 1)?;
//! assert!((p[0] + p[1] - 1.0).abs() < 1e-6);
//! # Ok::<(), steadygrad::Error>(())
//! ```

pub mod advice;
pub mod init;
pub mod layer;
pub mod layers;
pub mod regularizers;
pub mod sequential;
pub mod summary;

pub use init::Initializer;
pub use layer::{Layer, LayerOps, Lowered, Lowering, WeightSpec};
pub use layers::{
    parse_activation, Activation, BatchNormalization, Conv2D, Dense, Dropout, Flatten,
    GlobalPooling2D, LayerKind, LeakyRelu, PoolKind, Pooling2D, Prelu, Reshape, Rrelu,
};
pub use regularizers::{Constraint, Regularizer};
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
    /// `Dropout(rate)`.
    pub fn dropout(rate: f32) -> Layer {
        Dropout::new(rate).into()
    }
    /// `AlphaDropout(rate)`.
    pub fn alpha_dropout(rate: f32) -> Layer {
        Dropout::alpha(rate).into()
    }
}

/// The chapter's seed network: Flatten → BN → Dense(300, elu, he_normal) → BN →
/// Dense(100, elu, he_normal) → BN → Dense(10, softmax), seed 42; with `bn_before`, the
/// variant with BN between each Dense (no bias) and its activation.
pub fn seed_network(bn_before: bool) -> crate::Result<Sequential> {
    use crate::backend::ActKind;
    let elu = ActKind::Elu { alpha: 1.0 };
    let mut layers = vec![Layer::flatten(), Layer::batch_norm()];
    for units in [300, 100] {
        let dense = Layer::dense(units).kernel_initializer(Initializer::HE_NORMAL);
        if bn_before {
            layers.push(dense.use_bias(false).into());
            layers.push(Layer::batch_norm());
            layers.push(Layer::activation(elu));
        } else {
            layers.push(dense.activation(elu).into());
            layers.push(Layer::batch_norm());
        }
    }
    layers.push(Layer::dense(10).activation(ActKind::Softmax).into());
    Sequential::new(&[28, 28], layers, 42)
}
