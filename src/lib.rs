//! steadygrad: a deep-learning training engine whose math runs as WebGPU compute shaders,
//! with a plain-Rust CPU reference that every GPU kernel is tested against.

pub mod backend;
pub mod error;

pub use error::{Error, Result};
