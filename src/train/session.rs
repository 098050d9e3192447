//! The [`Session`]: a model on a device. It owns the backend, the device copies of the
//! weights, the optimizer and its state, the resident data sets and the prepared step
//! plans; the model's host weights are brought up to date whenever the model is asked
//! for, and [`Session::into_model`] hands it back.

use std::collections::HashMap;

use super::arena::{self, Arena, TrainArena};
use super::plan::{Plan, PlanKey};
use super::resident::Resident;
use super::{open_backend_with, Device, LossName};
use crate::backend::ops::grad_stats::NO_STEP;
use crate::backend::{Backend, BufId, Counters, DeviceInfo, GpuOptions, STEP_WORDS};
use crate::dist::{self, Communicator};
use crate::error::{Error, Result};
use crate::graph::SyncCost;
use crate::nn::{Sequential, Weight};
use crate::optim::{Optimizer, OptimizerState, SlotValues};

/// What `compile` fixed: the optimizer, the loss, each group's gradient and slot arenas,
/// and each weight's state slots on the device (views; empty for weights no optimizer
/// updates).
pub(crate) struct Training {
    pub optimizer: Box<dyn Optimizer>,
    pub arenas: Vec<TrainArena>,
    pub slots: Vec<Vec<BufId>>,
    /// Per-segment partial sums of the gradient statistics (2 words a segment, all groups).
    pub partials: BufId,
}

