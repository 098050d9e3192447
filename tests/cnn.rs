//! Convolutional networks against Keras (golden cases of `tests/data/cnn/`, computed by
//! `gen_cnn_cases.py`): six CNNs mixing same/valid/strided/dilated convolutions, max,
//! average and global pooling, Reshape, batch norm over channels and no-bias convolutions,
//! read from Keras's own `to_json`, with Keras's initial weights: the summary verbatim,
//! predictions, and the weights, losses and predictions after 3 training steps, on the CPU
//! reference and the GPU. Then a CNN trained on the bundled digits.

mod common;

use std::path::Path;

use common::*;
use serde_json::Value;
use steadygrad::backend::{Backend, CpuBackend};
use steadygrad::data::idx::load_mnist_dir;
use steadygrad::data::Dataset;
use steadygrad::io::model_from_json_file;
use steadygrad::nn::Sequential;
use steadygrad::train::{FitOptions, LossName, Session};

const CASES: [&str; 7] = [
    "cnn_a", "cnn_b", "cnn_c", "cnn_d", "cnn_e", "cnn_f", "cnn_g",
];

fn cases() -> serde_json::Map<String, Value> {
    let path = format!("{}/tests/data/cnn/cases.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str::<Value>(&std::fs::read_to_string(path).unwrap())
        .unwrap()
        .as_object()
        .unwrap()
        .clone()
}

/// The case's model from Keras's JSON, with Keras's initial weights.
fn keras_model(name: &str) -> Sequential {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/cnn");
    let mut m = model_from_json_file(&dir.join(format!("{name}.json")), 1).unwrap();
    let init = load_safetensors(&format!("cnn/{name}_init.safetensors"));
    for w in m.weights().to_vec() {
        m.set_weight(&w.name, &init[&w.name]).unwrap();
    }
    m
}

fn digits() -> (Dataset, Dataset) {
    load_mnist_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("data")).unwrap()
}

fn backends() -> Vec<Box<dyn Backend>> {
    let mut v: Vec<Box<dyn Backend>> = vec![Box::new(CpuBackend::new())];
    if let Some(g) = gpu() {
        v.push(Box::new(g));
    }
    v
}

#[test]
fn summaries_are_keras_verbatim() {
    let cases = cases();
    for name in CASES {
        let want = cases[name]["summary"].as_str().unwrap();
        assert_eq!(
            keras_model(name).summary().trim_end(),
            want.trim_end(),
            "{name}"
        );
    }
}

/// keras.io's "Simple MNIST convnet" as Keras wrote it (`examples/convnet.json`, which the
/// README and docs/benchmarks.md time): it loads, with the parameter count Keras prints for
/// it.
#[test]
fn the_keras_mnist_convnet_example_loads_with_keras_counts() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/convnet.json");
    let model = steadygrad::io::model_from_json_file(&path, 42).unwrap();
    assert_eq!(model.param_counts(), (34_826, 34_826, 0));
    assert!(model.summary().contains("(None, 5, 5, 64)"));
}

#[test]
fn predictions_and_three_steps_match_keras() {
    let cases = cases();
    let (train, test) = digits();
    let train = train.subset(&(0..96).collect::<Vec<_>>());
    let xt: Vec<f32> = (0..16).flat_map(|i| test.sample(i)).collect();
    for name in CASES {
        let case = &cases[name];
        let after = load_safetensors(&format!("cnn/{name}_after.safetensors"));
        for be in backends() {
            let dev = be.info().kind;
            let what = format!("{name} on {dev}");
            let mut s = Session::with_backend(keras_model(name), be).unwrap();
            let p = s.predict(&xt, 16).unwrap();
            assert_close(
                &format!("{what}: predictions"),
                &p,
                &after["predictions_before"],
                1e-5,
                1e-4,
            );
            s.compile(
                keras_optimizer(case),
                LossName::SparseCategoricalCrossentropy,
            )
            .unwrap();
            let opts = FitOptions {
                metrics_every: Some(1),
                ..three_steps()
            };
            let h = s.fit(&train, None, &opts, &mut []).unwrap();
            assert_eq!(s.steps_done(), 3);
            let losses: Vec<f32> = case["losses"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap() as f32)
                .collect();
            let mean = losses.iter().sum::<f32>() / 3.0;
            assert_close(
                &format!("{what}: mean loss"),
                &[h.epochs[0].loss],
                &[mean],
                1e-5,
                1e-4,
            );
            let m = s.model().unwrap().clone();
            for w in m.weights() {
                assert_close(
                    &format!("{what}: {}", w.name),
                    &w.data,
                    &after[&w.name],
                    1e-5,
                    1e-4,
                );
            }
            let p = s.predict(&xt, 7).unwrap();
            assert_close(
                &format!("{what}: predictions after"),
                &p,
                &after["predictions_after"],
                1e-5,
                1e-4,
            );
        }
    }
}

