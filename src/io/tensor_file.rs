//! Safetensors files as tensors: serializing named tensors, reading every tensor of a file
//! as f32, and the files `predict` reads (`x`) and writes (`probabilities`).

use std::collections::HashMap;
use std::path::Path;

use safetensors::tensor::{Dtype, TensorView};

use crate::data::tensor_bytes::to_f32;
use crate::error::{Error, Result};

fn bad(path: &Path, reason: impl Into<String>) -> Error {
    Error::Data {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

fn model_err(path: &Path, reason: impl Into<String>) -> Error {
    Error::ModelFile {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

/// Serializes named tensors (name, shape, little-endian bytes, dtype) with optional metadata.
pub fn tensors_bytes(
    named: &[(String, Vec<usize>, Vec<u8>, Dtype)],
    metadata: Option<HashMap<String, String>>,
) -> Result<Vec<u8>> {
    let views: Vec<(String, TensorView)> = named
        .iter()
        .map(|(n, shape, bytes, dt)| {
            TensorView::new(*dt, shape.clone(), bytes)
                .map(|v| (n.clone(), v))
                .map_err(|e| Error::Config(format!("tensor {n}: {e}")))
        })
        .collect::<Result<_>>()?;
    safetensors::serialize(views, metadata)
        .map_err(|e| Error::Config(format!("serializing tensors: {e}")))
}

/// A tensor's shape and values.
pub type ShapedValues = (Vec<usize>, Vec<f32>);
/// Tensors by name.
pub type NamedTensors = HashMap<String, ShapedValues>;

/// Reads every tensor of a safetensors file as f32 (f64/f16/bf16 converted; integer
/// tensors are an error).
pub fn read_f32_tensors(path: &Path) -> Result<NamedTensors> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    f32_tensors_from_bytes(path, &bytes)
}

/// [`read_f32_tensors`] on bytes already read (`path` names them in errors).
pub fn f32_tensors_from_bytes(path: &Path, bytes: &[u8]) -> Result<NamedTensors> {
    let st = safetensors::SafeTensors::deserialize(bytes)
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

/// Reads tensor `x` (N, …) of a safetensors file as f32 samples (uint8 scaled by 1/255).
/// Returns the values and the shape of one sample.
pub fn load_safetensors_x(path: &Path) -> Result<(Vec<f32>, Vec<usize>)> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let st = safetensors::SafeTensors::deserialize(&bytes)
        .map_err(|e| bad(path, format!("not a valid safetensors file: {e}")))?;
    let x = st.tensor("x").map_err(|_| bad(path, "no tensor named x"))?;
    if x.shape().len() < 2 {
        return Err(bad(
            path,
            format!("x has shape {:?}; expected (N, features…)", x.shape()),
        ));
    }
    let v = match x.dtype() {
        Dtype::U8 => x.data().iter().map(|&b| b as f32 / 255.0).collect(),
        other => to_f32(other, x.data()).ok_or_else(|| {
            bad(
                path,
                format!("x has dtype {other:?}; expected uint8 or float"),
            )
        })?,
    };
    Ok((v, x.shape()[1..].to_vec()))
}

/// Writes `probabilities` (rows of `units`) to a safetensors file, atomically.
pub fn write_probabilities(path: &Path, probabilities: &[f32], units: usize) -> Result<()> {
    write_matrix(path, "probabilities", probabilities, units)
}

/// Writes rows of `units` values as the tensor `name` (shape (N, units)) to a safetensors
/// file, atomically.
pub fn write_matrix(path: &Path, name: &str, values: &[f32], units: usize) -> Result<()> {
    let rows = values.len() / units.max(1);
    let bytes = tensors_bytes(
        &[(
            name.into(),
            vec![rows, units],
            bytemuck::cast_slice(values).to_vec(),
            Dtype::F32,
        )],
        None,
    )?;
    if path.file_name().is_none() {
        return Err(bad(path, "not a file path"));
    }
    super::safe_file::write_atomic(path, &bytes).map_err(|e| Error::io(path, e))
}
