//! steadygrad: a deep-learning training engine whose math runs as WebGPU compute shaders,
//! with a plain-Rust CPU reference that every GPU kernel is tested against.

pub mod backend;
pub mod error;
pub mod graph;
pub mod io;

pub use error::{Error, Result};
pub mod data;
pub mod nn;
pub mod optim;

pub use backend::{ActKind, Backend, CpuBackend, GpuBackend};
pub use data::Dataset;
pub use nn::{Compile, Device, FitOptions, Initializer, Layer, LossName, Sequential};
pub use optim::{Clip, Schedule, Sgd};
