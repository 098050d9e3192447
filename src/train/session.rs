//! The [`Session`]: a model on a device. Its state comes in parts, each with one owner:
//! the device (`DeviceState`: the backend and the buffers every step binds), the model
//! and its device weights (`ModelState`), the optimizer and its state once compiled
//! (`Trainer`), the prepared step plans (`Plans`) and the data sets kept on the
//! device (`ResidentSets`). Training runs through one loop (`begin_epoch`,
//! `train_next`, `end_epoch` in [`super::epoch`]) that `fit` drives with its callbacks
//! and the browser page drives without blocking.

use super::device::DeviceState;
use super::plan::{PlanKey, Plans};
use super::resident::ResidentSets;
use super::trainer::Trainer;
use super::weights::ModelState;
use super::{open_backend_with, Device, LossName};
use crate::backend::{Backend, Counters, DeviceInfo, GpuOptions};
use crate::dist::{self, Communicator};
use crate::error::{Error, Result};
use crate::graph::SyncCost;
use crate::nn::{Sequential, Weight};
use crate::optim::{Optimizer, OptimizerState, Schedule};

/// A model on a device, ready for inference and, once compiled, for training.
pub struct Session {
    pub(crate) device: DeviceState,
    pub(crate) weights: ModelState,
    pub(crate) trainer: Option<Trainer>,
    pub(crate) plans: Plans,
    pub(crate) data: ResidentSets,
    /// The loss `evaluate` reports and training minimizes, when set.
    loss: Option<LossName>,
    /// The ranks of data-parallel training, when there are several.
    pub(crate) comm: Option<Box<dyn Communicator>>,
}

impl Session {
    /// Opens `device` and uploads the model's weights.
    pub fn new(model: Sequential, device: Device) -> Result<Session> {
        Session::new_with(model, device, &GpuOptions::from_env()?)
    }

    /// [`Session::new`] with given GPU options (an adapter name or ordinal, a forced
    /// matmul variant).
    pub fn new_with(model: Sequential, device: Device, opts: &GpuOptions) -> Result<Session> {
        let (backend, notice) = open_backend_with(device, opts)?;
        let mut s = Session::with_backend(model, backend)?;
        s.device.notice = notice;
        Ok(s)
    }

    /// Uploads the model's weights to a given backend.
    pub fn with_backend(model: Sequential, mut backend: Box<dyn Backend>) -> Result<Session> {
        let weights = ModelState::upload(model, backend.as_mut())?;
        let device = DeviceState::new(backend, weights.model.weights().len())?;
        Ok(Session {
            device,
            weights,
            trainer: None,
            plans: Plans::default(),
            data: ResidentSets::default(),
            loss: None,
            comm: None,
        })
    }

    /// Makes this session one rank of data-parallel training: `fit` then trains on this
    /// rank's shard of every global batch (`batch_size` rows split evenly among the
    /// ranks) and sums the gradients across ranks before the identical update, so the
    /// weights equal one process's on the same global batches; synchronized batch norm
    /// uses the whole batch's statistics; `evaluate` and the metrics cover every rank's
    /// shard. Every rank must build the same model, compile the same way and call the
    /// same methods in the same order. Errors if the ranks' weights already differ.
    pub fn set_communicator(&mut self, comm: Box<dyn Communicator>) -> Result<()> {
        self.invalidate_plans();
        self.comm = Some(comm);
        self.check_replicas()
    }

    /// This session's rank and the number of ranks ((0, 1) in one process).
    pub fn rank(&self) -> (usize, usize) {
        self.comm.as_ref().map_or((0, 1), |c| (c.rank(), c.size()))
    }

    /// Checks that every rank holds the same weights (a checksum each, gathered); the
    /// error names the first rank that differs from rank 0.
    pub(crate) fn check_replicas(&mut self) -> Result<()> {
        if self.comm.as_ref().is_none_or(|c| c.size() < 2) {
            return Ok(());
        }
        self.sync()?;
        let m = &self.weights.model;
        let sum = dist::checksum(m.weights().iter().map(|w| w.data.as_slice()));
        let sums = self.comm.as_ref().expect("checked").all_gather(sum)?;
        dist::check_agreement("weights", &sums)
    }

    /// Runs a prepared plan: records it (and, on several ranks, runs its all-reduce
    /// points); the caller submits.
    /// Records plan `key`'s launches (the statistics-only ones when `statistics`).
    pub(crate) fn run_plan(&mut self, key: PlanKey, statistics: bool) -> Result<SyncCost> {
        self.plans.get(&key).exec.run(
            self.device.backend.as_mut(),
            self.comm.as_deref(),
            statistics,
        )
    }

    /// When [`Device::Auto`] fell back to the CPU reference, why.
    pub fn fallback_notice(&self) -> Option<&str> {
        self.device.notice.as_deref()
    }

    /// Prepares training with `optimizer` and `loss` (Keras's `compile`): validates the
    /// optimizer and allocates its state on the device. Compiling again replaces both and
    /// starts the optimizer state afresh.
    pub fn compile(&mut self, optimizer: Box<dyn Optimizer>, loss: LossName) -> Result<()> {
        optimizer.validate()?;
        loss.check(&self.weights.model)?;
        self.invalidate_plans();
        if let Some(old) = self.trainer.take() {
            old.release(self.device.backend.as_mut());
        }
        let backend = self.device.backend.as_mut();
        let w = &self.weights;
        self.trainer = Some(Trainer::new(backend, &w.model, &w.arenas, optimizer)?);
        self.loss = Some(loss);
        Ok(())
    }

