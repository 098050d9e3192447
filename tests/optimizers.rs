//! Every optimizer against Keras (TensorFlow's Keras 3, `tests/data/optimizers/`): three
//! steps of batch 64 from fixed weights give Keras's weights, BN statistics and optimizer
//! variables on the CPU reference and the GPU; resuming from a saved folder equals an
//! uninterrupted run; the CLI's `train --model … --optimizer …` does the same.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use serde_json::Value;
use steadygrad::backend::{ActKind, Backend, CpuBackend};
use steadygrad::data::idx::load_mnist_dir;
use steadygrad::data::{Dataset, Samples};
use steadygrad::io::{load_model, save_model};
use steadygrad::nn::{Initializer, Layer, Sequential};
use steadygrad::optim::{Optimizer, OptimizerState};
use steadygrad::train::{FitOptions, LossName, Session};

fn cases() -> serde_json::Map<String, Value> {
    let p = format!(
        "{}/tests/data/optimizers/cases.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let v: Value = serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap();
    v.as_object().unwrap().clone()
}

fn small_network() -> Sequential {
    Sequential::new(
        &[28, 28],
        vec![
            Layer::flatten(),
            Layer::dense(16)
                .activation(ActKind::Elu { alpha: 1.0 })
                .kernel_initializer(Initializer::HE_NORMAL)
                .into(),
            Layer::batch_norm(),
            Layer::dense(10).activation(ActKind::Softmax).into(),
        ],
        7,
    )
    .unwrap()
}

/// The case's network with Keras's initial weights.
fn network(case: &Value) -> Sequential {
    let (mut m, init) = if case["network"] == "seed" {
        (
            seed_network(false),
            load_safetensors("seed_mlp_init.safetensors"),
        )
    } else {
        (
            small_network(),
            load_safetensors("optimizers/small_init.safetensors"),
        )
    };
    for w in m.weights().to_vec() {
        m.set_weight(&w.name, &init[&w.name]).unwrap();
    }
    m
}

/// The optimizer Keras ran, from its class and config.
fn optimizer(case: &Value) -> Box<dyn Optimizer> {
    keras_optimizer(case)
}

/// The first 192 bundled training digits (pixels / 255).
fn digits() -> Dataset {
    let (train, _) = load_mnist_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("data")).unwrap();
    train.subset(&(0..192).collect::<Vec<_>>())
}

fn three_steps() -> FitOptions {
    FitOptions {
        epochs: 1,
        batch_size: 64,
        shuffle: false,
        max_steps: Some(3),
        ..Default::default()
    }
}

/// The CPU reference on the seed network: at most 1 in 100,000 values beyond the
/// tolerance, none beyond 2× it.
fn assert_keras_weights(what: &str, m: &Sequential, want: &HashMap<String, Vec<f32>>) {
    let total: usize = want.values().map(Vec::len).sum();
    assert_keras_weights_within(what, m.weights(), want, total / 100_000, 2.0);
}

/// The GPU and large steps: at most 1 in 10,000 values beyond the tolerance, none beyond
/// 5× it.
fn assert_keras_weights_bounded(what: &str, m: &Sequential, want: &HashMap<String, Vec<f32>>) {
    let total: usize = want.values().map(Vec::len).sum();
    assert_keras_weights_within(what, m.weights(), want, total / 10_000, 5.0);
}

