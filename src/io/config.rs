//! Keras's Sequential JSON (`model.to_json()`): `{"class_name": "Sequential", "config":
//! {"layers": [{"class_name": "InputLayer", "config": {"batch_shape": [null, 28, 28]}},
//! {"class_name": "Dense", "config": {"units": 300, "activation": "elu", …}}, …]}}`.
//! A bare `{"input_shape": [28, 28], "layers": [...]}` is accepted too. Unknown layer
//! classes, activations, initializers and options that change the math are errors that
//! name them.

use std::path::Path;

use serde_json::Value;

use crate::backend::ActKind;
use crate::error::{Error, Result};
use crate::nn::layers::{parse_activation, BatchNorm, Layer, LayerKind};
use crate::nn::{Initializer, Sequential};

fn err(msg: String) -> Error {
    Error::Config(msg)
}

fn activation_of(v: &Value, layer: &str) -> Result<(ActKind, bool)> {
    // Returns the activation and whether it was a PReLU layer instance.
    match v {
        Value::Null => Ok((ActKind::Linear, false)),
        Value::String(s) => Ok((
            parse_activation(s).map_err(|e| err(format!("{layer}: {e}")))?,
            false,
        )),
        Value::Object(_) => {
            let class = v["class_name"].as_str().unwrap_or("");
            let cfg = &v["config"];
            let kind = layer_kind(class, cfg, layer)?;
            match kind {
                LayerKind::Activation(a) => Ok((a, false)),
                LayerKind::PRelu => Ok((ActKind::Linear, true)),
                _ => Err(err(format!(
                    "{layer}: {class} cannot be used as an activation"
                ))),
            }
        }
        other => Err(err(format!("{layer}: unsupported activation {other}"))),
    }
}

fn initializer_of(v: &Value, layer: &str) -> Result<Initializer> {
    match v {
        Value::Null => Ok(Initializer::GLOROT_UNIFORM),
        Value::String(s) => Initializer::from_name(s),
        Value::Object(_) => {
            let class = v["class_name"].as_str().unwrap_or("");
            let cfg = &v["config"];
            match class {
                "Constant" => Ok(Initializer::Constant(
                    cfg["value"].as_f64().unwrap_or(0.0) as f32
                )),
                "RandomNormal" => Ok(Initializer::RandomNormal {
                    mean: cfg["mean"].as_f64().unwrap_or(0.0) as f32,
                    stddev: cfg["stddev"].as_f64().unwrap_or(0.05) as f32,
                }),
                "VarianceScaling" => {
                    use crate::nn::init::{Distribution, FanMode};
                    let mode = match cfg["mode"].as_str().unwrap_or("fan_in") {
                        "fan_in" => FanMode::FanIn,
                        "fan_out" => FanMode::FanOut,
                        "fan_avg" => FanMode::FanAvg,
                        m => {
                            return Err(err(format!("{layer}: unknown VarianceScaling mode {m:?}")))
                        }
                    };
                    let distribution =
                        match cfg["distribution"].as_str().unwrap_or("truncated_normal") {
                            "uniform" => Distribution::Uniform,
                            "truncated_normal" | "normal" => Distribution::TruncatedNormal,
                            "untruncated_normal" => Distribution::UntruncatedNormal,
                            d => {
                                return Err(err(format!(
                                    "{layer}: unknown VarianceScaling distribution {d:?}"
                                )))
                            }
                        };
                    Ok(Initializer::VarianceScaling {
                        scale: cfg["scale"].as_f64().unwrap_or(1.0),
                        mode,
                        distribution,
                    })
                }
                other => {
                    // GlorotUniform → glorot_uniform, HeNormal → he_normal, Zeros → zeros …
                    Initializer::from_name(&crate::nn::layers::to_snake_case(other))
                        .map_err(|_| err(format!("{layer}: unknown initializer class {other:?}")))
                }
            }
        }
        other => Err(err(format!("{layer}: unsupported initializer {other}"))),
    }
}

