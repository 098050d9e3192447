//! Golden values computed by Keras (TensorFlow 2.21 / Keras 3.15), from
//! `tests/data/*.json` (copied from the shared keras-cases). Each case runs on the CPU
//! reference and on the GPU.

mod common;

use std::collections::HashMap;

use common::*;
use serde_json::Value;
use steadygrad::backend::kernel::chunk_count;
use steadygrad::backend::{
    ActKind, ArenaTensor, Backend, ClipMode, CpuBackend, Kernel, UpdateRule,
};
use steadygrad::data::{Dataset, Samples};
use steadygrad::nn::Initializer;
use steadygrad::optim::Sgd;
use steadygrad::train::{FitOptions, LossName, Session};

/// A step record (step 0, offset 0) with learning rate `lr` (and SGD's momentum, scalar 0).
fn step_record(lr: f32) -> [f32; 8] {
    sgd_record(lr, 0.0)
}

fn sgd_record(lr: f32, momentum: f32) -> [f32; 8] {
    [0.0, 0.0, lr, 0.0, momentum, 0.0, 0.0, 0.0]
}

fn case(name: &str) -> Value {
    let path = format!("{}/tests/data/{name}.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).expect(&path)).unwrap()
}

fn data(v: &Value) -> Vec<f32> {
    v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap() as f32)
        .collect()
}

fn scalar(v: &Value) -> f64 {
    v["data"][0].as_f64().unwrap()
}

/// Single-op tolerance from the cases' README.
fn assert_keras(what: &str, got: &[f32], want: &[f32]) {
    assert_close(what, got, want, 1e-6, 1e-5);
}

/// The CPU reference and, when present, the GPU.
fn backends() -> Vec<Box<dyn Backend>> {
    let mut v: Vec<Box<dyn Backend>> = vec![Box::new(CpuBackend::new())];
    if let Some(g) = gpu() {
        v.push(Box::new(g));
    }
    v
}

fn run(be: &mut dyn Backend, k: Kernel, inputs: &[Vec<f32>]) -> Vec<Vec<f32>> {
    let ids: Vec<_> = inputs.iter().map(|d| be.upload(d).unwrap()).collect();
    be.run(&k, &ids).unwrap();
    ids.iter().map(|b| be.read(*b).unwrap()).collect()
}

