//! Model folders: `model.json` (the architecture, in Keras's `model.to_json()` format),
//! `weights.safetensors` (every weight under its Keras name and shape) and, optionally,
//! `optimizer.safetensors` (velocities and the step count). Saving is atomic per file:
//! everything is serialized in memory first, then each file is written to a temporary
//! file in the same folder and renamed over the old one, so a failure never leaves a
//! half-written file where a good one stood.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use safetensors::tensor::{Dtype, TensorView};
use serde_json::{json, Value};

use crate::backend::ActKind;
use crate::error::{Error, Result};
use crate::nn::init::{Distribution, FanMode};
use crate::nn::layers::LayerKind;
use crate::nn::training::OptimizerState;
use crate::nn::{Initializer, Sequential};

/// The architecture file in a model folder.
pub const MODEL_JSON: &str = "model.json";
/// The weights file in a model folder.
pub const WEIGHTS: &str = "weights.safetensors";
/// The optional optimizer-state file in a model folder.
pub const OPTIMIZER: &str = "optimizer.safetensors";

fn model_err(path: &Path, reason: impl Into<String>) -> Error {
    Error::ModelFile {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

fn initializer_json(i: &Initializer) -> Value {
    let named = |c: &str| json!({"module": "keras.initializers", "class_name": c, "config": {"seed": null}});
    match *i {
        x if x == Initializer::GLOROT_UNIFORM => named("GlorotUniform"),
        x if x == Initializer::GLOROT_NORMAL => named("GlorotNormal"),
        x if x == Initializer::HE_UNIFORM => named("HeUniform"),
        x if x == Initializer::HE_NORMAL => named("HeNormal"),
        x if x == Initializer::LECUN_UNIFORM => named("LecunUniform"),
        x if x == Initializer::LECUN_NORMAL => named("LecunNormal"),
        Initializer::Zeros => {
            json!({"module": "keras.initializers", "class_name": "Zeros", "config": {}})
        }
        Initializer::Ones => {
            json!({"module": "keras.initializers", "class_name": "Ones", "config": {}})
        }
        Initializer::Constant(v) => {
            json!({"module": "keras.initializers", "class_name": "Constant", "config": {"value": v}})
        }
        Initializer::RandomNormal { mean, stddev } => {
            json!({"module": "keras.initializers", "class_name": "RandomNormal", "config": {"mean": mean, "stddev": stddev, "seed": null}})
        }
        Initializer::VarianceScaling {
            scale,
            mode,
            distribution,
        } => json!({
            "module": "keras.initializers", "class_name": "VarianceScaling",
            "config": {
                "scale": scale,
                "mode": match mode { FanMode::FanIn => "fan_in", FanMode::FanOut => "fan_out", FanMode::FanAvg => "fan_avg" },
                "distribution": match distribution { Distribution::Uniform => "uniform", Distribution::TruncatedNormal => "truncated_normal", Distribution::UntruncatedNormal => "untruncated_normal" },
                "seed": null
            }
        }),
    }
}

/// An activation as Keras writes it: a name, or a nested layer when it has a parameter
/// a name cannot carry.
fn activation_json(a: ActKind) -> Value {
    match a {
        ActKind::LeakyRelu { alpha } if alpha != 0.2 => {
            json!({"module": "keras.layers", "class_name": "LeakyReLU", "config": {"negative_slope": alpha}})
        }
        ActKind::Elu { alpha } if alpha != 1.0 => {
            json!({"module": "keras.layers", "class_name": "ELU", "config": {"alpha": alpha}})
        }
        ActKind::Rrelu { lower, upper } => {
            json!({"class_name": "RReLU", "config": {"lower": lower, "upper": upper}})
        }
        other => json!(other.keras_name()),
    }
}

/// The model's architecture in Keras's `model.to_json()` format.
pub fn model_to_json(m: &Sequential) -> Value {
    let mut shape: Vec<Value> = vec![Value::Null];
    shape.extend(m.input_shape.iter().map(|&d| json!(d)));
    let mut layers = vec![
        json!({"module": "keras.layers", "class_name": "InputLayer", "config": {"batch_shape": shape, "dtype": "float32", "name": "input_layer"}}),
    ];
    for l in &m.layers {
        let mut cfg = json!({"name": l.name, "trainable": l.trainable, "dtype": "float32"});
        let c = cfg.as_object_mut().unwrap();
        match &l.kind {
            LayerKind::Flatten => {}
            LayerKind::Dense(d) => {
                c.insert("units".into(), json!(d.units));
                c.insert("activation".into(), activation_json(d.activation));
                c.insert("use_bias".into(), json!(d.use_bias));
                c.insert(
                    "kernel_initializer".into(),
                    initializer_json(&d.kernel_initializer),
                );
                c.insert(
                    "bias_initializer".into(),
                    initializer_json(&d.bias_initializer),
                );
            }
            LayerKind::Activation(a) => match (l.class_name.as_str(), a) {
                ("LeakyReLU", ActKind::LeakyRelu { alpha }) => {
                    c.insert("negative_slope".into(), json!(alpha));
                }
                ("ELU", ActKind::Elu { alpha }) => {
                    c.insert("alpha".into(), json!(alpha));
                }
                ("RReLU", ActKind::Rrelu { lower, upper }) => {
                    c.insert("lower".into(), json!(lower));
                    c.insert("upper".into(), json!(upper));
                }
                ("ReLU", _) | ("Softmax", _) => {}
                _ => {
                    c.insert("activation".into(), activation_json(*a));
                }
            },
            LayerKind::PRelu => {
                c.insert(
                    "alpha_initializer".into(),
                    initializer_json(&Initializer::Zeros),
                );
                c.insert("shared_axes".into(), Value::Null);
            }
            LayerKind::BatchNormalization(bn) => {
                c.insert("axis".into(), json!(-1));
                c.insert("momentum".into(), json!(bn.momentum));
                c.insert("epsilon".into(), json!(bn.epsilon));
                c.insert("center".into(), json!(bn.center));
                c.insert("scale".into(), json!(bn.scale));
            }
        }
        layers.push(json!({"module": "keras.layers", "class_name": l.class_name, "config": cfg}));
    }
    json!({
        "module": "keras",
        "class_name": "Sequential",
        "config": {"name": "sequential", "trainable": true, "dtype": "float32", "layers": layers},
        "registered_name": null,
        "steadygrad": {
            "lr_multipliers": m.layers.iter().map(|l| json!([l.name, l.lr_multiplier])).collect::<Vec<_>>()
        }
    })
}

fn tensors_bytes(named: &[(String, Vec<usize>, Vec<u8>, Dtype)]) -> Result<Vec<u8>> {
    let views: Vec<(String, TensorView)> = named
        .iter()
        .map(|(n, shape, bytes, dt)| {
            TensorView::new(*dt, shape.clone(), bytes)
                .map(|v| (n.clone(), v))
                .map_err(|e| Error::Config(format!("tensor {n}: {e}")))
        })
        .collect::<Result<_>>()?;
    safetensors::serialize(views, None)
        .map_err(|e| Error::Config(format!("serializing tensors: {e}")))
}

/// Writes `bytes` to `dir/name` through a temporary file in the same folder and a rename.
fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> Result<()> {
    let path = dir.join(name);
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let r = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, &path)
    })();
    if let Err(e) = r {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::io(path, e));
    }
    Ok(())
}

