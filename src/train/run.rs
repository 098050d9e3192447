//! `fit` — the one training loop ([`super::epoch`]) with its callbacks, the divergence
//! guard and validation between the steps — and `evaluate` and `predict`.

use rand::SeedableRng;

use super::guard::Start;
use super::options::{Callback, Control, FitOptions, History, StepCounters};
use super::plan::{Mode, PlanKey};
use super::resident;
use super::session::Session;
use crate::backend::{BufId, Counters, STEP_WORDS};
use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::graph::SyncCost;

impl Session {
    /// Trains the model (Keras's `fit`): epochs of [`Session::begin_epoch`],
    /// [`Session::train_next`] and [`Session::end_epoch`], with the callbacks called
    /// between them, the divergence guard checked whenever the metrics are read, and the
    /// validation data evaluated after each epoch. A callback's [`Control::Stop`] ends
    /// training after that epoch.
    pub fn fit(
        &mut self,
        train: &Dataset,
        validation: Option<&Dataset>,
        opts: &FitOptions,
        callbacks: &mut [&mut dyn Callback],
    ) -> Result<History> {
        self.trainer()?;
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
        if self.rank().1 > 1 {
            crate::dist::check_batch(opts.batch_size, self.rank().1)?;
            self.check_replicas()?;
        }
        self.device.reset_stats()?;
        for c in callbacks.iter_mut() {
            c.on_train_begin(self)?;
        }
        let mut history = History::default();
        let mut rng = rand::rngs::StdRng::seed_from_u64(opts.seed);
        let mut guard = Guard::default();
        let mut run = RunWork::default();
        let max_reached = |s: &Session| opts.max_steps.is_some_and(|m| s.steps_done() >= m);
        for epoch in 0..opts.epochs {
            if max_reached(self) {
                break;
            }
            let rng = opts.shuffle.then_some(&mut rng);
            let mut e = self
                .begin_epoch(train, opts.batch_size, rng)?
                .with_health(opts.health_every, run.steps)
                .with_statistics(opts.check_every, opts.every_step_statistics);
            for c in callbacks.iter_mut() {
                c.on_epoch_begin(epoch, e.steps());
            }
            let mut warnings = Vec::new();
            while !max_reached(self) {
                let Some(step) = self.train_next(train, &mut e)? else {
                    break;
                };
                let mut running = None;
                if let Some(h) = step.health {
                    for c in callbacks.iter_mut() {
                        c.on_health(&h);
                    }
                    running = Some(h.loss);
                    history.health.push(h);
                }
                let b = step.index + 1;
                let metrics_now = opts.metrics_every.is_some_and(|k| b % k.max(1) == 0);
                let check_now = opts.check_every.is_some_and(|k| b % k.max(1) == 0);
                if guard.start.is_none() || metrics_now || check_now {
                    let (l, _) = self.read_metrics()?;
                    running = Some(l);
                    if guard.start.is_none() {
                        // Once per fit: the loss and gradient norms the guard compares with.
                        let stats = self.read_stats()?;
                        let nw = self.weights.model.weights().len();
                        guard.start = Some(Start::new(l, &stats, nw));
                    } else if check_now {
                        let stats = self.read_stats()?;
                        guard.check(self, opts, l, &stats, &mut warnings)?;
                    }
                }
                for c in callbacks.iter_mut() {
                    c.on_batch_end(step.index, step.rows, running);
                }
            }
            let end = self.end_epoch_reads(e)?;
            run.add(&end.work, end.other);
            guard.check(self, opts, end.logs.loss, &end.stats, &mut warnings)?;
            let mut logs = end.logs;
            logs.epoch = epoch;
            logs.warnings = warnings;
            if let Some(v) = validation {
                let (l, a) = self.evaluate_checked(v, opts.batch_size)?;
                (logs.val_loss, logs.val_accuracy) = (Some(l), Some(a));
            }
            let mut stop = !logs.loss.is_finite();
            for c in callbacks.iter_mut() {
                stop |= c.on_epoch_end(self, &logs)? == Control::Stop;
            }
            history.epochs.push(logs);
            if stop {
                break;
            }
        }
        for c in callbacks.iter_mut() {
            c.on_train_end(self)?;
        }
        history.counters = run.counters(history.epochs.len());
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
        let n = data.len();
        let (rank, ranks) = self.rank();
        let (first, count) = crate::dist::shard_rows(n, rank, ranks);
        let order: Vec<usize> = (0..n).collect();
        let data_buf = source.map(|i| self.data.sets[i].data);
        if let Some(i) = source {
            let perm = self.data.sets[i].perm;
            resident::write_order(self.device.backend.as_mut(), perm, &order)?;
        }
        self.device.zero_metrics()?;
        for offset in (first..first + count).step_by(batch) {
            let rows = batch.min(first + count - offset);
            let key = PlanKey {
                mode: Mode::Eval,
                rows,
                data: data_buf,
                total: rows,
            };
            self.plan(key)?;
            let record = self.inference_record(offset);
            self.feed(key, data, &order, offset, &record)?;
            self.run_plan(key, true)?;
            self.device.backend.submit()?;
        }
        Ok(())
    }

