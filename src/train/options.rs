//! What `fit` takes and returns: options, per-epoch logs, per-step counters, callbacks,
//! and the EWMA the progress display and BN's moving statistics share.

/// What `fit` takes. `Default` gives Keras's defaults (batch 32, shuffling).
#[derive(Clone, Debug)]
pub struct FitOptions {
    /// Passes over the data.
    pub epochs: usize,
    /// Samples per step.
    pub batch_size: usize,
    /// Shuffle every epoch.
    pub shuffle: bool,
    /// Seed of the shuffles.
    pub seed: u64,
    /// Fraction of the training data (its tail) held out for validation.
    pub validation_split: f64,
    /// Read the running metrics every N steps for the callbacks (progress bars).
    pub metrics_every: Option<usize>,
    /// Check the non-finite guard every N steps instead of once per epoch.
    pub check_every: Option<usize>,
    /// Stop after this many steps in total (for exact, short runs).
    pub max_steps: Option<u64>,
    /// When the loss or the gradient norm grows past its bound: stop or warn.
    pub divergence: Divergence,
    /// Sample every layer's health every N steps (the first step of the fit, then every
    /// N-th): activation statistics, gradient norms, update/weight ratios. Off (`None`)
    /// costs nothing; a sample adds a few kernels to that step and one read-back.
    pub health_every: Option<usize>,
    /// Gather the gradient statistics (per-tensor norms, the first non-finite step) on
    /// every step. Off, they are gathered on the steps read after — each epoch's first and
    /// last, every `check_every`-th, health samples — and on every step with norm clipping
    /// (which needs them): two launches fewer on the other steps, the per-epoch mean
    /// gradient norms then averaged over the steps gathered, and a non-finite gradient
    /// found at the next gathered step (its loss is non-finite by then too).
    pub every_step_statistics: bool,
}

/// The divergence guard: besides non-finite values, training counts as diverging when the
/// loss grows past `loss_factor` × its start (at least 0.01) or the global gradient norm
/// past `grad_factor` × its start. Checked whenever the metrics are read anyway (once per
/// epoch, or every `check_every` / `metrics_every` steps), after one read following the
/// first step that fixes the start.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Divergence {
    /// Bound on loss / starting loss.
    pub loss_factor: f32,
    /// Bound on global gradient norm / starting global gradient norm.
    pub grad_factor: f32,
    /// Stop with [`crate::Error::Diverged`], or warn (in [`EpochLogs::warnings`]) and go on.
    pub warn_only: bool,
}

impl Default for Divergence {
    fn default() -> Self {
        Divergence {
            loss_factor: 1e4,
            grad_factor: 1e4,
            warn_only: false,
        }
    }
}

impl Default for FitOptions {
    fn default() -> Self {
        FitOptions {
            epochs: 1,
            batch_size: 32,
            shuffle: true,
            seed: 0,
            validation_split: 0.0,
            metrics_every: None,
            check_every: None,
            max_steps: None,
            divergence: Divergence::default(),
            health_every: None,
            every_step_statistics: false,
        }
    }
}

/// Metrics of one epoch.
#[derive(Clone, Debug, PartialEq)]
pub struct EpochLogs {
    /// Epoch index, from 0.
    pub epoch: usize,
    /// Mean training loss over the epoch's samples (in training mode, before each update).
    pub loss: f32,
    /// Training accuracy.
    pub accuracy: f32,
    /// Validation loss, when there is validation data.
    pub val_loss: Option<f32>,
    /// Validation accuracy.
    pub val_accuracy: Option<f32>,
    /// Training throughput.
    pub samples_per_second: f64,
    /// The learning rate of the epoch's last step (the schedule's value times any
    /// reduction a callback made).
    pub learning_rate: f32,
    /// Mean L2 norm of each trainable weight's gradient over the epoch's steps — the
    /// vanishing/exploding-gradient diagnostic.
    pub grad_norms: Vec<(String, f32)>,
    /// Warnings raised during the epoch (divergence, with `Divergence::warn_only`).
    pub warnings: Vec<String>,
}

/// Work per training step, from the backend's counters.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct StepCounters {
    /// Steps counted.
    pub steps: u64,
    /// Kernel dispatches per step.
    pub dispatches_per_step: f64,
    /// Queue submits per step.
    pub submits_per_step: f64,
    /// Bytes uploaded per step.
    pub upload_bytes_per_step: f64,
    /// Bytes read back inside steps.
    pub readback_bytes_per_step: f64,
    /// Bytes copied on the device into operand textures and uniform blocks per step (CPU
    /// adapters read large operands through them).
    pub copy_bytes_per_step: f64,
    /// Bytes read back per epoch between steps (metrics, guard flags).
    pub readback_bytes_per_epoch: f64,
    /// Device objects created per step after the first (0: everything is made once).
    pub allocations_per_step: f64,
    /// Data-parallel training: all-reduce rounds per step (0 in one process).
    pub allreduce_rounds_per_step: f64,
    /// Data-parallel training: bytes each rank contributes to all-reduces per step.
    pub allreduce_bytes_per_step: f64,
    /// Data-parallel training: seconds per step inside all-reduces (the exchange and any
    /// wait for slower ranks).
    pub allreduce_seconds_per_step: f64,
}

/// What `fit` returns: one [`EpochLogs`] per epoch and the per-step counters.
#[derive(Clone, Debug, Default)]
pub struct History {
    /// Per-epoch metrics.
    pub epochs: Vec<EpochLogs>,
    /// Per-step work.
    pub counters: StepCounters,
    /// Health samples, when [`FitOptions::health_every`] asked for them.
    pub health: Vec<crate::health::HealthSample>,
}

/// What a callback asks of the loop after an epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Control {
    /// Go on training.
    Continue,
    /// Stop after this epoch (Keras's `model.stop_training = True`).
    Stop,
}

/// Hooks called by `fit`'s loop. The epoch-level ones get the session: a callback may
/// read or set its weights, save it, or change its learning rate, as Keras's callbacks
/// do through their model.
pub trait Callback {
    /// Before the first epoch.
    fn on_train_begin(&mut self, _session: &mut crate::train::Session) -> crate::Result<()> {
        Ok(())
    }
    /// Before an epoch of `steps` steps.
    fn on_epoch_begin(&mut self, _epoch: usize, _steps: usize) {}
    /// After each step; `running_loss` is the epoch's mean loss so far when it was read
    /// back at this step (see [`FitOptions::metrics_every`]).
    fn on_batch_end(&mut self, _step_in_epoch: usize, _rows: usize, _running_loss: Option<f32>) {}
    /// After an epoch (with its validation metrics, if any).
    fn on_epoch_end(
        &mut self,
        _session: &mut crate::train::Session,
        _logs: &EpochLogs,
    ) -> crate::Result<Control> {
        Ok(Control::Continue)
    }
    /// After the last epoch (also when a callback stopped training).
    fn on_train_end(&mut self, _session: &mut crate::train::Session) -> crate::Result<()> {
        Ok(())
    }
    /// After each health sample (see [`FitOptions::health_every`]).
    fn on_health(&mut self, _sample: &crate::health::HealthSample) {}
}
