//! The chapter's depth experiment: a deep MLP (20 hidden layers of 100 units by default)
//! trained on the bundled digits with the same budget under each pairing of activation,
//! initialization and normalization the chapter compares, with health sampled throughout
//! and judged by [`crate::health::verdict()`]. `steadygrad experiment depth` runs it.

use crate::backend::ActKind;
use crate::data::Dataset;
use crate::error::Result;
use crate::health::{verdict, HealthSample, Verdict};
use crate::nn::{Initializer, Layer, Sequential};
use crate::optim::Sgd;
use crate::train::{Device, Divergence, FitOptions, LossName, Session};

/// One configuration of the comparison.
#[derive(Clone, Debug)]
pub struct DepthConfig {
    /// Short name (`sigmoid_normal`, `relu_he_bn`, …).
    pub name: &'static str,
    /// Hidden activation.
    pub activation: ActKind,
    /// Kernel initializer of the hidden layers.
    pub init: Initializer,
    /// Its name as written in the table.
    pub init_name: &'static str,
    /// BatchNormalization after each hidden Dense (before its activation, as the chapter
    /// shows it).
    pub batch_norm: bool,
    /// The optimizer: SGD with this momentum (0 = plain) and Nesterov.
    pub momentum: f32,
    /// Nesterov momentum.
    pub nesterov: bool,
}

/// The chapter's configurations: sigmoid with a plain N(0, 1) initialization, tanh with
/// Glorot, ReLU / LeakyReLU / ELU with He, SELU with LeCun normal, ReLU with He and batch
/// normalization — all plain SGD — then ELU with He under momentum and under Nesterov
/// (at the same effective step size, lr·(1 − β)).
pub fn configs() -> Vec<DepthConfig> {
    let normal = Initializer::RandomNormal {
        mean: 0.0,
        stddev: 1.0,
    };
    let c = |name, activation, init, init_name, batch_norm, momentum, nesterov| DepthConfig {
        name,
        activation,
        init,
        init_name,
        batch_norm,
        momentum,
        nesterov,
    };
    let he = Initializer::HE_NORMAL;
    let elu = ActKind::Elu { alpha: 1.0 };
    vec![
        c(
            "sigmoid_normal",
            ActKind::Sigmoid,
            normal,
            "normal(0,1)",
            false,
            0.0,
            false,
        ),
        c(
            "tanh_glorot",
            ActKind::Tanh,
            Initializer::GLOROT_UNIFORM,
            "glorot_uniform",
            false,
            0.0,
            false,
        ),
        c("relu_he", ActKind::Relu, he, "he_normal", false, 0.0, false),
        c(
            "leaky_relu_he",
            ActKind::LeakyRelu { alpha: 0.2 },
            he,
            "he_normal",
            false,
            0.0,
            false,
        ),
        c("elu_he", elu, he, "he_normal", false, 0.0, false),
        c(
            "selu_lecun",
            ActKind::Selu,
            Initializer::LECUN_NORMAL,
            "lecun_normal",
            false,
            0.0,
            false,
        ),
        c(
            "relu_he_bn",
            ActKind::Relu,
            he,
            "he_normal",
            true,
            0.0,
            false,
        ),
        c("elu_he_momentum", elu, he, "he_normal", false, 0.9, false),
        c("elu_he_nesterov", elu, he, "he_normal", false, 0.9, true),
    ]
}

/// How to run it.
#[derive(Clone, Debug)]
pub struct DepthOptions {
    /// Hidden layers.
    pub layers: usize,
    /// Units per hidden layer.
    pub units: usize,
    /// Epochs per configuration.
    pub epochs: usize,
    /// Batch size.
    pub batch_size: usize,
    /// Learning rate (all configurations).
    pub lr: f32,
    /// Health sampled every N steps.
    pub health_every: usize,
    /// Where to run.
    pub device: Device,
    /// Seed of the initializers and shuffles.
    pub seed: u64,
}

impl Default for DepthOptions {
    fn default() -> Self {
        DepthOptions {
            layers: 20,
            units: 100,
            epochs: 2,
            batch_size: 32,
            lr: 0.01,
            health_every: 10,
            device: Device::Auto,
            seed: 42,
        }
    }
}

/// What one configuration gave.
#[derive(Clone, Debug)]
pub struct DepthResult {
    /// The configuration.
    pub config: DepthConfig,
    /// Test accuracy after training.
    pub test_accuracy: f32,
    /// Median over samples of the lowest hidden layer's gradient norm / the output layer's.
    pub grad_norm_ratio: f32,
    /// Largest median dead-unit fraction of any layer.
    pub dead_fraction: f32,
    /// The verdicts.
    pub verdicts: Vec<Verdict>,
    /// Every health sample.
    pub samples: Vec<HealthSample>,
    /// Where it ran.
    pub device: crate::backend::DeviceInfo,
}

