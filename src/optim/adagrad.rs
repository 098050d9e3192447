//! Adagrad as Keras computes it (`keras/src/optimizers/adagrad.py`):
//! `acc ← acc + g²; w ← w − lr·g / sqrt(acc + ε)`, the accumulator starting at
//! `initial_accumulator_value`. Keras's defaults: learning rate 0.001, initial accumulator
//! 0.1, ε = 1e-7.

use super::{check_epsilon, check_non_negative, Clip, Optimizer, Schedule};
use crate::backend::UpdateRule;
use crate::error::{Error, Result};

/// `keras.optimizers.Adagrad`.
#[derive(Clone, Debug, PartialEq)]
pub struct Adagrad {
    /// Learning rate (a schedule over steps).
    pub learning_rate: Schedule,
    /// Starting value of every accumulator.
    pub initial_accumulator_value: f32,
    /// Added under the square root.
    pub epsilon: f32,
    /// Gradient clipping.
    pub clip: Clip,
    /// Keras's decoupled weight decay (`w ← w − w·wd·lr` before each step; 0: none).
    pub weight_decay: f32,
}

impl Default for Adagrad {
    fn default() -> Self {
        Adagrad {
            learning_rate: Schedule::Constant(0.001),
            initial_accumulator_value: 0.1,
            epsilon: 1e-7,
            clip: Clip::None,
            weight_decay: 0.0,
        }
    }
}

impl Optimizer for Adagrad {
    fn name(&self) -> &'static str {
        "adagrad"
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
        UpdateRule::Adagrad {
            epsilon: self.epsilon,
        }
    }
    fn validate(&self) -> Result<()> {
        check_non_negative("initial_accumulator_value", self.initial_accumulator_value)?;
        check_epsilon(self.epsilon)?;
        if self.epsilon == 0.0 && self.initial_accumulator_value == 0.0 {
            return Err(Error::Config(
                "epsilon = 0 with initial_accumulator_value = 0: the first update would divide \
                 by zero; make one of them > 0"
                    .into(),
            ));
        }
        super::check_non_negative("weight_decay", self.weight_decay)?;
        self.learning_rate.validate()
    }
    fn slot_initial(&self, _slot: &str) -> f32 {
        self.initial_accumulator_value
    }
}
