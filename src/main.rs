//! The `steadygrad` command line: a thin layer over the library.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use steadygrad::backend::{ActKind, DeviceInfo};
use steadygrad::data::idx::load_mnist_dir;
use steadygrad::data::{load_safetensors_dataset, Dataset};
use steadygrad::io::model_file::{load_safetensors_x, write_probabilities};
use steadygrad::io::{load_model, save_model};
use steadygrad::nn::training::{Callback, EpochLogs};
use steadygrad::nn::{
    parse_activation, Compile, Device, Ewma, FitOptions, History, Initializer, Layer, LayerKind,
    LossName, Sequential,
};
use steadygrad::optim::{Clip, Schedule, Sgd};
use steadygrad::{Error, Result};

#[derive(Parser)]
#[command(
    name = "steadygrad",
    version,
    about = "Train neural networks on the GPU with WebGPU compute shaders"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Train a model (the seed network by default) and evaluate it on the test set.
    Train(TrainArgs),
    /// Print the summary of the model the flags (or --model) describe.
    Summary(SummaryArgs),
    /// Loss and accuracy of a saved model on a data set.
    Evaluate(EvaluateArgs),
    /// Class probabilities of a saved model for the samples in a safetensors file.
    Predict(PredictArgs),
    /// Reuse a saved model's lower layers under a new head: freeze, train, unfreeze the top.
    Transfer(TransferArgs),
}

#[derive(clap::Args)]
struct SummaryArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// A saved model folder (model.json + weights.safetensors).
    #[arg(long = "model")]
    model_dir: Option<PathBuf>,
}

#[derive(clap::Args, Clone)]
struct DataArgs {
    /// A folder of MNIST-format IDX files, or a safetensors file with tensors x and y.
    #[arg(long, default_value = "data")]
    data: PathBuf,
    /// Test set as a safetensors file (with --data FILE.safetensors).
    #[arg(long)]
    test_data: Option<PathBuf>,
    /// Keep only these classes, relabelled 0, 1, … in the order given.
    #[arg(long, value_delimiter = ',')]
    classes: Option<Vec<u32>>,
    /// Use only the first N training samples.
    #[arg(long)]
    limit: Option<usize>,
}