/// A model on a device, ready for inference and, once compiled, for training.
pub struct Session {
    pub(crate) backend: Box<dyn Backend>,
    pub(crate) model: Sequential,
    /// Whether the device weights are newer than the model's host copy.
    pub(crate) host_stale: bool,
    /// The weight arenas (one per group).
    pub(crate) arenas: Vec<Arena>,
    /// Each weight's view into its arena.
    pub(crate) weights: Vec<BufId>,
    pub(crate) training: Option<Training>,
    loss: Option<LossName>,
    pub(crate) step_buf: BufId,
    pub(crate) metrics: BufId,
    pub(crate) stats: BufId,
    pub(crate) scales: BufId,
    pub(crate) plans: HashMap<PlanKey, Plan>,
    pub(crate) resident: Vec<Resident>,
    pub(crate) step: u64,
    /// The optimizer's carried scalar (Nadam's u_product).
    pub(crate) carry: f32,
    /// Force host-written batches (as for a data set too large for the device).
    pub(crate) stream: bool,
    notice: Option<String>,
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
        s.notice = notice;
        Ok(s)
    }

    /// Uploads the model's weights to a given backend.
    pub fn with_backend(model: Sequential, mut backend: Box<dyn Backend>) -> Result<Session> {
        model.output_shapes()?;
        let init: Vec<(&[f32], bool)> = model
            .weights()
            .iter()
            .map(|w| (w.data.as_slice(), w.optimizable))
            .collect();
        let (arenas, weights) = arena::upload_weights(backend.as_mut(), &init)?;
        let nw = model.weights().len().max(1);
        let step_buf = backend.alloc(STEP_WORDS)?;
        let metrics = backend.alloc(3)?;
        let stats = backend.alloc(3 * nw)?;
        let scales = backend.alloc(nw)?;
        let mut s = Session {
            backend,
            model,
            host_stale: false,
            arenas,
            weights,
            training: None,
            loss: None,
            step_buf,
            metrics,
            stats,
            scales,
            plans: HashMap::new(),
            resident: Vec::new(),
            step: 0,
            carry: 1.0,
            stream: false,
            notice: None,
            comm: None,
        };
        s.reset_stats()?;
        Ok(s)
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
        let sum = dist::checksum(self.model.weights().iter().map(|w| w.data.as_slice()));
        let sums = self.comm.as_ref().expect("checked").all_gather(sum)?;
        dist::check_agreement("weights", &sums)
    }

    /// Runs a prepared plan: records it (and, on several ranks, runs its all-reduce
    /// points); the caller submits.
    pub(crate) fn run_plan(&mut self, key: PlanKey) -> Result<SyncCost> {
        self.plans[&key]
            .exec
            .run(self.backend.as_mut(), self.comm.as_deref())
    }

    /// When [`Device::Auto`] fell back to the CPU reference, why.
    pub fn fallback_notice(&self) -> Option<&str> {
        self.notice.as_deref()
    }

    /// Prepares training with `optimizer` and `loss` (Keras's `compile`): validates the
    /// optimizer and allocates its state on the device. Compiling again replaces both and
    /// starts the optimizer state afresh.
    pub fn compile(&mut self, optimizer: Box<dyn Optimizer>, loss: LossName) -> Result<()> {
        optimizer.validate()?;
        loss.check(&self.model)?;
        self.invalidate_plans();
        if let Some(old) = self.training.take() {
            for b in old.slots.into_iter().flatten() {
                self.backend.free(b);
            }
            for a in old.arenas {
                self.backend.free(a.grads);
                a.slots.into_iter().for_each(|b| self.backend.free(b));
            }
            self.backend.free(old.partials);
        }
        let init: Vec<f32> = optimizer
            .slots()
            .iter()
            .map(|name| optimizer.slot_initial(name))
            .collect();
        let lens: Vec<usize> = self.model.weights().iter().map(|w| w.data.len()).collect();
        let (arenas, slots) =
            arena::alloc_training(self.backend.as_mut(), &self.arenas, &lens, &init)?;
        let segments: usize = lens
            .iter()
            .zip(self.model.weights())
            .filter(|(_, w)| w.optimizable)
            .map(|(n, _)| n.div_ceil(crate::backend::kernel::SEGMENT))
            .sum();
        let partials = self.backend.alloc(2 * segments.max(1))?;
        self.carry = optimizer.carry().map(|c| c.1).unwrap_or(1.0);
        self.step = 0;
        self.training = Some(Training {
            optimizer,
            arenas,
            slots,
            partials,
        });
        self.loss = Some(loss);
        Ok(())
    }

    /// Sets the loss `evaluate` reports (also without compiling: inference needs no
    /// optimizer).
    pub fn set_loss(&mut self, loss: LossName) -> Result<()> {
        loss.check(&self.model)?;
        if self.loss != Some(loss) {
            self.loss = Some(loss);
            self.invalidate_plans();
        }
        Ok(())
    }

    /// The compiled optimizer, if any.
    pub fn optimizer(&self) -> Option<&dyn Optimizer> {
        self.training.as_ref().map(|t| t.optimizer.as_ref())
    }

    /// The loss `evaluate` uses: the compiled (or set) one, else the one the model's
    /// output suggests ([`LossName::for_model`]).
    pub fn loss(&self) -> LossName {
        self.loss
            .unwrap_or_else(|| LossName::for_model(&self.model))
    }

    /// The model with its current weights (read back from the device if training changed
    /// them).
    pub fn model(&mut self) -> Result<&Sequential> {
        self.sync()?;
        Ok(&self.model)
    }

    /// Ends the session and returns the model with its current weights.
    pub fn into_model(mut self) -> Result<Sequential> {
        self.sync()?;
        Ok(self.model)
    }

    /// The current weights.
    pub fn get_weights(&mut self) -> Result<Vec<Weight>> {
        Ok(self.model()?.weights().to_vec())
    }

    pub(crate) fn sync(&mut self) -> Result<()> {
        if self.host_stale {
            // One read per arena buffer, not one per weight.
            for g in 0..self.arenas.len() {
                for (buf, members) in self.arenas[g].buffers() {
                    let all = self.backend.read(buf)?;
                    self.absorb(&members, &all)?;
                }
            }
            self.host_stale = false;
        }
        Ok(())
    }

    /// Copies the values of an arena buffer, read back as `all`, into the model's weights
    /// (`members`: weight index and offset).
    pub(crate) fn absorb(&mut self, members: &[(usize, usize)], all: &[f32]) -> Result<()> {
        for &(i, at) in members {
            let name = self.model.weights()[i].name.clone();
            let n = self.model.weights()[i].data.len();
            self.model.set_weight(&name, &all[at..at + n])?;
        }
        Ok(())
    }

    /// Replaces weight `name`'s values, on the host and the device.
    pub fn set_weight(&mut self, name: &str, data: &[f32]) -> Result<()> {
        self.sync()?;
        self.model.set_weight(name, data)?;
        let i = self
            .model
            .weight_index(name)
            .expect("checked by set_weight");
        self.backend.write(self.weights[i], 0, data)
    }

    /// Freezes or unfreezes layer `index` (the step plans are rebuilt).
    pub fn set_trainable(&mut self, index: usize, on: bool) -> Result<()> {
        self.model.set_trainable(index, on)?;
        self.invalidate_plans();
        Ok(())
    }

    /// Sets layer `index`'s learning-rate multiplier (the step plans are rebuilt).
    pub fn set_lr_multiplier(&mut self, index: usize, m: f32) -> Result<()> {
        self.model.set_lr_multiplier(index, m)?;
        self.invalidate_plans();
        Ok(())
    }

    /// The device in use.
    pub fn device_info(&self) -> DeviceInfo {
        self.backend.info()
    }

    /// The backend's cumulative counters.
    pub fn counters(&self) -> Counters {
        self.backend.counters()
    }

    /// Device buffers currently allocated (flat across epochs once the plans exist).
    pub fn live_buffers(&self) -> usize {
        self.backend.live_buffers()
    }

    /// Global step count so far (Keras's optimizer `iterations`).
    pub fn steps_done(&self) -> u64 {
        self.step
    }

    /// Makes training gather batches on the host and upload them, as it does for a data
    /// set too large for the device (for tests of that path).
    pub fn force_streaming(&mut self, on: bool) {
        self.stream = on;
    }

    /// Reads the optimizer state back from the device.
    pub fn optimizer_state(&mut self) -> Result<OptimizerState> {
        let t = self.training.as_ref().ok_or_else(|| {
            Error::Config("the session is not compiled: it has no optimizer state".into())
        })?;
        let names = t.optimizer.slots();
        let mut slots = Vec::new();
        for (w, bufs) in self.model.weights().iter().zip(&t.slots) {
            for (name, b) in names.iter().zip(bufs) {
                let v = self.backend.read(*b)?;
                slots.push(SlotValues {
                    weight: w.name.clone(),
                    slot: name.to_string(),
                    data: v[..w.data.len()].to_vec(),
                });
            }
        }
        // One canonical order (by weight name, then slot), as a loaded state has.
        slots.sort_by(|a, b| (&a.weight, &a.slot).cmp(&(&b.weight, &b.slot)));
        Ok(OptimizerState {
            optimizer: t.optimizer.name().to_string(),
            iterations: self.step,
            slots,
            carry: t
                .optimizer
                .carry()
                .map(|(n, _)| (n.to_string(), self.carry)),
        })
    }

    /// Restores an optimizer state saved by [`Session::optimizer_state`]. The optimizer
    /// must be the compiled one, and every slot of every optimizable weight must be there
    /// with the weight's size; nothing else may be.
    pub fn set_optimizer_state(&mut self, s: &OptimizerState) -> Result<()> {
        let t = self.training.as_ref().ok_or_else(|| {
            Error::Config("compile the session before restoring optimizer state".into())
        })?;
        if s.optimizer != t.optimizer.name() {
            return Err(Error::Config(format!(
                "the optimizer state is {}'s, the session uses {}",
                s.optimizer,
                t.optimizer.name()
            )));
        }
        let names = t.optimizer.slots();
        let mut writes = Vec::new();
        let mut used = 0;
        for (w, bufs) in self.model.weights().iter().zip(&t.slots) {
            for (name, b) in names.iter().zip(bufs) {
                let v = s.slot(&w.name, name).ok_or_else(|| {
                    Error::Config(format!("the optimizer state has no {name} for {}", w.name))
                })?;
                if v.len() != w.data.len() {
                    return Err(Error::Shape(format!(
                        "the optimizer's {name} of {} holds {} values, the weight {}",
                        w.name,
                        v.len(),
                        w.data.len()
                    )));
                }
                used += 1;
                writes.push((*b, v.to_vec()));
            }
        }
        if used != s.slots.len() {
            let extra = s
                .slots
                .iter()
                .find(|x| {
                    self.model.weight_index(&x.weight).is_none()
                        || !names.contains(&x.slot.as_str())
                })
                .map(|x| format!("{} of {}", x.slot, x.weight))
                .unwrap_or_else(|| "a duplicate slot".into());
            return Err(Error::Config(format!(
                "the optimizer state holds {extra}, which this model and optimizer do not have"
            )));
        }
        let carry = match (t.optimizer.carry(), &s.carry) {
            (Some(_), Some((_, v))) => *v,
            (Some((_, init)), None) => {
                // Recompute the running product from the step count.
                let mut c = init;
                for i in 0..s.iterations {
                    t.optimizer.step_scalars(i, 0.0, &mut c);
                }
                c
            }
            (None, _) => 1.0,
        };
        for (b, v) in writes {
            self.backend.write(b, 0, &v)?;
        }
        self.step = s.iterations;
        self.carry = carry;
        Ok(())
    }

    /// Drops every prepared plan (after freezing, unfreezing or a learning-rate change the
    /// step graphs differ); weights, optimizer state and resident data stay.
    pub(crate) fn invalidate_plans(&mut self) {
        for (_, p) in self.plans.drain() {
            p.release(self.backend.as_mut());
        }
    }

    /// Resets the gradient statistics (norms 0, no non-finite step).
    pub(crate) fn reset_stats(&mut self) -> Result<()> {
        let nw = self.model.weights().len().max(1);
        let init: Vec<u32> = (0..3 * nw)
            .map(|i| if i % 3 == 2 { NO_STEP } else { 0 })
            .collect();
        self.backend.write_words(self.stats, 0, &init)
    }
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("device", &self.backend.info())
            .field("model", &self.model)
            .field("compiled", &self.training.is_some())
            .field("step", &self.step)
            .finish()
    }
}
