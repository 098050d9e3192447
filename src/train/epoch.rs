//! The one training loop's pieces: [`Session::begin_epoch`] (the epoch's sample order,
//! the running metrics zeroed), [`Session::train_next`] (one step: the step record, one
//! submit, nothing read back unless a health sample is due) and
//! [`Session::end_epoch`] (one read of the metrics and gradient statistics). `fit` is
//! these with its callbacks, the divergence guard and validation between them; a browser
//! page runs the same steps and ends its epochs with [`Session::end_epoch_async`].

use rand::seq::SliceRandom;
use web_time::Instant;

use super::options::EpochLogs;
use super::plan::{Mode, PlanKey};
use super::resident;
use super::session::Session;
use super::LossName;
use crate::backend::ops::grad_stats::NO_STEP;
use crate::backend::{BufId, Counters, STEP_WORDS};
use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::graph::SyncCost;
use crate::health::{HealthSample, LayerHealth};

/// An epoch in progress: its sample order, the next batch, and what its steps cost.
#[derive(Debug)]
pub struct Epoch {
    order: Vec<usize>,
    batch_size: usize,
    next: usize,
    data: Option<BufId>,
    /// Sample health every N steps, counting steps from `health_phase` (a health sample
    /// falls on steps whose count is a multiple of N).
    health_every: Option<usize>,
    health_phase: u64,
    /// The fit's `check_every` and `every_step_statistics` (which steps gather the
    /// gradient statistics).
    check_every: Option<usize>,
    every_step_statistics: bool,
    started: Instant,
    start: Counters,
    pub(crate) work: StepWork,
}

/// What the steps of an epoch did and cost (from the backend's counters).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct StepWork {
    /// Counters inside the steps.
    pub in_step: Counters,
    /// Steps run.
    pub steps: u64,
    /// Samples trained on (whole global batches).
    pub seen: usize,
    /// All-reduce rounds, values and time.
    pub sync: SyncCost,
    /// Steps that reused a prepared plan and sampled no health, and what they allocated.
    pub reused_steps: u64,
    pub reused_allocations: u64,
    /// The learning rate of the last step.
    pub last_lr: f32,
    /// Steps that gathered the gradient statistics.
    pub statistics_steps: u64,
}

impl Epoch {
    /// Batches in the epoch.
    pub fn steps(&self) -> usize {
        self.order.len().div_ceil(self.batch_size)
    }

    /// Batches run so far.
    pub fn done(&self) -> usize {
        self.next
    }

    /// Rows of the batch `train_next` runs next (0 at the end).
    pub fn next_rows(&self) -> usize {
        self.order
            .len()
            .saturating_sub(self.next * self.batch_size)
            .min(self.batch_size)
    }

    /// The resident data set the epoch gathers from (`None`: batches written by the host).
    pub(crate) fn data(&self) -> Option<BufId> {
        self.data
    }

    /// The epoch with a health sample every `every` steps, the first at the step after
    /// `done` steps of the run (as [`crate::train::FitOptions::health_every`] counts them).
    pub fn with_health(mut self, every: Option<usize>, done: u64) -> Epoch {
        self.health_every = every.map(|k| k.max(1));
        self.health_phase = done;
        self
    }

    /// Gathers the gradient statistics on every step, or also on every `check_every`-th
    /// (besides the epoch's first and last, which always do).
    pub fn with_statistics(mut self, check_every: Option<usize>, every_step: bool) -> Epoch {
        self.check_every = check_every.map(|k| k.max(1));
        self.every_step_statistics = every_step;
        self
    }

    /// Whether the next step gathers the gradient statistics (without norm clipping).
    fn statistics_due(&self) -> bool {
        let i = self.next;
        self.every_step_statistics
            || i == 0
            || i + 1 == self.steps()
            || self.check_every.is_some_and(|k| (i + 1).is_multiple_of(k))
    }
}

/// One training step's outcome.
#[derive(Clone, Debug)]
pub struct Step {
    /// The batch's index in the epoch.
    pub index: usize,
    /// Rows of the (global) batch.
    pub rows: usize,
    /// The health sample taken at this step, if one was due.
    pub health: Option<HealthSample>,
}

