//! The `steadygrad` command line: a thin layer over the library.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use steadygrad::backend::ActKind;
use steadygrad::data::idx::load_mnist_dir;
use steadygrad::nn::training::{Callback, EpochLogs};
use steadygrad::nn::{
    parse_activation, Compile, Device, FitOptions, Initializer, Layer, LossName, Sequential,
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
    /// Train a model on MNIST-format data and evaluate it on the test set.
    Train(TrainArgs),
    /// Print the summary of the model the flags describe.
    Summary(ModelArgs),
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
}

#[derive(clap::Args)]
struct TrainArgs {
    #[command(flatten)]
    model: ModelArgs,
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
    /// Loss.
    #[arg(long, default_value = "sparse_categorical_crossentropy")]
    loss: String,
    /// Where to run; auto falls back to the CPU reference when there is no GPU.
    #[arg(long, value_enum, default_value = "auto")]
    device: DeviceArg,
    /// Folder with MNIST-format IDX files.
    #[arg(long, default_value = "data")]
    data: PathBuf,
    /// Print per-step counters (dispatches, submits, bytes moved).
    #[arg(long)]
    stats: bool,
    /// Print each layer's mean gradient norm per epoch.
    #[arg(long)]
    grad_stats: bool,
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
    layers.push(Layer::dense(10).with_activation(ActKind::Softmax));
    Sequential::new(&[28, 28], layers, a.seed)
}

struct Progress {
    bar: Option<ProgressBar>,
    smoothed: steadygrad::nn::training::Ewma,
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

fn train(a: TrainArgs) -> Result<()> {
    if a.optimizer != "sgd" {
        return Err(Error::Config(format!(
            "unknown optimizer {:?}: only sgd is available",
            a.optimizer
        )));
    }
    let (train_set, test_set) = load_mnist_dir(&a.data)?;
    let mut model = build_model(&a.model)?;
    let clip = Clip::from_options(a.clipvalue, a.clipnorm, a.global_clipnorm)?;
    let schedule = match &a.lr_schedule {
        Some(s) => Schedule::parse(s, a.lr)?,
        None => Schedule::Constant(a.lr),
    };
    let nesterov = !a.no_nesterov;
    let optimizer = Sgd::new(a.lr)
        .momentum(a.momentum)
        .nesterov(nesterov)
        .clip(clip)
        .schedule(schedule);
    let device = match a.device {
        DeviceArg::Auto => Device::Auto,
        DeviceArg::Gpu => Device::Gpu,
        DeviceArg::Cpu => Device::Cpu,
    };
    let (info, notice, _warnings) = model.compile(Compile {
        optimizer,
        loss: LossName::parse(&a.loss)?,
        device,
    })?;
    if let Some(n) = notice {
        eprintln!("note: {n}");
    }
    eprintln!("device: {} ({}, {})", info.kind, info.adapter, info.api);
    let mut progress = Progress {
        bar: None,
        smoothed: steadygrad::nn::training::Ewma::new(0.9),
        quiet: a.json,
        grad_stats: a.grad_stats,
        rows: 0,
        start: std::time::Instant::now(),
    };
    let steps = train_set.len().div_ceil(a.batch_size.max(1));
    let opts = FitOptions {
        epochs: a.epochs,
        batch_size: a.batch_size,
        shuffle: true,
        seed: a.model.seed,
        metrics_every: Some((steps / 20).max(1)),
        check_every: a.check_every,
        ..Default::default()
    };
    let history = model.fit(&train_set, Some(&test_set), &opts, &mut [&mut progress])?;
    let last = history.epochs.last().cloned();
    if let Some(path) = &a.history {
        let mut out =
            String::from("epoch,loss,accuracy,test_loss,test_accuracy,samples_per_second\n");
        for e in &history.epochs {
            out += &format!(
                "{},{},{},{},{},{:.1}\n",
                e.epoch + 1,
                e.loss,
                e.accuracy,
                e.val_loss.unwrap_or(f32::NAN),
                e.val_accuracy.unwrap_or(f32::NAN),
                e.samples_per_second
            );
        }
        std::fs::write(path, out).map_err(|e| Error::Io {
            path: path.clone(),
            source: e,
        })?;
    }
    let c = history.counters;
    if a.stats {
        eprintln!(
            "per step: {:.1} dispatches, {:.2} submits, {:.0} bytes uploaded, {:.0} bytes read back; per epoch: {:.0} bytes read back (metrics and guard)",
            c.dispatches_per_step, c.submits_per_step, c.upload_bytes_per_step, c.readback_bytes_per_step, c.readback_bytes_per_epoch
        );
    }
    if a.json {
        let l = last.unwrap_or(EpochLogs {
            epoch: 0,
            loss: f32::NAN,
            accuracy: f32::NAN,
            val_loss: None,
            val_accuracy: None,
            samples_per_second: 0.0,
            grad_norms: vec![],
        });
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
            "batch_size": a.batch_size,
            "train_loss": l.loss,
            "train_accuracy": l.accuracy,
            "test_loss": l.val_loss,
            "test_accuracy": l.val_accuracy,
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    let r = match cli.command {
        Command::Train(a) => train(a),
        Command::Summary(m) => build_model(&m).map(|model| {
            print!("{}", model.summary());
            for w in model.init_warnings() {
                eprintln!("{w}");
            }
        }),
    };
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
