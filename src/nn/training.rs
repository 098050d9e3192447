//! Training: `compile`, `fit`, `evaluate` and `predict` on a [`Sequential`] model.
//!
//! A training step is one graph (gather → forward → loss → backward → gradient
//! statistics → clip factors → fused updates) recorded into one command buffer and one
//! submit. The host writes only the 16-byte step record (step, batch offset, learning
//! rate); loss, accuracy and the non-finite guard accumulate on the device and are read
//! once per epoch (or every N steps when asked).

use std::collections::HashMap;
use std::time::Instant;

use rand::seq::SliceRandom;
use rand::SeedableRng;

use super::layers::LayerKind;
use super::model::{apply_activation, Constants, Sequential};
use super::Initializer;
use crate::backend::{
    ActKind, Backend, BufId, Counters, CpuBackend, DeviceInfo, GpuBackend, GpuOptions, Kernel,
    LossKind,
};
use crate::data::{Dataset, Samples};
use crate::error::{Error, Result};
use crate::graph::{autodiff, Executor, Graph, TensorId};
use crate::optim::Sgd;

/// Where to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Device {
    /// The GPU if there is one, else the CPU reference (with a notice).
    Auto,
    /// The GPU, or an error.
    Gpu,
    /// The CPU reference.
    Cpu,
}

/// Keras's loss names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LossName {
    /// Integer labels, softmax output.
    SparseCategoricalCrossentropy,
    /// One-hot targets (built from the integer labels), softmax output.
    CategoricalCrossentropy,
    /// 0/1 targets (or one-hot for several units), sigmoid output.
    BinaryCrossentropy,
    /// Squared error against one-hot targets (or the label for one unit).
    MeanSquaredError,
}

impl LossName {
    /// Parses a Keras loss name.
    pub fn parse(s: &str) -> Result<LossName> {
        Ok(match s {
            "sparse_categorical_crossentropy" => LossName::SparseCategoricalCrossentropy,
            "categorical_crossentropy" => LossName::CategoricalCrossentropy,
            "binary_crossentropy" => LossName::BinaryCrossentropy,
            "mse" | "mean_squared_error" => LossName::MeanSquaredError,
            other => {
                return Err(Error::Config(format!(
                    "unknown loss {other:?}: expected sparse_categorical_crossentropy, categorical_crossentropy, binary_crossentropy or mse"
                )))
            }
        })
    }
}

/// What `compile` takes.
#[derive(Clone, Debug)]
pub struct Compile {
    /// The optimizer.
    pub optimizer: Sgd,
    /// The loss.
    pub loss: LossName,
    /// Where to run.
    pub device: Device,
}

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
    /// Mean L2 norm of each trainable weight's gradient over the epoch's steps — the
    /// vanishing/exploding-gradient diagnostic.
    pub grad_norms: Vec<(String, f32)>,
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
    /// Bytes read back per epoch between steps (metrics, guard flags).
    pub readback_bytes_per_epoch: f64,
}

/// What `fit` returns: one [`EpochLogs`] per epoch and the per-step counters.
#[derive(Clone, Debug, Default)]
pub struct History {
    /// Per-epoch metrics.
    pub epochs: Vec<EpochLogs>,
    /// Per-step work.
    pub counters: StepCounters,
}

