//! Keras's Sequential JSON (`model.to_json()`): `{"class_name": "Sequential", "config":
//! {"layers": [{"class_name": "InputLayer", "config": {"batch_shape": [null, 28, 28]}},
//! {"class_name": "Dense", "config": {"units": 300, "activation": "elu", …}}, …]}}`.
//! A bare `{"input_shape": [28, 28], "layers": [...]}` is accepted too. Each layer's
//! config is read by its own kind ([`crate::nn::layers`]), typed: unknown layer classes,
//! unknown fields, wrong types and options that change the math are errors naming the
//! layer and the field.

use std::path::Path;

use serde_json::{json, Map, Value};

use crate::error::{Error, Result};
use crate::nn::layers::{input_layer, LayerKind};
use crate::nn::{Layer, Sequential};

fn err(msg: String) -> Error {
    Error::Config(msg)
}

/// Keys every Keras layer config may carry that are not the kind's own.
const COMMON: [&str; 3] = ["name", "trainable", "dtype"];
/// Keys older Keras versions put on the first layer to give the input shape.
const INPUT_KEYS: [&str; 3] = ["batch_input_shape", "batch_shape", "input_shape"];

fn shape_of(v: &Value, what: &str, batch: bool) -> Result<Vec<usize>> {
    let arr = v
        .as_array()
        .ok_or_else(|| err(format!("model JSON: {what} must be a list, got {v}")))?;
    let dims: Vec<Option<u64>> = arr.iter().map(Value::as_u64).collect();
    let dims = if batch {
        dims
    } else {
        std::iter::once(None).chain(dims).collect()
    };
    input_layer::sample_shape(&dims).map_err(|e| err(format!("model JSON: {what}: {e}")))
}

/// Builds a model from Keras's Sequential JSON (or steadygrad's bare form).
pub fn model_from_json(text: &str, seed: u64) -> Result<Sequential> {
    let v: Value = serde_json::from_str(text).map_err(|e| err(format!("model JSON: {e}")))?;
    let (layers_v, mut input_shape) = match v.get("class_name").and_then(Value::as_str) {
        Some("Sequential") => {
            let c = &v["config"];
            let shape = match c.get("build_input_shape") {
                Some(s) if !s.is_null() => Some(shape_of(s, "build_input_shape", true)?),
                _ => None,
            };
            (c["layers"].clone(), shape)
        }
        Some(class) => {
            return Err(err(format!(
                "model JSON: {class} models are not supported, only Sequential"
            )))
        }
        None => {
            let shape = match v.get("input_shape") {
                Some(s) => Some(shape_of(s, "input_shape", false)?),
                None => None,
            };
            (v["layers"].clone(), shape)
        }
    };
    let arr = layers_v
        .as_array()
        .ok_or_else(|| err("model JSON: no layers list".into()))?;
    let mut layers = Vec::new();
    for (i, l) in arr.iter().enumerate() {
        let class = l["class_name"]
            .as_str()
            .ok_or_else(|| err(format!("model JSON: layer {i} has no class_name")))?;
        let cfg = match l.get("config") {
            Some(Value::Object(m)) => m.clone(),
            // The short form: the layer's fields beside its class name.
            None | Some(Value::Null) => {
                let mut m = l.as_object().cloned().unwrap_or_default();
                for k in ["class_name", "config", "module", "registered_name"] {
                    m.remove(k);
                }
                m
            }
            Some(other) => {
                return Err(err(format!(
                    "model JSON: layer {i} ({class}): config must be an object, got {other}"
                )))
            }
        };
        let name = match cfg.get("name") {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(other) => {
                return Err(err(format!(
                    "model JSON: layer {i} ({class}): field name must be a string, got {other}"
                )))
            }
        };
        let label = if name.is_empty() {
            format!("layer {i} ({class})")
        } else {
            name.clone()
        };
        if class == "InputLayer" {
            input_shape =
                Some(input_layer::from_keras(cfg).map_err(|e| err(format!("{label}: {e}")))?);
            continue;
        }
        let mut own = Map::new();
        for (k, v) in cfg {
            if COMMON.contains(&k.as_str()) {
                continue;
            }
            if INPUT_KEYS.contains(&k.as_str()) {
                if !v.is_null() {
                    input_shape = Some(shape_of(&v, &format!("{label}: {k}"), k != "input_shape")?);
                }
                continue;
            }
            own.insert(k, v);
        }
        let trainable = match cfg_bool(l, "trainable") {
            Ok(t) => t,
            Err(e) => return Err(err(format!("{label}: {e}"))),
        };
        let kind = LayerKind::from_keras(class, own).map_err(|e| err(format!("{label}: {e}")))?;
        let mut layer = Layer::from(kind).named(&name);
        layer.trainable = trainable;
        layers.push(layer);
    }
    let input_shape = input_shape.ok_or_else(|| {
        err("model JSON: no input shape (InputLayer batch_shape or input_shape)".into())
    })?;
    Sequential::new(&input_shape, layers, seed)
}

fn cfg_bool(layer: &Value, key: &str) -> std::result::Result<bool, String> {
    let cfg = layer.get("config").unwrap_or(layer);
    match cfg.get(key) {
        None | Some(Value::Null) => Ok(true),
        Some(Value::Bool(b)) => Ok(*b),
        Some(other) => Err(format!("field {key}: expected a boolean, got {other}")),
    }
}

/// The model's architecture in Keras's `model.to_json()` format. Per-layer learning-rate
/// multipliers (which Keras does not have) go under a separate `steadygrad` key.
pub fn model_to_json(m: &Sequential) -> Value {
    let mut layers = vec![input_layer::to_keras(m.input_shape())];
    for l in m.layers() {
        let mut cfg = Map::new();
        cfg.insert("name".into(), json!(l.name));
        cfg.insert("trainable".into(), json!(l.trainable));
        cfg.insert("dtype".into(), json!("float32"));
        cfg.extend(l.ops().keras_config());
        layers.push(json!({"module": "keras.layers", "class_name": l.class_name(), "config": cfg}));
    }
    json!({
        "module": "keras",
        "class_name": "Sequential",
        "config": {"name": "sequential", "trainable": true, "dtype": "float32", "layers": layers},
        "registered_name": null,
        "steadygrad": {
            "lr_multipliers": m.layers().iter().map(|l| json!([l.name, l.lr_multiplier])).collect::<Vec<_>>()
        }
    })
}

/// Reads [`model_from_json`] from a file.
pub fn model_from_json_file(path: &Path, seed: u64) -> Result<Sequential> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    model_from_json(&text, seed).map_err(|e| match e {
        Error::Config(m) | Error::Shape(m) => Error::ModelFile {
            path: path.to_path_buf(),
            reason: m,
        },
        other => other,
    })
}