/// The network of one configuration.
pub fn network(
    c: &DepthConfig,
    o: &DepthOptions,
    input: &[usize],
    classes: usize,
) -> Result<Sequential> {
    let mut layers = vec![Layer::flatten()];
    for _ in 0..o.layers {
        let dense = Layer::dense(o.units).kernel_initializer(c.init);
        if c.batch_norm {
            layers.push(dense.use_bias(false).into());
            // Momentum 0.9 rather than Keras's 0.99: one epoch of 0.99 leaves the moving
            // statistics too far from the data for a fair test accuracy.
            layers.push(
                crate::nn::BatchNormalization {
                    momentum: 0.9,
                    ..Default::default()
                }
                .into(),
            );
            layers.push(Layer::activation(c.activation));
        } else {
            layers.push(dense.activation(c.activation).into());
        }
    }
    layers.push(Layer::dense(classes).activation(ActKind::Softmax).into());
    Sequential::new(input, layers, o.seed)
}

struct Collect(Vec<HealthSample>);

impl crate::train::Callback for Collect {
    fn on_health(&mut self, s: &HealthSample) {
        self.0.push(s.clone());
    }
}

fn median(mut v: Vec<f32>) -> f32 {
    v.retain(|x| !x.is_nan());
    v.sort_by(f32::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f32::NAN)
}

/// Runs one configuration.
pub fn run_one(
    c: &DepthConfig,
    o: &DepthOptions,
    train: &Dataset,
    test: &Dataset,
) -> Result<DepthResult> {
    let classes = train.classes().max(test.classes());
    let model = network(c, o, &train.sample_shape, classes)?;
    let mut s = Session::new(model, o.device)?;
    // Momentum β multiplies the step by 1/(1 − β): those configurations run at lr·(1 − β),
    // the same effective step as plain SGD at lr.
    let sgd = Sgd::new(o.lr * (1.0 - c.momentum))
        .momentum(c.momentum)
        .nesterov(c.nesterov);
    s.compile(Box::new(sgd), LossName::SparseCategoricalCrossentropy)?;
    let opts = FitOptions {
        epochs: o.epochs,
        batch_size: o.batch_size,
        seed: o.seed,
        health_every: Some(o.health_every),
        // The comparison reports divergence rather than stopping at it.
        divergence: Divergence {
            warn_only: true,
            ..Default::default()
        },
        ..Default::default()
    };
    // Samples are collected as they come, so a run stopped by non-finite gradients still
    // reports what led there.
    let mut collect = Collect(Vec::new());
    let stopped = match s.fit(train, None, &opts, &mut [&mut collect]) {
        Ok(_) => None,
        Err(e @ crate::Error::NonFinite { .. }) => Some(e.to_string()),
        Err(e) => return Err(e),
    };
    let test_accuracy = if stopped.is_some() {
        f32::NAN
    } else {
        s.evaluate(test, 256)?.1
    };
    let samples = collect.0;
    let device = s.device_info();
    let grad_norm_ratio = median(
        samples
            .iter()
            .map(|s| {
                let w: Vec<f32> = s.weighted().filter_map(|l| l.grad_norm).collect();
                match (w.first(), w.last()) {
                    (Some(lo), Some(hi)) => lo / hi.max(f32::MIN_POSITIVE),
                    _ => f32::NAN,
                }
            })
            .collect(),
    );
    let dead_fraction = samples
        .first()
        .map(|first| {
            first
                .layers
                .iter()
                .map(|l| {
                    median(
                        samples
                            .iter()
                            .filter_map(|s| s.layers.iter().find(|x| x.layer == l.layer))
                            .filter_map(|x| x.dead_fraction)
                            .collect(),
                    )
                })
                .filter(|v| !v.is_nan())
                .fold(0.0f32, f32::max)
        })
        .unwrap_or(0.0);
    Ok(DepthResult {
        config: c.clone(),
        test_accuracy,
        grad_norm_ratio,
        dead_fraction,
        verdicts: match stopped {
            Some(why) => {
                let mut v: Vec<Verdict> = verdict(&samples)
                    .into_iter()
                    .filter(|v| v.kind != crate::health::VerdictKind::Healthy)
                    .collect();
                if !v
                    .iter()
                    .any(|x| x.kind == crate::health::VerdictKind::Exploding)
                {
                    v.push(Verdict {
                        kind: crate::health::VerdictKind::Exploding,
                        layers: vec![],
                        text: format!("exploding gradients: {why}"),
                    });
                }
                v
            }
            None => verdict(&samples),
        },
        samples,
        device,
    })
}
