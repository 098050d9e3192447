//! Data sets kept on the device (samples, u32 labels, and the u32 permutation buffer the
//! gather kernel reads through), so a training step uploads no samples.

use crate::backend::{Backend, BufId};
use crate::data::{Dataset, Samples};
use crate::error::Result;

/// The data sets a session keeps on the device (train, validation, test: at most
/// [`ResidentSets::MAX`], the oldest dropped first).
#[derive(Default)]
pub(crate) struct ResidentSets {
    pub sets: Vec<Resident>,
    /// Force host-written batches (as for a data set too large for the device).
    pub stream: bool,
}

impl ResidentSets {
    /// Data sets kept at once.
    pub const MAX: usize = 4;

    /// The index of `d`'s resident copy, uploaded now if needed; `None` to stream its
    /// batches (asked for, or larger than one binding). The second value is a data set
    /// dropped to make room (the caller releases what refers to it).
    pub fn find_or_upload(
        &mut self,
        backend: &mut dyn Backend,
        d: &Dataset,
    ) -> Result<(Option<usize>, Option<Resident>)> {
        if self.stream || data_words(d) > backend.max_buffer_words() {
            return Ok((None, None));
        }
        let fp = fingerprint(d);
        if let Some(i) = self.sets.iter().position(|r| r.fingerprint == fp) {
            return Ok((Some(i), None));
        }
        let dropped = (self.sets.len() >= Self::MAX).then(|| self.sets.remove(0));
        if let Some(old) = &dropped {
            for b in [old.data, old.labels, old.perm] {
                backend.free(b);
            }
        }
        self.sets.push(upload(backend, d)?);
        Ok((Some(self.sets.len() - 1), dropped))
    }

    /// The resident set whose samples are in `data`.
    pub fn by_data(&self, data: BufId) -> &Resident {
        self.sets
            .iter()
            .find(|r| r.data == data)
            .expect("a resident data set")
    }
}

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
