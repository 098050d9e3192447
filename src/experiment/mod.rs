//! The chapter's experiments, each a library function the CLI prints as a table:
//! [`depth`] (activations, initializers and batch norm on a deep MLP: does the gradient
//! reach the lowest layer?) and [`regularization`] (how much of the overfitting gap on a
//! small training set L2, dropout, max-norm and MC dropout close).

pub mod depth;
pub mod regularization;

pub use depth::{configs, network, run_one, DepthConfig, DepthOptions, DepthResult};
