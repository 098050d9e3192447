//! The loops: `fit`, `evaluate` and `predict` on a [`Session`], the per-step feed (the
//! step record and, for host-fed plans, the batch) and the per-epoch reads of the metrics
//! and the non-finite guard.

use web_time::Instant;

use rand::seq::SliceRandom;
use rand::SeedableRng;

use super::guard::Start;
use super::options::{Callback, EpochLogs, FitOptions, History, StepCounters};
use super::plan::{Mode, PlanKey};
use super::resident::{self, data_words};
use super::session::Session;
use super::LossName;
use crate::backend::ops::grad_stats::NO_STEP;
use crate::backend::{Counters, STEP_WORDS};
use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::health::{HealthSample, LayerHealth};

impl Session {
    pub(crate) fn check_data(&self, d: &Dataset, what: &str) -> Result<()> {
        if d.is_empty() {
            return Err(Error::InvalidData(format!("the {what} data set is empty")));
        }
        let want = self.model.input_features();
        if d.features() != want {
            return Err(Error::Shape(format!(
                "the {what} samples have shape {:?} ({} values) but the model takes {:?}",
                d.sample_shape,
                d.features(),
                self.model.input_shape()
            )));
        }
        let units = self.model.output_units();
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
        if self.stream || data_words(d) > self.backend.max_buffer_words() {
            return Ok(None);
        }
        let fp = resident::fingerprint(d);
        if let Some(i) = self.resident.iter().position(|r| r.fingerprint == fp) {
            return Ok(Some(i));
        }
        // Keep at most a few data sets resident (train, validation, test).
        if self.resident.len() >= 4 {
            let old = self.resident.remove(0);
            let stale: Vec<PlanKey> = self
                .plans
                .keys()
                .filter(|k| k.data == Some(old.data))
                .copied()
                .collect();
            for k in stale {
                let p = self.plans.remove(&k).expect("plan");
                p.release(self.backend.as_mut());
            }
            for b in [old.data, old.labels, old.perm] {
                self.backend.free(b);
            }
        }
        let r = resident::upload(self.backend.as_mut(), d)?;
        self.resident.push(r);
        Ok(Some(self.resident.len() - 1))
    }

    /// Writes the step record (step, offset, learning rate, optimizer scalars) and, for
    /// host-fed plans, the batch.
    fn feed(&mut self, key: PlanKey, data: &Dataset, order: &[usize], offset: usize) -> Result<()> {
        let mut record = [0u32; STEP_WORDS];
        record[0] = self.step as u32;
        record[1] = offset as u32;
        if matches!(key.mode, Mode::Train | Mode::TrainHealth) {
            let t = self.training.as_ref().expect("compiled");
            let lr = t.optimizer.learning_rate().at(self.step);
            let scalars = t.optimizer.step_scalars(self.step, lr, &mut self.carry);
            record[2] = lr.to_bits();
            for (k, s) in scalars.iter().enumerate() {
                record[4 + k] = s.to_bits();
            }
        }
        self.backend.write_words(self.step_buf, 0, &record)?;
        let plan = &self.plans[&key];
        if let (Some(bx), Some(by)) = (plan.host_x, plan.host_y) {
            let mut xs = Vec::with_capacity(key.rows * data.features());
            let mut ys = Vec::with_capacity(key.rows);
            for &i in &order[offset..offset + key.rows] {
                xs.extend(data.sample(i));
                ys.push(data.y[i]);
            }
            self.backend.write(bx, 0, &xs)?;
            self.backend.write_words(by, 0, &ys)?;
        }
        Ok(())
    }

    /// Runs one prepared training step on the batch at `offset` of `order`: the step
    /// record (and a host-fed batch), the graph, one submit (more at all-reduce points).
    pub(crate) fn run_step(
        &mut self,
        key: PlanKey,
        data: &Dataset,
        order: &[usize],
        offset: usize,
    ) -> Result<crate::graph::SyncCost> {
        self.feed(key, data, order, offset)?;
        let cost = self.run_plan(key)?;
        self.backend.submit()?;
        self.host_stale = true;
        Ok(cost)
    }

    /// The running loss and accuracy (over every rank's shard, when there are several).
    pub(crate) fn read_metrics(&mut self) -> Result<(f32, f32)> {
        let mut m = self.backend.read(self.metrics)?;
        if let Some(c) = self.comm.as_ref().filter(|c| c.size() > 1) {
            c.all_reduce_sum(&mut m[..3])?;
        }
        let n = m[2].max(1.0);
        Ok((m[0] / n, m[1] / n))
    }

