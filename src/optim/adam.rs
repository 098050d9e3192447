//! Adam as Keras computes it (`keras/src/optimizers/adam.py`), with t = iterations + 1:
//! `α = lr·sqrt(1 − β₂ᵗ)/(1 − β₁ᵗ)`; `m ← m + (g − m)(1 − β₁)`; `v ← v + (g² − v)(1 − β₂)`;
//! AMSGrad: `v̂ ← max(v̂, v)` replaces v; `w ← w − α·m / (sqrt(v) + ε)`. Keras's defaults:
//! learning rate 0.001, β₁ = 0.9, β₂ = 0.999, ε = 1e-7, no AMSGrad.

use super::{check_range, Clip, Optimizer, Schedule};
use crate::backend::UpdateRule;
use crate::error::Result;

/// `keras.optimizers.Adam`.
#[derive(Clone, Debug, PartialEq)]
pub struct Adam {
    /// Learning rate (a schedule over steps).
    pub learning_rate: Schedule,
    /// First-moment decay.
    pub beta_1: f32,
    /// Second-moment decay.
    pub beta_2: f32,
    /// Added to the root of the second moment.
    pub epsilon: f32,
    /// AMSGrad.
    pub amsgrad: bool,
    /// Gradient clipping.
    pub clip: Clip,
    /// Keras's decoupled weight decay (`w ← w − w·wd·lr` before each step; 0: none).
    pub weight_decay: f32,
}

impl Default for Adam {
    fn default() -> Self {
        Adam {
            learning_rate: Schedule::Constant(0.001),
            beta_1: 0.9,
            beta_2: 0.999,
            epsilon: 1e-7,
            amsgrad: false,
            clip: Clip::None,
            weight_decay: 0.0,
        }
    }
}

/// Checks β₁ and β₂ (shared with Nadam).
pub(crate) fn check_betas(beta_1: f32, beta_2: f32) -> Result<()> {
    check_range("beta_1", beta_1, 0.0, 1.0, false)?;
    check_range("beta_2", beta_2, 0.0, 1.0, false)
}

impl Optimizer for Adam {
    fn name(&self) -> &'static str {
        "adam"
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
        UpdateRule::Adam {
            beta_1: self.beta_1,
            beta_2: self.beta_2,
            epsilon: self.epsilon,
            amsgrad: self.amsgrad,
        }
    }
    fn validate(&self) -> Result<()> {
        check_betas(self.beta_1, self.beta_2)?;
        super::check_divisor_epsilon(self.epsilon)?;
        super::check_non_negative("weight_decay", self.weight_decay)?;
        self.learning_rate.validate()
    }
    /// Scalar 0: α, computed in f32 as Keras does.
    fn step_scalars(&self, iteration: u64, lr: f32, _carry: &mut f32) -> [f32; 4] {
        let t = (iteration + 1) as f32;
        let beta_1_power = self.beta_1.powf(t);
        let beta_2_power = self.beta_2.powf(t);
        [
            lr * (1.0 - beta_2_power).sqrt() / (1.0 - beta_1_power),
            0.0,
            0.0,
            0.0,
        ]
    }
}