/// Hooks called during `fit`.
pub trait Callback {
    /// Before an epoch of `steps` steps.
    fn on_epoch_begin(&mut self, _epoch: usize, _steps: usize) {}
    /// After each step; `running_loss` is the epoch's mean loss so far when it was read
    /// back at this step (see [`FitOptions::metrics_every`]).
    fn on_batch_end(&mut self, _step_in_epoch: usize, _rows: usize, _running_loss: Option<f32>) {}
    /// After an epoch.
    fn on_epoch_end(&mut self, _logs: &EpochLogs) {}
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Mode {
    Train,
    Eval,
    Predict,
    /// Inference that keeps every hidden activation for [`Sequential::activation_stats`].
    Inspect,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct PlanKey {
    mode: Mode,
    rows: usize,
    /// Resident data set (its data buffer), or `None` for host-written batches.
    data: Option<BufId>,
}

struct Plan {
    exec: Executor,
    host_x: Option<BufId>,
    host_y: Option<BufId>,
    output: TensorId,
    consts: Vec<BufId>,
    activations: Vec<(usize, TensorId)>,
}

struct Resident {
    fingerprint: u64,
    data: BufId,
    labels: BufId,
    perm: BufId,
    bytes: bool,
}

/// The compiled state of a model: backend, device buffers, and step plans.
pub(crate) struct Trainer {
    backend: Box<dyn Backend>,
    compile: Compile,
    weights: Vec<BufId>,
    velocity: Vec<BufId>,
    step_buf: BufId,
    metrics: BufId,
    stats: BufId,
    scales: BufId,
    plans: HashMap<PlanKey, Plan>,
    resident: Vec<Resident>,
    step: u64,
    /// Force host-written batches (as for a data set too large for the device).
    pub(crate) stream: bool,
}

fn fingerprint(d: &Dataset) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    let mut eat = |b: &[u8]| {
        for &x in b {
            h = (h ^ x as u64).wrapping_mul(0x100000001b3);
        }
    };
    match &d.x {
        Samples::U8(v) => eat(v),
        Samples::F32(v) => eat(bytemuck::cast_slice(v)),
    }
    eat(bytemuck::cast_slice(&d.y));
    eat(bytemuck::cast_slice(
        &d.sample_shape.iter().map(|&s| s as u64).collect::<Vec<_>>(),
    ));
    h
}

/// Opens a backend for `device`; the second value is a notice when `Auto` fell back.
pub fn open_backend(device: Device) -> Result<(Box<dyn Backend>, Option<String>)> {
    match device {
        Device::Cpu => Ok((Box::new(CpuBackend::new()), None)),
        Device::Gpu => Ok((Box::new(GpuBackend::new(&GpuOptions::from_env()?)?), None)),
        Device::Auto => match GpuBackend::new(&GpuOptions::from_env()?) {
            Ok(g) => Ok((Box::new(g), None)),
            Err(e) => Ok((
                Box::new(CpuBackend::new()),
                Some(format!("{e}; running on the CPU reference instead")),
            )),
        },
    }
}

impl Sequential {
    /// Advice on activation/initializer pairs the chapter warns against: SELU without
    /// LeCun normal, the ReLU family with Glorot, a deep sigmoid/tanh stack with a plain
    /// normal initialization.
    pub fn init_warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut saturating_plain = 0;
        for (i, l) in self.layers.iter().enumerate() {
            let LayerKind::Dense(d) = &l.kind else {
                continue;
            };
            let mut act = d.activation;
            let mut prelu = false;
            if act == ActKind::Linear {
                for next in &self.layers[i + 1..] {
                    match &next.kind {
                        LayerKind::BatchNormalization(_) => continue,
                        LayerKind::Activation(a) => act = *a,
                        LayerKind::PRelu => prelu = true,
                        _ => {}
                    }
                    break;
                }
            }
            let init = d.kernel_initializer;
            let glorot = init == Initializer::GLOROT_UNIFORM || init == Initializer::GLOROT_NORMAL;
            let relu_family = prelu
                || matches!(
                    act,
                    ActKind::Relu
                        | ActKind::LeakyRelu { .. }
                        | ActKind::Rrelu { .. }
                        | ActKind::Elu { .. }
                );
            let act_name = if prelu { "prelu" } else { act.keras_name() };
            if act == ActKind::Selu && init != Initializer::LECUN_NORMAL {
                out.push(format!(
                    "warning: {}: selu is advised with lecun_normal initialization (self-normalization assumes it)",
                    l.name
                ));
            } else if relu_family && glorot {
                out.push(format!(
                    "warning: {}: {act_name} is advised with He initialization (he_normal or he_uniform); Glorot suits tanh, logistic and softmax",
                    l.name
                ));
            }
            if matches!(act, ActKind::Sigmoid | ActKind::Tanh)
                && matches!(init, Initializer::RandomNormal { .. })
            {
                saturating_plain += 1;
            }
        }
        if saturating_plain >= 3 {
            out.push(format!(
                "warning: {saturating_plain} sigmoid/tanh layers with a plain normal initialization: their gradients tend to vanish; Glorot (glorot_uniform or glorot_normal) is advised"
            ));
        }
        out
    }

    /// Prepares the model for training on a device (Keras's `compile`). Prints and returns
    /// the initialization advice; returns the device in use and, for `Device::Auto`
    /// falling back to the CPU, a notice.
    pub fn compile(&mut self, c: Compile) -> Result<(DeviceInfo, Option<String>, Vec<String>)> {
        let (backend, notice) = open_backend(c.device)?;
        self.compile_on(backend, c).map(|(d, w)| (d, notice, w))
    }

    /// `compile` on a given backend.
    pub fn compile_on(
        &mut self,
        mut backend: Box<dyn Backend>,
        c: Compile,
    ) -> Result<(DeviceInfo, Vec<String>)> {
        c.optimizer.validate()?;
        self.output_shapes()?;
        if self.trainer.is_some() {
            self.sync_weights()?;
        }
        let mut weights = Vec::new();
        let mut velocity = Vec::new();
        for w in &self.weights {
            weights.push(backend.upload(&w.data)?);
            velocity.push(backend.alloc(w.data.len().max(1))?);
        }
        let nw = self.weights.len().max(1);
        let step_buf = backend.alloc(4)?;
        let metrics = backend.alloc(3)?;
        let stats = backend.alloc(3 * nw)?;
        let scales = backend.alloc(nw)?;
        let info = backend.info();
        let warnings = self.init_warnings();
        for w in &warnings {
            eprintln!("{w}");
        }
        self.trainer = Some(Trainer {
            backend,
            compile: c,
            weights,
            velocity,
            step_buf,
            metrics,
            stats,
            scales,
            plans: HashMap::new(),
            resident: Vec::new(),
            step: 0,
            stream: false,
        });
        Ok((info, warnings))
    }