/// Saves a model folder (and the optimizer state when `with_optimizer` and compiled).
pub fn save_model(m: &mut Sequential, dir: &Path, with_optimizer: bool) -> Result<()> {
    m.sync_weights()?;
    let json = serde_json::to_vec_pretty(&model_to_json(m)).expect("JSON");
    let weights: Vec<(String, Vec<usize>, Vec<u8>, Dtype)> = m
        .weights
        .iter()
        .map(|w| {
            (
                w.name.clone(),
                w.shape.clone(),
                bytemuck::cast_slice(&w.data).to_vec(),
                Dtype::F32,
            )
        })
        .collect();
    let weights = tensors_bytes(&weights)?;
    let optimizer = if with_optimizer && m.device_info().is_some() {
        let s = m.optimizer_state()?;
        let mut t: Vec<(String, Vec<usize>, Vec<u8>, Dtype)> = s
            .velocities
            .iter()
            .map(|(n, v)| {
                (
                    format!("{n}/velocity"),
                    vec![v.len()],
                    bytemuck::cast_slice(v).to_vec(),
                    Dtype::F32,
                )
            })
            .collect();
        t.push((
            "iterations".into(),
            vec![1],
            s.step.to_le_bytes().to_vec(),
            Dtype::U64,
        ));
        Some(tensors_bytes(&t)?)
    } else {
        None
    };
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    write_atomic(dir, WEIGHTS, &weights)?;
    write_atomic(dir, MODEL_JSON, &json)?;
    if let Some(o) = optimizer {
        write_atomic(dir, OPTIMIZER, &o)?;
    }
    Ok(())
}

