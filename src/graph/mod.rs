//! The computation graph: IR ([`ir`]), reverse-mode autodiff ([`autodiff`]), peephole
//! fusions ([`fuse`]), buffer planning ([`plan`]) and the executor that records a whole
//! step into one submit ([`executor`]).

pub mod autodiff;
pub mod executor;
pub mod fuse;
pub mod ir;
pub mod plan;

pub use executor::{Executor, SyncCost};
pub use ir::{Graph, Node, Reduce, Sync, TensorId, TensorKind};