/// What an epoch's end reads back, beside the logs: the gradient statistics (for the
/// divergence guard) and the work counters.
pub(crate) struct EpochEnd {
    pub logs: EpochLogs,
    pub stats: Vec<f32>,
    pub work: StepWork,
    /// Counters of the epoch outside its steps (order upload, reads).
    pub other: Counters,
}

impl Session {
    /// Checks a data set against the model: not empty, samples of the model's input size,
    /// labels within the output's classes.
    pub(crate) fn check_data(&self, d: &Dataset, what: &str) -> Result<()> {
        if d.is_empty() {
            return Err(Error::InvalidData(format!("the {what} data set is empty")));
        }
        let model = &self.weights.model;
        let want = model.input_features();
        if d.features() != want {
            return Err(Error::Shape(format!(
                "the {what} samples have shape {:?} ({} values) but the model takes {:?}",
                d.sample_shape,
                d.features(),
                model.input_shape()
            )));
        }
        let units = model.output_units();
        if units == 1 {
            if self.loss() == LossName::BinaryCrossentropy {
                d.check_labels(2)?;
            }
        } else {
            d.check_labels(units)?;
        }
        Ok(())
    }

    /// The resident copy of `d` (uploaded on first use), or `None` to stream batches.
    pub(crate) fn resident(&mut self, d: &Dataset) -> Result<Option<usize>> {
        let backend = self.device.backend.as_mut();
        let (i, dropped) = self.data.find_or_upload(backend, d)?;
        if let Some(old) = dropped {
            self.plans.drop_data(backend, old.data);
        }
        Ok(i)
    }

    /// Begins an epoch over `train` in global batches of `batch_size`: checks the data,
    /// uploads it once, writes this epoch's order (shuffled by `rng` when given, as `fit`
    /// shuffles with its seeded generator) and zeroes the running metrics.
    pub fn begin_epoch(
        &mut self,
        train: &Dataset,
        batch_size: usize,
        rng: Option<&mut rand::rngs::StdRng>,
    ) -> Result<Epoch> {
        self.trainer()?;
        if batch_size == 0 {
            return Err(Error::Config("batch size must be at least 1".into()));
        }
        let (_, ranks) = self.rank();
        if ranks > 1 {
            crate::dist::check_batch(batch_size, ranks)?;
        }
        self.check_data(train, "training")?;
        let start = self.device.backend.counters();
        let started = Instant::now();
        let source = self.resident(train)?;
        let mut order: Vec<usize> = (0..train.len()).collect();
        if let Some(rng) = rng {
            order.shuffle(rng);
        }
        let data = source.map(|i| &self.data.sets[i]);
        if let Some(r) = data {
            resident::write_order(self.device.backend.as_mut(), r.perm, &order)?;
        }
        self.device.zero_metrics()?;
        Ok(Epoch {
            order,
            batch_size,
            next: 0,
            data: data.map(|r| r.data),
            health_every: None,
            health_phase: 0,
            check_every: None,
            every_step_statistics: false,
            started,
            start,
            work: StepWork::default(),
        })
    }

    /// Runs the epoch's next batch (this rank's shard of it): one training step, one
    /// submit (more at the all-reduce points of several ranks), nothing read back unless
    /// a health sample is due. Returns `None` (and runs nothing) once the epoch is done.
    pub fn train_next(&mut self, train: &Dataset, epoch: &mut Epoch) -> Result<Option<Step>> {
        let global_rows = epoch.next_rows();
        let (rank, ranks) = self.rank();
        // A last batch too small to give every rank a row is left out.
        if global_rows == 0 || global_rows < ranks {
            return Ok(None);
        }
        let (shard_offset, rows) = crate::dist::shard_rows(global_rows, rank, ranks);
        let steps_so_far = epoch.health_phase + epoch.work.steps;
        let sample = epoch
            .health_every
            .is_some_and(|k| steps_so_far.is_multiple_of(k as u64));
        let key = PlanKey {
            mode: if sample {
                Mode::TrainHealth
            } else {
                Mode::Train
            },
            rows,
            data: epoch.data,
            total: global_rows,
        };
        let fresh = !self.plans.contains(&key);
        self.plan(key)?;
        let before = self.device.backend.counters();
        let offset = epoch.next * epoch.batch_size + shard_offset;
        let record = self.trainer.as_mut().expect("compiled").next_record(offset);
        let statistics = sample || epoch.statistics_due();
        let cost = self.run_step(key, train, &epoch.order, offset, &record, statistics)?;
        let after = self.device.backend.counters();
        let w = &mut epoch.work;
        if !fresh && !sample {
            // Steps that reuse their plan: they should create nothing.
            w.reused_steps += 1;
            w.reused_allocations += (after - before).allocations;
        }
        w.in_step = w.in_step + (after - before);
        w.sync = w.sync + cost;
        w.steps += 1;
        w.statistics_steps += u64::from(statistics);
        w.seen += global_rows;
        w.last_lr = f32::from_bits(record[2]);
        self.trainer.as_mut().expect("compiled").step += 1;
        let index = epoch.next;
        epoch.next += 1;
        let health = if sample {
            Some(self.read_health(key)?)
        } else {
            None
        };
        Ok(Some(Step {
            index,
            rows: global_rows,
            health,
        }))
    }