fn f32_of(cfg: &Value, key: &str, default: f32) -> f32 {
    cfg[key].as_f64().map(|v| v as f32).unwrap_or(default)
}

fn reject_set(cfg: &Value, layer: &str, keys: &[&str]) -> Result<()> {
    for k in keys {
        if !cfg[*k].is_null() {
            return Err(err(format!(
                "{layer}: option {k} = {} is not supported",
                cfg[*k]
            )));
        }
    }
    Ok(())
}

fn layer_kind(class: &str, cfg: &Value, name: &str) -> Result<LayerKind> {
    Ok(match class {
        "Flatten" => LayerKind::Flatten,
        "Dense" => {
            reject_set(
                cfg,
                name,
                &[
                    "kernel_regularizer",
                    "bias_regularizer",
                    "activity_regularizer",
                    "kernel_constraint",
                    "bias_constraint",
                    "lora_rank",
                ],
            )?;
            let units = cfg["units"]
                .as_u64()
                .ok_or_else(|| err(format!("{name}: Dense needs units")))?
                as usize;
            let (activation, prelu) = activation_of(&cfg["activation"], name)?;
            if prelu {
                return Err(err(format!(
                    "{name}: a PReLU activation inside Dense is not supported; use a PReLU layer"
                )));
            }
            let mut l = Layer::dense(units).with_activation(activation);
            l = l.use_bias(cfg["use_bias"].as_bool().unwrap_or(true));
            l = l.kernel_initializer(initializer_of(&cfg["kernel_initializer"], name)?);
            let LayerKind::Dense(mut d) = l.kind else {
                unreachable!()
            };
            if !cfg["bias_initializer"].is_null() {
                d.bias_initializer = initializer_of(&cfg["bias_initializer"], name)?;
            } else {
                d.bias_initializer = Initializer::Zeros;
            }
            LayerKind::Dense(d)
        }
        "BatchNormalization" => {
            if let Some(axis) = cfg["axis"].as_i64() {
                if axis != -1 {
                    return Err(err(format!(
                        "{name}: BatchNormalization axis {axis} is not supported (only -1)"
                    )));
                }
            }
            reject_set(
                cfg,
                name,
                &[
                    "beta_regularizer",
                    "gamma_regularizer",
                    "beta_constraint",
                    "gamma_constraint",
                ],
            )?;
            LayerKind::BatchNormalization(BatchNorm {
                momentum: f32_of(cfg, "momentum", 0.99),
                epsilon: f32_of(cfg, "epsilon", 1e-3),
                center: cfg["center"].as_bool().unwrap_or(true),
                scale: cfg["scale"].as_bool().unwrap_or(true),
            })
        }
        "Activation" => LayerKind::Activation(activation_of(&cfg["activation"], name)?.0),
        "ReLU" => {
            if cfg["max_value"].as_f64().is_some()
                || f32_of(cfg, "negative_slope", 0.0) != 0.0
                || f32_of(cfg, "threshold", 0.0) != 0.0
            {
                return Err(err(format!(
                    "{name}: ReLU with max_value/negative_slope/threshold is not supported"
                )));
            }
            LayerKind::Activation(ActKind::Relu)
        }
        "LeakyReLU" => LayerKind::Activation(ActKind::LeakyRelu {
            alpha: cfg["negative_slope"]
                .as_f64()
                .or(cfg["alpha"].as_f64())
                .unwrap_or(0.3) as f32,
        }),
        "ELU" => LayerKind::Activation(ActKind::Elu {
            alpha: f32_of(cfg, "alpha", 1.0),
        }),
        "Softmax" => {
            if let Some(axis) = cfg["axis"].as_i64() {
                if axis != -1 {
                    return Err(err(format!(
                        "{name}: Softmax axis {axis} is not supported (only -1)"
                    )));
                }
            }
            LayerKind::Activation(ActKind::Softmax)
        }
        "RReLU" => LayerKind::Activation(ActKind::Rrelu {
            lower: f32_of(cfg, "lower", 1.0 / 8.0),
            upper: f32_of(cfg, "upper", 1.0 / 3.0),
        }),
        "PReLU" => {
            reject_set(
                cfg,
                name,
                &["alpha_regularizer", "alpha_constraint", "shared_axes"],
            )?;
            if let Some(init) = cfg.get("alpha_initializer") {
                let i = initializer_of(init, name)?;
                if i != Initializer::Zeros {
                    return Err(err(format!(
                        "{name}: PReLU alpha_initializer other than zeros is not supported"
                    )));
                }
            }
            LayerKind::PRelu
        }
        other => return Err(err(format!("{name}: unknown layer class {other:?}"))),
    })
}