/// A tensor's shape and values.
pub type ShapedValues = (Vec<usize>, Vec<f32>);
/// Tensors by name.
pub type NamedTensors = HashMap<String, ShapedValues>;

/// Reads every tensor of a safetensors file as f32 (f64/f16/bf16 converted; integer
/// tensors are an error).
pub fn read_f32_tensors(path: &Path) -> Result<NamedTensors> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let st = safetensors::SafeTensors::deserialize(&bytes)
        .map_err(|e| model_err(path, format!("not a valid safetensors file: {e}")))?;
    let mut out = HashMap::new();
    for (name, t) in st.tensors() {
        let data = to_f32(t.dtype(), t.data()).ok_or_else(|| {
            model_err(
                path,
                format!(
                    "tensor {name} has dtype {:?}; weights must be floating point",
                    t.dtype()
                ),
            )
        })?;
        out.insert(name.to_string(), (t.shape().to_vec(), data));
    }
    Ok(out)
}

/// Converts raw little-endian tensor bytes to f32 for the float dtypes.
pub fn to_f32(dtype: Dtype, data: &[u8]) -> Option<Vec<f32>> {
    Some(match dtype {
        Dtype::F32 => data
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
            .collect(),
        Dtype::F64 => data
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes(c.try_into().unwrap()) as f32)
            .collect(),
        Dtype::F16 => data
            .chunks_exact(2)
            .map(|c| half_to_f32(u16::from_le_bytes([c[0], c[1]])))
            .collect(),
        Dtype::BF16 => data
            .chunks_exact(2)
            .map(|c| f32::from_bits((u16::from_le_bytes([c[0], c[1]]) as u32) << 16))
            .collect(),
        _ => return None,
    })
}

fn half_to_f32(h: u16) -> f32 {
    let sign = ((h >> 15) as u32) << 31;
    let exp = ((h >> 10) & 0x1f) as u32;
    let frac = (h & 0x3ff) as u32;
    let bits = match exp {
        0 if frac == 0 => sign,
        0 => {
            // Subnormal half: renormalize.
            let mut e = 127 - 15 + 1;
            let mut f = frac;
            while f & 0x400 == 0 {
                f <<= 1;
                e -= 1;
            }
            sign | ((e as u32) << 23) | ((f & 0x3ff) << 13)
        }
        31 => sign | 0x7f80_0000 | (frac << 13),
        _ => sign | ((exp + 127 - 15) << 23) | (frac << 13),
    };
    f32::from_bits(bits)
}

/// Finds weight `name` in a file that may prefix names with the model's name
/// (`sequential/dense/kernel`, as Keras's variable paths do).
fn lookup<'a>(tensors: &'a NamedTensors, name: &str) -> Option<(&'a String, &'a ShapedValues)> {
    tensors.get_key_value(name).or_else(|| {
        tensors.iter().find(|(k, _)| {
            k.split_once('/')
                .map(|(_, rest)| rest == name)
                .unwrap_or(false)
        })
    })
}

/// Loads weights into `m` from a safetensors file, checking every name and shape. Names may
/// carry a model-name prefix. Missing, extra and mis-shaped tensors are errors that name them.
pub fn load_weights(m: &mut Sequential, path: &Path) -> Result<()> {
    let tensors = read_f32_tensors(path)?;
    let mut used = std::collections::HashSet::new();
    let mut values = Vec::new();
    for w in &m.weights {
        let (key, (shape, data)) = lookup(&tensors, &w.name).ok_or_else(|| {
            model_err(
                path,
                format!("missing tensor {} (shape {:?})", w.name, w.shape),
            )
        })?;
        if *shape != w.shape {
            return Err(model_err(
                path,
                format!(
                    "tensor {key} has shape {shape:?}; the model's {} has {:?}",
                    w.name, w.shape
                ),
            ));
        }
        used.insert(key.clone());
        values.push((w.name.clone(), data.clone()));
    }
    let mut extra: Vec<&String> = tensors.keys().filter(|k| !used.contains(*k)).collect();
    extra.sort();
    if let Some(k) = extra.first() {
        return Err(model_err(
            path,
            format!("unexpected tensor {k}: the model has no such weight"),
        ));
    }
    for (name, data) in values {
        m.set_weight(&name, &data)?;
    }
    Ok(())
}