    /// Brings the device's weights back into `self.weights` (one readback per tensor).
    pub fn sync_weights(&mut self) -> Result<()> {
        if let Some(t) = self.trainer.as_mut() {
            for (w, b) in self.weights.iter_mut().zip(&t.weights) {
                let v = t.backend.read(*b)?;
                let n = w.data.len();
                w.data.copy_from_slice(&v[..n]);
            }
        }
        Ok(())
    }

    /// The current weights (synced from the device).
    pub fn get_weights(&mut self) -> Result<Vec<super::Weight>> {
        self.sync_weights()?;
        Ok(self.weights.clone())
    }

    /// Replaces weight `name`'s values (and the device copy when compiled).
    pub fn set_weight(&mut self, name: &str, data: &[f32]) -> Result<()> {
        let i = self
            .weight_index(name)
            .ok_or_else(|| Error::Config(format!("no weight named {name}")))?;
        if data.len() != self.weights[i].data.len() {
            return Err(Error::Shape(format!(
                "{name} holds {} values ({:?}), got {}",
                self.weights[i].data.len(),
                self.weights[i].shape,
                data.len()
            )));
        }
        self.weights[i].data.copy_from_slice(data);
        if let Some(t) = self.trainer.as_mut() {
            t.backend.write(t.weights[i], 0, data)?;
        }
        Ok(())
    }

    /// The device in use, when compiled.
    pub fn device_info(&self) -> Option<DeviceInfo> {
        self.trainer.as_ref().map(|t| t.backend.info())
    }

    /// The backend's cumulative counters, when compiled.
    pub fn counters(&self) -> Option<Counters> {
        self.trainer.as_ref().map(|t| t.backend.counters())
    }

    /// Global step count so far.
    pub fn steps_done(&self) -> u64 {
        self.trainer.as_ref().map(|t| t.step).unwrap_or(0)
    }

    /// Makes training gather batches on the host and upload them, as it does for a data
    /// set too large for the device (for tests of that path).
    pub fn force_streaming(&mut self, on: bool) {
        if let Some(t) = self.trainer.as_mut() {
            t.stream = on;
        }
    }

    fn check_data(&self, d: &Dataset, what: &str) -> Result<()> {
        if d.is_empty() {
            return Err(Error::InvalidData(format!("the {what} data set is empty")));
        }
        let want: usize = self.input_shape.iter().product();
        if d.features() != want {
            return Err(Error::Shape(format!(
                "the {what} samples have shape {:?} ({} values) but the model takes {:?}",
                d.sample_shape,
                d.features(),
                self.input_shape
            )));
        }
        let units = self.output_units();
        let loss = self.trainer.as_ref().map(|t| t.compile.loss);
        if units == 1 {
            if loss == Some(LossName::BinaryCrossentropy) {
                d.check_labels(2)?;
            }
        } else {
            d.check_labels(units)?;
        }
        Ok(())
    }

    fn take_trainer(&mut self) -> Result<Trainer> {
        self.trainer
            .take()
            .ok_or_else(|| Error::Config("the model is not compiled: call compile first".into()))
    }

    /// Trains the model (Keras's `fit`).
    pub fn fit(
        &mut self,
        train: &Dataset,
        validation: Option<&Dataset>,
        opts: &FitOptions,
        callbacks: &mut [&mut dyn Callback],
    ) -> Result<History> {
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
        let mut t = self.take_trainer()?;
        let r = (|| {
            self.check_data(train, "training")?;
            if let Some(v) = validation {
                self.check_data(v, "validation")?;
            }
            t.fit(self, train, validation, opts, callbacks)
        })();
        self.trainer = Some(t);
        let h = r?;
        self.sync_weights()?;
        Ok(h)
    }

    /// Loss and accuracy on a data set in inference mode (Keras's `evaluate`).
    pub fn evaluate(&mut self, data: &Dataset, batch_size: usize) -> Result<(f32, f32)> {
        if batch_size == 0 {
            return Err(Error::Config("batch size must be at least 1".into()));
        }
        let mut t = self.take_trainer()?;
        let r = self
            .check_data(data, "evaluation")
            .and_then(|_| t.evaluate(self, data, batch_size));
        self.trainer = Some(t);
        r
    }

