//! The command line's flags (clap), one struct per subcommand.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(
    name = "steadygrad",
    version,
    about = "Train neural networks on the GPU with WebGPU compute shaders"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
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
    /// The standard benchmarks: matmul GFLOP/s, training and inference samples/s, GPU vs CPU.
    Bench(BenchArgs),
    /// The chapter's experiments (`experiment depth`, `experiment regularization`).
    #[command(subcommand)]
    Experiment(ExperimentCommand),
    /// PNG charts of a health history written by `train --health FILE.csv`.
    Plot(PlotArgs),
    /// Time every matmul kernel variant on this adapter for the seed network's and the
    /// example CNN's shapes and cache the fastest (CPU adapters otherwise take built-in
    /// choices).
    Tune(TuneArgs),
    /// Run every matmul kernel variant on this adapter against the CPU reference on
    /// awkward shapes, with the dense layer's launch of each too: one line per variant (the
    /// first thing to run on a new GPU).
    Verify(VerifyArgs),
}

#[derive(clap::Args)]
pub struct VerifyArgs {
    /// End stdout with one JSON object (adapter, and per variant: passed, runs, worst error
    /// in units of the tolerance, first failure).
    #[arg(long)]
    pub json: bool,
    /// Two shapes instead of nine (each with all four transposes).
    #[arg(long)]
    pub quick: bool,
}

#[derive(clap::Args)]
pub struct TuneArgs {
    /// End stdout with one JSON object (adapter, seconds, cache file, choices).
    #[arg(long)]
    pub json: bool,
    /// Also a model of one's own (Keras JSON, as `train --model-config` takes): its shape
    /// classes at batch 32 and 256 besides the standard ones.
    #[arg(long, value_name = "FILE.json")]
    pub model_config: Option<std::path::PathBuf>,
}

#[derive(Subcommand)]
pub enum ExperimentCommand {
    /// A deep MLP under each activation/initialization/normalization pairing the chapter
    /// compares: test accuracy, gradient flow, dead units and a verdict per configuration.
    Depth(DepthArgs),
    /// A deep MLP that overfits 1,000 digits, trained with no regularization, L2, dropout
    /// and max-norm, then predicted with MC dropout: train vs test accuracy and loss.
    Regularization(RegularizationArgs),
}

