//! Keras-style models: [`layers`] (Dense, BatchNormalization, activations, …), weight
//! [`init`]ializers, the [`Sequential`] container (naming, summary, graph building) and
//! [`training`] (compile, fit, evaluate, predict).

pub mod init;
pub mod layers;
pub mod model;
pub mod training;

pub use init::Initializer;
pub use layers::{parse_activation, BatchNorm, Dense, Layer, LayerKind};
pub use model::{Sequential, Weight};
pub use training::{
    ActivationStats, Callback, Compile, Device, EpochLogs, Ewma, FitOptions, History, LossName,
    OptimizerState, StepCounters,
};
