//! The divergence guard's bookkeeping: the loss and per-tensor gradient norms at the start
//! of a fit, and the check against them whenever the metrics are read.

use super::options::Divergence;
use crate::error::{Error, Result};
use crate::nn::Sequential;

/// What training started from.
pub(crate) struct Start {
    loss: f32,
    /// ‖g‖ of every weight at the first step (0 for weights without a gradient).
    norms: Vec<f32>,
}

impl Start {
    /// From the first step's mean loss and gradient statistics (`3·i` holds ‖g_i‖²).
    pub fn new(loss: f32, stats: &[f32], weights: usize) -> Start {
        Start {
            loss,
            norms: (0..weights).map(|i| stats[3 * i].max(0.0).sqrt()).collect(),
        }
    }

    /// Checks the current loss and gradient statistics against the start. `Ok(Some(w))` is a
    /// warning (with `warn_only`); `Err` stops training.
    pub fn check(
        &self,
        guard: &Divergence,
        model: &Sequential,
        loss: f32,
        stats: &[f32],
        step: u64,
    ) -> Result<Option<String>> {
        let now: Vec<f32> = (0..self.norms.len())
            .map(|i| stats[3 * i].max(0.0).sqrt())
            .collect();
        let global = |v: &[f32]| v.iter().map(|n| n * n).sum::<f32>().sqrt();
        let (g0, g1) = (global(&self.norms), global(&now));
        let loss_ratio = loss / self.loss.max(1e-2);
        let grad_ratio = g1 / g0.max(1e-12);
        let reason = if loss_ratio > guard.loss_factor {
            format!(
                "the loss grew from {:.4} to {loss:.4e} (×{loss_ratio:.1e})",
                self.loss
            )
        } else if grad_ratio > guard.grad_factor {
            format!("the global gradient norm grew from {g0:.3e} to {g1:.3e} (×{grad_ratio:.1e})")
        } else {
            return Ok(None);
        };
        // The layer whose gradient grew most.
        let worst = (0..now.len())
            .filter(|&i| self.norms[i] > 0.0)
            .max_by(|&a, &b| (now[a] / self.norms[a]).total_cmp(&(now[b] / self.norms[b])))
            .map(|i| model.layers()[model.weights()[i].layer].name.clone())
            .unwrap_or_else(|| "the model".into());
        if guard.warn_only {
            Ok(Some(format!(
                "warning: training is diverging at step {step}: {reason}; the gradient of {worst} grew most"
            )))
        } else {
            Err(Error::Diverged {
                reason,
                layer: worst,
                step,
            })
        }
    }
}
