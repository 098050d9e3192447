//! The computation graph: IR ([`ir`]), reverse-mode autodiff ([`autodiff`]), peephole
//! fusions ([`fuse`]), the data batch norm's backward without an input gradient
//! ([`data_norm`]), buffer planning ([`plan`]) and the executor that records a whole
//! step into one submit ([`executor`]).

pub mod autodiff;
pub mod data_norm;
pub mod executor;
pub mod fuse;
pub mod ir;
pub mod plan;

pub use executor::{Executor, SyncCost};
pub use ir::{Graph, Node, Reduce, Sync, TensorId, TensorKind};