    /// The step record of an inference batch at `offset`.
    fn inference_record(&self, offset: usize) -> [u32; STEP_WORDS] {
        let mut record = [0u32; STEP_WORDS];
        record[0] = self.steps_done() as u32;
        record[1] = offset as u32;
        record
    }

    /// Output probabilities (after the last activation) for the samples in `x`, given flat
    /// (Keras's `predict`).
    pub fn predict(&mut self, x: &[f32], batch_size: usize) -> Result<Vec<f32>> {
        let n = self.check_predict(x, batch_size)?;
        let model = &self.weights.model;
        let (features, units) = (model.input_features(), model.output_units());
        let mut out = Vec::with_capacity(n * units);
        for offset in (0..n).step_by(batch_size) {
            let rows = batch_size.min(n - offset);
            let batch = &x[offset * features..(offset + rows) * features];
            let v = self.run_host_batch(Mode::Predict, batch, rows)?;
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
        self.device.backend.read(output)
    }

    /// Checks `predict`'s arguments: the number of samples in `x`.
    pub(crate) fn check_predict(&self, x: &[f32], batch_size: usize) -> Result<usize> {
        if batch_size == 0 {
            return Err(Error::Config("batch size must be at least 1".into()));
        }
        let features = self.weights.model.input_features();
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
    ) -> Result<BufId> {
        let key = PlanKey {
            mode,
            rows,
            data: None,
            total: rows,
        };
        self.plan(key)?;
        let record = self.inference_record(0);
        self.device.write_record(&record)?;
        let plan = self.plans.get(&key);
        let bx = plan.host_x.expect("host-fed plan");
        let output = plan.exec.buffer(plan.output);
        self.device.backend.write(bx, 0, x)?;
        self.run_plan(key, true)?;
        self.device.backend.submit()?;
        Ok(output)
    }
}

/// The divergence guard of one `fit`: where training started, and the warnings given.
#[derive(Default)]
struct Guard {
    start: Option<Start>,
    warnings_given: usize,
}

impl Guard {
    /// Checks the loss and gradient statistics against the start; the first warning of a
    /// fit goes into the epoch's logs, the rest are counted.
    fn check(
        &mut self,
        s: &Session,
        opts: &FitOptions,
        loss: f32,
        stats: &[f32],
        warnings: &mut Vec<String>,
    ) -> Result<()> {
        let Some(start) = &self.start else {
            return Ok(());
        };
        let step = s.steps_done().saturating_sub(1);
        if let Some(w) = start.check(&opts.divergence, &s.weights.model, loss, stats, step)? {
            if self.warnings_given == 0 {
                warnings.push(w);
            }
            self.warnings_given += 1;
        }
        Ok(())
    }
}

/// The work of a whole `fit`, summed over its epochs.
#[derive(Default)]
struct RunWork {
    in_step: Counters,
    other: Counters,
    steps: u64,
    sync: SyncCost,
    reused_steps: u64,
    reused_allocations: u64,
}

impl RunWork {
    fn add(&mut self, w: &super::epoch::StepWork, other: Counters) {
        self.in_step = self.in_step + w.in_step;
        self.other = self.other + other;
        self.steps += w.steps;
        self.sync = self.sync + w.sync;
        self.reused_steps += w.reused_steps;
        self.reused_allocations += w.reused_allocations;
    }