    /// Output probabilities (after the last activation) for `n` samples given flat
    /// (Keras's `predict`).
    pub fn predict(&mut self, x: &[f32], batch_size: usize) -> Result<Vec<f32>> {
        if batch_size == 0 {
            return Err(Error::Config("batch size must be at least 1".into()));
        }
        let features: usize = self.input_shape.iter().product();
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
        let mut t = self.take_trainer()?;
        let r = t.predict(self, x, batch_size);
        self.trainer = Some(t);
        r
    }
}

impl Trainer {
    /// Drops every prepared plan (after freezing, unfreezing or a learning-rate change the
    /// step graphs differ); weights, velocities and resident data stay.
    pub(crate) fn invalidate_plans(&mut self) {
        for (_, p) in self.plans.drain() {
            for c in p.consts {
                self.backend.free(c);
            }
            if let Some(b) = p.host_x {
                self.backend.free(b);
            }
            if let Some(b) = p.host_y {
                self.backend.free(b);
            }
            p.exec.release(self.backend.as_mut());
        }
    }

    fn loss_kind(&self, last: ActKind) -> Result<(LossKind, bool)> {
        let loss = self.compile.loss;
        match loss {
            LossName::SparseCategoricalCrossentropy | LossName::CategoricalCrossentropy => {
                if last == ActKind::Softmax {
                    Ok((LossKind::SoftmaxCrossEntropy, true))
                } else {
                    Err(Error::Config(format!(
                        "{loss:?} needs a softmax output layer (the last activation is {})",
                        last.keras_name()
                    )))
                }
            }
            LossName::BinaryCrossentropy => {
                if last == ActKind::Sigmoid {
                    Ok((LossKind::SigmoidBinaryCrossEntropy, true))
                } else {
                    Err(Error::Config(format!(
                        "binary_crossentropy needs a sigmoid output layer (the last activation is {})",
                        last.keras_name()
                    )))
                }
            }
            LossName::MeanSquaredError => Ok((LossKind::MeanSquaredError, false)),
        }
    }

