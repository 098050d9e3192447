//! `LeakyReLU(negative_slope)`: `x` for x > 0, else `slope·x`. Keras's layer default slope
//! is 0.3 (the `leaky_relu` activation function's is 0.2).

use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::activation::validate_activation;
use super::{typed, FromKeras};
use crate::backend::ActKind;
use crate::error::Result;
use crate::nn::layer::{LayerOps, Lowering};

/// Leaky ReLU as a layer.
#[derive(Clone, Debug, PartialEq)]
pub struct LeakyRelu {
    /// Slope for negative inputs.
    pub negative_slope: f32,
}

impl Default for LeakyRelu {
    fn default() -> Self {
        LeakyRelu {
            negative_slope: 0.3,
        }
    }
}

impl LayerOps for LeakyRelu {
    fn class_name(&self) -> &'static str {
        "LeakyReLU"
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
        c.insert("negative_slope".into(), json!(self.negative_slope));
        c
    }
    fn activation(&self) -> Option<ActKind> {
        Some(self.act())
    }
}

impl LeakyRelu {
    fn act(&self) -> ActKind {
        ActKind::LeakyRelu {
            alpha: self.negative_slope,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LeakyReluConfig {
    #[serde(default)]
    negative_slope: Option<f32>,
    /// The Keras 2 name of the slope.
    #[serde(default)]
    alpha: Option<f32>,
}

impl FromKeras for LeakyRelu {
    const CLASSES: &'static [&'static str] = &["LeakyReLU"];
    fn from_keras(_class: &str, config: Map<String, Value>) -> std::result::Result<Self, String> {
        let c: LeakyReluConfig = typed(config)?;
        let l = LeakyRelu {
            negative_slope: c.negative_slope.or(c.alpha).unwrap_or(0.3),
        };
        l.validate()?;
        Ok(l)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_slope_and_round_trip() {
        assert_eq!(LeakyRelu::default().negative_slope, 0.3);
        let l = LeakyRelu {
            negative_slope: 0.1,
        };
        assert_eq!(
            LeakyRelu::from_keras("LeakyReLU", l.keras_config()).unwrap(),
            l
        );
    }
}
