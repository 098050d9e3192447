//! SGD as Keras computes it (`keras/src/optimizers/sgd.py`):
//! momentum 0: `w ← w − lr·g`; momentum m: `v ← m·v − lr·g; w ← w + v`;
//! Nesterov: `w ← w + m·v − lr·g` with the new v. Clipping happens before the update.

use super::Schedule;
use crate::backend::ClipMode;
use crate::error::{Error, Result};

/// Gradient clipping; at most one kind, as Keras enforces.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub enum Clip {
    /// No clipping.
    #[default]
    None,
    /// Element-wise clamp to [−v, v] (Keras `clipvalue`).
    Value(f32),
    /// Each gradient tensor rescaled to L2 norm ≤ c (Keras `clipnorm`, per variable).
    Norm(f32),
    /// All gradients rescaled jointly to global norm ≤ c (Keras `global_clipnorm`).
    GlobalNorm(f32),
}

impl Clip {
    /// Builds a clip from Keras's three options, rejecting more than one.
    pub fn from_options(
        clipvalue: Option<f32>,
        clipnorm: Option<f32>,
        global_clipnorm: Option<f32>,
    ) -> Result<Clip> {
        let set = [clipvalue, clipnorm, global_clipnorm]
            .iter()
            .filter(|o| o.is_some())
            .count();
        if set > 1 {
            return Err(Error::Config(
                "only one of clipvalue, clipnorm and global_clipnorm may be set (as in Keras)"
                    .into(),
            ));
        }
        for v in [clipvalue, clipnorm, global_clipnorm].into_iter().flatten() {
            if !(v > 0.0 && v.is_finite()) {
                return Err(Error::Config(format!(
                    "clipping threshold {v} must be positive"
                )));
            }
        }
        Ok(match (clipvalue, clipnorm, global_clipnorm) {
            (Some(v), _, _) => Clip::Value(v),
            (_, Some(c), _) => Clip::Norm(c),
            (_, _, Some(c)) => Clip::GlobalNorm(c),
            _ => Clip::None,
        })
    }

    /// The norm-clipping mode the `clip_scale` kernel takes.
    pub fn mode(&self) -> ClipMode {
        match *self {
            Clip::Norm(c) => ClipMode::PerTensorNorm(c),
            Clip::GlobalNorm(c) => ClipMode::GlobalNorm(c),
            _ => ClipMode::None,
        }
    }

    /// The element-wise clamp (0 = off).
    pub fn value(&self) -> f32 {
        match *self {
            Clip::Value(v) => v,
            _ => 0.0,
        }
    }
}

/// Keras's `SGD(learning_rate, momentum, nesterov)` plus clipping.
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

    /// Checks the hyper-parameters.
    pub fn validate(&self) -> Result<()> {
        if !(0.0..1.0).contains(&self.momentum) {
            return Err(Error::Config(format!(
                "momentum {} must be in [0, 1)",
                self.momentum
            )));
        }
        self.learning_rate.validate()
    }
}
