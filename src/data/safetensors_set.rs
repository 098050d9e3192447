//! Data sets handed over as safetensors: `x` with shape (N, …) and `y` with shape (N).
//! `x` in uint8 is kept as bytes and scaled by 1/255 when batched; float `x` is used as
//! given; `y` may be any integer type, or a float type holding whole numbers.

use std::path::Path;

use safetensors::tensor::Dtype;

use super::{Dataset, Samples};
use crate::error::{Error, Result};

fn bad(path: &Path, reason: impl Into<String>) -> Error {
    Error::Data {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

fn labels(path: &Path, dtype: Dtype, data: &[u8]) -> Result<Vec<u32>> {
    let ints: Vec<i128> = match dtype {
        Dtype::U8 => data.iter().map(|&b| b as i128).collect(),
        Dtype::I8 => data.iter().map(|&b| b as i8 as i128).collect(),
        Dtype::U16 => data
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]) as i128)
            .collect(),
        Dtype::I16 => data
            .chunks_exact(2)
            .map(|c| i16::from_le_bytes([c[0], c[1]]) as i128)
            .collect(),
        Dtype::U32 => data
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes(c.try_into().unwrap()) as i128)
            .collect(),
        Dtype::I32 => data
            .chunks_exact(4)
            .map(|c| i32::from_le_bytes(c.try_into().unwrap()) as i128)
            .collect(),
        Dtype::U64 => data
            .chunks_exact(8)
            .map(|c| u64::from_le_bytes(c.try_into().unwrap()) as i128)
            .collect(),
        Dtype::I64 => data
            .chunks_exact(8)
            .map(|c| i64::from_le_bytes(c.try_into().unwrap()) as i128)
            .collect(),
        other => {
            let f = super::tensor_bytes::to_f32(other, data)
                .ok_or_else(|| bad(path, format!("y has dtype {other:?}; expected integers")))?;
            let mut out = Vec::with_capacity(f.len());
            for (i, v) in f.into_iter().enumerate() {
                if !v.is_finite() || v.fract() != 0.0 {
                    return Err(bad(path, format!("y[{i}] = {v} is not a whole number")));
                }
                out.push(v as i128);
            }
            out
        }
    };
    ints.into_iter()
        .enumerate()
        .map(|(i, v)| {
            u32::try_from(v)
                .map_err(|_| bad(path, format!("y[{i}] = {v} is not a valid class index")))
        })
        .collect()
}

/// Loads `x` and `y` from a safetensors file.
pub fn load_safetensors_dataset(path: &Path) -> Result<Dataset> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    dataset_from_safetensors_bytes(path, &bytes)
}

/// [`load_safetensors_dataset`] on the file's bytes (`path` names it in errors).
pub fn dataset_from_safetensors_bytes(path: &Path, bytes: &[u8]) -> Result<Dataset> {
    let st = safetensors::SafeTensors::deserialize(bytes)
        .map_err(|e| bad(path, format!("not a valid safetensors file: {e}")))?;
    let x = st.tensor("x").map_err(|_| bad(path, "no tensor named x"))?;
    let y = st.tensor("y").map_err(|_| bad(path, "no tensor named y"))?;
    let xs = x.shape().to_vec();
    if xs.len() < 2 {
        return Err(bad(
            path,
            format!("x has shape {xs:?}; expected (N, features…)"),
        ));
    }
    if y.shape().len() != 1 || y.shape()[0] != xs[0] {
        return Err(bad(
            path,
            format!(
                "y has shape {:?}; expected ({},) to match x {xs:?}",
                y.shape(),
                xs[0]
            ),
        ));
    }
    let samples = match x.dtype() {
        Dtype::U8 => Samples::U8(x.data().to_vec()),
        other => Samples::F32(super::tensor_bytes::to_f32(other, x.data()).ok_or_else(|| {
            bad(
                path,
                format!("x has dtype {other:?}; expected uint8 or a float type"),
            )
        })?),
    };
    let ys = labels(path, y.dtype(), y.data())?;
    Dataset::new(samples, ys, xs[1..].to_vec()).map_err(|e| match e {
        Error::InvalidData(m) => bad(path, m),
        other => other,
    })
}