#[test]
fn activation_cases_match_keras() {
    let cases: [(&str, ActKind); 10] = [
        ("act_relu", ActKind::Relu),
        ("act_leaky_relu_0.2", ActKind::LeakyRelu { alpha: 0.2 }),
        (
            "act_leaky_relu_layer_default",
            ActKind::LeakyRelu { alpha: 0.3 },
        ),
        ("act_elu_alpha1", ActKind::Elu { alpha: 1.0 }),
        ("act_elu_alpha0.5", ActKind::Elu { alpha: 0.5 }),
        ("act_selu", ActKind::Selu),
        ("act_tanh", ActKind::Tanh),
        ("act_sigmoid", ActKind::Sigmoid),
        (
            "act_rrelu_eval_pytorch",
            ActKind::Rrelu {
                lower: 0.125,
                upper: 1.0 / 3.0,
            },
        ),
        ("act_softmax", ActKind::Softmax),
    ];
    for mut be in backends() {
        let dev = be.info().kind;
        for (name, act) in cases {
            let c = case(name);
            let x = data(&c["inputs"]["x"]);
            let u = data(&c["inputs"]["u"]);
            let n = x.len();
            let (y, dx) = if act == ActKind::Softmax {
                let cols = c["inputs"]["x"]["shape"][1].as_u64().unwrap() as usize;
                let rows = n / cols;
                let y = run(
                    be.as_mut(),
                    Kernel::SoftmaxForward { rows, cols },
                    &[x.clone(), vec![0.0; n]],
                )[1]
                .clone();
                let dx = run(
                    be.as_mut(),
                    Kernel::SoftmaxBackward { rows, cols },
                    &[y.clone(), u.clone(), vec![0.0; n]],
                )[2]
                .clone();
                (y, dx)
            } else {
                let step = vec![0.0; 8];
                let f = Kernel::ActForward {
                    act,
                    n,
                    training: false,
                    seed: 0,
                };
                let y = run(be.as_mut(), f, &[x.clone(), vec![0.0; n], step.clone()])[1].clone();
                let b = Kernel::ActBackward {
                    act,
                    n,
                    training: false,
                    seed: 0,
                };
                let dx = run(
                    be.as_mut(),
                    b,
                    &[x.clone(), y.clone(), u.clone(), vec![0.0; n], step],
                )[3]
                .clone();
                (y, dx)
            };
            assert_keras(&format!("{dev} {name} y"), &y, &data(&c["expected"]["y"]));
            assert_keras(
                &format!("{dev} {name} dx"),
                &dx,
                &data(&c["expected"]["dx"]),
            );
        }
        // PReLU, with its alpha gradient.
        let c = case("act_prelu_layer");
        let x = data(&c["inputs"]["x"]);
        let u = data(&c["inputs"]["u"]);
        let alpha = data(&c["inputs"]["alpha"]);
        let cols = alpha.len();
        let rows = x.len() / cols;
        let y = run(
            be.as_mut(),
            Kernel::PreluForward { rows, cols },
            &[x.clone(), alpha.clone(), vec![0.0; x.len()]],
        )[2]
        .clone();
        let out = run(
            be.as_mut(),
            Kernel::PreluBackward { rows, cols },
            &[x.clone(), alpha, u, vec![0.0; x.len()], vec![0.0; cols]],
        );
        assert_keras(&format!("{dev} prelu y"), &y, &data(&c["expected"]["y"]));
        assert_keras(
            &format!("{dev} prelu dx"),
            &out[3],
            &data(&c["expected"]["dx"]),
        );
        assert_keras(
            &format!("{dev} prelu dalpha"),
            &out[4],
            &data(&c["expected"]["dalpha"]),
        );
    }
}

#[test]
fn initializer_cases_match_keras() {
    for (name, init) in [
        ("init_glorot_uniform", Initializer::GLOROT_UNIFORM),
        ("init_glorot_normal", Initializer::GLOROT_NORMAL),
        ("init_he_uniform", Initializer::HE_UNIFORM),
        ("init_he_normal", Initializer::HE_NORMAL),
        ("init_lecun_uniform", Initializer::LECUN_UNIFORM),
        ("init_lecun_normal", Initializer::LECUN_NORMAL),
    ] {
        let c = case(name);
        let e = &c["expected"];
        for shape in [[784usize, 300], [300, 100]] {
            let tag = format!("{}x{}", shape[0], shape[1]);
            let fan = Initializer::fan(
                &shape,
                match init {
                    Initializer::VarianceScaling { mode, .. } => mode,
                    _ => unreachable!(),
                },
            );
            assert_eq!(fan, scalar(&e[format!("fan_n_{tag}")]), "{name} fan");
            let spread = init.spread(&shape).unwrap();
            let target = scalar(&e[format!("target_std_{tag}")]);
            let w = init.sample(&shape, 42);
            let n = w.len() as f64;
            let mean = w.iter().map(|&v| v as f64).sum::<f64>() / n;
            let std = (w.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n).sqrt();
            assert!(
                (std - target).abs() / target < 0.02,
                "{name} {tag}: std {std} vs {target}"
            );
            let max = w.iter().fold(0.0f64, |m, &v| m.max((v as f64).abs()));
            if let Some(limit) = e.get(format!("limit_{tag}")) {
                let limit = scalar(limit);
                assert!(
                    (spread - limit).abs() < 1e-12 * limit.max(1.0),
                    "{name} limit {spread} vs {limit}"
                );
                assert!(
                    max <= limit,
                    "{name}: {max} beyond the uniform limit {limit}"
                );
            } else {
                let sigma = scalar(&e[format!("stddev_param_{tag}")]);
                assert!(
                    (spread - sigma).abs() < 1e-12,
                    "{name}: σ′ {spread} vs {sigma}"
                );
                let bound = scalar(&e[format!("truncation_bound_{tag}")]);
                assert!(
                    max <= bound * (1.0 + 1e-6),
                    "{name}: {max} beyond 2σ′ = {bound}"
                );
            }
        }
    }
}