#[derive(clap::Args)]
pub struct DepthArgs {
    /// Hidden layers.
    #[arg(long, default_value_t = 20)]
    pub layers: usize,
    /// Units per hidden layer.
    #[arg(long, default_value_t = 100)]
    pub units: usize,
    /// Epochs per configuration.
    #[arg(long, default_value_t = 2)]
    pub epochs: usize,
    /// SGD's learning rate; the momentum and Nesterov configurations run at lr × (1 − 0.9)
    /// (0.001 by default), the same effective step.
    #[arg(long, default_value_t = 0.01, allow_negative_numbers = true)]
    pub lr: f32,
    /// Sample every layer's health every N steps.
    #[arg(long, default_value_t = 10)]
    pub health_every: usize,
    /// Use only the first N training samples.
    #[arg(long)]
    pub limit: Option<usize>,
    /// Only these configurations (comma-separated names).
    #[arg(long, value_delimiter = ',')]
    pub only: Option<Vec<String>>,
    /// Where to run.
    #[arg(long, value_enum, default_value = "auto")]
    pub device: DeviceArg,
    /// The data (a folder of IDX files, the bundled digits by default).
    #[arg(long, default_value = "data")]
    pub data: PathBuf,
    /// Write each configuration's charts into DIR/NAME/ and the comparison chart into DIR.
    #[arg(long)]
    pub plot: Option<PathBuf>,
    /// End stdout with one JSON object.
    #[arg(long)]
    pub json: bool,
    /// Under the table, the command and the machine it ran on (for docs).
    #[arg(long)]
    pub markdown: bool,
    /// Seed of the initializers and shuffles.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}

#[derive(clap::Args)]
pub struct RegularizationArgs {
    /// Hidden layers (ELU, He initialization).
    #[arg(long, default_value_t = 4)]
    pub layers: usize,
    /// Units per hidden layer.
    #[arg(long, default_value_t = 256)]
    pub units: usize,
    /// Epochs per configuration.
    #[arg(long, default_value_t = 30)]
    pub epochs: usize,
    /// Mini-batch size.
    #[arg(long, default_value_t = 32)]
    pub batch_size: usize,
    /// Adam's learning rate.
    #[arg(long, default_value_t = 0.001, allow_negative_numbers = true)]
    pub lr: f32,
    /// Training digits (the first N of the training set).
    #[arg(long, default_value_t = 1000)]
    pub limit: usize,
    /// Stochastic passes of the MC dropout configuration.
    #[arg(long, default_value_t = 100)]
    pub mc_samples: usize,
    /// Where to run.
    #[arg(long, value_enum, default_value = "auto")]
    pub device: DeviceArg,
    /// The data (a folder of IDX files, the bundled digits by default).
    #[arg(long, default_value = "data")]
    pub data: PathBuf,
    /// Write the loss curves of every configuration into DIR/regularization.png.
    #[arg(long)]
    pub plot: Option<PathBuf>,
    /// End stdout with one JSON object.
    #[arg(long)]
    pub json: bool,
    /// Under the table, the command and the machine it ran on (for docs).
    #[arg(long)]
    pub markdown: bool,
    /// Seed of the initializers, shuffles and dropout masks.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}

#[derive(clap::Args)]
pub struct PlotArgs {
    /// A history CSV: per-step health from `train --health` (gradient norm, activation std,
    /// dead units, loss charts) or per-epoch metrics from `train --history` (loss and
    /// accuracy charts).
    #[arg(long)]
    pub history: PathBuf,
    /// Where to write the charts.
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(clap::Args)]
pub struct BenchArgs {
    /// End stdout with one JSON object.
    #[arg(long)]
    pub json: bool,
    /// Under the table, the command and the machine it ran on (for docs).
    #[arg(long)]
    pub markdown: bool,
    /// Smaller sizes and fewer steps.
    #[arg(long)]
    pub quick: bool,
    /// Instead of the standard set: the seed network's training samples/s at batch 32, 64,
    /// …, 1,024 on the GPU path and the CPU reference.
    #[arg(long)]
    pub sweep: bool,
    /// Instead of the standard set: each launch of one GPU training step timed on its own,
    /// with its share of the step (for `--model` at `--batch-size`).
    #[arg(long, conflicts_with = "sweep")]
    pub profile: bool,
    /// The model `--profile` profiles: seed_mlp, cnn, or a Keras model JSON file (FILE.json).
    #[arg(long, default_value = "seed_mlp", requires = "profile")]
    pub model: String,
    /// The batch size `--profile` profiles.
    #[arg(long, default_value_t = 32, requires = "profile")]
    pub batch_size: usize,
    /// The data set trained on (the bundled digits by default).
    #[arg(long, default_value = "data")]
    pub data: PathBuf,
    /// Under `mpirun`: time the all-reduce between the ranks instead (the seed network's
    /// gradients and larger buffers up to 100 M values). Needs a build with `--features mpi`.
    #[arg(long)]
    pub distributed: bool,
}

#[derive(clap::Args)]
pub struct SummaryArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// A saved model folder (model.json + weights.safetensors).
    #[arg(long = "model")]
    pub model_dir: Option<PathBuf>,
}

#[derive(clap::Args, Clone)]
pub struct DataArgs {
    /// A folder of MNIST-format IDX files, or a safetensors file with tensors x and y.
    #[arg(long, default_value = "data")]
    pub data: PathBuf,
    /// Test set as a safetensors file (with --data FILE.safetensors).
    #[arg(long)]
    pub test_data: Option<PathBuf>,
    /// Keep only these classes, relabelled 0, 1, … in the order given.
    #[arg(long, value_delimiter = ',')]
    pub classes: Option<Vec<u32>>,
    /// Use only the first N training samples.
    #[arg(long)]
    pub limit: Option<usize>,
}

#[derive(clap::Args)]
pub struct EvaluateArgs {
    /// The model folder.
    #[arg(long = "model")]
    pub model_dir: PathBuf,
    #[command(flatten)]
    pub data: DataArgs,
    /// Evaluate on the training split instead of the test split (MNIST folders).
    #[arg(long)]
    pub train_split: bool,
    /// Samples per batch.
    #[arg(long, default_value_t = 256)]
    pub batch_size: usize,
    /// Loss (default: from the output activation).
    #[arg(long)]
    pub loss: Option<String>,
    /// Where to run.
    #[arg(long, value_enum, default_value = "auto")]
    pub device: DeviceArg,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args)]
