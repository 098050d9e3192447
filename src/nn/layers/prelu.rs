//! `PReLU()`: `max(x, 0) + alpha·min(x, 0)` with one learned slope per unit, initialized
//! to zeros as Keras does.

use serde_json::{Map, Value};

use super::{reject_set, FromKeras};
use crate::backend::Kernel;
use crate::error::Result;
use crate::nn::init::Initializer;
use crate::nn::layer::{LayerOps, Lowering, WeightSpec};

/// Parametric ReLU.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Prelu;

impl LayerOps for Prelu {
    fn class_name(&self) -> &'static str {
        "PReLU"
    }
    fn output_shape(&self, input: &[usize]) -> std::result::Result<Vec<usize>, String> {
        if input.len() != 1 {
            return Err(format!(
                "PReLU receives samples of shape {input:?}; add a Flatten layer before it"
            ));
        }
        Ok(input.to_vec())
    }
    fn weight_specs(&self, input: &[usize]) -> Vec<WeightSpec> {
        // Keras: one alpha per input value, of the sample's shape.
        vec![WeightSpec::new(
            "alpha",
            input.to_vec(),
            Initializer::Zeros,
            true,
        )]
    }
    fn lower(&self, cx: &mut Lowering) -> Result<()> {
        let x = cx.input();
        let (rows, cols) = (cx.rows, cx.features());
        let alpha = cx.weight("alpha")?;
        let y = cx.g.temp(format!("{}/out", cx.layer_name()), &[rows, cols]);
        cx.g.push(Kernel::PreluForward { rows, cols }, vec![x, alpha, y]);
        let shape = cx.shape().to_vec();
        cx.set_output(y, shape);
        cx.record("prelu", y);
        Ok(())
    }
    fn keras_config(&self) -> Map<String, Value> {
        let mut c = Map::new();
        c.insert("alpha_initializer".into(), Initializer::Zeros.to_keras());
        for k in ["alpha_regularizer", "alpha_constraint", "shared_axes"] {
            c.insert(k.into(), Value::Null);
        }
        c
    }
}

impl FromKeras for Prelu {
    const CLASSES: &'static [&'static str] = &["PReLU"];
    fn from_keras(_class: &str, config: Map<String, Value>) -> std::result::Result<Self, String> {
        reject_set(
            &config,
            &["alpha_regularizer", "alpha_constraint", "shared_axes"],
        )?;
        for k in config.keys() {
            if ![
                "alpha_initializer",
                "alpha_regularizer",
                "alpha_constraint",
                "shared_axes",
            ]
            .contains(&k.as_str())
            {
                return Err(format!("unknown field {k}"));
            }
        }
        let init = Initializer::from_keras(config.get("alpha_initializer"), Initializer::Zeros)
            .map_err(|e| format!("field alpha_initializer: {e}"))?;
        if init != Initializer::Zeros {
            return Err("field alpha_initializer: only zeros is supported".into());
        }
        Ok(Prelu)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_alpha_per_unit() {
        assert_eq!(Prelu.weight_specs(&[6])[0].shape, vec![6]);
        assert_eq!(
            Prelu::from_keras("PReLU", Prelu.keras_config()).unwrap(),
            Prelu
        );
    }
}
