//! Data sets kept on the device (samples, u32 labels, and the u32 permutation buffer the
//! gather kernel reads through), so a training step uploads no samples.

use crate::backend::{Backend, BufId};
use crate::data::{Dataset, Samples};
use crate::error::Result;

/// A data set resident on the device.
pub(crate) struct Resident {
    pub fingerprint: u64,
    pub data: BufId,
    pub labels: BufId,
    pub perm: BufId,
    pub bytes: bool,
}

/// FNV-1a over the samples, labels and shape: the identity of a data set.
pub(crate) fn fingerprint(d: &Dataset) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    let mut eat = |b: &[u8]| {
        for &x in b {
            h = (h ^ x as u64).wrapping_mul(0x100000001b3);
        }
    };
    match &d.x {
        Samples::U8(v) => eat(v),
        Samples::F32(v) => eat(bytemuck::cast_slice(v)),
    }
    eat(bytemuck::cast_slice(&d.y));
    eat(bytemuck::cast_slice(
        &d.sample_shape.iter().map(|&s| s as u64).collect::<Vec<_>>(),
    ));
    h
}

/// Words the samples take on the device.
pub(crate) fn data_words(d: &Dataset) -> usize {
    match &d.x {
        Samples::U8(v) => v.len().div_ceil(4),
        Samples::F32(v) => v.len(),
    }
}

/// Uploads a data set: samples (bytes packed four to a word, or f32), labels as u32, and
/// a permutation buffer.
pub(crate) fn upload(backend: &mut dyn Backend, d: &Dataset) -> Result<Resident> {
    let words = data_words(d);
    let (data, bytes) = match &d.x {
        Samples::U8(v) => {
            let mut padded = v.clone();
            padded.resize(words * 4, 0);
            let b = backend.alloc(words)?;
            backend.write_words(b, 0, bytemuck::cast_slice(&padded))?;
            (b, true)
        }
        Samples::F32(v) => (backend.upload(v)?, false),
    };
    let labels = backend.alloc(d.len().max(1))?;
    backend.write_words(labels, 0, &d.y)?;
    let perm = backend.alloc(d.len().max(1))?;
    Ok(Resident {
        fingerprint: fingerprint(d),
        data,
        labels,
        perm,
        bytes,
    })
}

/// Writes a sample order into a permutation buffer (u32 indices).
pub(crate) fn write_order(backend: &mut dyn Backend, perm: BufId, order: &[usize]) -> Result<()> {
    let words: Vec<u32> = order.iter().map(|&i| i as u32).collect();
    backend.write_words(perm, 0, &words)
}