    /// Ends an epoch: one read of the running metrics and gradient statistics (an error
    /// names the first tensor whose gradient went non-finite), the gradient statistics
    /// reset, the replicas checked on several ranks.
    pub fn end_epoch(&mut self, epoch: Epoch) -> Result<EpochLogs> {
        Ok(self.end_epoch_reads(epoch)?.logs)
    }

    /// [`Session::end_epoch`] with the statistics and counters `fit` keeps.
    pub(crate) fn end_epoch_reads(&mut self, epoch: Epoch) -> Result<EpochEnd> {
        let (loss, accuracy) = self.read_metrics()?;
        let stats = self.read_stats()?;
        self.finish_epoch(epoch, loss, accuracy, stats)
    }

    /// [`Session::end_epoch`] without blocking (in one process).
    pub async fn end_epoch_async(&mut self, epoch: Epoch) -> Result<EpochLogs> {
        let (loss, accuracy) = self.metrics_async().await?;
        let words = self
            .device
            .backend
            .read_words_async(self.device.grad_stats)
            .await?;
        let stats = words.into_iter().map(f32::from_bits).collect::<Vec<_>>();
        self.check_finite(&stats)?;
        Ok(self.finish_epoch(epoch, loss, accuracy, stats)?.logs)
    }

    fn finish_epoch(
        &mut self,
        epoch: Epoch,
        loss: f32,
        accuracy: f32,
        stats: Vec<f32>,
    ) -> Result<EpochEnd> {
        let secs = epoch.started.elapsed().as_secs_f64();
        let model = &self.weights.model;
        let steps = epoch.work.statistics_steps.max(1) as f32;
        let grad_norms = (0..model.weights().len())
            .filter(|&i| model.is_trainable(i))
            .map(|i| (model.weights()[i].name.clone(), stats[3 * i + 1] / steps))
            .collect();
        self.device.reset_stats()?;
        // Every epoch: the ranks still hold the same weights.
        self.check_replicas()?;
        let total = self.device.backend.counters() - epoch.start;
        Ok(EpochEnd {
            logs: EpochLogs {
                epoch: 0,
                loss,
                accuracy,
                val_loss: None,
                val_accuracy: None,
                samples_per_second: epoch.work.seen as f64 / secs.max(1e-9),
                learning_rate: epoch.work.last_lr,
                grad_norms,
                warnings: Vec::new(),
            },
            stats,
            work: epoch.work,
            other: total - epoch.work.in_step,
        })
    }

    /// The learning rate of the next step (0 before `compile`).
    pub fn current_learning_rate(&self) -> f32 {
        self.trainer
            .as_ref()
            .map_or(0.0, |t| t.optimizer.learning_rate().at(t.step))
    }

    /// Writes a step record and, for host-fed plans, the batch at `offset` of `order`.
    pub(crate) fn feed(
        &mut self,
        key: PlanKey,
        data: &Dataset,
        order: &[usize],
        offset: usize,
        record: &[u32; STEP_WORDS],
    ) -> Result<()> {
        self.device.write_record(record)?;
        let plan = self.plans.get(&key);
        if let (Some(bx), Some(by)) = (plan.host_x, plan.host_y) {
            let mut xs = Vec::with_capacity(key.rows * data.features());
            let mut ys = Vec::with_capacity(key.rows);
            for &i in &order[offset..offset + key.rows] {
                xs.extend(data.sample(i));
                ys.push(data.y[i]);
            }
            let backend = self.device.backend.as_mut();
            backend.write(bx, 0, &xs)?;
            backend.write_words(by, 0, &ys)?;
        }
        Ok(())
    }

