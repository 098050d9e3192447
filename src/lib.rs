#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

pub mod backend;
pub mod bench;
pub mod chart;
pub mod data;
pub mod dist;
pub mod error;
pub mod experiment;
pub mod graph;
pub mod health;
pub mod io;
pub mod nn;
pub mod optim;
pub mod train;

pub use backend::{ActKind, Backend, CpuBackend, GpuBackend};
pub use data::Dataset;
pub use error::{Error, Result};
pub use nn::{Dense, Initializer, Layer, Sequential};
pub use optim::{Adagrad, Adam, AdamW, Adamax, Clip, Nadam, Optimizer, Rmsprop, Schedule, Sgd};
pub use train::{Device, FitOptions, LossName, Session};
