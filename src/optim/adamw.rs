//! AdamW as Keras defines it (`keras/src/optimizers/adamw.py`): Adam with Keras's
//! decoupled weight decay, `w ← w − w·wd·lr` before each Adam step, the weight decay
//! defaulting to 0.004 (the rest of Keras's defaults as Adam's: learning rate 0.001,
//! β₁ = 0.9, β₂ = 0.999, ε = 1e-7). Its state is Adam's, saved under the name `adamw`.

use super::{Adam, Clip, Optimizer, Schedule};
use crate::backend::UpdateRule;
use crate::error::Result;

/// `keras.optimizers.AdamW`.
#[derive(Clone, Debug, PartialEq)]
pub struct AdamW(pub Adam);

impl Default for AdamW {
    fn default() -> Self {
        AdamW(Adam {
            weight_decay: 0.004,
            ..Adam::default()
        })
    }
}

impl Optimizer for AdamW {
    fn name(&self) -> &'static str {
        "adamw"
    }
    fn learning_rate(&self) -> &Schedule {
        self.0.learning_rate()
    }
    fn clip(&self) -> Clip {
        self.0.clip()
    }
    fn weight_decay(&self) -> f32 {
        self.0.weight_decay
    }
    fn set_learning_rate(&mut self, lr: Schedule) {
        self.0.set_learning_rate(lr);
    }
    fn rule(&self) -> UpdateRule {
        self.0.rule()
    }
    fn validate(&self) -> Result<()> {
        self.0.validate()
    }
    fn step_scalars(&self, iteration: u64, lr: f32, carry: &mut f32) -> [f32; 4] {
        self.0.step_scalars(iteration, lr, carry)
    }
}
