//! Data sets: the IDX loader (MNIST's format), safetensors data sets, and the in-memory
//! [`Dataset`] a training session uploads to the device once. Depends on nothing else of
//! the engine.

pub mod idx;
pub mod safetensors_set;
pub mod tensor_bytes;

pub use safetensors_set::load_safetensors_dataset;

use crate::error::{Error, Result};

/// Sample values, kept in their stored type so byte images stay 4× smaller on the GPU.
#[derive(Clone, Debug, PartialEq)]
pub enum Samples {
    /// Bytes, scaled by 1/255 when gathered into a batch.
    U8(Vec<u8>),
    /// Floats, used as given.
    F32(Vec<f32>),
}

/// A labelled data set for classification: `len` samples of `sample_shape` each.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    /// The sample values, sample after sample.
    pub x: Samples,
    /// Class index of each sample.
    pub y: Vec<u32>,
    /// Shape of one sample, e.g. `[28, 28]`.
    pub sample_shape: Vec<usize>,
}

impl Dataset {
    /// Builds a data set, checking that sizes agree and that float samples are finite.
    pub fn new(x: Samples, y: Vec<u32>, sample_shape: Vec<usize>) -> Result<Self> {
        let features: usize = sample_shape.iter().product();
        let values = match &x {
            Samples::U8(v) => v.len(),
            Samples::F32(v) => {
                if let Some(i) = v.iter().position(|f| !f.is_finite()) {
                    return Err(Error::InvalidData(format!(
                        "sample {} holds a non-finite value ({})",
                        i / features.max(1),
                        v[i]
                    )));
                }
                v.len()
            }
        };
        if features == 0 {
            return Err(Error::InvalidData("samples have no features".into()));
        }
        if values != y.len() * features {
            return Err(Error::InvalidData(format!(
                "{} labels but {} values ({} samples of {features})",
                y.len(),
                values,
                values as f64 / features as f64
            )));
        }
        Ok(Dataset { x, y, sample_shape })
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.y.len()
    }

    /// Whether there are no samples.
    pub fn is_empty(&self) -> bool {
        self.y.is_empty()
    }

    /// Values per sample.
    pub fn features(&self) -> usize {
        self.sample_shape.iter().product()
    }

    /// Sample `i` as floats (bytes scaled to [0, 1]).
    pub fn sample(&self, i: usize) -> Vec<f32> {
        let f = self.features();
        match &self.x {
            Samples::U8(v) => v[i * f..(i + 1) * f]
                .iter()
                .map(|&b| b as f32 / 255.0)
                .collect(),
            Samples::F32(v) => v[i * f..(i + 1) * f].to_vec(),
        }
    }

    /// Checks every label is below `classes` (one for binary targets counts as 2).
    pub fn check_labels(&self, classes: usize) -> Result<()> {
        let classes = classes.max(2);
        if let Some((i, &l)) = self
            .y
            .iter()
            .enumerate()
            .find(|(_, &l)| l as usize >= classes)
        {
            return Err(Error::InvalidData(format!(
                "label {l} of sample {i} is out of range: the model has {classes} classes"
            )));
        }
        Ok(())
    }

    /// The samples at `indices`, in that order.
    pub fn subset(&self, indices: &[usize]) -> Dataset {
        let f = self.features();
        let x = match &self.x {
            Samples::U8(v) => Samples::U8(
                indices
                    .iter()
                    .flat_map(|&i| v[i * f..(i + 1) * f].iter().copied())
                    .collect(),
            ),
            Samples::F32(v) => Samples::F32(
                indices
                    .iter()
                    .flat_map(|&i| v[i * f..(i + 1) * f].iter().copied())
                    .collect(),
            ),
        };
        Dataset {
            x,
            y: indices.iter().map(|&i| self.y[i]).collect(),
            sample_shape: self.sample_shape.clone(),
        }
    }

    /// Splits off the last `fraction` of the samples (Keras's `validation_split`).
    pub fn split_tail(&self, fraction: f64) -> Result<(Dataset, Dataset)> {
        if !(0.0..1.0).contains(&fraction) {
            return Err(Error::Config(format!(
                "validation split {fraction} must be in [0, 1)"
            )));
        }
        let n_train = self.len() - held_out(self.len(), fraction);
        let head: Vec<usize> = (0..n_train).collect();
        let tail: Vec<usize> = (n_train..self.len()).collect();
        Ok((self.subset(&head), self.subset(&tail)))
    }

    /// Keeps the samples of the listed classes, relabelled 0, 1, … in the order given
    /// (`[8, 9]` turns digits 8 and 9 into classes 0 and 1).
    pub fn filter_classes(&self, classes: &[u32]) -> Result<Dataset> {
        if classes.is_empty() {
            return Err(Error::Config("--classes: the class filter is empty".into()));
        }
        if let Some(c) = classes
            .iter()
            .enumerate()
            .find(|(i, c)| classes[..*i].contains(c))
        {
            return Err(Error::Config(format!(
                "--classes: class {} is listed twice",
                c.1
            )));
        }
        if classes.len() < 2 {
            return Err(Error::Config(
                "--classes: keep at least two classes (a classifier needs something to tell apart)"
                    .into(),
            ));
        }
        let idx: Vec<usize> = (0..self.len())
            .filter(|&i| classes.contains(&self.y[i]))
            .collect();
        let mut d = self.subset(&idx);
        for l in d.y.iter_mut() {
            *l = classes.iter().position(|c| c == l).unwrap() as u32;
        }
        if d.is_empty() {
            return Err(Error::InvalidData(format!(
                "no samples of classes {classes:?}"
            )));
        }
        let mut counts = vec![0usize; classes.len()];
        for &l in &d.y {
            counts[l as usize] += 1;
        }
        if let Some(i) = counts.iter().position(|&c| c == 0) {
            return Err(Error::Config(format!(
                "--classes: class {} has no samples in this data",
                classes[i]
            )));
        }
        Ok(d)
    }

    /// The first `n` samples.
    pub fn limit(&self, n: usize) -> Dataset {
        self.subset(&(0..n.min(self.len())).collect::<Vec<_>>())
    }

    /// Number of classes the labels imply (largest label + 1).
    pub fn classes(&self) -> usize {
        self.y.iter().max().map(|m| *m as usize + 1).unwrap_or(0)
    }
}

/// The rows a validation split of `fraction` holds out of `rows`: Keras's
/// `train_validation_split` keeps the first ⌊rows·(1 − fraction)⌋ for training.
pub fn held_out(rows: usize, fraction: f64) -> usize {
    rows - ((rows as f64 * (1.0 - fraction)).floor() as usize).min(rows)
}

#[cfg(test)]
mod tests {
    use super::held_out;

    #[test]
    fn validation_rows_as_keras_splits_them() {
        // Keras: split_at = floor(n·(1 − f)); floating error included (10·0.3 > 3).
        assert_eq!(held_out(800, 0.25), 200);
        assert_eq!(held_out(10, 0.7), 7);
        assert_eq!(held_out(3, 0.5), 2);
        assert_eq!(held_out(5, 0.0), 0);
    }
}