#[test]
fn three_steps_match_keras_on_cpu_and_gpu() {
    let data = digits();
    for (name, case) in cases() {
        let want = load_safetensors(&format!("optimizers/{name}.safetensors"));
        let mut devices: Vec<Box<dyn Backend>> = vec![Box::new(CpuBackend::new())];
        if let Some(g) = gpu() {
            devices.push(Box::new(g));
        }
        for be in devices {
            let mut s = Session::with_backend(network(&case), be).unwrap();
            let dev = s.device_info().kind;
            s.compile(optimizer(&case), LossName::SparseCategoricalCrossentropy)
                .unwrap();
            let h = s.fit(&data, None, &three_steps(), &mut []).unwrap();
            let losses: Vec<f64> = case["losses"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap())
                .collect();
            let mean = losses.iter().sum::<f64>() / 3.0;
            let got = h.epochs[0].loss as f64;
            assert!(
                (got - mean).abs() <= 1e-5 + 1e-4 * mean,
                "{dev} {name}: mean loss {got} vs Keras {mean}"
            );
            let state = s.optimizer_state().unwrap();
            assert_eq!(state.iterations, 3);
            // The seed network on the CPU within the tight bound, the GPU and the small
            // network's larger steps (lr 0.01) within the looser one (see above).
            if dev == "cpu" && case["network"] == "seed" {
                assert_keras_weights(&format!("{dev} {name}"), s.model().unwrap(), &want);
            } else {
                assert_keras_weights_bounded(&format!("{dev} {name}"), s.model().unwrap(), &want);
            }
            // The small cases carry Keras's optimizer variables: same names, same values.
            let keras_vars: Vec<(&String, &Vec<f32>)> = want
                .iter()
                .filter(|(k, _)| k.starts_with("optimizer/"))
                .collect();
            for (k, v) in &keras_vars {
                let short = k.rsplit('/').next().unwrap();
                match short {
                    "iteration" => assert_eq!(v[0], 3.0),
                    "learning_rate" => {}
                    "variable" => {
                        let (_, u) = state.carry.as_ref().expect("Nadam carries u_product");
                        assert_close(&format!("{dev} {name} u_product"), &[*u], v, 1e-7, 1e-5);
                    }
                    slot_name => {
                        let ours = state
                            .slots
                            .iter()
                            .find(|sv| {
                                OptimizerState::keras_name(&sv.weight, &sv.slot) == slot_name
                            })
                            .unwrap_or_else(|| panic!("{name}: no slot named {slot_name}"));
                        assert_close(
                            &format!("{dev} {name} {slot_name}"),
                            &ours.data,
                            v,
                            1e-5,
                            1e-4,
                        );
                    }
                }
            }
            if !keras_vars.is_empty() {
                let ours = state.slots.len() + usize::from(state.carry.is_some()) + 2;
                assert_eq!(ours, keras_vars.len(), "{name}: slot count equals Keras's");
            }
        }
    }
}

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("steadygrad-opt-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

#[test]
fn resuming_from_a_folder_equals_an_uninterrupted_run() {
    let data = digits();
    let all = cases();
    for name in [
        "adagrad",
        "rmsprop",
        "adam",
        "nadam",
        "small_rmsprop_centered_momentum",
        "small_adam_amsgrad",
    ] {
        let case = &all[name];
        let mut whole = compile_with(network(case), optimizer(case));
        whole.fit(&data, None, &three_steps(), &mut []).unwrap();
        let mut first = compile_with(network(case), optimizer(case));
        let one = FitOptions {
            max_steps: Some(1),
            ..three_steps()
        };
        first.fit(&data, None, &one, &mut []).unwrap();
        let dir = tmpdir(name);
        let state = first.optimizer_state().unwrap();
        save_model(first.model().unwrap(), Some(&state), &dir).unwrap();
        let loaded = load_model(&dir).unwrap();
        let saved = loaded.optimizer.expect("optimizer state saved");
        assert_eq!(saved, state, "{name}: the state round-trips exactly");
        let mut resumed = compile_with(loaded.model, optimizer(case));
        resumed.set_optimizer_state(&saved).unwrap();
        // The same data order: batches 64..127 and 128..191 (fit continues by step).
        let rest = data.subset(&(64..192).collect::<Vec<_>>());
        let two = FitOptions {
            max_steps: Some(3),
            ..three_steps()
        };
        resumed.fit(&rest, None, &two, &mut []).unwrap();
        assert_eq!(
            resumed.get_weights().unwrap(),
            whole.get_weights().unwrap(),
            "{name}: resumed equals uninterrupted"
        );
        assert_eq!(
            resumed.optimizer_state().unwrap(),
            whole.optimizer_state().unwrap()
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

fn compile_with(m: Sequential, opt: Box<dyn Optimizer>) -> Session {
    let mut s = Session::with_backend(m, Box::new(CpuBackend::new())).unwrap();
    s.compile(opt, LossName::SparseCategoricalCrossentropy)
        .unwrap();
    s
}

#[test]
fn a_mismatched_optimizer_state_is_refused() {
    let all = cases();
    let mut adam = compile_with(
        network(&all["small_adam_amsgrad"]),
        optimizer(&all["small_adam_amsgrad"]),
    );
    let mut state = adam.optimizer_state().unwrap();
    let mut rms = compile_with(
        network(&all["small_rmsprop_momentum"]),
        optimizer(&all["small_rmsprop_momentum"]),
    );
    assert!(
        rms.set_optimizer_state(&state).is_err(),
        "another optimizer's state"
    );
    state.slots.pop();
    let e = adam.set_optimizer_state(&state).unwrap_err();
    assert!(e.to_string().contains("has no"), "{e}");
}

/// `steadygrad train --model DIR --data X.safetensors --batch-size 64 --steps 3
/// --no-shuffle --optimizer … --lr … --save OUT` equals Keras.
#[test]
fn the_cli_trains_a_saved_folder_like_keras() {
    let dir = tmpdir("cli");
    let model_dir = dir.join("model");
    save_model(&network(&cases()["adam"]), None, &model_dir).unwrap();
    // The 192 digits as a safetensors data set (uint8 pixels, integer labels).
    let d = digits();
    let Samples::U8(x) = &d.x else { panic!() };
    let y: Vec<i64> = d.y.iter().map(|&v| v as i64).collect();
    let views = vec![
        (
            "x",
            safetensors::tensor::TensorView::new(
                safetensors::tensor::Dtype::U8,
                vec![192, 28, 28],
                x,
            )
            .unwrap(),
        ),
        (
            "y",
            safetensors::tensor::TensorView::new(
                safetensors::tensor::Dtype::I64,
                vec![192],
                bytemuck::cast_slice(&y),
            )
            .unwrap(),
        ),
    ];
    let data = dir.join("x.safetensors");
    std::fs::write(&data, safetensors::serialize(views, None).unwrap()).unwrap();
    for (name, lr) in [
        ("adagrad", "0.01"),
        ("rmsprop", "0.001"),
        ("adam", "0.002"),
        ("nadam", "0.002"),
    ] {
        let out = dir.join(format!("out-{name}"));
        let o = Command::new(env!("CARGO_BIN_EXE_steadygrad"))
            .args(["train", "--model"])
            .arg(&model_dir)
            .arg("--data")
            .arg(&data)
            .args([
                "--batch-size",
                "64",
                "--steps",
                "3",
                "--no-shuffle",
                "--device",
                "cpu",
            ])
            .args(["--optimizer", name, "--lr", lr, "--json", "--save"])
            .arg(&out)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let trained = load_model(&out).unwrap();
        let want = load_safetensors(&format!("optimizers/{name}.safetensors"));
        assert_keras_weights(&format!("cli {name}"), &trained.model, &want);
        let state = trained.optimizer.unwrap();
        assert_eq!((state.optimizer.as_str(), state.iterations), (name, 3));
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
