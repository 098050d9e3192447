//! RMSprop as Keras computes it (`keras/src/optimizers/rmsprop.py`):
//! `v ← ρ·v + (1 − ρ)·g²`; centered: `ḡ ← ρ·ḡ + (1 − ρ)·g`, denominator `v − ḡ² + ε`,
//! else `v + ε`; `inc = lr·g / sqrt(denominator)`; with momentum `m ← μ·m + inc,
//! w ← w − m`, else `w ← w − inc`. Keras's defaults: learning rate 0.001, ρ = 0.9,
//! momentum 0, ε = 1e-7, not centered.

use super::{check_epsilon, check_range, Clip, Optimizer, Schedule};
use crate::backend::UpdateRule;
use crate::error::Result;

/// `keras.optimizers.RMSprop`.
#[derive(Clone, Debug, PartialEq)]
pub struct Rmsprop {
    /// Learning rate (a schedule over steps).
    pub learning_rate: Schedule,
    /// Discount of the squared-gradient average.
    pub rho: f32,
    /// Momentum (0 = none).
    pub momentum: f32,
    /// Added to the denominator.
    pub epsilon: f32,
    /// Normalize by the estimated variance of the gradient.
    pub centered: bool,
    /// Gradient clipping.
    pub clip: Clip,
}

impl Default for Rmsprop {
    fn default() -> Self {
        Rmsprop {
            learning_rate: Schedule::Constant(0.001),
            rho: 0.9,
            momentum: 0.0,
            epsilon: 1e-7,
            centered: false,
            clip: Clip::None,
        }
    }
}

impl Optimizer for Rmsprop {
    fn name(&self) -> &'static str {
        "rmsprop"
    }
    fn learning_rate(&self) -> &Schedule {
        &self.learning_rate
    }
    fn clip(&self) -> Clip {
        self.clip
    }
    fn rule(&self) -> UpdateRule {
        UpdateRule::Rmsprop {
            rho: self.rho,
            momentum: self.momentum,
            epsilon: self.epsilon,
            centered: self.centered,
        }
    }
    fn validate(&self) -> Result<()> {
        check_range("rho", self.rho, 0.0, 1.0, false)?;
        check_range("momentum", self.momentum, 0.0, 1.0, false)?;
        check_epsilon(self.epsilon)?;
        self.learning_rate.validate()
    }
}
