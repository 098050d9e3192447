//! `Reshape(target_shape)`: each sample's values in another shape of as many values, in
//! the same row-major order (one dimension may be −1, inferred as Keras infers it). No
//! computation on the device.

use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::{typed, FromKeras};
use crate::error::Result;
use crate::nn::layer::{LayerOps, Lowering};

/// Reshapes each sample.
#[derive(Clone, Debug, PartialEq)]
pub struct Reshape {
    /// The sample shape, −1 for the one dimension to infer.
    pub target_shape: Vec<i64>,
}

impl Reshape {
    /// `Reshape(shape)`.
    pub fn new(shape: &[usize]) -> Reshape {
        Reshape {
            target_shape: shape.iter().map(|&d| d as i64).collect(),
        }
    }
}

impl LayerOps for Reshape {
    fn class_name(&self) -> &'static str {
        "Reshape"
    }
    fn validate(&self) -> std::result::Result<(), String> {
        let unknown = self.target_shape.iter().filter(|&&d| d == -1).count();
        if self.target_shape.is_empty()
            || unknown > 1
            || self.target_shape.iter().any(|&d| d == 0 || d < -1)
        {
            return Err(format!(
                "target_shape {:?}: dimensions must be positive, with at most one -1",
                self.target_shape
            ));
        }
        Ok(())
    }
    fn output_shape(&self, input: &[usize]) -> std::result::Result<Vec<usize>, String> {
        self.validate()?;
        let n: usize = input.iter().product();
        let known = self
            .target_shape
            .iter()
            .filter(|&&d| d > 0)
            .try_fold(1usize, |acc, &d| acc.checked_mul(d as usize))
            .ok_or_else(|| format!("target_shape {:?} is too large", self.target_shape))?;
        let out: Vec<usize> = if self.target_shape.contains(&-1) {
            if known == 0 || !n.is_multiple_of(known) {
                return Err(format!(
                    "target_shape {:?} does not divide an input of {n} values ({input:?})",
                    self.target_shape
                ));
            }
            (self.target_shape.iter())
                .map(|&d| if d == -1 { n / known } else { d as usize })
                .collect()
        } else {
            self.target_shape.iter().map(|&d| d as usize).collect()
        };
        if out.iter().product::<usize>() != n {
            return Err(format!(
                "target_shape {:?} holds {} values, the input {input:?} holds {n}",
                self.target_shape,
                out.iter().product::<usize>()
            ));
        }
        Ok(out)
    }
    fn lower(&self, cx: &mut Lowering) -> Result<()> {
        let shape = self
            .output_shape(cx.shape())
            .map_err(|e| crate::Error::Shape(format!("{}: {e}", cx.layer_name())))?;
        cx.reshape(shape);
        Ok(())
    }
    fn keras_config(&self) -> Map<String, Value> {
        let mut c = Map::new();
        c.insert("target_shape".into(), json!(self.target_shape));
        c
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReshapeConfig {
    target_shape: Vec<i64>,
}

impl FromKeras for Reshape {
    const CLASSES: &'static [&'static str] = &["Reshape"];
    fn from_keras(_class: &str, config: Map<String, Value>) -> std::result::Result<Self, String> {
        let c: ReshapeConfig = typed(config)?;
        let r = Reshape {
            target_shape: c.target_shape,
        };
        r.validate()?;
        Ok(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn infers_and_checks() {
        let r = Reshape::new(&[28, 28, 1]);
        assert_eq!(r.output_shape(&[28, 28]).unwrap(), vec![28, 28, 1]);
        let r = Reshape {
            target_shape: vec![-1, 4],
        };
        assert_eq!(r.output_shape(&[6, 2]).unwrap(), vec![3, 4]);
        assert!(r.output_shape(&[7]).is_err());
        assert!(Reshape::new(&[5, 5]).output_shape(&[28, 28]).is_err());
        assert!(Reshape::from_keras("Reshape", r.keras_config()).is_ok());
        let bad = Reshape {
            target_shape: vec![-1, -1],
        };
        assert!(bad.validate().is_err());
    }
}