    fn resident(&mut self, d: &Dataset) -> Result<Option<usize>> {
        let words = match &d.x {
            Samples::U8(v) => v.len().div_ceil(4),
            Samples::F32(v) => v.len(),
        };
        if self.stream || words > self.backend.max_buffer_words() {
            return Ok(None);
        }
        let fp = fingerprint(d);
        if let Some(i) = self.resident.iter().position(|r| r.fingerprint == fp) {
            return Ok(Some(i));
        }
        let (data, bytes) = match &d.x {
            Samples::U8(v) => {
                let mut padded = v.clone();
                padded.resize(words * 4, 0);
                let b = self.backend.alloc(words)?;
                self.backend
                    .write_words(b, 0, bytemuck::cast_slice(&padded))?;
                (b, true)
            }
            Samples::F32(v) => (self.backend.upload(v)?, false),
        };
        let labels: Vec<f32> = d.y.iter().map(|&l| l as f32).collect();
        let labels = self.backend.upload(&labels)?;
        let perm = self.backend.alloc(d.len())?;
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
                for c in p.consts {
                    self.backend.free(c);
                }
                p.exec.release(self.backend.as_mut());
            }
            for b in [old.data, old.labels, old.perm] {
                self.backend.free(b);
            }
        }
        self.resident.push(Resident {
            fingerprint: fp,
            data,
            labels,
            perm,
            bytes,
        });
        Ok(Some(self.resident.len() - 1))
    }

    /// Builds and prepares the graph for `key`.
    fn plan(&mut self, model: &Sequential, key: PlanKey, features: usize) -> Result<()> {
        if self.plans.contains_key(&key) {
            return Ok(());
        }
        let rows = key.rows;
        let mut g = Graph::default();
        let mut bound: HashMap<TensorId, BufId> = HashMap::new();
        let step = g.external("step", &[4]);
        bound.insert(step, self.step_buf);
        let w: Vec<TensorId> = model
            .weights
            .iter()
            .zip(&self.weights)
            .map(|(wt, b)| {
                let t = g.external(wt.name.clone(), &wt.shape);
                bound.insert(t, *b);
                t
            })
            .collect();
        let (x, y, host_x, host_y) = match key.data {
            Some(data) => {
                let r = self
                    .resident
                    .iter()
                    .find(|r| r.data == data)
                    .expect("resident data set");
                let n = self.backend.len(r.labels);
                let dt = g.external("dataset", &[self.backend.len(r.data)]);
                let lt = g.external("labels", &[n]);
                let pt = g.external("perm", &[n]);
                bound.insert(dt, r.data);
                bound.insert(lt, r.labels);
                bound.insert(pt, r.perm);
                let x = g.temp("x", &[rows, features]);
                let y = g.temp("y", &[rows]);
                let k = if r.bytes {
                    Kernel::GatherU8 { rows, features }
                } else {
                    Kernel::GatherF32 { rows, features }
                };
                g.push(k, vec![dt, lt, pt, step, x, y]);
                (x, y, None, None)
            }
            None => {
                let x = g.external("x", &[rows, features]);
                let y = g.external("y", &[rows]);
                let bx = self.backend.alloc(rows * features)?;
                let by = self.backend.alloc(rows)?;
                bound.insert(x, bx);
                bound.insert(y, by);
                (x, y, Some(bx), Some(by))
            }
        };
        let training = key.mode == Mode::Train;
        let mut consts: Constants = Vec::new();
        let fwd = model.forward(
            &mut g,
            x,
            rows,
            training,
            &mut super::model::Bound {
                weights: &w,
                step,
                consts: &mut consts,
            },
        )?;
        let units = g.dims2(fwd.pre_activation).1;
        let mut keep = Vec::new();
        let output;
        if key.mode == Mode::Inspect {
            keep.extend(fwd.activations.iter().map(|a| a.1));
        }
        if matches!(key.mode, Mode::Predict | Mode::Inspect) {
            output = apply_activation(
                &mut g,
                fwd.pre_activation,
                rows,
                units,
                fwd.last_activation,
                false,
                fwd.last_seed,
                step,
            );
            keep.push(output);
        } else {
            let (kind, fused) = self.loss_kind(fwd.last_activation)?;
            let input = if fused {
                fwd.pre_activation
            } else {
                apply_activation(
                    &mut g,
                    fwd.pre_activation,
                    rows,
                    units,
                    fwd.last_activation,
                    training,
                    fwd.last_seed,
                    step,
                )
            };
            let dinput = g.temp("dloss", &[rows, units]);
            let row_stats = g.temp("row_stats", &[rows, 2]);
            g.push(
                Kernel::Loss {
                    kind,
                    rows,
                    cols: units,
                },
                vec![input, y, dinput, row_stats],
            );
            let metrics = g.external("metrics", &[3]);
            bound.insert(metrics, self.metrics);
            g.push(Kernel::AccumulateMetrics { rows }, vec![row_stats, metrics]);
            output = input;
            if training {
                let forward_len = g.nodes.len();
                let trainable: Vec<usize> = (0..model.weights.len())
                    .filter(|&i| model.is_trainable(i))
                    .collect();
                let wrt: Vec<TensorId> = trainable.iter().map(|&i| w[i]).collect();
                let grads = autodiff::backward(&mut g, forward_len, (input, dinput), &wrt)?;
                let stats = g.external("grad_stats", &[3 * model.weights.len().max(1)]);
                let scales = g.external("clip_scales", &[model.weights.len().max(1)]);
                bound.insert(stats, self.stats);
                bound.insert(scales, self.scales);
                let sgd = &self.compile.optimizer;
                for &i in &trainable {
                    if let Some(&gr) = grads.get(&w[i]) {
                        let n = model.weights[i].data.len();
                        g.push(Kernel::GradStats { n, slot: i }, vec![gr, stats, step]);
                    }
                }
                g.push(
                    Kernel::ClipScale {
                        count: model.weights.len().max(1),
                        mode: sgd.clip.mode(),
                    },
                    vec![stats, scales],
                );
                for &i in &trainable {
                    if let Some(&gr) = grads.get(&w[i]) {
                        let n = model.weights[i].data.len();
                        let v = g.external(format!("{}/velocity", model.weights[i].name), &[n]);
                        bound.insert(v, self.velocity[i]);
                        g.push(
                            Kernel::SgdUpdate {
                                n,
                                slot: i,
                                momentum: sgd.momentum,
                                nesterov: sgd.nesterov,
                                clipvalue: sgd.clip.value(),
                                lr_mult: model.layers[model.weights[i].layer].lr_multiplier,
                            },
                            vec![w[i], gr, v, scales, step],
                        );
                    }
                }
            }
        }
        let mut const_bufs = Vec::new();
        for (t, value) in consts {
            let n = g.tensors[t.0].numel();
            let b = self.backend.upload(&vec![value; n])?;
            bound.insert(t, b);
            const_bufs.push(b);
        }
        let exec = Executor::new(&g, self.backend.as_mut(), &bound, &keep)?;
        self.plans.insert(
            key,
            Plan {
                exec,
                host_x,
                host_y,
                output,
                consts: const_bufs,
                activations: fwd.activations,
            },
        );
        Ok(())
    }

    /// Writes the 16-byte step record and, for host-fed plans, the batch.
    fn feed(
        &mut self,
        key: PlanKey,
        data: &Dataset,
        order: &[usize],
        offset: usize,
        lr: f32,
    ) -> Result<()> {
        self.backend.write(
            self.step_buf,
            0,
            &[self.step as f32, offset as f32, lr, 0.0],
        )?;
        let plan = &self.plans[&key];
        if let (Some(bx), Some(by)) = (plan.host_x, plan.host_y) {
            let (bx, by) = (bx, by);
            let mut xs = Vec::with_capacity(key.rows * data.features());
            let mut ys = Vec::with_capacity(key.rows);
            for &i in &order[offset..offset + key.rows] {
                xs.extend(data.sample(i));
                ys.push(data.y[i] as f32);
            }
            self.backend.write(bx, 0, &xs)?;
            self.backend.write(by, 0, &ys)?;
        }
        Ok(())
    }

    fn read_metrics(&mut self) -> Result<(f32, f32)> {
        let m = self.backend.read(self.metrics)?;
        let n = m[2].max(1.0);
        Ok((m[0] / n, m[1] / n))
    }

    /// Reads the gradient statistics; errors if a gradient went non-finite.
    fn read_stats(&mut self, model: &Sequential) -> Result<Vec<f32>> {
        let stats = self.backend.read(self.stats)?;
        let mut worst: Option<(f32, usize)> = None;
        for i in 0..model.weights.len() {
            let bad = stats[3 * i + 2];
            if bad >= 0.0 {
                // Earliest step first; among equals the layer nearest the output, where
                // back-propagation meets the non-finite values first.
                let better = match worst {
                    None => true,
                    Some((s, j)) => {
                        bad < s || (bad == s && model.weights[i].layer > model.weights[j].layer)
                    }
                };
                if better {
                    worst = Some((bad, i));
                }
            }
        }
        if let Some((step, i)) = worst {
            let w = &model.weights[i];
            return Err(Error::NonFinite {
                layer: model.layers[w.layer].name.clone(),
                tensor: w.name.clone(),
                step: step as u64,
            });
        }
        Ok(stats)
    }

    fn reset_stats(&mut self, nw: usize) -> Result<()> {
        let init: Vec<f32> = (0..3 * nw.max(1))
            .map(|i| if i % 3 == 2 { -1.0 } else { 0.0 })
            .collect();
        self.backend.write(self.stats, 0, &init)
    }

    fn fit(
        &mut self,
        model: &Sequential,
        train: &Dataset,
        validation: Option<&Dataset>,
        opts: &FitOptions,
        callbacks: &mut [&mut dyn Callback],
    ) -> Result<History> {
        let features = train.features();
        let n = train.len();
        let source = self.resident(train)?;
        let data_buf = source.map(|i| self.resident[i].data);
        let perm_buf = source.map(|i| self.resident[i].perm);
        let nw = model.weights.len();
        self.reset_stats(nw)?;
        let mut history = History::default();
        let mut in_step = Counters::default();
        let mut epoch_other = Counters::default();
        let mut steps_counted = 0u64;
        let steps_per_epoch = n.div_ceil(opts.batch_size);
        let mut rng = rand::rngs::StdRng::seed_from_u64(opts.seed);
        'epochs: for epoch in 0..opts.epochs {
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
                let perm: Vec<f32> = order.iter().map(|&i| i as f32).collect();
                self.backend.write(p, 0, &perm)?;
            }
            self.backend.write(self.metrics, 0, &[0.0; 3])?;
            for c in callbacks.iter_mut() {
                c.on_epoch_begin(epoch, steps_per_epoch);
            }
            let mut seen = 0usize;
            let mut epoch_in_step = Counters::default();
            let mut steps_this_epoch = 0u64;
            for b in 0..steps_per_epoch {
                if opts.max_steps.is_some_and(|m| self.step >= m) {
                    break;
                }
                let offset = b * opts.batch_size;
                let rows = opts.batch_size.min(n - offset);
                let key = PlanKey {
                    mode: Mode::Train,
                    rows,
                    data: data_buf,
                };
                self.plan(model, key, features)?;
                let before = self.backend.counters();
                let lr = self.compile.optimizer.learning_rate.at(self.step);
                self.feed(key, train, &order, offset, lr)?;
                self.plans[&key].exec.record(self.backend.as_mut());
                self.backend.submit()?;
                let after = self.backend.counters();
                in_step = add(in_step, after - before);
                epoch_in_step = add(epoch_in_step, after - before);
                steps_counted += 1;
                steps_this_epoch += 1;
                self.step += 1;
                seen += rows;
                let mut running = None;
                if opts.metrics_every.is_some_and(|k| (b + 1) % k.max(1) == 0) {
                    running = Some(self.read_metrics()?.0);
                }
                if opts.check_every.is_some_and(|k| (b + 1) % k.max(1) == 0) {
                    self.read_stats(model)?;
                }
                for c in callbacks.iter_mut() {
                    c.on_batch_end(b, rows, running);
                }
            }
            let (loss, accuracy) = self.read_metrics()?;
            let stats = self.read_stats(model)?;
            let secs = t0.elapsed().as_secs_f64();
            let grad_norms = (0..nw)
                .filter(|&i| model.is_trainable(i))
                .map(|i| {
                    (
                        model.weights[i].name.clone(),
                        stats[3 * i + 1] / steps_this_epoch.max(1) as f32,
                    )
                })
                .collect();
            self.reset_stats(nw)?;
            let epoch_total = self.backend.counters() - epoch_start;
            epoch_other = add(epoch_other, epoch_total - epoch_in_step);
            let (val_loss, val_accuracy) = match validation {
                Some(v) => {
                    let (l, a) = self.evaluate(model, v, opts.batch_size)?;
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
            };
            for c in callbacks.iter_mut() {
                c.on_epoch_end(&logs);
            }
            history.epochs.push(logs);
            history.counters.steps = steps_counted;
            if !loss.is_finite() {
                break 'epochs;
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
        };
        Ok(history)
    }

    fn evaluate(&mut self, model: &Sequential, data: &Dataset, batch: usize) -> Result<(f32, f32)> {
        let features = data.features();
        let source = self.resident(data)?;
        let data_buf = source.map(|i| self.resident[i].data);
        let n = data.len();
        let order: Vec<usize> = (0..n).collect();
        if let Some(i) = source {
            let perm: Vec<f32> = (0..n).map(|i| i as f32).collect();
            self.backend.write(self.resident[i].perm, 0, &perm)?;
        }
        self.backend.write(self.metrics, 0, &[0.0; 3])?;
        for offset in (0..n).step_by(batch) {
            let rows = batch.min(n - offset);
            let key = PlanKey {
                mode: Mode::Eval,
                rows,
                data: data_buf,
            };
            self.plan(model, key, features)?;
            self.feed(key, data, &order, offset, 0.0)?;
            self.plans[&key].exec.record(self.backend.as_mut());
            self.backend.submit()?;
        }
        self.read_metrics()
    }

    fn predict(&mut self, model: &Sequential, x: &[f32], batch: usize) -> Result<Vec<f32>> {
        let features: usize = model.input_shape.iter().product();
        let n = x.len() / features;
        let mut out = Vec::new();
        for offset in (0..n).step_by(batch) {
            let rows = batch.min(n - offset);
            let key = PlanKey {
                mode: Mode::Predict,
                rows,
                data: None,
            };
            self.plan(model, key, features)?;
            self.backend
                .write(self.step_buf, 0, &[self.step as f32, 0.0, 0.0, 0.0])?;
            let plan = &self.plans[&key];
            let bx = plan.host_x.expect("host-fed plan");
            let output = plan.exec.buffer(plan.output);
            self.backend
                .write(bx, 0, &x[offset * features..(offset + rows) * features])?;
            self.plans[&key].exec.record(self.backend.as_mut());
            self.backend.submit()?;
            let units = model.output_units();
            let v = self.backend.read(output)?;
            out.extend_from_slice(&v[..rows * units]);
        }
        Ok(out)
    }
}