#[test]
fn batch_norm_cases_match_keras() {
    for mut be in backends() {
        let dev = be.info().kind;
        for name in ["bn_train_m0.9", "bn_train_m0.99"] {
            let c = case(name);
            let i = &c["inputs"];
            let e = &c["expected"];
            let momentum = c["params"]["momentum"].as_f64().unwrap() as f32;
            let eps = c["params"]["epsilon"].as_f64().unwrap() as f32;
            let x = data(&i["x"]);
            let (rows, cols) = (
                i["x"]["shape"][0].as_u64().unwrap() as usize,
                i["x"]["shape"][1].as_u64().unwrap() as usize,
            );
            let (gamma, beta, mm, mv, u) = (
                data(&i["gamma"]),
                data(&i["beta"]),
                data(&i["moving_mean"]),
                data(&i["moving_variance"]),
                data(&i["u"]),
            );
            let n = rows * cols;
            // Training mode in one launch: batch statistics, the moving statistics'
            // update and the output.
            let out = run(
                be.as_mut(),
                Kernel::BnTrain {
                    rows,
                    cols,
                    eps,
                    momentum,
                },
                &[
                    x.clone(),
                    gamma.clone(),
                    beta.clone(),
                    vec![0.0; n],
                    vec![0.0; 2 * cols],
                    mm.clone(),
                    mv.clone(),
                ],
            );
            let stats = out[4].clone();
            let (mean, var) = (stats[..cols].to_vec(), stats[cols..].to_vec());
            let y = out[3].clone();
            let key = |k: &str| e.get(k).map(data);
            assert_keras(
                &format!("{dev} {name} batch_mean"),
                &mean,
                &key("batch_mean").unwrap(),
            );
            assert_keras(
                &format!("{dev} {name} batch_var"),
                &var,
                &key("batch_var_biased").unwrap(),
            );
            assert_keras(
                &format!("{dev} {name} y_train"),
                &y,
                &key("y_train").unwrap(),
            );
            // Inference-mode BN: normalize with the given statistics.
            let apply = |be: &mut dyn Backend, mean: &[f32], var: &[f32]| {
                run(
                    be,
                    Kernel::BnApply { rows, cols, eps },
                    &[
                        x.clone(),
                        mean.to_vec(),
                        var.to_vec(),
                        gamma.clone(),
                        beta.clone(),
                        vec![0.0; n],
                    ],
                )[5]
                .clone()
            };
            let infer = apply(be.as_mut(), &mm, &mv);
            assert_keras(
                &format!("{dev} {name} y_infer"),
                &infer,
                &key("y_infer").unwrap(),
            );
            let moved = &out[3..];
            assert_keras(
                &format!("{dev} {name} moving_mean"),
                &moved[2],
                &key("moving_mean_new").unwrap(),
            );
            assert_keras(
                &format!("{dev} {name} moving_variance"),
                &moved[3],
                &key("moving_variance_new").unwrap(),
            );
            let after = apply(be.as_mut(), &moved[2], &moved[3]);
            assert_keras(
                &format!("{dev} {name} y_infer_after_update"),
                &after,
                &key("y_infer_after_update").unwrap(),
            );
            let g = run(
                be.as_mut(),
                Kernel::BnBackward { rows, cols, eps },
                &[
                    x.clone(),
                    stats,
                    gamma.clone(),
                    u,
                    vec![0.0; n],
                    vec![0.0; cols],
                    vec![0.0; cols],
                ],
            );
            // Full-network gradients go through more arithmetic than one op: whole-network tolerance.
            assert_close(
                &format!("{dev} {name} dx"),
                &g[4],
                &key("dx").unwrap(),
                1e-5,
                1e-4,
            );
            assert_keras(
                &format!("{dev} {name} dgamma"),
                &g[5],
                &key("dgamma").unwrap(),
            );
            assert_keras(
                &format!("{dev} {name} dbeta"),
                &g[6],
                &key("dbeta").unwrap(),
            );
        }
    }
}

