//! `Dropout(rate, noise_shape, seed)` and `AlphaDropout(rate, noise_shape, seed)`, with
//! Keras's semantics: while training, inverted dropout keeps each unit with probability
//! `1 − rate` and scales the kept ones by `1/(1 − rate)`; alpha dropout (for SELU
//! networks) sets dropped units to SELU's negative saturation and applies Keras's affine
//! correction, keeping the mean and variance. At inference both are the identity (and
//! lower to nothing) — except for MC dropout's predictions, which keep them active. A
//! `noise_shape` entry of 1 shares one draw along that axis (e.g. `[null, 1, 1, C]` drops
//! whole channels). Masks come from the engine's counter-based generator, seeded per layer
//! (and by `seed` when given), drawn afresh each step: the CPU reference and the GPU draw
//! the same mask for the same seed and step (Keras's own random stream is not reproduced).

use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::{typed, FromKeras};
use crate::backend::ops::regularization::DropoutMask;
use crate::backend::{pcg, Kernel};
use crate::error::Result;
use crate::nn::layer::{LayerOps, Lowering};

/// A dropout layer.
#[derive(Clone, Debug, PartialEq)]
pub struct Dropout {
    /// Fraction of units dropped, in [0, 1).
    pub rate: f32,
    /// Keras's `noise_shape` (`None` for the batch axis), or `None`: every unit drawn.
    pub noise_shape: Option<Vec<Option<usize>>>,
    /// A seed mixed into the layer's generator seed.
    pub seed: Option<u64>,
    /// `AlphaDropout` rather than `Dropout`.
    pub alpha: bool,
}

impl Dropout {
    /// `Dropout(rate)`.
    pub fn new(rate: f32) -> Dropout {
        Dropout {
            rate,
            noise_shape: None,
            seed: None,
            alpha: false,
        }
    }

    /// `AlphaDropout(rate)`.
    pub fn alpha(rate: f32) -> Dropout {
        Dropout {
            alpha: true,
            ..Dropout::new(rate)
        }
    }

    /// Which axes (the batch first, then the sample's, padded on the left to three) share
    /// one draw, for samples of `shape`.
    fn shared(&self, shape: &[usize]) -> std::result::Result<[bool; 4], String> {
        let mut shared = [false; 4];
        let Some(noise) = &self.noise_shape else {
            return Ok(shared);
        };
        if noise.len() != shape.len() + 1 {
            return Err(format!(
                "noise_shape {noise:?} has {} axes; the input has {} (with the batch)",
                noise.len(),
                shape.len() + 1
            ));
        }
        if shape.len() > 3 {
            return Err(format!(
                "noise_shape on inputs of {} axes is not supported (at most 3 besides the batch)",
                shape.len()
            ));
        }
        shared[0] = noise[0] == Some(1);
        let pad = 3 - shape.len();
        for (k, (&d, n)) in shape.iter().zip(&noise[1..]).enumerate() {
            match *n {
                Some(1) if d != 1 => shared[pad + k + 1] = true,
                None => {}
                Some(v) if v == d => {}
                Some(v) => {
                    return Err(format!(
                        "noise_shape {noise:?}: {v} is neither 1 nor the input's {d}"
                    ))
                }
            }
        }
        Ok(shared)
    }
}

impl LayerOps for Dropout {
    fn class_name(&self) -> &'static str {
        if self.alpha {
            "AlphaDropout"
        } else {
            "Dropout"
        }
    }
    fn validate(&self) -> std::result::Result<(), String> {
        if !(self.rate.is_finite() && (0.0..1.0).contains(&self.rate)) {
            return Err(format!("rate {} must be in [0, 1)", self.rate));
        }
        Ok(())
    }
    fn output_shape(&self, input: &[usize]) -> std::result::Result<Vec<usize>, String> {
        self.shared(input)?;
        Ok(input.to_vec())
    }
    fn lower(&self, cx: &mut Lowering) -> Result<()> {
        if !cx.dropout || self.rate == 0.0 {
            return Ok(());
        }
        let x = cx.input();
        let shape = cx.shape().to_vec();
        let shared = self
            .shared(&shape)
            .map_err(|e| crate::Error::Shape(format!("{}: {e}", cx.layer_name())))?;
        let mut sample = [1usize; 3];
        sample[3 - shape.len()..].copy_from_slice(&shape);
        let seed = match self.seed {
            Some(s) => pcg(cx.layer_seed() ^ pcg(s as u32 ^ pcg((s >> 32) as u32))) & 0xff_ffff,
            None => cx.layer_seed(),
        };
        let mask = DropoutMask {
            rows: cx.rows,
            sample,
            shared,
            rate: self.rate,
            seed,
            alpha: self.alpha,
        };
        let name = format!("{}/out", cx.layer_name());
        let y = cx.g.temp(name, &[cx.rows, cx.features()]);
        let step = cx.step();
        cx.g.push(Kernel::Dropout { mask }, vec![x, y, step]);
        cx.set_output(y, shape);
        Ok(())
    }
    fn keras_config(&self) -> Map<String, Value> {
        let mut c = Map::new();
        c.insert("rate".into(), json!(self.rate));
        c.insert("seed".into(), json!(self.seed));
        c.insert("noise_shape".into(), json!(self.noise_shape));
        c
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DropoutConfig {
    rate: f32,
    #[serde(default)]
    noise_shape: Option<Vec<Option<usize>>>,
    #[serde(default)]
    seed: Option<u64>,
}

impl FromKeras for Dropout {
    const CLASSES: &'static [&'static str] = &["Dropout", "AlphaDropout"];
    fn from_keras(class: &str, config: Map<String, Value>) -> std::result::Result<Self, String> {
        let c: DropoutConfig = typed(config)?;
        let d = Dropout {
            rate: c.rate,
            noise_shape: c.noise_shape,
            seed: c.seed,
            alpha: class == "AlphaDropout",
        };
        d.validate().map_err(|e| format!("field {e}"))?;
        Ok(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configs_round_trip_and_bad_rates_are_named() {
        let d = Dropout::new(0.3);
        assert_eq!(Dropout::from_keras("Dropout", d.keras_config()).unwrap(), d);
        let a = Dropout::alpha(0.1);
        assert_eq!(
            Dropout::from_keras("AlphaDropout", a.keras_config()).unwrap(),
            a
        );
        for bad in [1.0, -0.1, f32::NAN] {
            let mut c = d.keras_config();
            c.insert("rate".into(), json!(bad));
            let e = Dropout::from_keras("Dropout", c).unwrap_err();
            assert!(e.contains("rate"), "{e}");
        }
    }

    #[test]
    fn noise_shapes_share_draws_along_their_ones() {
        let d = Dropout {
            noise_shape: Some(vec![None, Some(1), Some(1), Some(8)]),
            ..Dropout::new(0.5)
        };
        assert_eq!(d.shared(&[5, 5, 8]).unwrap(), [false, true, true, false]);
        assert!(d.output_shape(&[5, 8]).is_err());
        let bad = Dropout {
            noise_shape: Some(vec![None, Some(3)]),
            ..Dropout::new(0.5)
        };
        assert!(bad.output_shape(&[8]).is_err());
    }
}