#[derive(clap::Args)]
struct EvaluateArgs {
    /// The model folder.
    #[arg(long = "model")]
    model_dir: PathBuf,
    #[command(flatten)]
    data: DataArgs,
    /// Evaluate on the training split instead of the test split (MNIST folders).
    #[arg(long)]
    train_split: bool,
    /// Samples per batch.
    #[arg(long, default_value_t = 256)]
    batch_size: usize,
    /// Loss (default: from the output activation).
    #[arg(long)]
    loss: Option<String>,
    /// Where to run.
    #[arg(long, value_enum, default_value = "auto")]
    device: DeviceArg,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
struct PredictArgs {
    /// The model folder.
    #[arg(long = "model")]
    model_dir: PathBuf,
    /// A safetensors file with tensor x (N, …) (uint8 scaled by 1/255, or float).
    #[arg(long)]
    input: PathBuf,
    /// Where to write the probabilities (tensor "probabilities", shape (N, units)).
    #[arg(long)]
    output: PathBuf,
    /// Samples per batch.
    #[arg(long, default_value_t = 256)]
    batch_size: usize,
    /// Where to run.
    #[arg(long, value_enum, default_value = "auto")]
    device: DeviceArg,
}

#[derive(clap::Args)]
struct TransferArgs {
    /// The pretrained model folder.
    #[arg(long)]
    from: PathBuf,
    /// Freeze all reused layers, or the first N.
    #[arg(long, default_value = "all")]
    freeze: String,
    /// The new output layer: UNITS[:activation] (default activation softmax, sigmoid for 1 unit).
    #[arg(long)]
    new_head: String,
    /// Layers with weights to unfreeze at the top of the reused stack.
    #[arg(long, default_value_t = 0)]
    unfreeze_top: usize,
    /// Epochs with the reused layers frozen before unfreezing.
    #[arg(long, default_value_t = 0)]
    unfreeze_after: usize,
    /// Learning rate of the unfrozen layers (a per-layer multiplier of --lr).
    #[arg(long)]
    lr_unfrozen: Option<f32>,
    #[command(flatten)]
    train: TrainOptions,
    #[command(flatten)]
    data: DataArgs,
    /// Save the new model here.
    #[arg(long)]
    save: Option<PathBuf>,
    /// Seed of the new head's initializer and of the shuffles.
    #[arg(long, default_value_t = 42)]
    seed: u64,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum DeviceArg {
    Auto,
    Gpu,
    Cpu,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum BnPlacement {
    None,
    After,
    Before,
}

#[derive(clap::Args, Clone)]
struct ModelArgs {
    /// Hidden layer sizes.
    #[arg(long, value_delimiter = ',', default_value = "300,100")]
    hidden: Vec<usize>,
    /// Hidden activation: relu, leaky_relu[:alpha], rrelu, prelu, elu[:alpha], selu, tanh, sigmoid.
    #[arg(long, default_value = "elu")]
    activation: String,
    /// Kernel initializer of the hidden layers.
    #[arg(long, default_value = "he_normal")]
    init: String,
    /// Batch normalization placement (the seed network puts it after each activation).
    #[arg(long, value_enum, default_value = "after")]
    batch_norm: BnPlacement,
    /// Same as --batch-norm none: the plain MLP.
    #[arg(long)]
    no_batch_norm: bool,
    /// A Sequential model as JSON (Keras's model.to_json() format); overrides the flags above.
    #[arg(long)]
    model_config: Option<PathBuf>,
    /// Seed of the initializers and of the shuffles.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Number of classes of the output layer.
    #[arg(long, default_value_t = 10)]
    classes_out: usize,
}

#[derive(clap::Args)]
struct TrainArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// Continue from a saved (or Keras-exported) model folder instead of building one.
    #[arg(long = "model")]
    model_dir: Option<PathBuf>,
    #[command(flatten)]
    train: TrainOptions,
    #[command(flatten)]
    data: DataArgs,
    /// Save the trained model (and optimizer state) to this folder.
    #[arg(long)]
    save: Option<PathBuf>,
}

#[derive(clap::Args)]
struct TrainOptions {
    /// Passes over the training data.
    #[arg(long, default_value_t = 5)]
    epochs: usize,
    /// Samples per step.
    #[arg(long, default_value_t = 32)]
    batch_size: usize,
    /// Optimizer (only SGD, with momentum and Nesterov).
    #[arg(long, default_value = "sgd")]
    optimizer: String,
    /// Learning rate.
    #[arg(long, default_value_t = 0.01)]
    lr: f32,
    /// Momentum (0 for plain SGD).
    #[arg(long, default_value_t = 0.9)]
    momentum: f32,
    /// Nesterov accelerated gradient (the default).
    #[arg(long, overrides_with = "no_nesterov")]
    nesterov: bool,
    /// Classical momentum instead of Nesterov.
    #[arg(long)]
    no_nesterov: bool,
    /// Clip every gradient element to [-X, X].
    #[arg(long)]
    clipvalue: Option<f32>,
    /// Clip each gradient tensor to L2 norm X.
    #[arg(long)]
    clipnorm: Option<f32>,
    /// Clip all gradients jointly to global norm X.
    #[arg(long)]
    global_clipnorm: Option<f32>,
    /// Learning-rate schedule: constant, exponential:LR:STEPS:RATE[:staircase], piecewise:B1,B2:V0,V1,V2.
    #[arg(long)]
    lr_schedule: Option<String>,
    /// Loss (default: binary_crossentropy for a sigmoid output, else sparse_categorical_crossentropy).
    #[arg(long)]
    loss: Option<String>,
    /// Where to run; auto falls back to the CPU reference when there is no GPU.
    #[arg(long, value_enum, default_value = "auto")]
    device: DeviceArg,
    /// Run exactly N training steps (instead of whole epochs).
    #[arg(long)]
    steps: Option<u64>,
    /// Keep the data order fixed (no shuffling).
    #[arg(long)]
    no_shuffle: bool,
    /// Print per-step counters (dispatches, submits, bytes moved).
    #[arg(long)]
    stats: bool,
    /// Print each layer's mean gradient norm per epoch.
    #[arg(long)]
    grad_stats: bool,
    /// After training, print dead ReLU units and saturation of each hidden activation.
    #[arg(long)]
    activation_stats: bool,
    /// End with one JSON object on the last line of stdout.
    #[arg(long)]
    json: bool,
    /// Write per-epoch metrics to this CSV file.
    #[arg(long)]
    history: Option<PathBuf>,
    /// Check for non-finite gradients every N steps (default: once per epoch).
    #[arg(long)]
    check_every: Option<usize>,
}

fn build_model(a: &ModelArgs) -> Result<Sequential> {
    if let Some(path) = &a.model_config {
        return steadygrad::io::model_from_json_file(path, a.seed);
    }
    let placement = if a.no_batch_norm {
        BnPlacement::None
    } else {
        a.batch_norm
    };
    let init = Initializer::from_name(&a.init)?;
    let prelu = a.activation.trim().eq_ignore_ascii_case("prelu");
    let act = if prelu {
        ActKind::Linear
    } else {
        parse_activation(&a.activation)?
    };
    let mut layers = vec![Layer::flatten()];
    if placement == BnPlacement::After {
        layers.push(Layer::batch_norm());
    }
    for &units in &a.hidden {
        match placement {
            BnPlacement::Before => {
                layers.push(Layer::dense(units).use_bias(false).kernel_initializer(init));
                layers.push(Layer::batch_norm());
                layers.push(if prelu {
                    Layer::prelu()
                } else {
                    Layer::activation(act)
                });
            }
            _ => {
                if prelu {
                    layers.push(Layer::dense(units).kernel_initializer(init));
                    layers.push(Layer::prelu());
                } else {
                    layers.push(
                        Layer::dense(units)
                            .with_activation(act)
                            .kernel_initializer(init),
                    );
                }
                if placement == BnPlacement::After {
                    layers.push(Layer::batch_norm());
                }
            }
        }
    }
    layers.push(Layer::dense(a.classes_out).with_activation(ActKind::Softmax));
    Sequential::new(&[28, 28], layers, a.seed)
}

struct Progress {
    bar: Option<ProgressBar>,
    smoothed: Ewma,
    quiet: bool,
    grad_stats: bool,
    rows: usize,
    start: std::time::Instant,
}

impl Callback for Progress {
    fn on_epoch_begin(&mut self, epoch: usize, steps: usize) {
        self.rows = 0;
        self.start = std::time::Instant::now();
        if self.quiet {
            return;
        }
        let bar = ProgressBar::new(steps as u64);
        bar.set_style(
            ProgressStyle::with_template("epoch {prefix} [{bar:30}] {pos}/{len} {msg}")
                .unwrap()
                .progress_chars("=> "),
        );
        bar.set_prefix(format!("{}", epoch + 1));
        self.bar = Some(bar);
    }
    fn on_batch_end(&mut self, _step: usize, rows: usize, loss: Option<f32>) {
        self.rows += rows;
        if let Some(l) = loss {
            self.smoothed.update(l as f64);
        }
        if let Some(bar) = &self.bar {
            bar.inc(1);
            if loss.is_some() {
                let sps = self.rows as f64 / self.start.elapsed().as_secs_f64().max(1e-9);
                bar.set_message(format!(
                    "loss {:.4} (EWMA) {:.0} samples/s",
                    self.smoothed.value().unwrap_or(0.0),
                    sps
                ));
            }
        }
    }
    fn on_epoch_end(&mut self, l: &EpochLogs) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        eprintln!(
            "epoch {}: loss {:.4} accuracy {:.4} test_loss {:.4} test_accuracy {:.4} {:.0} samples/s",
            l.epoch + 1,
            l.loss,
            l.accuracy,
            l.val_loss.unwrap_or(f32::NAN),
            l.val_accuracy.unwrap_or(f32::NAN),
            l.samples_per_second
        );
        if self.grad_stats {
            for (name, norm) in &l.grad_norms {
                eprintln!("    mean |grad| {name:<36} {norm:.3e}");
            }
        }
    }
}

fn device_of(d: DeviceArg) -> Device {
    match d {
        DeviceArg::Auto => Device::Auto,
        DeviceArg::Gpu => Device::Gpu,
        DeviceArg::Cpu => Device::Cpu,
    }
}

/// Train and test sets per the data flags.
fn load_data(d: &DataArgs) -> Result<(Dataset, Option<Dataset>)> {
    let (mut train, mut test) = if d.data.is_dir() {
        let (tr, te) = load_mnist_dir(&d.data)?;
        (tr, Some(te))
    } else {
        let te = match &d.test_data {
            Some(p) => Some(load_safetensors_dataset(p)?),
            None => None,
        };
        (load_safetensors_dataset(&d.data)?, te)
    };
    if let Some(c) = &d.classes {
        train = train.filter_classes(c)?;
        test = test.map(|t| t.filter_classes(c)).transpose()?;
    }
    if let Some(n) = d.limit {
        train = train.limit(n);
    }
    if train.is_empty() {
        return Err(Error::InvalidData("the training set is empty".into()));
    }
    Ok((train, test))
}

fn default_loss(model: &Sequential, loss: &Option<String>) -> Result<LossName> {
    match loss {
        Some(l) => LossName::parse(l),
        None => {
            let last_sigmoid = model.layers.iter().rev().find_map(|l| match &l.kind {
                LayerKind::Dense(d) if d.activation != ActKind::Linear => Some(d.activation),
                LayerKind::Activation(a) => Some(*a),
                LayerKind::Dense(_) => Some(ActKind::Linear),
                _ => None,
            }) == Some(ActKind::Sigmoid);
            Ok(if last_sigmoid {
                LossName::BinaryCrossentropy
            } else {
                LossName::SparseCategoricalCrossentropy
            })
        }
    }
}

fn optimizer_of(t: &TrainOptions) -> Result<Sgd> {
    if t.optimizer != "sgd" {
        return Err(Error::Config(format!(
            "unknown optimizer {:?}: only sgd is available",
            t.optimizer
        )));
    }
    let clip = Clip::from_options(t.clipvalue, t.clipnorm, t.global_clipnorm)?;
    let schedule = match &t.lr_schedule {
        Some(s) => Schedule::parse(s, t.lr)?,
        None => Schedule::Constant(t.lr),
    };
    Ok(Sgd::new(t.lr)
        .momentum(t.momentum)
        .nesterov(!t.no_nesterov)
        .clip(clip)
        .schedule(schedule))
}

fn compile(model: &mut Sequential, t: &TrainOptions) -> Result<DeviceInfo> {
    let (info, notice, _warnings) = model.compile(Compile {
        optimizer: optimizer_of(t)?,
        loss: default_loss(model, &t.loss)?,
        device: device_of(t.device),
    })?;
    if let Some(n) = notice {
        eprintln!("note: {n}");
    }
    eprintln!("device: {} ({}, {})", info.kind, info.adapter, info.api);
    Ok(info)
}

/// Runs `epochs` epochs (or `--steps`) and returns the history.
fn run_fit(
    model: &mut Sequential,
    t: &TrainOptions,
    seed: u64,
    train: &Dataset,
    test: Option<&Dataset>,
    epochs: usize,
) -> Result<History> {
    let mut progress = Progress {
        bar: None,
        smoothed: Ewma::new(0.9),
        quiet: t.json,
        grad_stats: t.grad_stats,
        rows: 0,
        start: std::time::Instant::now(),
    };
    let steps_per_epoch = train.len().div_ceil(t.batch_size.max(1)).max(1);
    let (epochs, max_steps) = match t.steps {
        Some(n) => (
            (n as usize).div_ceil(steps_per_epoch).max(1),
            Some(model.steps_done() + n),
        ),
        None => (epochs, None),
    };
    let opts = FitOptions {
        epochs,
        batch_size: t.batch_size,
        shuffle: !t.no_shuffle,
        seed,
        // The progress bar reads the running loss ~20 times an epoch; without it (--json)
        // metrics are read once per epoch.
        metrics_every: (!t.json).then_some((steps_per_epoch / 20).max(1)),
        check_every: t.check_every,
        max_steps,
        ..Default::default()
    };
    model.fit(train, test, &opts, &mut [&mut progress])
}

fn report(
    t: &TrainOptions,
    info: &DeviceInfo,
    history: &History,
    eval: Option<(f32, f32)>,
) -> Result<()> {
    let last = history.epochs.last();
    if let Some(path) = &t.history {
        let mut out =
            String::from("epoch,loss,accuracy,test_loss,test_accuracy,samples_per_second\n");
        for e in &history.epochs {
            out += &format!(
                "{},{},{},{},{},{:.1}\n",
                e.epoch + 1,
                e.loss,
                e.accuracy,
                e.val_loss.map(|v| v.to_string()).unwrap_or_default(),
                e.val_accuracy.map(|v| v.to_string()).unwrap_or_default(),
                e.samples_per_second
            );
        }
        std::fs::write(path, out).map_err(|e| Error::Io {
            path: path.clone(),
            source: e,
        })?;
    }
    let c = history.counters;
    if t.stats {
        eprintln!(
            "per step: {:.1} dispatches, {:.2} submits, {:.0} bytes uploaded, {:.0} bytes read back; per epoch: {:.0} bytes read back (metrics and guard)",
            c.dispatches_per_step, c.submits_per_step, c.upload_bytes_per_step, c.readback_bytes_per_step, c.readback_bytes_per_epoch
        );
    }
    if t.json {
        let sps: f64 = if history.epochs.is_empty() {
            0.0
        } else {
            history
                .epochs
                .iter()
                .map(|e| e.samples_per_second)
                .sum::<f64>()
                / history.epochs.len() as f64
        };
        let v = serde_json::json!({
            "device": info.kind,
            "adapter": info.adapter,
            "api": info.api,
            "epochs": history.epochs.len(),
            "batch_size": t.batch_size,
            "train_loss": last.map(|l| l.loss),
            "train_accuracy": last.map(|l| l.accuracy),
            "test_loss": eval.map(|e| e.0),
            "test_accuracy": eval.map(|e| e.1),
            "samples_per_second": sps,
            "steps": c.steps,
            "dispatches_per_step": c.dispatches_per_step,
            "submits_per_step": c.submits_per_step,
            "upload_bytes_per_step": c.upload_bytes_per_step,
            "readback_bytes_per_step": c.readback_bytes_per_step,
            "readback_bytes_per_epoch": c.readback_bytes_per_epoch,
        });
        let mut so = std::io::stdout().lock();
        let _ = writeln!(so, "{v}");
    }
    Ok(())
}

fn train(a: TrainArgs) -> Result<()> {
    let (train_set, test_set) = load_data(&a.data)?;
    let (mut model, state) = match &a.model_dir {
        Some(dir) => {
            let l = load_model(dir)?;
            (l.model, l.optimizer)
        }
        None => (build_model(&a.model)?, None),
    };
    let info = compile(&mut model, &a.train)?;
    if let Some(s) = &state {
        model.set_optimizer_state(s)?;
    }
    let history = run_fit(
        &mut model,
        &a.train,
        a.model.seed,
        &train_set,
        test_set.as_ref(),
        a.train.epochs,
    )?;
    let eval = history
        .epochs
        .last()
        .and_then(|l| l.val_loss.zip(l.val_accuracy));
    if a.train.activation_stats {
        print_activation_stats(&mut model, test_set.as_ref().unwrap_or(&train_set))?;
    }
    if let Some(dir) = &a.save {
        save_model(&mut model, dir, true)?;
        eprintln!("saved to {}", dir.display());
    }
    report(&a.train, &info, &history, eval)
}

fn print_activation_stats(model: &mut Sequential, data: &Dataset) -> Result<()> {
    eprintln!("activations on {} samples:", data.len().min(512));
    for s in model.activation_stats(data, 512)? {
        eprintln!(
            "    {:<24} {:<10} mean {:>8.4} std {:>8.4}  dead {:>4}/{:<4} saturated {:>5.1}%",
            s.layer,
            s.activation,
            s.mean,
            s.std,
            s.dead_units,
            s.units,
            100.0 * s.saturated_fraction
        );
    }
    Ok(())
}

fn parse_head(spec: &str) -> Result<Layer> {
    let (units, act) = spec.split_once(':').unwrap_or((spec, ""));
    let units: usize = units
        .parse()
        .map_err(|_| Error::Config(format!("--new-head {spec:?}: expected UNITS[:activation]")))?;
    let act = if act.is_empty() {
        if units == 1 {
            ActKind::Sigmoid
        } else {
            ActKind::Softmax
        }
    } else {
        parse_activation(act)?
    };
    Ok(Layer::dense(units).with_activation(act))
}

fn transfer(a: TransferArgs) -> Result<()> {
    let (train_set, test_set) = load_data(&a.data)?;
    let mut model = load_model(&a.from)?.model.without_top(1)?;
    let reused = model.layers.len();
    let freeze = match a.freeze.as_str() {
        "all" => reused,
        n => n
            .parse::<usize>()
            .map_err(|_| Error::Config(format!("--freeze {n:?}: expected all or a layer count")))?
            .min(reused),
    };
    model.add(
        parse_head(&a.new_head)?,
        a.train.lr.to_bits() as u64 ^ 0x5eed,
    )?;
    for i in 0..freeze {
        model.set_trainable(i, false)?;
    }
    print!("{}", model.summary());
    let info = compile(&mut model, &a.train)?;
    let seed = a.seed;
    let first = if a.unfreeze_top > 0 {
        a.unfreeze_after.min(a.train.epochs)
    } else {
        a.train.epochs
    };
    let mut history = run_fit(
        &mut model,
        &a.train,
        seed,
        &train_set,
        test_set.as_ref(),
        first,
    )?;
    if a.unfreeze_top > 0 && a.train.epochs > first {
        let weighted: Vec<usize> = model
            .weighted_layers()
            .into_iter()
            .filter(|&i| i < reused)
            .collect();
        let mult = a.lr_unfrozen.map(|x| x / a.train.lr).unwrap_or(1.0);
        for &i in weighted.iter().rev().take(a.unfreeze_top) {
            model.set_trainable(i, true)?;
            model.set_lr_multiplier(i, mult)?;
            // A frozen BatchNormalization right above an unfrozen Dense stays frozen, as in Keras.
        }
        eprintln!(
            "unfroze the top {} reused layer(s), learning-rate multiplier {mult}",
            a.unfreeze_top
        );
        eprint!("{}", model.summary());
        let more = run_fit(
            &mut model,
            &a.train,
            seed + 1,
            &train_set,
            test_set.as_ref(),
            a.train.epochs - first,
        )?;
        history.epochs.extend(more.epochs);
        history.counters = more.counters;
    }
    let eval = history
        .epochs
        .last()
        .and_then(|l| l.val_loss.zip(l.val_accuracy));
    if let Some(dir) = &a.save {
        save_model(&mut model, dir, true)?;
        eprintln!("saved to {}", dir.display());
    }
    report(&a.train, &info, &history, eval)
}

fn evaluate(a: EvaluateArgs) -> Result<()> {
    let (train, test) = load_data(&a.data)?;
    let data = if a.train_split { Some(train) } else { test };
    let data =
        data.ok_or_else(|| Error::Config("no test set: give --test-data or --train-split".into()))?;
    let mut model = load_model(&a.model_dir)?.model;
    let loss = default_loss(&model, &a.loss)?;
    let (info, notice, _) = model.compile(Compile {
        optimizer: Sgd::default(),
        loss,
        device: device_of(a.device),
    })?;
    if let Some(n) = notice {
        eprintln!("note: {n}");
    }
    let (l, acc) = model.evaluate(&data, a.batch_size)?;
    if a.json {
        println!(
            "{}",
            serde_json::json!({"device": info.kind, "adapter": info.adapter, "loss": l, "accuracy": acc, "samples": data.len()})
        );
    } else {
        println!(
            "loss {l:.4} accuracy {acc:.4} ({} samples, {})",
            data.len(),
            info.adapter
        );
    }
    Ok(())
}

fn predict(a: PredictArgs) -> Result<()> {
    let (x, shape) = load_safetensors_x(&a.input)?;
    let mut model = load_model(&a.model_dir)?.model;
    if shape.iter().product::<usize>() != model.input_shape.iter().product::<usize>() {
        return Err(Error::Shape(format!(
            "{}: samples of shape {shape:?}, the model takes {:?}",
            a.input.display(),
            model.input_shape
        )));
    }
    let (_, notice, _) = model.compile(Compile {
        optimizer: Sgd::default(),
        loss: LossName::SparseCategoricalCrossentropy,
        device: device_of(a.device),
    })?;
    if let Some(n) = notice {
        eprintln!("note: {n}");
    }
    let probs = model.predict(&x, a.batch_size)?;
    let units = model.output_units();
    write_probabilities(&a.output, &probs, units)?;
    eprintln!(
        "wrote {} × {units} probabilities to {}",
        probs.len() / units.max(1),
        a.output.display()
    );
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let r = match cli.command {
        Command::Train(a) => train(a),
        Command::Summary(s) => {
            let m = match &s.model_dir {
                Some(d) => load_model(d).map(|l| l.model),
                None => build_model(&s.model),
            };
            m.map(|model| {
                print!("{}", model.summary());
                for w in model.init_warnings() {
                    eprintln!("{w}");
                }
            })
        }
        Command::Evaluate(a) => evaluate(a),
        Command::Predict(a) => predict(a),
        Command::Transfer(a) => transfer(a),
    };
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
