//! Model folders: `model.json` (the architecture, in Keras's `model.to_json()` format),
//! `weights.safetensors` (every weight under its Keras name and shape) and, optionally,
//! `optimizer.safetensors` (the optimizer's variables under Keras's names —
//! `dense_kernel_momentum`, `dense_kernel_velocity`, … — its `iteration` count and any
//! carried scalar such as Nadam's `u_product`, with the optimizer's name in the metadata).
//! Saving is atomic for the whole folder ([`super::folder`]): everything is serialized in
//! memory, written complete beside the target, and switched into place, so any failure or
//! kill leaves either the previous complete model or the new one.

use std::collections::HashMap;
use std::path::Path;

use safetensors::tensor::Dtype;
use serde_json::Value;

use super::config::model_to_json;
use super::folder::{read_snapshot, write_folder, FsOps, RealFs};
use super::tensor_file::{f32_tensors_from_bytes, tensors_bytes, NamedTensors, ShapedValues};
use crate::data::tensor_bytes::to_f32;
use crate::error::{Error, Result};
use crate::nn::Sequential;
use crate::optim::{OptimizerState, SlotValues};

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

/// Saves a model folder, with the optimizer state when given, atomically as a whole.
pub fn save_model(m: &Sequential, optimizer: Option<&OptimizerState>, dir: &Path) -> Result<()> {
    save_model_with(&RealFs, m, optimizer, dir)
}

/// [`save_model`] through given file-system operations (for fault-injection tests).
pub fn save_model_with(
    fs: &dyn FsOps,
    m: &Sequential,
    optimizer: Option<&OptimizerState>,
    dir: &Path,
) -> Result<()> {
    let json = serde_json::to_vec_pretty(&model_to_json(m)).expect("JSON");
    let weights: Vec<(String, Vec<usize>, Vec<u8>, Dtype)> = m
        .weights()
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
    let mut files = vec![
        (MODEL_JSON, json),
        (WEIGHTS, tensors_bytes(&weights, None)?),
    ];
    if let Some(o) = optimizer {
        files.push((OPTIMIZER, optimizer_bytes(m, o)?));
    }
    write_folder(dir, &files, fs)
}

fn optimizer_bytes(m: &Sequential, s: &OptimizerState) -> Result<Vec<u8>> {
    let mut t: Vec<(String, Vec<usize>, Vec<u8>, Dtype)> = s
        .slots
        .iter()
        .map(|v| {
            // Each slot has its weight's shape, as Keras stores it.
            let shape = m
                .weight_index(&v.weight)
                .map(|i| m.weights()[i].shape.clone())
                .filter(|shape| shape.iter().product::<usize>() == v.data.len())
                .unwrap_or_else(|| vec![v.data.len()]);
            (
                OptimizerState::keras_name(&v.weight, &v.slot),
                shape,
                bytemuck::cast_slice(&v.data).to_vec(),
                Dtype::F32,
            )
        })
        .collect();
    t.push((
        "iteration".into(),
        vec![1],
        s.iterations.to_le_bytes().to_vec(),
        Dtype::U64,
    ));
    if let Some((name, v)) = &s.carry {
        t.push((name.clone(), vec![1], v.to_le_bytes().to_vec(), Dtype::F32));
    }
    let meta = HashMap::from([("optimizer".to_string(), s.optimizer.clone())]);
    tensors_bytes(&t, Some(meta))
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
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    load_weights_from_bytes(m, path, &bytes)
}