/// Builds a model from Keras's Sequential JSON (or steadygrad's bare form).
pub fn model_from_json(text: &str, seed: u64) -> Result<Sequential> {
    let v: Value = serde_json::from_str(text).map_err(|e| err(format!("model JSON: {e}")))?;
    let (layers_v, mut input_shape) = if v["class_name"].as_str() == Some("Sequential") {
        let c = &v["config"];
        let bis = c["build_input_shape"].as_array().map(|a| {
            a[1..]
                .iter()
                .filter_map(|d| d.as_u64().map(|d| d as usize))
                .collect::<Vec<_>>()
        });
        (c["layers"].clone(), bis)
    } else if let Some(class) = v["class_name"].as_str() {
        return Err(err(format!(
            "model JSON: {class} models are not supported, only Sequential"
        )));
    } else {
        let shape = v["input_shape"].as_array().map(|a| {
            a.iter()
                .filter_map(|d| d.as_u64().map(|d| d as usize))
                .collect()
        });
        (v["layers"].clone(), shape)
    };
    let arr = layers_v
        .as_array()
        .ok_or_else(|| err("model JSON: no layers list".into()))?;
    let mut layers = Vec::new();
    for (i, l) in arr.iter().enumerate() {
        let class = l["class_name"]
            .as_str()
            .ok_or_else(|| err(format!("model JSON: layer {i} has no class_name")))?;
        let cfg = if l["config"].is_null() {
            l.clone()
        } else {
            l["config"].clone()
        };
        let name = cfg["name"].as_str().unwrap_or("").to_string();
        let label = if name.is_empty() {
            format!("layer {i} ({class})")
        } else {
            name.clone()
        };
        if class == "InputLayer" {
            let shape = cfg["batch_shape"]
                .as_array()
                .or(cfg["batch_input_shape"].as_array());
            if let Some(s) = shape {
                input_shape = Some(
                    s[1..]
                        .iter()
                        .filter_map(|d| d.as_u64().map(|d| d as usize))
                        .collect(),
                );
            }
            continue;
        }
        if let Some(s) = cfg["batch_input_shape"]
            .as_array()
            .or(cfg["batch_shape"].as_array())
        {
            input_shape = Some(
                s[1..]
                    .iter()
                    .filter_map(|d| d.as_u64().map(|d| d as usize))
                    .collect(),
            );
        }
        if let Some(s) = cfg["input_shape"].as_array() {
            input_shape = Some(
                s.iter()
                    .filter_map(|d| d.as_u64().map(|d| d as usize))
                    .collect(),
            );
        }
        let kind = layer_kind(class, &cfg, &label)?;
        let mut layer = Layer::flatten();
        layer.kind = kind;
        layer.class_name = class.to_string();
        layer.name = name;
        layer.trainable = cfg["trainable"].as_bool().unwrap_or(true);
        layers.push(layer);
    }
    let input_shape = input_shape.ok_or_else(|| {
        err("model JSON: no input shape (InputLayer batch_shape or input_shape)".into())
    })?;
    Sequential::new(&input_shape, layers, seed)
}

/// Reads [`model_from_json`] from a file.
pub fn model_from_json_file(path: &Path, seed: u64) -> Result<Sequential> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    model_from_json(&text, seed).map_err(|e| match e {
        Error::Config(m) => Error::ModelFile {
            path: path.to_path_buf(),
            reason: m,
        },
        other => other,
    })
}
