#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

pub mod backend;
pub mod data;
pub mod error;
pub mod graph;
pub mod io;
pub mod nn;
pub mod optim;

pub use backend::{ActKind, Backend, CpuBackend, GpuBackend};
pub use data::Dataset;
pub use error::{Error, Result};
pub use nn::{Compile, Device, FitOptions, Initializer, Layer, LossName, Sequential};
pub use optim::{Clip, Schedule, Sgd};