/// [`load_weights`] on the file's bytes (`path` names it in errors).
pub fn load_weights_from_bytes(m: &mut Sequential, path: &Path, bytes: &[u8]) -> Result<()> {
    let tensors = f32_tensors_from_bytes(path, bytes)?;
    let mut used = std::collections::HashSet::new();
    let mut values = Vec::new();
    for w in m.weights() {
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

/// Reads a saved optimizer state for `model`: every tensor must be a slot of one of its
/// weights (Keras's names), the step count, or the carried scalar. Folders written before
/// the optimizer was recorded (SGD velocities as `<weight>/velocity`) read as SGD.
pub fn load_optimizer_state(path: &Path, model: &Sequential) -> Result<OptimizerState> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    optimizer_state_from_bytes(path, &bytes, model)
}

/// [`load_optimizer_state`] on the file's bytes (`path` names it in errors).
pub fn optimizer_state_from_bytes(
    path: &Path,
    bytes: &[u8],
    model: &Sequential,
) -> Result<OptimizerState> {
    let (_, meta) = safetensors::SafeTensors::read_metadata(bytes)
        .map_err(|e| model_err(path, format!("not a valid safetensors file: {e}")))?;
    let st = safetensors::SafeTensors::deserialize(bytes)
        .map_err(|e| model_err(path, format!("not a valid safetensors file: {e}")))?;
    let optimizer = meta
        .metadata()
        .as_ref()
        .and_then(|m| m.get("optimizer").cloned())
        .unwrap_or_else(|| "sgd".into());
    // Every name this model's weights could have, by Keras's naming.
    let mut names: HashMap<String, (String, String)> = HashMap::new();
    for w in model.weights() {
        for slot in [
            "momentum",
            "velocity",
            "accumulator",
            "average_gradient",
            "velocity_hat",
        ] {
            let keras = OptimizerState::keras_name(&w.name, slot);
            let entry = (w.name.clone(), slot.to_string());
            // Also without the model-name prefix.
            names.insert(keras["sequential_".len()..].to_string(), entry.clone());
            names.insert(keras, entry);
        }
        names.insert(
            format!("{}/velocity", w.name),
            (w.name.clone(), "momentum".to_string()),
        );
    }
    let mut iterations = None;
    let mut slots = Vec::new();
    let mut carry = None;
    for (name, t) in st.tensors() {
        if name == "iteration" || name == "iterations" {
            if t.dtype() != Dtype::U64 || t.data().len() != 8 {
                return Err(model_err(path, format!("{name} must be one u64")));
            }
            iterations = Some(u64::from_le_bytes(t.data().try_into().unwrap()));
        } else if name == "u_product" {
            let v = to_f32(t.dtype(), t.data()).filter(|v| v.len() == 1);
            let v = v.ok_or_else(|| model_err(path, "u_product must be one float"))?;
            carry = Some((name.to_string(), v[0]));
        } else if let Some((weight, slot)) = names.get(&name) {
            let v = to_f32(t.dtype(), t.data())
                .ok_or_else(|| model_err(path, format!("{name} is not floating point")))?;
            // The weight's exact shape (as Keras stores slots), or flat (older files).
            let w = &model.weights()[model.weight_index(weight).expect("named from the model")];
            if t.shape() != w.shape.as_slice() && t.shape() != [w.data.len()] {
                return Err(model_err(
                    path,
                    format!(
                        "{name} has shape {:?}; its weight {weight} has shape {:?}",
                        t.shape(),
                        w.shape
                    ),
                ));
            }
            if slots
                .iter()
                .any(|s: &SlotValues| &s.weight == weight && &s.slot == slot)
            {
                return Err(model_err(
                    path,
                    format!("{name}: a second {slot} of {weight}"),
                ));
            }
            slots.push(SlotValues {
                weight: weight.clone(),
                slot: slot.clone(),
                data: v,
            });
        } else {
            return Err(model_err(
                path,
                format!("unexpected tensor {name}: no weight of the model has such a slot"),
            ));
        }
    }
    slots.sort_by(|a, b| (&a.weight, &a.slot).cmp(&(&b.weight, &b.slot)));
    let state = OptimizerState {
        optimizer,
        iterations: iterations.ok_or_else(|| model_err(path, "no iteration tensor"))?,
        slots,
        carry,
    };
    state.validate().map_err(|m| model_err(path, m))?;
    Ok(state)
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
    // One consistent snapshot of the folder, read without changing anything on disk.
    let files = read_snapshot(dir, &[MODEL_JSON, WEIGHTS, OPTIMIZER]).map_err(|e| match e {
        Error::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
            model_err(dir, "no such model folder")
        }
        other => other,
    })?;
    let mut files = files.into_iter().map(|(_, b)| b);
    let (json, weights, optimizer) = (files.next(), files.next(), files.next());
    let (Some(Some(json)), Some(weights), Some(optimizer)) = (json, weights, optimizer) else {
        return Err(model_err(dir, "no model.json: not a model folder"));
    };
    // The architecture first: its errors name model.json.
    let model = architecture_from_bytes(dir, &json)?;
    let weights = weights.ok_or_else(|| model_err(&dir.join(WEIGHTS), "missing"))?;
    with_weights(dir, model, &weights, optimizer.as_deref())
}