fn add(a: Counters, b: Counters) -> Counters {
    Counters {
        dispatches: a.dispatches + b.dispatches,
        submits: a.submits + b.submits,
        upload_bytes: a.upload_bytes + b.upload_bytes,
        readback_bytes: a.readback_bytes + b.readback_bytes,
    }
}

/// How one hidden activation behaves on a batch of inputs (inference mode): the
/// dead-ReLU and saturation diagnostics.
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

impl Sequential {
    /// Runs the first `samples` samples of `data` through the model (inference mode) and
    /// reports, for each hidden activation, dead ReLU units and saturation — so vanishing
    /// gradients are seen rather than guessed. Reads the activations back, so call it
    /// between epochs, not inside training.
    pub fn activation_stats(
        &mut self,
        data: &Dataset,
        samples: usize,
    ) -> Result<Vec<ActivationStats>> {
        self.check_data(data, "inspection")?;
        let rows = samples.min(data.len()).max(1);
        let x: Vec<f32> = (0..rows).flat_map(|i| data.sample(i)).collect();
        let mut t = self.take_trainer()?;
        let r = t.inspect(self, &x, rows);
        self.trainer = Some(t);
        let acts = r?;
        let shapes = self.output_shapes()?;
        Ok(acts
            .into_iter()
            .map(|(li, v)| {
                let units: usize = shapes[li].iter().product();
                let layer = &self.layers[li];
                let act = match &layer.kind {
                    LayerKind::Dense(d) => d.activation,
                    LayerKind::Activation(a) => *a,
                    _ => ActKind::Linear,
                };
                let name = if matches!(layer.kind, LayerKind::PRelu) {
                    "prelu"
                } else {
                    act.keras_name()
                };
                let dead_units = if act == ActKind::Relu {
                    (0..units)
                        .filter(|&u| (0..rows).all(|r| v[r * units + u] <= 0.0))
                        .count()
                } else {
                    0
                };
                let saturated = v
                    .iter()
                    .filter(|&&y| match act {
                        ActKind::Sigmoid => !(0.01..=0.99).contains(&y),
                        ActKind::Tanh => y.abs() > 0.99,
                        _ => false,
                    })
                    .count();
                let n = v.len().max(1) as f64;
                let mean = v.iter().map(|&y| y as f64).sum::<f64>() / n;
                let var = v.iter().map(|&y| (y as f64 - mean).powi(2)).sum::<f64>() / n;
                ActivationStats {
                    layer: layer.name.clone(),
                    activation: name.to_string(),
                    units,
                    dead_units,
                    saturated_fraction: saturated as f32 / n as f32,
                    mean: mean as f32,
                    std: var.sqrt() as f32,
                }
            })
            .collect())
    }
}

