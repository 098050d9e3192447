//! Gradient health, made visible: per-layer statistics sampled inside training steps
//! ([`HealthSample`]), a verdict in words with the chapter's remedies ([`verdict()`]), the
//! history as CSV ([`csv`]) and as PNG charts (`plot`, native only).
//!
//! A sampled step is the ordinary training step plus a few kernels (activation statistics,
//! the weight's norm before and after its update) and one read-back; steps in between are
//! unchanged, so sampling off costs nothing.
//!
//! ```
//! use steadygrad::backend::ActKind;
//! use steadygrad::data::{Dataset, Samples};
//! use steadygrad::health::{verdict, HealthSample};
//! use steadygrad::nn::{Initializer, Layer, Sequential};
//! use steadygrad::optim::Sgd;
//! use steadygrad::train::{Callback, FitOptions, LossName, Session};
//!
//! /// Prints each sample's lowest-layer gradient norm as it comes.
//! struct Watch(Vec<HealthSample>);
//! impl Callback for Watch {
//!     fn on_health(&mut self, s: &HealthSample) {
//!         let lowest = s.weighted().next().and_then(|l| l.grad_norm);
//!         println!("step {}: lowest-layer gradient {lowest:?}", s.step);
//!         self.0.push(s.clone());
//!     }
//! }
//!
//! let x: Vec<f32> = (0..64 * 4).map(|i| ((i * 37) % 11) as f32 / 10.0 - 0.5).collect();
//! let y: Vec<u32> = (0..64).map(|i| (x[i * 4] > 0.0) as u32).collect();
//! let data = Dataset::new(Samples::F32(x), y, vec![4])?;
//! let model = Sequential::new(&[4], vec![
//!     Layer::dense(8).activation(ActKind::Relu).kernel_initializer(Initializer::HE_NORMAL).into(),
//!     Layer::dense(2).activation(ActKind::Softmax).into(),
//! ], 1)?;
//! let mut s = Session::with_backend(model, Box::new(steadygrad::CpuBackend::new()))?;
//! s.compile(Box::new(Sgd::new(0.1)), LossName::SparseCategoricalCrossentropy)?;
//! let mut watch = Watch(Vec::new());
//! let opts = FitOptions { epochs: 2, batch_size: 16, health_every: Some(2), ..Default::default() };
//! s.fit(&data, None, &opts, &mut [&mut watch])?;
//! assert_eq!(watch.0.len(), 4); // steps 0, 2, 4, 6
//! for v in verdict(&watch.0) {
//!     println!("{}", v.text);
//! }
//! # Ok::<(), steadygrad::Error>(())
//! ```

pub mod csv;
pub mod ewma;
#[cfg(not(target_arch = "wasm32"))]
pub mod plot;
pub mod verdict;

pub use ewma::Ewma;
pub use verdict::{verdict, Verdict, VerdictKind};

/// One layer's health at a sampled step. Fields a layer has no data for are `None` (a
/// Flatten has neither weights nor an activation).
#[derive(Clone, Debug, PartialEq)]
pub struct LayerHealth {
    /// Layer name (`dense_3`).
    pub layer: String,
    /// The activation it applies (`relu`, `sigmoid`, `prelu`, …), if any.
    pub activation: Option<String>,
    /// Mean of its activation output over the batch.
    pub act_mean: Option<f32>,
    /// Standard deviation of its activation output.
    pub act_std: Option<f32>,
    /// Fraction of units that output exactly 0 for the whole batch (dead ReLUs).
    pub dead_fraction: Option<f32>,
    /// Fraction of outputs within 1 % of the activation's bounds (tanh, sigmoid).
    pub saturated_fraction: Option<f32>,
    /// L2 norm of the gradient of its kernel (Dense) at this step.
    pub grad_norm: Option<f32>,
    /// ‖update‖ / ‖weight‖ of its kernel at this step.
    pub update_ratio: Option<f32>,
}

/// Every layer's health at one step.
#[derive(Clone, Debug, PartialEq)]
pub struct HealthSample {
    /// Global step (counting from 0) the sample was taken at.
    pub step: u64,
    /// Mean training loss of the epoch up to this step.
    pub loss: f32,
    /// Layers with weights or an activation, bottom to top.
    pub layers: Vec<LayerHealth>,
}

impl HealthSample {
    /// The layers that have a kernel gradient, bottom to top.
    pub fn weighted(&self) -> impl Iterator<Item = &LayerHealth> {
        self.layers.iter().filter(|l| l.grad_norm.is_some())
    }
}
