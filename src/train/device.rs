//! The device side every plan of a session binds: the backend and the small buffers a
//! step reads or accumulates into — the step record the host writes before each step,
//! the running metrics, the gradient statistics and the clip factors.

use crate::backend::ops::grad_stats::NO_STEP;
use crate::backend::{Backend, BufId, STEP_WORDS};
use crate::error::Result;

/// The backend and the buffers shared by every step plan.
pub(crate) struct DeviceState {
    pub backend: Box<dyn Backend>,
    /// The step record ([`STEP_WORDS`] words: step, batch offset, learning rate, unused,
    /// the optimizer's four per-step scalars), written by the host before each step.
    pub record: BufId,
    /// `(Σ loss, Σ correct, rows)` since the last reset.
    pub metrics: BufId,
    /// Per weight `[‖g‖² of the last step, Σ‖g‖ since the last reset, first non-finite
    /// step]`.
    pub grad_stats: BufId,
    /// Per weight, the clip factor of the last step.
    pub clip_scales: BufId,
    /// Weights the statistics are sized for.
    weights: usize,
    /// When [`super::Device::Auto`] fell back to the CPU reference, why.
    pub notice: Option<String>,
}

impl DeviceState {
    /// Allocates the shared buffers on `backend` for a model of `weights` weight tensors.
    pub fn new(mut backend: Box<dyn Backend>, weights: usize) -> Result<DeviceState> {
        let weights = weights.max(1);
        let record = backend.alloc(STEP_WORDS)?;
        let metrics = backend.alloc(3)?;
        let grad_stats = backend.alloc(3 * weights)?;
        let clip_scales = backend.alloc(weights)?;
        let mut d = DeviceState {
            backend,
            record,
            metrics,
            grad_stats,
            clip_scales,
            weights,
            notice: None,
        };
        d.reset_stats()?;
        Ok(d)
    }

    /// Resets the gradient statistics (norms 0, no non-finite step) and the clip factors
    /// (1: what steps without norm clipping, which may skip the statistics, apply).
    pub fn reset_stats(&mut self) -> Result<()> {
        let init: Vec<u32> = (0..3 * self.weights)
            .map(|i| if i % 3 == 2 { NO_STEP } else { 0 })
            .collect();
        self.backend.write_words(self.grad_stats, 0, &init)?;
        self.backend
            .write(self.clip_scales, 0, &vec![1.0; self.weights])
    }

    /// Zeroes the running metrics.
    pub fn zero_metrics(&mut self) -> Result<()> {
        self.backend.write(self.metrics, 0, &[0.0; 3])
    }

    /// Writes the step record.
    pub fn write_record(&mut self, record: &[u32; STEP_WORDS]) -> Result<()> {
        self.backend.write_words(self.record, 0, record)
    }
}
