//! SGD as Keras computes it (`keras/src/optimizers/sgd.py`): momentum 0: `w ← w − lr·g`;
//! momentum m: `v ← m·v − lr·g; w ← w + v`; Nesterov: `w ← w + m·v − lr·g` with the new v.
//! Keras's defaults: learning rate 0.01, momentum 0, no Nesterov.

use super::{check_range, Clip, Optimizer, Schedule};
use crate::backend::UpdateRule;
use crate::error::Result;

/// `keras.optimizers.SGD`.
#[derive(Clone, Debug, PartialEq)]
pub struct Sgd {
    /// Learning rate (a schedule over steps).
    pub learning_rate: Schedule,
    /// Momentum (0 = plain SGD; Nesterov is then ignored, as in Keras).
    pub momentum: f32,
    /// Nesterov accelerated gradient.
    pub nesterov: bool,
    /// Gradient clipping.
    pub clip: Clip,
}

impl Default for Sgd {
    /// Keras's defaults: learning rate 0.01, no momentum.
    fn default() -> Self {
        Sgd::new(0.01)
    }
}

impl Sgd {
    /// Plain SGD with a constant learning rate.
    pub fn new(learning_rate: f32) -> Self {
        Sgd {
            learning_rate: Schedule::Constant(learning_rate),
            momentum: 0.0,
            nesterov: false,
            clip: Clip::None,
        }
    }

    /// Sets the momentum.
    pub fn momentum(mut self, m: f32) -> Self {
        self.momentum = m;
        self
    }

    /// Enables or disables Nesterov.
    pub fn nesterov(mut self, on: bool) -> Self {
        self.nesterov = on;
        self
    }

    /// Sets the clipping.
    pub fn clip(mut self, clip: Clip) -> Self {
        self.clip = clip;
        self
    }

    /// Sets a learning-rate schedule.
    pub fn schedule(mut self, s: Schedule) -> Self {
        self.learning_rate = s;
        self
    }
}

impl Optimizer for Sgd {
    fn name(&self) -> &'static str {
        "sgd"
    }
    fn learning_rate(&self) -> &Schedule {
        &self.learning_rate
    }
    fn clip(&self) -> Clip {
        self.clip
    }
    fn rule(&self) -> UpdateRule {
        UpdateRule::Sgd {
            momentum: self.momentum,
            nesterov: self.nesterov,
        }
    }
    fn validate(&self) -> Result<()> {
        check_range("momentum", self.momentum, 0.0, 1.0, false)?;
        self.learning_rate.validate()
    }
}
