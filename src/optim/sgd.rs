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
    /// Keras's decoupled weight decay (`w ← w − w·wd·lr` before each step; 0: none).
    pub weight_decay: f32,
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
            weight_decay: 0.0,
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

    /// Sets the decoupled weight decay.
    pub fn with_weight_decay(mut self, wd: f32) -> Self {
        self.weight_decay = wd;
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
    fn weight_decay(&self) -> f32 {
        self.weight_decay
    }
    fn set_learning_rate(&mut self, lr: Schedule) {
        self.learning_rate = lr;
    }
    fn rule(&self) -> UpdateRule {
        UpdateRule::Sgd {
            momentum: self.momentum,
            nesterov: self.nesterov,
        }
    }
    fn validate(&self) -> Result<()> {
        check_range("momentum", self.momentum, 0.0, 1.0, false)?;
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
