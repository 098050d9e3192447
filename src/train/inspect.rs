//! Dead-ReLU and saturation diagnostics: every hidden activation of a batch, read back
//! once (between epochs, never inside a training step).

use super::plan::{Mode, PlanKey};
use super::session::Session;
use crate::backend::ActKind;
use crate::data::Dataset;
use crate::error::Result;

/// How one hidden activation behaves on a batch of inputs (inference mode).
#[derive(Clone, Debug, PartialEq)]
pub struct ActivationStats {
    /// The layer whose activation this is.
    pub layer: String,
    /// The activation (`relu`, `sigmoid`, `prelu`, …).
    pub activation: String,
    /// Units in the layer.
    pub units: usize,
    /// ReLU units that output 0 for every sample: they pass no gradient at all.
    pub dead_units: usize,
    /// Fraction of outputs in a flat region (sigmoid below 0.01 or above 0.99, tanh beyond
    /// ±0.99), where gradients vanish.
    pub saturated_fraction: f32,
    /// Mean output.
    pub mean: f32,
    /// Standard deviation of the outputs.
    pub std: f32,
}

impl Session {
    /// Runs the first `samples` samples of `data` through the model (inference mode) and
    /// reports, for each hidden activation, dead ReLU units and saturation — so vanishing
    /// gradients are seen rather than guessed.
    pub fn activation_stats(
        &mut self,
        data: &Dataset,
        samples: usize,
    ) -> Result<Vec<ActivationStats>> {
        let features = self.weights.model.input_features();
        if data.features() != features || data.is_empty() {
            return Err(crate::Error::Shape(format!(
                "the inspection samples have shape {:?}, the model takes {:?}",
                data.sample_shape,
                self.weights.model.input_shape()
            )));
        }
        let rows = samples.min(data.len()).max(1);
        let x: Vec<f32> = (0..rows).flat_map(|i| data.sample(i)).collect();
        self.run_host_batch(Mode::Inspect, &x, rows)?;
        let key = PlanKey {
            mode: Mode::Inspect,
            rows,
            data: None,
            total: rows,
        };
        let plan = self.plans.get(&key);
        let acts: Vec<_> = (plan.activations.iter())
            .map(|a| (a.clone(), plan.exec.buffer(a.tensor)))
            .collect();
        let shapes = self.weights.model.output_shapes()?;
        let mut out = Vec::new();
        for (a, buf) in acts {
            let units: usize = shapes[a.layer].iter().product();
            let v = self.device.backend.read(buf)?;
            let v = &v[..rows * units];
            let dead_units = if a.act == ActKind::Relu {
                (0..units)
                    .filter(|&u| (0..rows).all(|r| v[r * units + u] <= 0.0))
                    .count()
            } else {
                0
            };
            let saturated = v
                .iter()
                .filter(|&&y| match a.act {
                    ActKind::Sigmoid => !(0.01..=0.99).contains(&y),
                    ActKind::Tanh => y.abs() > 0.99,
                    _ => false,
                })
                .count();
            let n = v.len().max(1) as f64;
            let mean = v.iter().map(|&y| y as f64).sum::<f64>() / n;
            let var = v.iter().map(|&y| (y as f64 - mean).powi(2)).sum::<f64>() / n;
            out.push(ActivationStats {
                layer: self.weights.model.layers()[a.layer].name.clone(),
                activation: a.name.to_string(),
                units,
                dead_units,
                saturated_fraction: saturated as f32 / n as f32,
                mean: mean as f32,
                std: var.sqrt() as f32,
            });
        }
        Ok(out)
    }
}