    /// Runs one prepared training step: the step record (and a host-fed batch), the
    /// graph, one submit (more at all-reduce points).
    fn run_step(
        &mut self,
        key: PlanKey,
        data: &Dataset,
        order: &[usize],
        offset: usize,
        record: &[u32; STEP_WORDS],
        statistics: bool,
    ) -> Result<SyncCost> {
        self.feed(key, data, order, offset, record)?;
        let cost = self.run_plan(key, statistics)?;
        self.device.backend.submit()?;
        self.weights.host_stale = true;
        Ok(cost)
    }

    /// The running loss and accuracy (over every rank's shard, when there are several).
    pub(crate) fn read_metrics(&mut self) -> Result<(f32, f32)> {
        let mut m = self.device.backend.read(self.device.metrics)?;
        if let Some(c) = self.comm.as_ref().filter(|c| c.size() > 1) {
            c.all_reduce_sum(&mut m[..3])?;
        }
        let n = m[2].max(1.0);
        Ok((m[0] / n, m[1] / n))
    }

    /// Reads the gradient statistics; errors if a gradient went non-finite.
    pub(crate) fn read_stats(&mut self) -> Result<Vec<f32>> {
        let stats = self.device.backend.read(self.device.grad_stats)?;
        self.check_finite(&stats)?;
        Ok(stats)
    }

    /// The error naming the tensor whose gradient went non-finite first, if one did:
    /// the earliest step, and among equals the layer nearest the output, where
    /// back-propagation meets the non-finite values first.
    fn check_finite(&self, stats: &[f32]) -> Result<()> {
        let model = &self.weights.model;
        let weights = model.weights();
        let mut worst: Option<(u32, usize)> = None;
        for (i, w) in weights.iter().enumerate() {
            let bad = stats[3 * i + 2].to_bits();
            if bad != NO_STEP {
                let better = match worst {
                    None => true,
                    Some((s, j)) => bad < s || (bad == s && w.layer > weights[j].layer),
                };
                if better {
                    worst = Some((bad, i));
                }
            }
        }
        match worst {
            Some((step, i)) => Err(Error::NonFinite {
                layer: model.layers()[weights[i].layer].name.clone(),
                tensor: weights[i].name.clone(),
                step: step as u64,
            }),
            None => Ok(()),
        }
    }

    /// Reads a health step's statistics (one read of the health buffer, the gradient
    /// statistics and the running metrics).
    fn read_health(&mut self, key: PlanKey) -> Result<HealthSample> {
        let (buf, layout) = self.plans.get(&key).health.clone().expect("a health plan");
        let h = self.device.backend.read(buf)?;
        let stats = self.device.backend.read(self.device.grad_stats)?;
        let (loss, _) = self.read_metrics()?;
        let model = &self.weights.model;
        let mut layers = Vec::new();
        for (li, l) in model.layers().iter().enumerate() {
            let act = layout.acts.iter().position(|a| a.0 == li);
            let kernel = layout.kernels.iter().position(|k| k.0 == li);
            if act.is_none() && kernel.is_none() {
                continue;
            }
            let a = |k: usize| act.map(|i| h[4 * i + k]);
            let (grad_norm, update_ratio) = match kernel {
                Some(j) => {
                    let wi = layout.kernels[j].1;
                    let o = 4 * layout.acts.len() + 2 * j;
                    let (ww, dd) = (h[o], h[o + 1]);
                    (
                        Some(stats[3 * wi].max(0.0).sqrt()),
                        Some(dd.max(0.0).sqrt() / ww.max(0.0).sqrt().max(f32::MIN_POSITIVE)),
                    )
                }
                None => (None, None),
            };
            layers.push(LayerHealth {
                layer: l.name.clone(),
                activation: act.map(|i| layout.acts[i].1.to_string()),
                act_mean: a(0),
                act_std: a(1),
                dead_fraction: a(2),
                saturated_fraction: a(3),
                grad_norm,
                update_ratio,
            });
        }
        Ok(HealthSample {
            step: self.steps_done() - 1,
            loss,
            layers,
        })
    }
}