/// A model folder's files as bytes → the model ([`load_model`] without the file system;
/// `dir` names the files in errors).
pub fn model_from_bytes(
    dir: &Path,
    model_json: &[u8],
    weights: &[u8],
    optimizer: Option<&[u8]>,
) -> Result<LoadedModel> {
    let model = architecture_from_bytes(dir, model_json)?;
    with_weights(dir, model, weights, optimizer)
}

/// model.json's bytes → the architecture (with initial weights) and its learning-rate
/// multipliers; errors name the file.
fn architecture_from_bytes(dir: &Path, model_json: &[u8]) -> Result<Sequential> {
    let json_path = dir.join(MODEL_JSON);
    let text =
        std::str::from_utf8(model_json).map_err(|_| model_err(&json_path, "not UTF-8 text"))?;
    let as_file_error = |e: Error| match e {
        Error::Config(m) | Error::Shape(m) => model_err(&json_path, m),
        other => other,
    };
    let mut model = super::model_from_json(text, 0).map_err(as_file_error)?;
    if let Ok(v) = serde_json::from_str::<Value>(text) {
        apply_lr_multipliers(&mut model, &v["steadygrad"]).map_err(as_file_error)?;
    }
    Ok(model)
}

/// Loads the weights and optimizer state into an architecture.
fn with_weights(
    dir: &Path,
    mut model: Sequential,
    weights: &[u8],
    optimizer: Option<&[u8]>,
) -> Result<LoadedModel> {
    load_weights_from_bytes(&mut model, &dir.join(WEIGHTS), weights)?;
    let optimizer = optimizer
        .map(|b| optimizer_state_from_bytes(&dir.join(OPTIMIZER), b, &model))
        .transpose()?;
    Ok(LoadedModel { model, optimizer })
}

/// Reads the `steadygrad` key of model.json: `{"lr_multipliers": [[layer, multiplier], …]}`.
fn apply_lr_multipliers(model: &mut Sequential, v: &Value) -> Result<()> {
    if v.is_null() {
        return Ok(());
    }
    let bad = |what: String| Error::Config(format!("field steadygrad.lr_multipliers: {what}"));
    let Some(list) = v.get("lr_multipliers") else {
        return Ok(());
    };
    let list = list
        .as_array()
        .ok_or_else(|| bad(format!("expected a list, got {list}")))?;
    for pair in list {
        let (name, mult) = match pair.as_array().map(Vec::as_slice) {
            Some([Value::String(n), m]) => (n, m),
            _ => return Err(bad(format!("expected [layer, multiplier], got {pair}"))),
        };
        let mult = mult
            .as_f64()
            .ok_or_else(|| bad(format!("{name}: expected a number, got {mult}")))?;
        let i = model
            .layers()
            .iter()
            .position(|l| &l.name == name)
            .ok_or_else(|| bad(format!("no layer named {name}")))?;
        model
            .set_lr_multiplier(i, mult as f32)
            .map_err(|e| bad(format!("{name}: {e}")))?;
    }
    Ok(())
}