impl Trainer {
    fn inspect(
        &mut self,
        model: &Sequential,
        x: &[f32],
        rows: usize,
    ) -> Result<Vec<(usize, Vec<f32>)>> {
        let features: usize = model.input_shape.iter().product();
        let key = PlanKey {
            mode: Mode::Inspect,
            rows,
            data: None,
        };
        self.plan(model, key, features)?;
        self.backend
            .write(self.step_buf, 0, &[self.step as f32, 0.0, 0.0, 0.0])?;
        let bx = self.plans[&key].host_x.expect("host-fed plan");
        self.backend.write(bx, 0, x)?;
        self.plans[&key].exec.record(self.backend.as_mut());
        self.backend.submit()?;
        let plan = &self.plans[&key];
        let acts: Vec<(usize, BufId)> = plan
            .activations
            .iter()
            .map(|&(li, t)| (li, plan.exec.buffer(t)))
            .collect();
        let mut out = Vec::new();
        for (li, b) in acts {
            let units: usize = model.output_shapes()?[li].iter().product();
            let v = self.backend.read(b)?;
            out.push((li, v[..rows * units].to_vec()));
        }
        Ok(out)
    }
}

/// An exponentially weighted moving average, `v ← β·v + (1 − β)·x` — the rule Keras's
/// BatchNormalization uses for its moving statistics (β is its momentum), and the one the
/// CLI smooths its displayed loss with. The first value is taken as is.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Ewma {
    beta: f64,
    value: Option<f64>,
}