    /// Reads the gradient statistics; errors if a gradient went non-finite.
    fn read_stats(&mut self) -> Result<Vec<f32>> {
        let stats = self.backend.read(self.stats)?;
        let weights = self.model.weights();
        let mut worst: Option<(u32, usize)> = None;
        for (i, w) in weights.iter().enumerate() {
            let bad = stats[3 * i + 2].to_bits();
            if bad != NO_STEP {
                // Earliest step first; among equals the layer nearest the output, where
                // back-propagation meets the non-finite values first.
                let better = match worst {
                    None => true,
                    Some((s, j)) => bad < s || (bad == s && w.layer > weights[j].layer),
                };
                if better {
                    worst = Some((bad, i));
                }
            }
        }
        if let Some((step, i)) = worst {
            let w = &weights[i];
            return Err(Error::NonFinite {
                layer: self.model.layers()[w.layer].name.clone(),
                tensor: w.name.clone(),
                step: step as u64,
            });
        }
        Ok(stats)
    }

    /// Reads a health step's statistics (one read of the health buffer, the gradient
    /// statistics and the running metrics).
    fn read_health(&mut self, key: PlanKey) -> Result<HealthSample> {
        let (buf, layout) = self.plans[&key].health.clone().expect("a health plan");
        let h = self.backend.read(buf)?;
        let stats = self.backend.read(self.stats)?;
        let (loss, _) = self.read_metrics()?;
        let model = &self.model;
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
            step: self.step - 1,
            loss,
            layers,
        })
    }

    /// Trains the model (Keras's `fit`).
    pub fn fit(
        &mut self,
        train: &Dataset,
        validation: Option<&Dataset>,
        opts: &FitOptions,
        callbacks: &mut [&mut dyn Callback],
    ) -> Result<History> {
        if self.training.is_none() {
            return Err(Error::Config(
                "the session is not compiled: call compile before fit".into(),
            ));
        }
        if opts.batch_size == 0 {
            return Err(Error::Config("batch size must be at least 1".into()));
        }
        let split;
        let (train, validation) = if opts.validation_split > 0.0 {
            split = train.split_tail(opts.validation_split)?;
            (&split.0, Some(validation.unwrap_or(&split.1)))
        } else {
            (train, validation)
        };
        self.check_data(train, "training")?;
        if let Some(v) = validation {
            self.check_data(v, "validation")?;
        }
        let n = train.len();
        let source = self.resident(train)?;
        let data_buf = source.map(|i| self.resident[i].data);
        let perm_buf = source.map(|i| self.resident[i].perm);
        let nw = self.model.weights().len();
        let (rank, ranks) = self.rank();
        if ranks > 1 {
            crate::dist::check_batch(opts.batch_size, ranks)?;
            self.check_replicas()?;
        }
        self.reset_stats()?;
        let mut history = History::default();
        let mut in_step = Counters::default();
        let mut epoch_other = Counters::default();
        let mut steps_counted = 0u64;
        let mut sync_cost = crate::graph::SyncCost::default();
        let steps_per_epoch = n.div_ceil(opts.batch_size);
        let mut rng = rand::rngs::StdRng::seed_from_u64(opts.seed);
        let mut start: Option<Start> = None;
        let (mut reused_steps, mut reused_allocations) = (0u64, 0u64);
        let mut warnings_given = 0usize;
        for epoch in 0..opts.epochs {
            if opts.max_steps.is_some_and(|m| self.step >= m) {
                break;
            }
            let epoch_start = self.backend.counters();
            let t0 = Instant::now();
            let mut order: Vec<usize> = (0..n).collect();
            if opts.shuffle {
                order.shuffle(&mut rng);
            }
            if let Some(p) = perm_buf {
                resident::write_order(self.backend.as_mut(), p, &order)?;
            }
            self.backend.write(self.metrics, 0, &[0.0; 3])?;
            for c in callbacks.iter_mut() {
                c.on_epoch_begin(epoch, steps_per_epoch);
            }
            let mut seen = 0usize;
            let mut epoch_warnings = Vec::new();
            let mut epoch_in_step = Counters::default();
            let mut steps_this_epoch = 0u64;
            for b in 0..steps_per_epoch {
                if opts.max_steps.is_some_and(|m| self.step >= m) {
                    break;
                }
                let offset = b * opts.batch_size;
                let global_rows = opts.batch_size.min(n - offset);
                if global_rows < ranks {
                    // A last batch too small to give every rank a row is left out.
                    break;
                }
                let (shard_offset, rows) = crate::dist::shard_rows(global_rows, rank, ranks);
                let sample = opts
                    .health_every
                    .is_some_and(|k| steps_counted.is_multiple_of(k.max(1) as u64));
                let key = PlanKey {
                    mode: if sample {
                        Mode::TrainHealth
                    } else {
                        Mode::Train
                    },
                    rows,
                    data: data_buf,
                    total: global_rows,
                };
                let fresh = !self.plans.contains_key(&key);
                self.plan(key)?;
                let before = self.backend.counters();
                sync_cost = sync_cost + self.run_step(key, train, &order, offset + shard_offset)?;
                let after = self.backend.counters();
                if !fresh && !sample {
                    // Steps that reuse their plan: they should create nothing.
                    reused_steps += 1;
                    reused_allocations += (after - before).allocations;
                }
                in_step = in_step + (after - before);
                epoch_in_step = epoch_in_step + (after - before);
                steps_counted += 1;
                steps_this_epoch += 1;
                self.step += 1;
                seen += global_rows;
                let mut running = None;
                if sample {
                    let h = self.read_health(key)?;
                    for c in callbacks.iter_mut() {
                        c.on_health(&h);
                    }
                    running = Some(h.loss);
                    history.health.push(h);
                }
                if start.is_none() {
                    // Once per fit: the loss and gradient norms the guard compares with.
                    let (l, _) = self.read_metrics()?;
                    let stats = self.read_stats()?;
                    start = Some(Start::new(l, &stats, nw));
                    running = Some(l);
                }
                let metrics_now = opts.metrics_every.is_some_and(|k| (b + 1) % k.max(1) == 0);
                let check_now = opts.check_every.is_some_and(|k| (b + 1) % k.max(1) == 0);
                if metrics_now || check_now {
                    let (l, _) = self.read_metrics()?;
                    running = Some(l);
                    if check_now {
                        let stats = self.read_stats()?;
                        let s = start.as_ref().expect("set after the first step");
                        if let Some(w) =
                            s.check(&opts.divergence, &self.model, l, &stats, self.step - 1)?
                        {
                            if warnings_given == 0 {
                                epoch_warnings.push(w);
                            }
                            warnings_given += 1;
                        }
                    }
                }
                for c in callbacks.iter_mut() {
                    c.on_batch_end(b, global_rows, running);
                }
            }
            let (loss, accuracy) = self.read_metrics()?;
            let stats = self.read_stats()?;
            let secs = t0.elapsed().as_secs_f64();
            if let Some(s) = &start {
                if let Some(w) = s.check(
                    &opts.divergence,
                    &self.model,
                    loss,
                    &stats,
                    self.step.saturating_sub(1),
                )? {
                    if warnings_given == 0 {
                        epoch_warnings.push(w);
                    }
                    warnings_given += 1;
                }
            }
            let grad_norms = (0..nw)
                .filter(|&i| self.model.is_trainable(i))
                .map(|i| {
                    (
                        self.model.weights()[i].name.clone(),
                        stats[3 * i + 1] / steps_this_epoch.max(1) as f32,
                    )
                })
                .collect();
            self.reset_stats()?;
            // Every epoch: the ranks still hold the same weights.
            self.check_replicas()?;
            let epoch_total = self.backend.counters() - epoch_start;
            epoch_other = epoch_other + (epoch_total - epoch_in_step);
            let (val_loss, val_accuracy) = match validation {
                Some(v) => {
                    let (l, a) = self.evaluate_checked(v, opts.batch_size)?;
                    (Some(l), Some(a))
                }
                None => (None, None),
            };
            let logs = EpochLogs {
                epoch,
                loss,
                accuracy,
                val_loss,
                val_accuracy,
                samples_per_second: seen as f64 / secs.max(1e-9),
                grad_norms,
                warnings: epoch_warnings,
            };
            for c in callbacks.iter_mut() {
                c.on_epoch_end(&logs);
            }
            history.epochs.push(logs);
            if !loss.is_finite() {
                break;
            }
        }
        let s = steps_counted.max(1) as f64;
        let epochs = history.epochs.len().max(1) as f64;
        history.counters = StepCounters {
            steps: steps_counted,
            dispatches_per_step: in_step.dispatches as f64 / s,
            submits_per_step: in_step.submits as f64 / s,
            upload_bytes_per_step: in_step.upload_bytes as f64 / s,
            readback_bytes_per_step: in_step.readback_bytes as f64 / s,
            readback_bytes_per_epoch: epoch_other.readback_bytes as f64 / epochs,
            allocations_per_step: reused_allocations as f64 / reused_steps.max(1) as f64,
            allreduce_rounds_per_step: sync_cost.rounds as f64 / s,
            allreduce_bytes_per_step: 4.0 * sync_cost.values as f64 / s,
            allreduce_seconds_per_step: sync_cost.seconds / s,
        };
        Ok(history)
    }

    /// Loss and accuracy on a data set in inference mode (Keras's `evaluate`), with the
    /// compiled loss or, uncompiled, the one the model's output suggests.
    pub fn evaluate(&mut self, data: &Dataset, batch_size: usize) -> Result<(f32, f32)> {
        if batch_size == 0 {
            return Err(Error::Config("batch size must be at least 1".into()));
        }
        self.check_data(data, "evaluation")?;
        self.evaluate_checked(data, batch_size)
    }

    /// Evaluates; with several ranks each evaluates its contiguous shard of `data` and the
    /// metrics are summed across ranks.
    fn evaluate_checked(&mut self, data: &Dataset, batch: usize) -> Result<(f32, f32)> {
        self.record_evaluation(data, batch)?;
        self.read_metrics()
    }

    /// Runs every evaluation batch of `data` (this rank's shard), accumulating the metrics
    /// on the device; nothing is read back.
    pub(crate) fn record_evaluation(&mut self, data: &Dataset, batch: usize) -> Result<()> {
        let source = self.resident(data)?;
        let data_buf = source.map(|i| self.resident[i].data);
        let n = data.len();
        let (rank, ranks) = self.rank();
        let (first, count) = crate::dist::shard_rows(n, rank, ranks);
        let order: Vec<usize> = (0..n).collect();
        if let Some(i) = source {
            let perm = self.resident[i].perm;
            resident::write_order(self.backend.as_mut(), perm, &order)?;
        }
        self.backend.write(self.metrics, 0, &[0.0; 3])?;
        for offset in (first..first + count).step_by(batch) {
            let rows = batch.min(first + count - offset);
            let key = PlanKey {
                mode: Mode::Eval,
                rows,
                data: data_buf,
                total: rows,
            };
            self.plan(key)?;
            self.feed(key, data, &order, offset)?;
            self.run_plan(key)?;
            self.backend.submit()?;
        }
        Ok(())
    }

    /// Output probabilities (after the last activation) for the samples in `x`, given flat
    /// (Keras's `predict`).
    pub fn predict(&mut self, x: &[f32], batch_size: usize) -> Result<Vec<f32>> {
        let n = self.check_predict(x, batch_size)?;
        let features = self.model.input_features();
        let units = self.model.output_units();
        let mut out = Vec::with_capacity(n * units);
        for offset in (0..n).step_by(batch_size) {
            let rows = batch_size.min(n - offset);
            let v = self.run_host_batch(
                Mode::Predict,
                &x[offset * features..(offset + rows) * features],
                rows,
            )?;
            out.extend_from_slice(&v[..rows * units]);
        }
        Ok(out)
    }

    /// Runs one host-fed inference batch and returns the plan's output values.
    pub(crate) fn run_host_batch(
        &mut self,
        mode: Mode,
        x: &[f32],
        rows: usize,
    ) -> Result<Vec<f32>> {
        let output = self.submit_host_batch(mode, x, rows)?;
        self.backend.read(output)
    }

    /// Checks `predict`'s arguments: the number of samples in `x`.
    pub(crate) fn check_predict(&self, x: &[f32], batch_size: usize) -> Result<usize> {
        if batch_size == 0 {
            return Err(Error::Config("batch size must be at least 1".into()));
        }
        let features = self.model.input_features();
        if !x.len().is_multiple_of(features) {
            return Err(Error::Shape(format!(
                "{} values are not a whole number of samples of {features}",
                x.len()
            )));
        }
        if let Some(i) = x.iter().position(|v| !v.is_finite()) {
            return Err(Error::InvalidData(format!(
                "input value {i} is not finite ({})",
                x[i]
            )));
        }
        Ok(x.len() / features)
    }

    /// Submits one host-fed inference batch and returns the buffer its output lands in.
    pub(crate) fn submit_host_batch(
        &mut self,
        mode: Mode,
        x: &[f32],
        rows: usize,
    ) -> Result<crate::backend::BufId> {
        let key = PlanKey {
            mode,
            rows,
            data: None,
            total: rows,
        };
        self.plan(key)?;
        let mut record = [0u32; STEP_WORDS];
        record[0] = self.step as u32;
        self.backend.write_words(self.step_buf, 0, &record)?;
        let plan = &self.plans[&key];
        let bx = plan.host_x.expect("host-fed plan");
        let output = plan.exec.buffer(plan.output);
        self.backend.write(bx, 0, x)?;
        self.run_plan(key)?;
        self.backend.submit()?;
        Ok(output)
    }
}