#[test]
fn sgd_trajectories_match_keras() {
    for mut be in backends() {
        let dev = be.info().kind;
        for name in [
            "sgd_m0_nesterovfalse",
            "sgd_m0_nesterovtrue",
            "sgd_m0.9_nesterovfalse",
            "sgd_m0.9_nesterovtrue",
        ] {
            let c = case(name);
            let p = &c["params"];
            let lr = p["learning_rate"].as_f64().unwrap() as f32;
            let momentum = p["momentum"].as_f64().unwrap() as f32;
            let nesterov = p["nesterov"].as_bool().unwrap();
            let w0 = data(&c["inputs"]["w0"]);
            let grads = data(&c["inputs"]["grads"]);
            let want = data(&c["expected"]["w"]);
            let n = w0.len();
            let w = be.upload(&w0).unwrap();
            let g = be.alloc(n).unwrap();
            let v = be.alloc(n).unwrap();
            let scales = be.upload(&[1.0]).unwrap();
            let step = be.upload(&sgd_record(lr, momentum)).unwrap();
            let k = Kernel::Update {
                rule: UpdateRule::Sgd { momentum, nesterov },
                tensors: vec![ArenaTensor::whole(n)],
                clipvalue: 0.0,
                weight_decay: 0.0,
            };
            let mut bufs = vec![w, g, scales, step];
            if momentum != 0.0 {
                bufs.push(v);
            }
            let id = be.prepare(&k, &bufs).unwrap();
            for s in 0..6 {
                be.write(g, 0, &grads[s * n..(s + 1) * n]).unwrap();
                be.launch(id);
                be.submit().unwrap();
                let got = be.read(w).unwrap();
                assert_close(
                    &format!("{dev} {name} step {}", s + 1),
                    &got,
                    &want[s * n..(s + 1) * n],
                    1e-6,
                    1e-6,
                );
            }
        }
    }
}

#[test]
fn clipping_cases_match_keras() {
    for mut be in backends() {
        let dev = be.info().kind;
        for name in ["clip_clipvalue", "clip_clipnorm", "clip_global_clipnorm"] {
            let c = case(name);
            let p = &c["params"];
            let lr = p["learning_rate"].as_f64().unwrap() as f32;
            let (mode, clipvalue) = match name {
                "clip_clipvalue" => (ClipMode::None, p["clipvalue"].as_f64().unwrap() as f32),
                "clip_clipnorm" => (
                    ClipMode::PerTensorNorm(p["clipnorm"].as_f64().unwrap() as f32),
                    0.0,
                ),
                _ => (
                    ClipMode::GlobalNorm(p["global_clipnorm"].as_f64().unwrap() as f32),
                    0.0,
                ),
            };
            let i = &c["inputs"];
            let step = be.upload(&step_record(lr)).unwrap();
            let none = f32::from_bits(u32::MAX);
            let stats = be.upload(&[0.0, 0.0, none, 0.0, 0.0, none]).unwrap();
            let scales = be.alloc(2).unwrap();
            let (a, b) = (data(&i["a0"]), data(&i["b0"]));
            let tensors = ArenaTensor::pack(&[a.len(), b.len()]);
            let end = tensors[1].offset + b.len();
            let (w, g) = (be.alloc(end).unwrap(), be.alloc(end).unwrap());
            be.write(w, 0, &a).unwrap();
            be.write(w, tensors[1].offset, &b).unwrap();
            be.write(g, 0, &data(&i["grad_a"])).unwrap();
            be.write(g, tensors[1].offset, &data(&i["grad_b"])).unwrap();
            let partials = be.alloc(2 * chunk_count(&tensors)).unwrap();
            let stats_k = Kernel::GradStats {
                tensors: tensors.clone(),
                first_segment: 0,
            };
            be.run(&stats_k, &[g, partials]).unwrap();
            let clip_k = Kernel::ClipScale {
                tensors: tensors.clone(),
                mode,
            };
            be.run(&clip_k, &[partials, stats, scales, step]).unwrap();
            let k = Kernel::Update {
                rule: UpdateRule::Sgd {
                    momentum: 0.0,
                    nesterov: false,
                },
                tensors: tensors.clone(),
                clipvalue,
                weight_decay: 0.0,
            };
            be.run(&k, &[w, g, scales, step]).unwrap();
            let got = be.read(w).unwrap();
            let ws = [
                &got[..a.len()],
                &got[tensors[1].offset..tensors[1].offset + b.len()],
            ];
            assert_keras(
                &format!("{dev} {name} a"),
                ws[0],
                &data(&c["expected"]["a"]),
            );
            assert_keras(
                &format!("{dev} {name} b"),
                ws[1],
                &data(&c["expected"]["b"]),
            );
        }
    }
}

