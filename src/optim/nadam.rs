//! Nadam as Keras computes it (`keras/src/optimizers/nadam.py`), with t = iterations + 1:
//! `u_t = β₁(1 − ½·0.96ᵗ)`, `u_{t+1} = β₁(1 − ½·0.96ᵗ⁺¹)`, the running product
//! `u_product ← u_product·u_t` (a carried scalar, saved as Keras's `u_product`);
//! `m ← m + (g − m)(1 − β₁)`; `v ← v + (g² − v)(1 − β₂)`;
//! `m̂ = u_{t+1}·m/(1 − u_product·u_{t+1}) + (1 − u_t)·g/(1 − u_product)`;
//! `v̂ = v/(1 − β₂ᵗ)`; `w ← w − lr·m̂/(sqrt(v̂) + ε)`. Keras's defaults: learning rate 0.001,
//! β₁ = 0.9, β₂ = 0.999, ε = 1e-7.

use super::adam::check_betas;
use super::{Clip, Optimizer, Schedule};
use crate::backend::UpdateRule;
use crate::error::Result;

/// `keras.optimizers.Nadam`.
#[derive(Clone, Debug, PartialEq)]
pub struct Nadam {
    /// Learning rate (a schedule over steps).
    pub learning_rate: Schedule,
    /// First-moment decay.
    pub beta_1: f32,
    /// Second-moment decay.
    pub beta_2: f32,
    /// Added to the root of the second moment.
    pub epsilon: f32,
    /// Gradient clipping.
    pub clip: Clip,
    /// Keras's decoupled weight decay (`w ← w − w·wd·lr` before each step; 0: none).
    pub weight_decay: f32,
}

impl Default for Nadam {
    fn default() -> Self {
        Nadam {
            learning_rate: Schedule::Constant(0.001),
            beta_1: 0.9,
            beta_2: 0.999,
            epsilon: 1e-7,
            clip: Clip::None,
            weight_decay: 0.0,
        }
    }
}

impl Nadam {
    fn u(&self, t: f32) -> f32 {
        self.beta_1 * (1.0 - 0.5 * 0.96f32.powf(t))
    }
}

impl Optimizer for Nadam {
    fn name(&self) -> &'static str {
        "nadam"
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
        UpdateRule::Nadam {
            beta_1: self.beta_1,
            beta_2: self.beta_2,
            epsilon: self.epsilon,
        }
    }
    fn validate(&self) -> Result<()> {
        check_betas(self.beta_1, self.beta_2)?;
        super::check_divisor_epsilon(self.epsilon)?;
        super::check_non_negative("weight_decay", self.weight_decay)?;
        self.learning_rate.validate()
    }
    fn carry(&self) -> Option<(&'static str, f32)> {
        Some(("u_product", 1.0))
    }
    /// Scalars: u_t, u_{t+1}, the updated u_product, β₂ᵗ.
    fn step_scalars(&self, iteration: u64, _lr: f32, carry: &mut f32) -> [f32; 4] {
        let t = (iteration + 1) as f32;
        let u_t = self.u(t);
        *carry *= u_t;
        [u_t, self.u(t + 1.0), *carry, self.beta_2.powf(t)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn u_product_is_the_running_product() {
        let n = Nadam::default();
        let mut carry = 1.0;
        let s1 = n.step_scalars(0, 0.001, &mut carry);
        let s2 = n.step_scalars(1, 0.001, &mut carry);
        assert_eq!(s1[2], s1[0]);
        assert!((s2[2] - s1[0] * s2[0]).abs() < 1e-7);
        assert_eq!(s1[1], s2[0], "u_{{t+1}} of one step is u_t of the next");
    }
}
