//! Gradient clipping with Keras's three optimizer options (`clipvalue`, `clipnorm`,
//! `global_clipnorm`), applied before every optimizer's update.

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