/// Reads a saved optimizer state.
pub fn load_optimizer_state(path: &Path) -> Result<OptimizerState> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let st = safetensors::SafeTensors::deserialize(&bytes)
        .map_err(|e| model_err(path, format!("not a valid safetensors file: {e}")))?;
    let mut step = None;
    let mut velocities = Vec::new();
    for (name, t) in st.tensors() {
        if name == "iterations" {
            if t.dtype() != Dtype::U64 || t.data().len() != 8 {
                return Err(model_err(path, "iterations must be one u64"));
            }
            step = Some(u64::from_le_bytes(t.data().try_into().unwrap()));
        } else if let Some(w) = name.strip_suffix("/velocity") {
            let v = to_f32(t.dtype(), t.data())
                .ok_or_else(|| model_err(path, format!("{name} is not floating point")))?;
            velocities.push((w.to_string(), v));
        } else {
            return Err(model_err(path, format!("unexpected tensor {name}")));
        }
    }
    velocities.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(OptimizerState {
        step: step.ok_or_else(|| model_err(path, "no iterations tensor"))?,
        velocities,
    })
}

/// What [`load_model`] returns.
pub struct LoadedModel {
    /// The model, with its weights (not compiled).
    pub model: Sequential,
    /// The optimizer state, when the folder has one.
    pub optimizer: Option<OptimizerState>,
}

/// Loads a model folder: `model.json` (steadygrad's or Keras's `to_json()`),
/// `weights.safetensors` (Keras names, with or without a `sequential/` prefix) and
/// `optimizer.safetensors` if present.
pub fn load_model(dir: &Path) -> Result<LoadedModel> {
    let json_path = dir.join(MODEL_JSON);
    if !dir.is_dir() {
        return Err(model_err(dir, "no such model folder"));
    }
    let mut model = super::model_from_json_file(&json_path, 0)?;
    let text = std::fs::read_to_string(&json_path).map_err(|e| Error::io(&json_path, e))?;
    if let Ok(v) = serde_json::from_str::<Value>(&text) {
        if let Some(arr) = v["steadygrad"]["lr_multipliers"].as_array() {
            for pair in arr {
                if let (Some(name), Some(mult)) = (pair[0].as_str(), pair[1].as_f64()) {
                    if let Some(i) = model.layers.iter().position(|l| l.name == name) {
                        model.set_lr_multiplier(i, mult as f32)?;
                    }
                }
            }
        }
    }
    load_weights(&mut model, &dir.join(WEIGHTS))?;
    let opt_path: PathBuf = dir.join(OPTIMIZER);
    let optimizer = if opt_path.is_file() {
        Some(load_optimizer_state(&opt_path)?)
    } else {
        None
    };
    Ok(LoadedModel { model, optimizer })
}

/// Reads tensor `x` (N, …) of a safetensors file as f32 samples (uint8 scaled by 1/255).
/// Returns the values and the shape of one sample.
pub fn load_safetensors_x(path: &Path) -> Result<(Vec<f32>, Vec<usize>)> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let st = safetensors::SafeTensors::deserialize(&bytes)
        .map_err(|e| model_err(path, format!("not a valid safetensors file: {e}")))?;
    let x = st
        .tensor("x")
        .map_err(|_| model_err(path, "no tensor named x"))?;
    if x.shape().len() < 2 {
        return Err(model_err(
            path,
            format!("x has shape {:?}; expected (N, features…)", x.shape()),
        ));
    }
    let v = match x.dtype() {
        Dtype::U8 => x.data().iter().map(|&b| b as f32 / 255.0).collect(),
        other => to_f32(other, x.data()).ok_or_else(|| {
            model_err(
                path,
                format!("x has dtype {other:?}; expected uint8 or float"),
            )
        })?,
    };
    Ok((v, x.shape()[1..].to_vec()))
}

/// Writes `probabilities` (rows of `units`) to a safetensors file, atomically.
pub fn write_probabilities(path: &Path, probabilities: &[f32], units: usize) -> Result<()> {
    let rows = probabilities.len() / units.max(1);
    let bytes = tensors_bytes(&[(
        "probabilities".into(),
        vec![rows, units],
        bytemuck::cast_slice(probabilities).to_vec(),
        Dtype::F32,
    )])?;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .ok_or_else(|| model_err(path, "not a file path"))?
        .to_string_lossy()
        .to_string();
    write_atomic(dir, &name, &bytes)
}