    fn counters(&self, epochs: usize) -> StepCounters {
        let s = self.steps.max(1) as f64;
        StepCounters {
            steps: self.steps,
            dispatches_per_step: self.in_step.dispatches as f64 / s,
            submits_per_step: self.in_step.submits as f64 / s,
            upload_bytes_per_step: self.in_step.upload_bytes as f64 / s,
            readback_bytes_per_step: self.in_step.readback_bytes as f64 / s,
            copy_bytes_per_step: self.in_step.copy_bytes as f64 / s,
            readback_bytes_per_epoch: self.other.readback_bytes as f64 / epochs.max(1) as f64,
            allocations_per_step: self.reused_allocations as f64 / self.reused_steps.max(1) as f64,
            allreduce_rounds_per_step: self.sync.rounds as f64 / s,
            allreduce_bytes_per_step: 4.0 * self.sync.values as f64 / s,
            allreduce_seconds_per_step: self.sync.seconds / s,
        }
    }
}

impl Session {
    /// MC dropout (the chapter's `MCDropout`): `samples` stochastic predictions of `x`
    /// with every dropout layer active and batch norm in inference mode, each with its own
    /// masks; returns the mean probabilities and their per-class standard deviation over
    /// the samples.
    pub fn predict_mc(
        &mut self,
        x: &[f32],
        batch_size: usize,
        samples: usize,
    ) -> Result<(Vec<f32>, Vec<f32>)> {
        if samples == 0 {
            return Err(Error::Config("MC dropout needs at least 1 sample".into()));
        }
        let n = self.check_predict(x, batch_size)?;
        let model = &self.weights.model;
        let (features, units) = (model.input_features(), model.output_units());
        let (mut mean, mut std) = (Vec::with_capacity(n * units), Vec::with_capacity(n * units));
        for offset in (0..n).step_by(batch_size) {
            let rows = batch_size.min(n - offset);
            let batch = &x[offset * features..(offset + rows) * features];
            // Welford's running mean and sum of squared deviations, per value.
            let mut m = vec![0.0f64; rows * units];
            let mut m2 = vec![0.0f64; rows * units];
            for k in 0..samples {
                let key = PlanKey {
                    mode: Mode::PredictMc,
                    rows,
                    data: None,
                    total: rows,
                };
                self.plan(key)?;
                // Each sample its own masks: the step word picks them.
                let mut record = [0u32; STEP_WORDS];
                record[0] = k as u32;
                self.device.write_record(&record)?;
                let plan = self.plans.get(&key);
                let (bx, out) = (
                    plan.host_x.expect("host-fed"),
                    plan.exec.buffer(plan.output),
                );
                self.device.backend.write(bx, 0, batch)?;
                self.run_plan(key, true)?;
                self.device.backend.submit()?;
                let v = self.device.backend.read(out)?;
                for (i, &p) in v[..rows * units].iter().enumerate() {
                    let p = f64::from(p);
                    let d = p - m[i];
                    m[i] += d / (k + 1) as f64;
                    m2[i] += d * (p - m[i]);
                }
            }
            mean.extend(m.iter().map(|&v| v as f32));
            std.extend(m2.iter().map(|&v| (v / samples as f64).sqrt() as f32));
        }
        Ok((mean, std))
    }
}
