//! `Flatten()`: each sample becomes a vector (no computation on the device).

use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::{typed, FromKeras};
use crate::error::Result;
use crate::nn::layer::{LayerOps, Lowering};

/// Reshapes each sample to a vector.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Flatten;

impl LayerOps for Flatten {
    fn class_name(&self) -> &'static str {
        "Flatten"
    }
    fn output_shape(&self, input: &[usize]) -> std::result::Result<Vec<usize>, String> {
        Ok(vec![input.iter().product()])
    }
    fn lower(&self, cx: &mut Lowering) -> Result<()> {
        // Row-major NHWC data is already flat in Keras's order: (h·W + w)·C + c.
        let features = cx.features();
        cx.reshape(vec![features]);
        Ok(())
    }
    fn keras_config(&self) -> Map<String, Value> {
        let mut c = Map::new();
        c.insert("data_format".into(), json!("channels_last"));
        c
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FlattenConfig {
    #[serde(default)]
    data_format: Option<String>,
}

impl FromKeras for Flatten {
    const CLASSES: &'static [&'static str] = &["Flatten"];
    fn from_keras(_class: &str, config: Map<String, Value>) -> std::result::Result<Self, String> {
        let c: FlattenConfig = typed(config)?;
        match c.data_format.as_deref() {
            None | Some("channels_last") => Ok(Flatten),
            Some(other) => Err(format!("field data_format: {other:?} is not supported")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flattens() {
        assert_eq!(Flatten.output_shape(&[28, 28]).unwrap(), vec![784]);
        assert_eq!(
            Flatten::from_keras("Flatten", Flatten.keras_config()).unwrap(),
            Flatten
        );
    }
}