    /// Sets the loss `evaluate` reports (also without compiling: inference needs no
    /// optimizer).
    pub fn set_loss(&mut self, loss: LossName) -> Result<()> {
        loss.check(&self.weights.model)?;
        if self.loss != Some(loss) {
            self.loss = Some(loss);
            self.invalidate_plans();
        }
        Ok(())
    }

    /// The compiled optimizer, if any.
    pub fn optimizer(&self) -> Option<&dyn Optimizer> {
        self.trainer.as_ref().map(|t| t.optimizer.as_ref())
    }

    /// The loss `evaluate` uses: the compiled (or set) one, else the one the model's
    /// output suggests ([`LossName::for_model`]).
    pub fn loss(&self) -> LossName {
        self.loss
            .unwrap_or_else(|| LossName::for_model(&self.weights.model))
    }

    /// The trainer, or the error of a session not compiled.
    pub(crate) fn trainer(&self) -> Result<&Trainer> {
        self.trainer.as_ref().ok_or_else(|| {
            Error::Config("the session is not compiled: call compile before training".into())
        })
    }

    /// The model with its current weights (read back from the device if training changed
    /// them).
    pub fn model(&mut self) -> Result<&Sequential> {
        self.sync()?;
        Ok(&self.weights.model)
    }

    /// Ends the session and returns the model with its current weights.
    pub fn into_model(mut self) -> Result<Sequential> {
        self.sync()?;
        Ok(self.weights.model)
    }

    /// The current weights.
    pub fn get_weights(&mut self) -> Result<Vec<Weight>> {
        Ok(self.model()?.weights().to_vec())
    }

    /// Brings the model's host weights up to date.
    pub(crate) fn sync(&mut self) -> Result<()> {
        self.weights.sync(self.device.backend.as_mut())
    }

    /// Replaces weight `name`'s values, on the host and the device.
    pub fn set_weight(&mut self, name: &str, data: &[f32]) -> Result<()> {
        self.weights
            .set_weight(self.device.backend.as_mut(), name, data)
    }

    /// Replaces the values of every weight listed (by name), as `get_weights` returned
    /// them.
    pub fn set_weights(&mut self, weights: &[Weight]) -> Result<()> {
        for w in weights {
            self.set_weight(&w.name, &w.data)?;
        }
        Ok(())
    }

    /// The optimizer's learning rate when it is a constant (an error for a schedule, or
    /// before `compile`).
    pub fn learning_rate_constant(&self) -> Result<f32> {
        match self.trainer()?.optimizer.learning_rate() {
            Schedule::Constant(lr) => Ok(*lr),
            other => Err(Error::Config(format!(
                "the learning rate follows a schedule ({other:?}); it can only be set when it is a constant"
            ))),
        }
    }

    /// Sets the optimizer's learning rate to a constant, from the next step on (as Keras's
    /// `optimizer.learning_rate = lr`); an error when it follows a schedule.
    pub fn set_learning_rate(&mut self, lr: f32) -> Result<()> {
        self.learning_rate_constant()?;
        let t = self.trainer.as_mut().expect("checked");
        t.optimizer.set_learning_rate(Schedule::Constant(lr));
        t.optimizer.validate()
    }

    /// Freezes or unfreezes layer `index` (the step plans are rebuilt).
    pub fn set_trainable(&mut self, index: usize, on: bool) -> Result<()> {
        self.weights.model.set_trainable(index, on)?;
        self.invalidate_plans();
        Ok(())
    }

    /// Sets layer `index`'s learning-rate multiplier (the step plans are rebuilt).
    pub fn set_lr_multiplier(&mut self, index: usize, m: f32) -> Result<()> {
        self.weights.model.set_lr_multiplier(index, m)?;
        self.invalidate_plans();
        Ok(())
    }

    /// The device in use.
    pub fn device_info(&self) -> DeviceInfo {
        self.device.backend.info()
    }

    /// The backend's cumulative counters.
    pub fn counters(&self) -> Counters {
        self.device.backend.counters()
    }

    /// Device buffers currently allocated (flat across epochs once the plans exist).
    pub fn live_buffers(&self) -> usize {
        self.device.backend.live_buffers()
    }

    /// Global step count so far (Keras's optimizer `iterations`; 0 before `compile`).
    pub fn steps_done(&self) -> u64 {
        self.trainer.as_ref().map_or(0, |t| t.step)
    }

    /// Makes training gather batches on the host and upload them, as it does for a data
    /// set too large for the device (for tests of that path).
    pub fn force_streaming(&mut self, on: bool) {
        self.data.stream = on;
    }

    /// Reads the optimizer state back from the device.
    pub fn optimizer_state(&mut self) -> Result<OptimizerState> {
        let t = self.trainer.as_ref().ok_or_else(|| {
            Error::Config("the session is not compiled: it has no optimizer state".into())
        })?;
        t.state(self.device.backend.as_mut(), &self.weights.model)
    }

    /// Restores an optimizer state saved by [`Session::optimizer_state`]. The optimizer
    /// must be the compiled one, and every slot of every optimizable weight must be there
    /// with the weight's size; nothing else may be.
    pub fn set_optimizer_state(&mut self, s: &OptimizerState) -> Result<()> {
        let t = self.trainer.as_mut().ok_or_else(|| {
            Error::Config("compile the session before restoring optimizer state".into())
        })?;
        t.restore(self.device.backend.as_mut(), &self.weights.model, s)
    }

    /// Drops every prepared plan (after freezing, unfreezing or a learning-rate change the
    /// step graphs differ); weights, optimizer state and resident data stay.
    pub(crate) fn invalidate_plans(&mut self) {
        self.plans.clear(self.device.backend.as_mut());
    }
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("device", &self.device.backend.info())
            .field("model", &self.weights.model)
            .field("compiled", &self.trainer.is_some())
            .field("step", &self.steps_done())
            .finish()
    }
}