#[test]
fn summary_is_keras_layout_verbatim() {
    for (name, before) in [("seed_mlp", false), ("seed_mlp_bn_before_act", true)] {
        let c = case(name);
        let want = c["params"]["summary_text"].as_str().unwrap();
        let got = seed_network(before).summary();
        assert_eq!(got.trim_end(), want.trim_end(), "{name}");
    }
}

/// The chapter's network, one Nesterov step on a fixed batch, against Keras: the loss,
/// every weight after the step (BN moving statistics included) and the predictions.
#[test]
fn seed_network_step_matches_keras() {
    for (case_name, before) in [("seed_mlp", false), ("seed_mlp_bn_before_act", true)] {
        let c = case(case_name);
        let init = load_safetensors(&format!("{case_name}_init.safetensors"));
        let after = load_safetensors(&format!("{case_name}_after_step.safetensors"));
        let x = data(&c["inputs"]["x"]);
        let y: Vec<u32> = data(&c["inputs"]["y"]).iter().map(|&v| v as u32).collect();
        let batch = Dataset::new(Samples::F32(x.clone()), y, vec![28, 28]).unwrap();
        let mut devices: Vec<Box<dyn Backend>> = vec![Box::new(CpuBackend::new())];
        if let Some(g) = gpu() {
            devices.push(Box::new(g));
        }
        for be in devices {
            let mut model = seed_network(before);
            let (total, trainable, non) = model.param_counts();
            assert_eq!(total as f64, scalar(&c["expected"]["total_params"]));
            assert_eq!(trainable as f64, scalar(&c["expected"]["trainable_params"]));
            assert_eq!(non as f64, scalar(&c["expected"]["non_trainable_params"]));
            for w in model.weights().to_vec() {
                let v = init
                    .get(&w.name)
                    .unwrap_or_else(|| panic!("{} not in the Keras file", w.name));
                model.set_weight(&w.name, v).unwrap();
            }
            let opt = Sgd::new(0.01).momentum(0.9).nesterov(true);
            let mut model = Session::with_backend(model, be).unwrap();
            model
                .compile(Box::new(opt), LossName::SparseCategoricalCrossentropy)
                .unwrap();
            let dev = model.device_info().kind;
            let probs = model.predict(&x, 32).unwrap();
            assert_close(
                &format!("{dev} {case_name} probs_infer"),
                &probs,
                &data(&c["expected"]["probs_infer"]),
                1e-5,
                1e-4,
            );
            let opts = FitOptions {
                epochs: 1,
                batch_size: 32,
                shuffle: false,
                max_steps: Some(1),
                ..Default::default()
            };
            let h = model.fit(&batch, None, &opts, &mut []).unwrap();
            let loss = h.epochs[0].loss as f64;
            let want = scalar(&c["expected"]["loss"]);
            assert!(
                (loss - want).abs() <= 1e-5 + 1e-4 * want.abs(),
                "{dev} {case_name} loss {loss} vs Keras {want}"
            );
            for w in model.get_weights().unwrap() {
                let want = after.get(&w.name).unwrap();
                assert_close(
                    &format!("{dev} {case_name} {} after one step", w.name),
                    &w.data,
                    want,
                    1e-5,
                    1e-4,
                );
            }
            let probs = model.predict(&x, 32).unwrap();
            assert_close(
                &format!("{dev} {case_name} probs_infer_after_step"),
                &probs,
                &data(&c["expected"]["probs_infer_after_step"]),
                1e-5,
                1e-4,
            );
        }
    }
}