#[test]
fn the_example_cnn_learns_the_digits() {
    // The README's CNN (examples/cnn.json, as Keras wrote it), the CLI's default
    // optimizer, two epochs on the bundled digits.
    let Some(g) = gpu() else { return };
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/cnn.json");
    let m = model_from_json_file(&path, 42).unwrap();
    let mut s = Session::with_backend(m, Box::new(g)).unwrap();
    let opt = steadygrad::Sgd::new(0.01).momentum(0.9).nesterov(true);
    s.compile(Box::new(opt), LossName::SparseCategoricalCrossentropy)
        .unwrap();
    let (train, test) = digits();
    let opts = FitOptions {
        epochs: 2,
        seed: 42,
        ..Default::default()
    };
    let h = s.fit(&train, Some(&test), &opts, &mut []).unwrap();
    let acc = h.epochs.last().unwrap().val_accuracy.unwrap();
    assert!(acc >= 0.95, "test accuracy {acc}");
    assert_eq!(h.counters.submits_per_step, 1.0);
    assert_eq!(h.counters.readback_bytes_per_step, 0.0);
    assert_eq!(h.counters.allocations_per_step, 0.0);
}

/// Three steps of 32 in order, as the golden cases were trained.
fn three_steps() -> FitOptions {
    FitOptions {
        epochs: 1,
        batch_size: 32,
        shuffle: false,
        max_steps: Some(3),
        ..Default::default()
    }
}

/// A strided convolution, channel batch norm and an activation layer before a convolution
/// over 32 channels (`examples/cnn_bn.json`): on 8-lane subgroups the second convolution's
/// input gradient takes the activation's backward (`Kernel::ConvInputGradAct`). Three
/// training steps on the GPU leave the weights the CPU reference leaves (within 1e-4 +
/// 1e-3·|w|: the batch norm over 32 images amplifies the order the sums are taken in —
/// the first kernel's largest gap, 1.2e-5 on 0.011, is the same with the launches
/// unfused).
#[test]
fn the_channel_batch_norm_cnn_trains_on_the_gpu_as_on_the_reference() {
    let Some(g) = gpu() else { return };
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/cnn_bn.json");
    let (train, _) = digits();
    let train = train.subset(&(0..96).collect::<Vec<_>>());
    let mut trained = Vec::new();
    let gpu_backend: Box<dyn Backend> = Box::new(g);
    for be in [Box::new(CpuBackend::new()) as Box<dyn Backend>, gpu_backend] {
        let m = model_from_json_file(&path, 42).unwrap();
        let mut s = Session::with_backend(m, be).unwrap();
        let opt = steadygrad::Sgd::new(0.01).momentum(0.9).nesterov(true);
        s.compile(Box::new(opt), LossName::SparseCategoricalCrossentropy)
            .unwrap();
        s.fit(&train, None, &three_steps(), &mut []).unwrap();
        trained.push(s.model().unwrap().clone());
    }
    for (c, g) in trained[0].weights().iter().zip(trained[1].weights()) {
        assert_close(&g.name, &g.data, &c.data, 1e-4, 1e-3);
    }
}
