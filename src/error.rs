//! The crate's error type.

use std::path::PathBuf;

/// Everything that can go wrong in steadygrad, named so a user can act on it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No GPU adapter could be found or opened.
    #[error("no GPU adapter: {0}")]
    NoAdapter(String),
    /// The GPU device reported an error (validation, out of memory, device lost).
    #[error("GPU error: {0}")]
    Gpu(String),
    /// A tensor or buffer has the wrong shape or size.
    #[error("shape mismatch: {0}")]
    Shape(String),
    /// A user-supplied configuration value is invalid.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// A data file could not be parsed.
    #[error("{path}: {reason}")]
    Data {
        /// The offending file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The data set content is invalid (labels out of range, NaN, empty).
    #[error("invalid data: {0}")]
    InvalidData(String),
    /// Training produced a non-finite gradient.
    #[error("non-finite gradient in {layer} (tensor {tensor}) at step {step}: training stopped; try a lower learning rate, gradient clipping (--clipnorm) or batch normalization")]
    NonFinite {
        /// Layer name, e.g. `dense_2`.
        layer: String,
        /// Weight name, e.g. `dense_2/kernel`.
        tensor: String,
        /// The global step (counting from 0) at which it happened.
        step: u64,
    },
    /// Training diverged: the loss or the gradient norm grew far past where it started.
    #[error("training diverged at step {step}: {reason}; the gradient of {layer} grew most: try a lower learning rate, gradient clipping (--clipnorm) or batch normalization")]
    Diverged {
        /// What grew, by how much.
        reason: String,
        /// The layer whose gradient norm grew most since the start.
        layer: String,
        /// The global step (counting from 0) at which it was seen.
        step: u64,
    },
    /// A model file is missing a tensor, has one of the wrong shape, or is malformed.
    #[error("model file {path}: {reason}")]
    ModelFile {
        /// The offending file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// Data-parallel training failed: a rank disagrees, left, or the transport failed.
    #[error("distributed training: {0}")]
    Distributed(String),
    /// An I/O error with the path it concerned.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

/// Shorthand for results in this crate.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}
