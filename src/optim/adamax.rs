//! Adamax as Keras computes it (`keras/src/optimizers/adamax.py`), with t = iterations + 1:
//! `m ← m + (g − m)(1 − β₁)`; `u ← max(β₂·u, |g|)`; `w ← w − lr·m / ((1 − β₁ᵗ)(u + ε))`.
//! Keras's defaults: learning rate 0.001, β₁ = 0.9, β₂ = 0.999, ε = 1e-7; its variables
//! are `momentum` and `norm`.

use super::adam::check_betas;
use super::{check_non_negative, Clip, Optimizer, Schedule};
use crate::backend::UpdateRule;
use crate::error::Result;

/// `keras.optimizers.Adamax`.
#[derive(Clone, Debug, PartialEq)]
pub struct Adamax {
    /// Learning rate (a schedule over steps).
    pub learning_rate: Schedule,
    /// First-moment decay.
    pub beta_1: f32,
    /// Decay of the infinity norm.
    pub beta_2: f32,
    /// Added to the norm.
    pub epsilon: f32,
    /// Gradient clipping.
    pub clip: Clip,
    /// Keras's decoupled weight decay (`w ← w − w·wd·lr` before each step; 0: none).
    pub weight_decay: f32,
}

impl Default for Adamax {
    fn default() -> Self {
        Adamax {
            learning_rate: Schedule::Constant(0.001),
            beta_1: 0.9,
            beta_2: 0.999,
            epsilon: 1e-7,
            clip: Clip::None,
            weight_decay: 0.0,
        }
    }
}

impl Optimizer for Adamax {
    fn name(&self) -> &'static str {
        "adamax"
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
        UpdateRule::Adamax {
            beta_1: self.beta_1,
            beta_2: self.beta_2,
            epsilon: self.epsilon,
        }
    }
    fn validate(&self) -> Result<()> {
        check_betas(self.beta_1, self.beta_2)?;
        super::check_divisor_epsilon(self.epsilon)?;
        check_non_negative("weight_decay", self.weight_decay)?;
        self.learning_rate.validate()
    }
    /// Scalar 0: 1 − β₁ᵗ, computed in f32 as Keras does.
    fn step_scalars(&self, iteration: u64, _lr: f32, _carry: &mut f32) -> [f32; 4] {
        let t = (iteration + 1) as f32;
        [1.0 - self.beta_1.powf(t), 0.0, 0.0, 0.0]
    }
}