pub struct PredictArgs {
    /// The model folder.
    #[arg(long = "model")]
    pub model_dir: PathBuf,
    /// A safetensors file with tensor x (N, …) (uint8 scaled by 1/255, or float).
    #[arg(long)]
    pub input: PathBuf,
    /// Where to write the probabilities (tensor "probabilities", shape (N, units)).
    #[arg(long)]
    pub output: PathBuf,
    /// Samples per batch.
    #[arg(long, default_value_t = 256)]
    pub batch_size: usize,
    /// Where to run.
    #[arg(long, value_enum, default_value = "auto")]
    pub device: DeviceArg,
    /// MC dropout: average N stochastic predictions with dropout active (batch norm in
    /// inference mode).
    #[arg(long, value_name = "N")]
    pub mc_samples: Option<usize>,
    /// With --mc-samples: write the per-class standard deviation over the samples here.
    #[arg(long, value_name = "FILE", requires = "mc_samples")]
    pub mc_std: Option<PathBuf>,
}

#[derive(clap::Args)]
pub struct TransferArgs {
    /// The pretrained model folder.
    #[arg(long)]
    pub from: PathBuf,
    /// Freeze all reused layers, or the first N.
    #[arg(long, default_value = "all")]
    pub freeze: String,
    /// The new output layer: UNITS[:activation] (default activation softmax, sigmoid for 1 unit).
    #[arg(long)]
    pub new_head: String,
    /// Layers with weights to unfreeze at the top of the reused stack.
    #[arg(long, default_value_t = 0)]
    pub unfreeze_top: usize,
    /// Epochs with the reused layers frozen before unfreezing.
    #[arg(long, default_value_t = 0, requires = "unfreeze_top")]
    pub unfreeze_after: usize,
    /// Learning rate of the unfrozen layers (a per-layer multiplier of --lr).
    #[arg(long, requires = "unfreeze_top", allow_negative_numbers = true)]
    pub lr_unfrozen: Option<f32>,
    #[command(flatten)]
    pub train: TrainOptions,
    #[command(flatten)]
    pub data: DataArgs,
    /// Save the new model here.
    #[arg(long)]
    pub save: Option<PathBuf>,
    /// Seed of the new head's initializer and of the shuffles.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DeviceArg {
    Auto,
    Gpu,
    Cpu,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OnDivergence {
    Stop,
    Warn,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BnPlacement {
    None,
    After,
    Before,
}

#[derive(clap::Args, Clone)]
pub struct ModelArgs {
    /// Hidden layer sizes.
    #[arg(long, value_delimiter = ',', default_value = "300,100", conflicts_with_all = ["model_dir", "model_config"])]
    pub hidden: Vec<usize>,
    /// Hidden activation: relu, leaky_relu[:alpha], rrelu[:lower:upper], prelu, elu[:alpha], selu, tanh, sigmoid.
    #[arg(long, default_value = "elu", conflicts_with_all = ["model_dir", "model_config"])]
    pub activation: String,
    /// Kernel initializer of the hidden layers.
    #[arg(long, default_value = "he_normal", conflicts_with_all = ["model_dir", "model_config"])]
    pub init: String,
    /// Batch normalization placement (the seed network puts it after each activation).
    #[arg(long, value_enum, default_value = "after", conflicts_with_all = ["model_dir", "model_config", "no_batch_norm"])]
    pub batch_norm: BnPlacement,
    /// Same as --batch-norm none: the plain MLP.
    #[arg(long, conflicts_with_all = ["model_dir", "model_config"])]
    pub no_batch_norm: bool,
    /// A Sequential model as JSON (Keras's model.to_json() format), instead of the flags above.
    #[arg(long, conflicts_with = "model_dir")]
    pub model_config: Option<PathBuf>,
    /// Seed of the initializers and of the shuffles.
    #[arg(long, default_value_t = 42, allow_negative_numbers = true)]
    pub seed: u64,
    /// Number of classes of the output layer.
    #[arg(long, default_value_t = 10, conflicts_with_all = ["model_dir", "model_config"])]
    pub classes_out: usize,
    /// Dropout after each hidden layer at this rate (AlphaDropout with selu).
    #[arg(long, allow_negative_numbers = true, conflicts_with_all = ["model_dir", "model_config"])]
    pub dropout: Option<f32>,
    /// L1 penalty factor on every Dense kernel (Keras's L1 kernel_regularizer).
    #[arg(long, allow_negative_numbers = true, conflicts_with_all = ["model_dir", "model_config"])]
    pub l1: Option<f32>,
    /// L2 penalty factor on every Dense kernel (Keras's L2 kernel_regularizer).
    #[arg(long, allow_negative_numbers = true, conflicts_with_all = ["model_dir", "model_config"])]
    pub l2: Option<f32>,
    /// MaxNorm constraint on every hidden Dense kernel (each unit's incoming weights).
    #[arg(long, allow_negative_numbers = true, conflicts_with_all = ["model_dir", "model_config"])]
    pub max_norm: Option<f32>,
}

#[derive(clap::Args)]
pub struct TrainArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// Continue from a saved (or Keras-exported) model folder instead of building one.
    #[arg(long = "model")]
    pub model_dir: Option<PathBuf>,
    #[command(flatten)]
    pub train: TrainOptions,
    #[command(flatten)]
    pub data: DataArgs,
    /// Save the trained model (and optimizer state) to this folder.
    #[arg(long)]
    pub save: Option<PathBuf>,
    /// Data-parallel training over MPI, run under `mpirun -np N`: each rank trains on
    /// its shard of every global batch (--batch-size split evenly) and the gradients are
    /// summed across ranks; batch norm uses the whole batch's statistics; rank 0 alone
    /// prints and writes. Needs a build with `--features mpi`.
    #[arg(long)]
    pub distributed: bool,
}

#[derive(clap::Args)]
pub struct TrainOptions {
    /// Passes over the training data.
    #[arg(long, default_value_t = 5)]
    pub epochs: usize,
    /// Samples per step.
    #[arg(long, default_value_t = 32)]
    pub batch_size: usize,
    /// Optimizer: sgd, adagrad, rmsprop, adam or nadam (Keras's formulas and defaults).
    #[arg(long, default_value = "sgd")]
    pub optimizer: String,
    /// Learning rate (default: 0.01 for sgd, Keras's 0.001 for the others).
    #[arg(long, allow_negative_numbers = true)]
    pub lr: Option<f32>,
    /// Momentum of sgd (default 0.9, the seed network's) or rmsprop (default 0).
    #[arg(long, allow_negative_numbers = true)]
    pub momentum: Option<f32>,
    /// Nesterov momentum for sgd (the default with sgd).
    #[arg(long, overrides_with = "no_nesterov")]
    pub nesterov: bool,
    /// Classical momentum instead of Nesterov (sgd).
    #[arg(long)]
    pub no_nesterov: bool,
    /// beta_1 of adam and nadam (default 0.9).
    #[arg(long = "beta-1", allow_negative_numbers = true)]
    pub beta_1: Option<f32>,
    /// beta_2 of adam and nadam (default 0.999).
    #[arg(long = "beta-2", allow_negative_numbers = true)]
    pub beta_2: Option<f32>,
    /// Epsilon of adagrad, rmsprop, adam and nadam (default 1e-7).
    #[arg(long, allow_negative_numbers = true)]
    pub epsilon: Option<f32>,
    /// rho of rmsprop (default 0.9).
    #[arg(long, allow_negative_numbers = true)]
    pub rho: Option<f32>,
    /// Centered rmsprop.
    #[arg(long)]
    pub centered: bool,
    /// AMSGrad variant of adam.
    #[arg(long)]
    pub amsgrad: bool,
    /// Initial accumulator value of adagrad (default 0.1).
    #[arg(long, allow_negative_numbers = true)]
    pub initial_accumulator: Option<f32>,
    /// Clip every gradient element to [-X, X].
    #[arg(long, allow_negative_numbers = true)]
    pub clipvalue: Option<f32>,
    /// Clip each gradient tensor to L2 norm X.
    #[arg(long, allow_negative_numbers = true)]
    pub clipnorm: Option<f32>,
    /// Clip all gradients jointly to global norm X.
    #[arg(long, allow_negative_numbers = true)]
    pub global_clipnorm: Option<f32>,
    /// Learning-rate schedule: constant[:LR], exponential:LR:STEPS:RATE[:staircase],
    /// piecewise:B1,B2:V0,V1,V2, inverse_time:LR:STEPS:RATE[:staircase],
    /// cosine:LR:STEPS[:ALPHA[:WARMUP_STEPS:WARMUP_TARGET]] or onecycle:MAX_LR.
    #[arg(long)]
    pub lr_schedule: Option<String>,
    /// Decoupled weight decay of any optimizer (Keras's weight_decay; adamw's default 0.004).
    #[arg(long, allow_negative_numbers = true)]
    pub weight_decay: Option<f32>,
    /// Keras's ReduceLROnPlateau on val_loss: multiply the learning rate by FACTOR after
    /// PATIENCE epochs without improvement.
    #[arg(long, value_name = "FACTOR:PATIENCE")]
    pub reduce_lr_on_plateau: Option<String>,
    /// Keras's EarlyStopping on val_loss: stop after PATIENCE epochs without improvement
    /// and restore the best epoch's weights.
    #[arg(long, value_name = "PATIENCE", allow_negative_numbers = true)]
    pub early_stopping: Option<i64>,
    /// Keras's ModelCheckpoint with save_best_only: save the model to DIR whenever
    /// val_loss improves (each save atomic).
    #[arg(long, value_name = "DIR")]
    pub checkpoint: Option<PathBuf>,
    /// Hold out the last fraction F of the training data (before shuffling) for
    /// validation; the test set is then evaluated after training only.
    #[arg(long, value_name = "F", allow_negative_numbers = true)]
    pub validation_split: Option<f64>,
    /// Loss (default: binary_crossentropy for a sigmoid output, else sparse_categorical_crossentropy).
    #[arg(long)]
    pub loss: Option<String>,
    /// Where to run; auto falls back to the CPU reference when there is no GPU.
    #[arg(long, value_enum, default_value = "auto")]
    pub device: DeviceArg,
    /// Run exactly N training steps (instead of whole epochs).
    #[arg(long)]
    pub steps: Option<u64>,
    /// Keep the data order fixed (no shuffling).
    #[arg(long)]
    pub no_shuffle: bool,
    /// Print per-step counters (dispatches, submits, bytes moved).
    #[arg(long)]
    pub stats: bool,
    /// Print each layer's mean gradient norm per epoch (gathered on every step).
    #[arg(long)]
    pub grad_stats: bool,
    /// After training, print dead ReLU units and saturation of each hidden activation.
    #[arg(long)]
    pub activation_stats: bool,
    /// End with one JSON object on the last line of stdout.
    #[arg(long)]
    pub json: bool,
    /// Write per-epoch metrics to this CSV file.
    #[arg(long)]
    pub history: Option<PathBuf>,
    /// Sample every layer's health every N steps (activations, gradient norms, update
    /// ratios) and judge it after each epoch.
    #[arg(long)]
    pub health_every: Option<usize>,
    /// Write the health samples to this CSV file (implies --health-every 10 if not given).
    #[arg(long)]
    pub health: Option<PathBuf>,
    /// Write the health charts (PNG) into this folder (implies --health-every 10 if not given).
    #[arg(long)]
    pub plot: Option<PathBuf>,
    /// When the loss grows ×10⁴ past its start or the gradient norm explodes: stop (an
    /// error naming the layer) or warn and go on.
    #[arg(long, value_enum, default_value = "stop")]
    pub on_divergence: OnDivergence,
    /// Check for non-finite gradients and divergence every N steps (default: once per epoch).
    #[arg(long)]
    pub check_every: Option<usize>,
}