impl Ewma {
    /// An empty average with weight `beta` on the old value.
    pub fn new(beta: f64) -> Ewma {
        Ewma { beta, value: None }
    }

    /// An average starting at `initial` (as BN's moving statistics start at 0 and 1).
    pub fn starting_at(beta: f64, initial: f64) -> Ewma {
        Ewma {
            beta,
            value: Some(initial),
        }
    }

    /// Folds in one observation and returns the new average.
    pub fn update(&mut self, x: f64) -> f64 {
        let v = match self.value {
            None => x,
            Some(v) => self.beta * v + (1.0 - self.beta) * x,
        };
        self.value = Some(v);
        v
    }

    /// The current average.
    pub fn value(&self) -> Option<f64> {
        self.value
    }
}

/// The optimizer's state: the step count and each weight's velocity, so training resumes
/// exactly where it stopped.
#[derive(Clone, Debug, PartialEq)]
pub struct OptimizerState {
    /// Steps taken (Keras's `iterations`).
    pub step: u64,
    /// Velocity of each weight, by weight name.
    pub velocities: Vec<(String, Vec<f32>)>,
}

impl Sequential {
    /// Reads the optimizer state back from the device.
    pub fn optimizer_state(&mut self) -> Result<OptimizerState> {
        let t = self.trainer.as_mut().ok_or_else(|| {
            Error::Config("the model is not compiled: it has no optimizer state".into())
        })?;
        let mut velocities = Vec::new();
        for (w, b) in self.weights.iter().zip(&t.velocity) {
            if w.optimizable {
                let v = t.backend.read(*b)?;
                velocities.push((w.name.clone(), v[..w.data.len()].to_vec()));
            }
        }
        Ok(OptimizerState {
            step: t.step,
            velocities,
        })
    }

    /// Restores an optimizer state saved by [`Sequential::optimizer_state`]; every name and
    /// size must match.
    pub fn set_optimizer_state(&mut self, s: &OptimizerState) -> Result<()> {
        let t = self.trainer.as_mut().ok_or_else(|| {
            Error::Config("compile the model before restoring optimizer state".into())
        })?;
        for (name, v) in &s.velocities {
            let i = self
                .weights
                .iter()
                .position(|w| &w.name == name)
                .ok_or_else(|| {
                    Error::Config(format!("optimizer state for unknown weight {name}"))
                })?;
            if v.len() != self.weights[i].data.len() {
                return Err(Error::Shape(format!(
                    "velocity of {name} holds {} values, the weight {}",
                    v.len(),
                    self.weights[i].data.len()
                )));
            }
            t.backend.write(t.velocity[i], 0, v)?;
        }
        t.step = s.step;
        Ok(())
    }
}
