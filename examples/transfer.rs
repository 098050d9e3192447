//! The chapter's transfer-learning experiment.
//!
//! Model A learns digits 0–7 (8 classes) on the bundled MNIST subset. Task B is 8-vs-9
//! from only 200 training images. B-from-scratch trains a fresh network of A's shape with a
//! one-unit sigmoid head; B-from-A reuses A's layers under a new head, trains the head with
//! the reused layers frozen, then unfreezes the two reused hidden layers with a 10× lower
//! learning rate. Both get the same number of epochs; several seeds; mean test accuracies reported.
//!
//! `cargo run --release --example transfer [-- --device cpu|gpu]`.

#![allow(dead_code)]

use std::path::Path;

use steadygrad::backend::ActKind;
use steadygrad::data::idx::load_mnist_dir;
use steadygrad::data::Dataset;
use steadygrad::nn::{Initializer, Layer, Sequential};
use steadygrad::optim::Sgd;
use steadygrad::train::{Device, FitOptions, LossName, Session};
use steadygrad::Result;

/// Epochs with the reused layers frozen, then with the top one unfrozen.
pub const FROZEN_EPOCHS: usize = 4;
/// Total epochs for either model of task B.
pub const EPOCHS_B: usize = 20;
/// Reused layers unfrozen after the frozen epochs (both hidden layers of A).
pub const UNFREEZE_TOP: usize = 2;
/// Their learning rate relative to the head's.
pub const UNFROZEN_LR_MULTIPLIER: f32 = 0.1;

fn hidden_layers() -> Vec<Layer> {
    let elu = ActKind::Elu { alpha: 1.0 };
    vec![
        Layer::flatten(),
        Layer::dense(100)
            .activation(elu)
            .kernel_initializer(Initializer::HE_NORMAL)
            .into(),
        Layer::dense(50)
            .activation(elu)
            .kernel_initializer(Initializer::HE_NORMAL)
            .into(),
    ]
}

fn compile(m: Sequential, lr: f32, loss: LossName, device: Device) -> Result<Session> {
    let mut s = Session::new(m, device)?;
    s.compile(Box::new(Sgd::new(lr).momentum(0.9).nesterov(true)), loss)?;
    Ok(s)
}

/// The data of the experiment: A's train/test (digits 0–7) and B's (8 → 0, 9 → 1; 200
/// training images).
pub fn tasks(data: &Path) -> Result<[(Dataset, Dataset); 2]> {
    let (train, test) = load_mnist_dir(data)?;
    let a_classes: Vec<u32> = (0..8).collect();
    Ok([
        (
            train.filter_classes(&a_classes)?,
            test.filter_classes(&a_classes)?,
        ),
        (
            train.filter_classes(&[8, 9])?.limit(200),
            test.filter_classes(&[8, 9])?,
        ),
    ])
}

/// Trains model A.
pub fn train_a(
    a: &(Dataset, Dataset),
    seed: u64,
    epochs: usize,
    device: Device,
) -> Result<Sequential> {
    let mut layers = hidden_layers();
    layers.push(Layer::dense(8).activation(ActKind::Softmax).into());
    let m = Sequential::new(&[28, 28], layers, seed)?;
    let mut m = compile(m, 0.01, LossName::SparseCategoricalCrossentropy, device)?;
    m.fit(
        &a.0,
        None,
        &FitOptions {
            epochs,
            seed,
            ..Default::default()
        },
        &mut [],
    )?;
    m.into_model()
}

/// Test accuracy of B trained from scratch.
pub fn b_from_scratch(b: &(Dataset, Dataset), seed: u64, device: Device) -> Result<f32> {
    let mut layers = hidden_layers();
    layers.push(Layer::dense(1).activation(ActKind::Sigmoid).into());
    let m = Sequential::new(&[28, 28], layers, seed)?;
    let mut m = compile(m, 0.01, LossName::BinaryCrossentropy, device)?;
    m.fit(
        &b.0,
        None,
        &FitOptions {
            epochs: EPOCHS_B,
            seed,
            ..Default::default()
        },
        &mut [],
    )?;
    Ok(m.evaluate(&b.1, 256)?.1)
}

/// Test accuracy of B built on A's layers.
pub fn b_from_a(
    a_model: &Sequential,
    b: &(Dataset, Dataset),
    seed: u64,
    device: Device,
) -> Result<f32> {
    let mut m = a_model.without_top(1)?;
    m.add(Layer::dense(1).activation(ActKind::Sigmoid), seed)?;
    let reused = m.layers().len() - 1;
    for i in 0..reused {
        m.set_trainable(i, false)?;
    }
    let weighted = m.weighted_layers();
    let mut m = compile(m, 0.01, LossName::BinaryCrossentropy, device)?;
    let opts = |epochs| FitOptions {
        epochs,
        seed,
        ..Default::default()
    };
    m.fit(&b.0, None, &opts(FROZEN_EPOCHS), &mut [])?;
    for &layer in weighted
        .iter()
        .filter(|&&i| i < reused)
        .rev()
        .take(UNFREEZE_TOP)
    {
        m.set_trainable(layer, true)?;
        m.set_lr_multiplier(layer, UNFROZEN_LR_MULTIPLIER)?;
    }
    m.fit(&b.0, None, &opts(EPOCHS_B - FROZEN_EPOCHS), &mut [])?;
    Ok(m.evaluate(&b.1, 256)?.1)
}

/// Runs the experiment over `seeds`; returns (scratch, transfer) test accuracies per seed.
pub fn experiment(
    data: &Path,
    seeds: &[u64],
    a_epochs: usize,
    device: Device,
) -> Result<Vec<(f32, f32)>> {
    let [a, b] = tasks(data)?;
    let mut out = Vec::new();
    for &seed in seeds {
        let a_model = train_a(&a, seed, a_epochs, device)?;
        out.push((
            b_from_scratch(&b, seed, device)?,
            b_from_a(&a_model, &b, seed, device)?,
        ));
    }
    Ok(out)
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let device = match args
        .iter()
        .position(|a| a == "--device")
        .and_then(|i| args.get(i + 1))
        .map(String::as_str)
    {
        Some("gpu") => Device::Gpu,
        Some("cpu") => Device::Cpu,
        _ => Device::Auto,
    };
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
    let seeds = [1, 2, 3, 4, 5];
    let results = experiment(&data, &seeds, 3, device)?;
    println!("seed  B-from-scratch  B-from-A");
    for (s, (scratch, transfer)) in seeds.iter().zip(&results) {
        println!("{s:4}  {scratch:14.4}  {transfer:8.4}");
    }
    let n = results.len() as f32;
    let (ms, mt) = (
        results.iter().map(|r| r.0).sum::<f32>() / n,
        results.iter().map(|r| r.1).sum::<f32>() / n,
    );
    println!("mean  {ms:14.4}  {mt:8.4}");
    println!(
        "error rate: {:.2}% from scratch, {:.2}% with transfer ({:.1}× fewer errors)",
        100.0 * (1.0 - ms),
        100.0 * (1.0 - mt),
        (1.0 - ms) / (1.0 - mt).max(1e-6)
    );
    Ok(())
}
