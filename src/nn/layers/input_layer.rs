//! Keras's `InputLayer`: not a layer of the stack but the model's input shape, written as
//! the first entry of a Sequential's `layers` list (`batch_shape: [null, 28, 28]`).

use serde::Deserialize;
use serde_json::{json, Value};

use super::typed;

/// The InputLayer entry for samples of `shape`.
pub fn to_keras(shape: &[usize]) -> Value {
    let mut batch: Vec<Value> = vec![Value::Null];
    batch.extend(shape.iter().map(|&d| json!(d)));
    json!({"module": "keras.layers", "class_name": "InputLayer",
           "config": {"batch_shape": batch, "dtype": "float32", "sparse": false, "name": "input_layer"}})
}

// Fields Keras writes that do not change the math (or are checked to be null first) are
// listed so unknown fields can be refused; they are read only by serde.
#[allow(dead_code)]
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InputConfig {
    #[serde(default)]
    batch_shape: Option<Vec<Option<u64>>>,
    #[serde(default)]
    batch_input_shape: Option<Vec<Option<u64>>>,
    #[serde(default)]
    dtype: Value,
    #[serde(default)]
    sparse: Value,
    #[serde(default)]
    ragged: Value,
    #[serde(default)]
    optional: Value,
    #[serde(default)]
    name: Value,
}

/// Reads a batch shape (`[null, 28, 28]`): the first entry is the batch axis.
pub fn sample_shape(batch: &[Option<u64>]) -> std::result::Result<Vec<usize>, String> {
    if batch.len() < 2 {
        return Err(format!(
            "batch shape {batch:?} has no sample dimensions (expected [null, d1, …])"
        ));
    }
    batch[1..]
        .iter()
        .map(|d| match d {
            Some(d) if *d > 0 => {
                usize::try_from(*d).map_err(|_| format!("dimension {d} is too large"))
            }
            _ => Err(format!(
                "batch shape {batch:?}: every sample dimension must be a positive integer"
            )),
        })
        .collect()
}

/// The sample shape of an InputLayer config.
pub fn from_keras(
    config: serde_json::Map<String, Value>,
) -> std::result::Result<Vec<usize>, String> {
    let c: InputConfig = typed(config)?;
    let batch = c
        .batch_shape
        .or(c.batch_input_shape)
        .ok_or("InputLayer has no batch_shape")?;
    sample_shape(&batch)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        let v = to_keras(&[28, 28]);
        let cfg = v["config"].as_object().unwrap().clone();
        assert_eq!(from_keras(cfg).unwrap(), vec![28, 28]);
        assert!(
            sample_shape(&[]).is_err(),
            "an empty batch_shape is an error, not a panic"
        );
        assert!(sample_shape(&[None]).is_err());
        assert!(sample_shape(&[None, Some(0)]).is_err());
    }
}
