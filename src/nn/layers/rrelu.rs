//! Randomized leaky ReLU (PyTorch's `RReLU(lower=1/8, upper=1/3)`; Keras has none): while
//! training, each negative element's slope is drawn from U(lower, upper) per step; at
//! inference the slope is `(lower + upper) / 2`.

use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::activation::validate_activation;
use super::{typed, FromKeras};
use crate::backend::ActKind;
use crate::error::Result;
use crate::nn::layer::{LayerOps, Lowering};

/// RReLU as a layer.
#[derive(Clone, Debug, PartialEq)]
pub struct Rrelu {
    /// Lowest slope.
    pub lower: f32,
    /// Highest slope.
    pub upper: f32,
}

impl Default for Rrelu {
    fn default() -> Self {
        Rrelu {
            lower: 1.0 / 8.0,
            upper: 1.0 / 3.0,
        }
    }
}

impl Rrelu {
    fn act(&self) -> ActKind {
        ActKind::Rrelu {
            lower: self.lower,
            upper: self.upper,
        }
    }
}

impl LayerOps for Rrelu {
    fn class_name(&self) -> &'static str {
        "RReLU"
    }
    fn validate(&self) -> std::result::Result<(), String> {
        validate_activation(self.act())
    }
    fn output_shape(&self, input: &[usize]) -> std::result::Result<Vec<usize>, String> {
        Ok(input.to_vec())
    }
    fn lower(&self, cx: &mut Lowering) -> Result<()> {
        cx.activate(self.act());
        Ok(())
    }
    fn keras_config(&self) -> Map<String, Value> {
        let mut c = Map::new();
        c.insert("lower".into(), json!(self.lower));
        c.insert("upper".into(), json!(self.upper));
        c
    }
    fn activation(&self) -> Option<ActKind> {
        Some(self.act())
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RreluConfig {
    #[serde(default)]
    lower: Option<f32>,
    #[serde(default)]
    upper: Option<f32>,
}

impl FromKeras for Rrelu {
    const CLASSES: &'static [&'static str] = &["RReLU"];
    fn from_keras(_class: &str, config: Map<String, Value>) -> std::result::Result<Self, String> {
        let c: RreluConfig = typed(config)?;
        let d = Rrelu::default();
        let l = Rrelu {
            lower: c.lower.unwrap_or(d.lower),
            upper: c.upper.unwrap_or(d.upper),
        };
        l.validate()?;
        Ok(l)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_are_checked() {
        let mut c = Map::new();
        c.insert("lower".into(), json!(0.5));
        c.insert("upper".into(), json!(0.1));
        assert!(Rrelu::from_keras("RReLU", c).is_err());
        let l = Rrelu::default();
        assert_eq!(Rrelu::from_keras("RReLU", l.keras_config()).unwrap(), l);
    }
}
