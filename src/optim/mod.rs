//! Optimization: Keras's SGD with momentum and Nesterov ([`Sgd`]), gradient clipping
//! ([`Clip`]) and learning-rate schedules ([`Schedule`]). The update itself runs as the
//! fused `sgd_update` kernel inside the training step's one submit.

pub mod schedule;
pub mod sgd;

pub use schedule::Schedule;
pub use sgd::{Clip, Sgd};