/// A model exported from Keras as the README says (architecture JSON, weights under their
/// variable paths with the `sequential/` prefix) loads through `load_model`, predicts what
/// Keras predicts, and continues training as Keras does.
#[test]
fn keras_exported_folder_predicts_and_trains_like_keras() {
    let c = case("seed_mlp");
    let dir = std::env::temp_dir().join(format!("steadygrad-keras-export-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let arch = steadygrad::io::model_to_json(&seed_network(false));
    std::fs::write(
        dir.join("model.json"),
        serde_json::to_string(&arch).unwrap(),
    )
    .unwrap();
    let init = load_safetensors("seed_mlp_init.safetensors");
    let mut names: Vec<&String> = init.keys().collect();
    names.sort();
    let shapes: HashMap<String, Vec<usize>> = seed_network(false)
        .weights()
        .iter()
        .map(|w| (w.name.clone(), w.shape.clone()))
        .collect();
    let owned: Vec<(String, Vec<usize>, Vec<u8>)> = names
        .iter()
        .map(|n| {
            (
                format!("sequential/{n}"),
                shapes[*n].clone(),
                bytemuck::cast_slice(&init[*n]).to_vec(),
            )
        })
        .collect();
    let views: Vec<(String, safetensors::tensor::TensorView)> = owned
        .iter()
        .map(|(n, s, b)| {
            (
                n.clone(),
                safetensors::tensor::TensorView::new(safetensors::tensor::Dtype::F32, s.clone(), b)
                    .unwrap(),
            )
        })
        .collect();
    std::fs::write(
        dir.join("weights.safetensors"),
        safetensors::serialize(views, None).unwrap(),
    )
    .unwrap();

    let model = steadygrad::io::load_model(&dir).unwrap().model;
    let be: Box<dyn Backend> = match gpu() {
        Some(g) => Box::new(g),
        None => Box::new(CpuBackend::new()),
    };
    let opt = Sgd::new(0.01).momentum(0.9).nesterov(true);
    let mut model = Session::with_backend(model, be).unwrap();
    model
        .compile(Box::new(opt), LossName::SparseCategoricalCrossentropy)
        .unwrap();
    let x = data(&c["inputs"]["x"]);
    let y: Vec<u32> = data(&c["inputs"]["y"]).iter().map(|&v| v as u32).collect();
    let probs = model.predict(&x, 32).unwrap();
    assert_close(
        "imported probs_infer",
        &probs,
        &data(&c["expected"]["probs_infer"]),
        1e-5,
        1e-4,
    );
    let batch = Dataset::new(Samples::F32(x), y, vec![28, 28]).unwrap();
    let opts = FitOptions {
        batch_size: 32,
        shuffle: false,
        max_steps: Some(1),
        ..Default::default()
    };
    model.fit(&batch, None, &opts, &mut []).unwrap();
    let after = load_safetensors("seed_mlp_after_step.safetensors");
    for w in model.get_weights().unwrap() {
        assert_close(
            &format!("imported {} after one step", w.name),
            &w.data,
            &after[&w.name],
            1e-5,
            1e-4,
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
