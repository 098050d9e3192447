//! Training and inference sessions. A [`Session`] takes a [`crate::nn::Sequential`],
//! opens a backend, keeps the weights, optimizer state and step plans on the device, runs
//! `fit` / `evaluate` / `predict`, and hands the model back with its current weights.
//!
//! A training step is one graph (gather → forward → loss → backward → gradient
//! statistics → clip factors → fused optimizer updates) recorded into one command buffer
//! and one submit. The host writes only the 32-byte step record (step, batch offset,
//! learning rate, the optimizer's per-step scalars); loss, accuracy and the non-finite
//! guard accumulate on the device and are read once per epoch (or every N steps when
//! asked).

mod arena;
pub mod callbacks;
mod device;
pub mod epoch;
mod guard;
pub mod inspect;
pub mod options;
mod plan;
pub mod profile;
mod resident;
mod run;
pub mod session;
pub mod stepwise;
mod trainer;
mod training_graph;
mod weights;

pub use crate::health::Ewma;
pub use callbacks::{EarlyStopping, ModelCheckpoint, ReduceLrOnPlateau};
pub use epoch::{Epoch, Step};
pub use inspect::ActivationStats;
pub use options::{Callback, Control, Divergence, EpochLogs, FitOptions, History, StepCounters};
pub use profile::LaunchTime;
pub use session::Session;
pub use stepwise::MetricsRead;

use crate::backend::{ActKind, Backend, CpuBackend, GpuBackend, GpuOptions, LossKind};
use crate::error::{Error, Result};
use crate::nn::Sequential;

/// Where to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Device {
    /// The GPU if there is one, else the CPU reference (with a notice); a GPU setting that
    /// cannot be honoured (`STEADYGRAD_BACKEND`, `STEADYGRAD_MATMUL`) is an error.
    Auto,
    /// The GPU, or an error.
    Gpu,
    /// The CPU reference.
    Cpu,
}

/// Opens a backend for `device`; the second value is a notice when `Auto` fell back.
pub fn open_backend(device: Device) -> Result<(Box<dyn Backend>, Option<String>)> {
    open_backend_with(device, &GpuOptions::from_env()?)
}

/// [`open_backend`] with given GPU options (e.g. the adapter ordinal of a rank).
pub fn open_backend_with(
    device: Device,
    opts: &GpuOptions,
) -> Result<(Box<dyn Backend>, Option<String>)> {
    match device {
        Device::Cpu => Ok((Box::new(CpuBackend::new()), None)),
        Device::Gpu => Ok((Box::new(GpuBackend::new(opts)?), None)),
        Device::Auto => match GpuBackend::new(opts) {
            Ok(g) => Ok((Box::new(g), None)),
            // A setting that cannot be honoured (an unknown graphics API, a kernel the
            // adapter lacks) is the user's to fix, not a reason to train elsewhere.
            Err(e @ Error::Config(_)) => Err(e),
            Err(e) => Ok((
                Box::new(CpuBackend::new()),
                Some(format!("{e}; running on the CPU reference instead")),
            )),
        },
    }
}

/// Keras's loss names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LossName {
    /// Integer labels, softmax output.
    SparseCategoricalCrossentropy,
    /// One-hot targets (built from the integer labels), softmax output.
    CategoricalCrossentropy,
    /// 0/1 targets (or one-hot for several units), sigmoid output.
    BinaryCrossentropy,
    /// Squared error against one-hot targets (or the label for one unit).
    MeanSquaredError,
}

impl LossName {
    /// Parses a Keras loss name.
    pub fn parse(s: &str) -> Result<LossName> {
        Ok(match s {
            "sparse_categorical_crossentropy" => LossName::SparseCategoricalCrossentropy,
            "categorical_crossentropy" => LossName::CategoricalCrossentropy,
            "binary_crossentropy" => LossName::BinaryCrossentropy,
            "mse" | "mean_squared_error" => LossName::MeanSquaredError,
            other => {
                return Err(Error::Config(format!(
                    "unknown loss {other:?}: expected sparse_categorical_crossentropy, categorical_crossentropy, binary_crossentropy or mse"
                )))
            }
        })
    }

    /// Keras's name of the loss.
    pub fn keras_name(&self) -> &'static str {
        match self {
            LossName::SparseCategoricalCrossentropy => "sparse_categorical_crossentropy",
            LossName::CategoricalCrossentropy => "categorical_crossentropy",
            LossName::BinaryCrossentropy => "binary_crossentropy",
            LossName::MeanSquaredError => "mse",
        }
    }

    /// The loss a model's output suggests: binary cross-entropy after a sigmoid, sparse
    /// categorical cross-entropy otherwise.
    pub fn for_model(model: &Sequential) -> LossName {
        if model.output_activation() == ActKind::Sigmoid {
            LossName::BinaryCrossentropy
        } else {
            LossName::SparseCategoricalCrossentropy
        }
    }

    /// Checks that the loss fits the model's output: a softmax cross-entropy needs a
    /// softmax output of at least 2 units, binary cross-entropy a sigmoid output.
    pub fn check(&self, model: &Sequential) -> Result<()> {
        self.kernel(model.output_activation())?;
        let units = model.output_units();
        if matches!(
            self,
            LossName::SparseCategoricalCrossentropy | LossName::CategoricalCrossentropy
        ) && units < 2
        {
            return Err(Error::Config(format!(
                "{} with a softmax output of {units} unit always predicts that unit (loss 0): use 2 or more units, or one sigmoid unit with binary_crossentropy",
                self.keras_name()
            )));
        }
        Ok(())
    }

    /// The loss kernel for a model ending in `last`, and whether the kernel takes the
    /// logits (the last activation fused into the loss).
    pub(crate) fn kernel(&self, last: ActKind) -> Result<(LossKind, bool)> {
        match self {
            LossName::SparseCategoricalCrossentropy | LossName::CategoricalCrossentropy => {
                if last == ActKind::Softmax {
                    Ok((LossKind::SoftmaxCrossEntropy, true))
                } else {
                    Err(Error::Config(format!(
                        "{} needs a softmax output layer (the last activation is {})",
                        self.keras_name(),
                        last.keras_name()
                    )))
                }
            }
            LossName::BinaryCrossentropy => {
                if last == ActKind::Sigmoid {
                    Ok((LossKind::SigmoidBinaryCrossEntropy, true))
                } else {
                    Err(Error::Config(format!(
                        "binary_crossentropy needs a sigmoid output layer (the last activation is {})",
                        last.keras_name()
                    )))
                }
            }
            LossName::MeanSquaredError => Ok((LossKind::MeanSquaredError, false)),
        }
    }
}
