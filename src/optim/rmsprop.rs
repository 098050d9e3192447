//! RMSprop as Keras computes it (`keras/src/optimizers/rmsprop.py`):
//! `v ← ρ·v + (1 − ρ)·g²`; centered: `ḡ ← ρ·ḡ + (1 − ρ)·g`, denominator `v − ḡ² + ε`,
//! else `v + ε`; `inc = lr·g / sqrt(denominator)`; with momentum `m ← μ·m + inc,
//! w ← w − m`, else `w ← w − inc`. Keras's defaults: learning rate 0.001, ρ = 0.9,
//! momentum 0, ε = 1e-7, not centered.

use super::{check_range, Clip, Optimizer, Schedule};
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
    /// Keras's decoupled weight decay (`w ← w − w·wd·lr` before each step; 0: none).
    pub weight_decay: f32,
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
            weight_decay: 0.0,
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
    fn weight_decay(&self) -> f32 {
        self.weight_decay
    }
    fn set_learning_rate(&mut self, lr: Schedule) {
        self.learning_rate = lr;
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
        super::check_divisor_epsilon(self.epsilon)?;
        super::check_non_negative("weight_decay", self.weight_decay)?;
        self.learning_rate.validate()
    }
    /// Scalar 0: the step's momentum (the schedule's, under 1cycle).
    fn step_scalars(&self, iteration: u64, _lr: f32, _carry: &mut f32) -> [f32; 4] {
        [
            self.learning_rate.momentum_at(iteration, self.momentum),
            0.0,
            0.0,
            0.0,
        ]
    }
}
