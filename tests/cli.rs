//! The command line as a user runs it.

mod common;

use common::steadygrad;

use std::path::PathBuf;

use serde_json::Value;

fn last_json(stdout: &str) -> Value {
    serde_json::from_str(stdout.lines().last().expect("stdout has a last line"))
        .expect("last line is JSON")
}

fn tmp(name: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!("steadygrad-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&p);
    p
}

#[test]
fn every_activation_and_initializer_trains_from_the_cli() {
    let small = [
        "train", "--device", "cpu", "--epochs", "1", "--limit", "256", "--hidden", "32", "--json",
    ];
    for act in [
        "relu",
        "leaky_relu",
        "leaky_relu:0.1",
        "rrelu",
        "prelu",
        "elu",
        "elu:0.5",
        "selu",
        "tanh",
        "sigmoid",
    ] {
        let mut args = small.to_vec();
        args.extend(["--activation", act]);
        let (ok, out, err) = steadygrad(&args);
        assert!(ok, "--activation {act}: {err}");
        let v = last_json(&out);
        // Eight steps: above chance (0.1) is the point here; tests/training.rs checks quality.
        assert!(
            v["test_accuracy"].as_f64().unwrap() > 0.15,
            "--activation {act}: {v}"
        );
    }
    for init in [
        "glorot_uniform",
        "glorot_normal",
        "he_uniform",
        "he_normal",
        "lecun_uniform",
        "lecun_normal",
    ] {
        let mut args = small.to_vec();
        args.extend(["--init", init, "--batch-norm", "before"]);
        let (ok, out, err) = steadygrad(&args);
        assert!(ok, "--init {init}: {err}");
        assert_eq!(last_json(&out)["submits_per_step"], 1.0);
    }
}

#[test]
fn gpu_training_is_one_submit_per_step_without_readback() {
    if common::gpu().is_none() {
        return;
    }
    let (ok, out, err) = steadygrad(&[
        "train",
        "--device",
        "gpu",
        "--epochs",
        "1",
        "--limit",
        "320",
        "--json",
        "--stats",
        "--momentum",
        "0.9",
        "--nesterov",
        "--clipnorm",
        "1.0",
    ]);
    assert!(ok, "{err}");
    let v = last_json(&out);
    assert_eq!(v["device"], "gpu");
    assert_eq!(v["submits_per_step"], 1.0);
    assert_eq!(v["readback_bytes_per_step"], 0.0);
    assert!(v["readback_bytes_per_epoch"].as_f64().unwrap() > 0.0);
    assert!(err.contains("per step:"), "--stats prints the counters");
}

#[test]
fn summary_prints_keras_counts_and_init_advice() {
    let (ok, out, _) = steadygrad(&["summary"]);
    assert!(ok);
    for want in [
        "3,136",
        "235,500",
        "1,200",
        "30,100",
        "400",
        "1,010",
        "Total params: 271,346",
        "Trainable params: 268,978",
        "Non-trainable params: 2,368",
    ] {
        assert!(out.contains(want), "summary lacks {want}:\n{out}");
    }
    let (_, _, err) = steadygrad(&["summary", "--activation", "selu", "--init", "he_normal"]);
    assert!(err.contains("lecun_normal"), "{err}");
    let (_, _, err) = steadygrad(&[
        "summary",
        "--activation",
        "relu",
        "--init",
        "glorot_uniform",
    ]);
    assert!(err.contains("He initialization"), "{err}");
}

#[test]
fn save_evaluate_predict_and_transfer_from_the_cli() {
    let dir = tmp("model");
    let d = dir.to_str().unwrap();
    let (ok, _, err) = steadygrad(&[
        "train",
        "--device",
        "cpu",
        "--epochs",
        "1",
        "--limit",
        "512",
        "--hidden",
        "32",
        "--classes",
        "0,1,2,3,4,5,6,7",
        "--classes-out",
        "8",
        "--save",
        d,
    ]);
    assert!(ok, "{err}");
    let (ok, out, err) = steadygrad(&[
        "evaluate",
        "--model",
        d,
        "--device",
        "cpu",
        "--classes",
        "0,1,2,3,4,5,6,7",
        "--json",
    ]);
    assert!(ok, "{err}");
    assert!(last_json(&out)["accuracy"].as_f64().unwrap() > 0.5);
    let (ok, out, _) = steadygrad(&["summary", "--model", d]);
    assert!(ok && out.contains("(None, 8)"), "{out}");
    // Continue training for exactly 3 steps.
    let (ok, out, err) = steadygrad(&[
        "train",
        "--model",
        d,
        "--device",
        "cpu",
        "--steps",
        "3",
        "--no-shuffle",
        "--classes",
        "0,1,2,3,4,5,6,7",
        "--json",
    ]);
    assert!(ok, "{err}");
    assert_eq!(last_json(&out)["steps"], 3);
    // Predict on a safetensors input.
    let input = tmp("x.safetensors");
    let x = vec![0u8; 3 * 28 * 28];
    let view =
        safetensors::tensor::TensorView::new(safetensors::tensor::Dtype::U8, vec![3, 28, 28], &x)
            .unwrap();
    std::fs::write(
        &input,
        safetensors::serialize(vec![("x".to_string(), view)], None).unwrap(),
    )
    .unwrap();
    let output = tmp("p.safetensors");
    let (ok, _, err) = steadygrad(&[
        "predict",
        "--model",
        d,
        "--device",
        "cpu",
        "--input",
        input.to_str().unwrap(),
        "--output",
        output.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    let bytes = std::fs::read(&output).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    assert_eq!(st.tensor("probabilities").unwrap().shape(), &[3, 8]);
    // Transfer: new head, frozen, then the top layer unfrozen at a lower rate.
    let (ok, out, err) = steadygrad(&[
        "transfer",
        "--from",
        d,
        "--new-head",
        "1",
        "--classes",
        "8,9",
        "--limit",
        "200",
        "--epochs",
        "4",
        "--unfreeze-after",
        "2",
        "--unfreeze-top",
        "1",
        "--lr-unfrozen",
        "0.001",
        "--device",
        "cpu",
        "--json",
    ]);
    assert!(ok, "{err}");
    assert!(
        last_json(&out)["test_accuracy"].as_f64().unwrap() > 0.7,
        "{out}"
    );
    // The unfrozen layers by name, the rate as given, the epochs numbered on.
    assert!(
        err.contains("after epoch 2: unfroze batch_normalization_1")
            && err.contains("learning rate 0.001 (--lr-unfrozen)")
            && err.contains("epoch 3:")
            && err.contains("epoch 4:"),
        "{err}"
    );
    for p in [&input, &output] {
        let _ = std::fs::remove_file(p);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_input_exits_with_a_clear_message() {
    let (ok, _, err) = steadygrad(&["train", "--data", "/nonexistent-data", "--device", "cpu"]);
    assert!(
        !ok && err.starts_with("error:") && err.contains("nonexistent-data"),
        "{err}"
    );
    let (ok, _, err) = steadygrad(&[
        "train",
        "--batch-size",
        "0",
        "--device",
        "cpu",
        "--limit",
        "64",
    ]);
    assert!(!ok && err.contains("batch size"), "{err}");
    let (ok, _, err) = steadygrad(&[
        "train",
        "--clipnorm",
        "1",
        "--clipvalue",
        "1",
        "--device",
        "cpu",
    ]);
    assert!(!ok && err.contains("only one of"), "{err}");
    let (ok, _, err) = steadygrad(&[
        "evaluate",
        "--model",
        "/nonexistent-model",
        "--device",
        "cpu",
    ]);
    assert!(!ok && err.contains("nonexistent-model"), "{err}");
}

#[test]
fn bench_quick_reports_the_standard_set_as_json() {
    let (ok, out, err) = steadygrad(&["bench", "--quick", "--json"]);
    assert!(ok, "{err}");
    let v = last_json(&out);
    assert!(v["adapter"].is_string());
    let dev = "cpu";
    assert!(
        v["matmul_gflops"][dev]["256"].as_f64().unwrap() > 0.0,
        "{v}"
    );
    for model in ["seed_mlp", "cnn"] {
        for batch in ["32", "256"] {
            let sps = &v["train_samples_per_second"][dev][model][batch];
            assert!(sps.as_f64().unwrap() > 0.0, "{model} {batch}: {v}");
            assert_eq!(v["per_step"][dev][model][batch]["submits_per_step"], 1.0);
            assert_eq!(
                v["per_step"][dev][model][batch]["allocations_per_step"],
                0.0
            );
        }
    }
    if common::gpu().is_some() {
        assert!(
            v["matmul_gflops"]["gpu"]["512"].as_f64().unwrap() > 0.0,
            "{v}"
        );
        assert_eq!(
            v["per_step"]["gpu"]["seed_mlp"]["256"]["readback_bytes_per_step"],
            0.0
        );
        assert_eq!(
            v["per_step"]["gpu"]["cnn"]["32"]["readback_bytes_per_step"],
            0.0
        );
    }
}

#[test]
fn plot_draws_the_epoch_history_that_train_writes() {
    let dir = tmp("epoch-plot");
    std::fs::create_dir_all(&dir).unwrap();
    let csv = dir.join("history.csv");
    let (ok, _, err) = steadygrad(&[
        "train",
        "--device",
        "cpu",
        "--epochs",
        "2",
        "--limit",
        "256",
        "--hidden",
        "16",
        "--history",
        csv.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    let charts = dir.join("charts");
    let (ok, _, err) = steadygrad(&[
        "plot",
        "--history",
        csv.to_str().unwrap(),
        "--out",
        charts.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    for name in ["loss.png", "accuracy.png"] {
        let bytes = std::fs::read(charts.join(name)).unwrap();
        assert!(
            bytes.starts_with(b"\x89PNG") && bytes.len() > 10_000,
            "{name}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_chapters_second_half_from_the_cli_and_its_bad_values() {
    let dir = tmp("second-half");
    std::fs::create_dir_all(&dir).unwrap();
    let (ckpt, hist) = (dir.join("best"), dir.join("h.csv"));
    let (ok, out, err) = steadygrad(&[
        "train",
        "--device",
        "cpu",
        "--limit",
        "800",
        "--epochs",
        "3",
        "--hidden",
        "32",
        "--dropout",
        "0.2",
        "--l2",
        "0.001",
        "--max-norm",
        "2",
        "--optimizer",
        "adamw",
        "--validation-split",
        "0.25",
        "--early-stopping",
        "2",
        "--checkpoint",
        ckpt.to_str().unwrap(),
        "--lr-schedule",
        "cosine:0.002:60",
        "--history",
        hist.to_str().unwrap(),
        "--json",
        "--save",
        dir.join("m").to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    assert!(err.contains("val_loss"), "{err}");
    let v = last_json(&out);
    assert!(v["test_accuracy"].as_f64().unwrap() > 0.3, "{v}");
    let m = steadygrad::io::load_model(&dir.join("m")).unwrap();
    let json = std::fs::read_to_string(dir.join("m/model.json")).unwrap();
    for key in ["\"Dropout\"", "\"L2\"", "\"MaxNorm\""] {
        assert!(json.contains(key), "model.json has {key}");
    }
    assert_eq!(m.optimizer.unwrap().optimizer, "adamw");
    assert!(steadygrad::io::load_model(&ckpt).is_ok());
    let csv = std::fs::read_to_string(&hist).unwrap();
    assert!(
        csv.lines().next().unwrap().ends_with("learning_rate"),
        "{csv}"
    );
    // MC dropout from the saved folder.
    let (input, x, std) = (
        dir.join("in.safetensors"),
        dir.join("p.safetensors"),
        dir.join("s.safetensors"),
    );
    let pixels: Vec<u8> = (0..2 * 784).map(|i| (i * 37 % 256) as u8).collect();
    let view =
        safetensors::tensor::TensorView::new(safetensors::tensor::Dtype::U8, vec![2, 784], &pixels)
            .unwrap();
    std::fs::write(
        &input,
        safetensors::serialize(vec![("x".to_string(), view)], None).unwrap(),
    )
    .unwrap();
    let (ok, _, err) = steadygrad(&[
        "predict",
        "--model",
        dir.join("m").to_str().unwrap(),
        "--input",
        input.to_str().unwrap(),
        "--output",
        x.to_str().unwrap(),
        "--mc-samples",
        "20",
        "--mc-std",
        std.to_str().unwrap(),
        "--device",
        "cpu",
    ]);
    assert!(ok, "{err}");
    let (mean, spread) = (std::fs::read(&x).unwrap(), std::fs::read(&std).unwrap());
    let (mean, spread) = (
        safetensors::SafeTensors::deserialize(&mean).unwrap(),
        safetensors::SafeTensors::deserialize(&spread).unwrap(),
    );
    let floats = |t: safetensors::tensor::TensorView| -> Vec<f32> {
        t.data()
            .chunks(4)
            .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
            .collect()
    };
    let p = floats(mean.tensor("probabilities").unwrap());
    assert_eq!(p.len(), 20);
    for row in p.chunks(10) {
        assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-4, "{row:?}");
    }
    let names = spread.names();
    let s = floats(spread.tensor(names[0]).unwrap());
    assert_eq!(s.len(), 20);
    // Dropout at prediction time: the 20 samples differ, so some spread is above 0.
    assert!(
        s.iter().all(|v| *v >= 0.0) && s.iter().any(|v| *v > 0.0),
        "{s:?}"
    );
    for (args, needle) in [
        (vec!["--dropout", "1"], "--dropout"),
        (vec!["--dropout", "-0.1"], "--dropout"),
        (vec!["--l1", "-1"], "--l1"),
        (vec!["--l2", "NaN"], "--l2"),
        (vec!["--max-norm", "0"], "--max-norm"),
        (vec!["--weight-decay", "-0.1"], "--weight-decay"),
        (vec!["--lr-schedule", "cosine:0.1:0"], "--lr-schedule"),
        (
            vec!["--lr-schedule", "inverse_time:0.1:-3:0.5"],
            "--lr-schedule",
        ),
        (vec!["--lr-schedule", "constant:abc"], "--lr-schedule"),
        (
            vec!["--reduce-lr-on-plateau", "1.5:3"],
            "--reduce-lr-on-plateau",
        ),
        (
            vec!["--reduce-lr-on-plateau", "0.5:-1"],
            "--reduce-lr-on-plateau",
        ),
        (vec!["--early-stopping", "-2"], "--early-stopping"),
        (vec!["--validation-split", "1"], "--validation-split"),
        (vec!["--validation-split", "0.9999"], "--validation-split"),
    ] {
        let mut a = vec!["train", "--device", "cpu", "--limit", "64", "--steps", "1"];
        a.extend(&args);
        let (ok, _, err) = steadygrad(&a);
        assert!(
            !ok && err.starts_with("error:") && err.contains(needle),
            "{args:?}: {err}"
        );
        assert_eq!(err.trim().lines().count(), 1, "{args:?}: one line: {err}");
    }
    let (ok, _, err) = steadygrad(&[
        "predict",
        "--model",
        dir.join("m").to_str().unwrap(),
        "--input",
        "x",
        "--output",
        "y",
        "--mc-samples",
        "0",
    ]);
    assert!(!ok && err.contains("--mc-samples"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_regularization_experiment_reports_each_configuration() {
    let dir = tmp("reg-exp");
    let (ok, out, err) = steadygrad(&[
        "experiment",
        "regularization",
        "--device",
        "cpu",
        "--limit",
        "300",
        "--epochs",
        "3",
        "--layers",
        "2",
        "--units",
        "32",
        "--mc-samples",
        "5",
        "--json",
        "--plot",
        dir.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    let v = last_json(&out);
    let rows = v["configs"].as_array().unwrap();
    let names: Vec<&str> = rows.iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "none",
            "l2 0.01",
            "dropout 0.2",
            "max-norm 1",
            "dropout 0.2 + MC ×5"
        ]
    );
    for r in rows {
        let (tr, te) = (
            r["train_accuracy"].as_f64().unwrap(),
            r["test_accuracy"].as_f64().unwrap(),
        );
        assert!(
            (0.3..=1.0).contains(&te) && (0.3..=1.0).contains(&tr),
            "{r}"
        );
        assert!((r["gap"].as_f64().unwrap() - (tr - te)).abs() < 1e-5, "{r}");
        assert!(r["test_loss"].as_f64().unwrap() > 0.0, "{r}");
    }
    // MC dropout predicts the dropout configuration's network: the same curve, its own
    // (stochastic) metrics.
    assert_eq!(
        rows[2]["test_loss_per_epoch"],
        rows[4]["test_loss_per_epoch"]
    );
    assert_ne!(rows[2]["test_loss"], rows[4]["test_loss"]);
    let png = std::fs::read(dir.join("regularization.png")).unwrap();
    assert!(png.starts_with(b"\x89PNG"));
    // --markdown names the command and the machine under the table.
    let (ok, out, err) = steadygrad(&[
        "experiment",
        "regularization",
        "--device",
        "cpu",
        "--limit",
        "100",
        "--epochs",
        "1",
        "--layers",
        "1",
        "--units",
        "8",
        "--mc-samples",
        "2",
        "--markdown",
    ]);
    assert!(ok, "{err}");
    assert!(out.starts_with("| configuration | train accuracy"), "{out}");
    assert!(
        out.contains("Printed by `steadygrad experiment regularization") && out.contains("cores"),
        "{out}"
    );
    for (args, needle) in [
        (vec!["--mc-samples", "0"], "--mc-samples"),
        (vec!["--lr", "-1"], "--lr"),
        (vec!["--limit", "0"], "--limit"),
        (vec!["--layers", "100000", "--units", "1000"], "--layers"),
    ] {
        let mut a = vec!["experiment", "regularization", "--device", "cpu"];
        a.extend(&args);
        let (ok, _, err) = steadygrad(&a);
        assert!(
            !ok && err.starts_with("error:") && err.contains(needle),
            "{args:?}: {err}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bench_sweeps_the_batch_size() {
    let (ok, out, err) = steadygrad(&["bench", "--sweep", "--quick", "--json", "--markdown"]);
    assert!(ok, "{err}");
    // The table and where it ran, then the same figures as JSON.
    assert!(out.starts_with("| batch |"), "{out}");
    assert!(out.contains("Printed by `steadygrad bench --sweep --markdown --quick`"));
    let v: serde_json::Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    for b in steadygrad::bench::SWEEP_BATCHES {
        let row = &v["batch_sweep"][b.to_string()];
        assert!(row["cpu"].as_f64().unwrap() > 0.0, "{v}");
        if std::env::var_os("STEADYGRAD_REQUIRE_GPU").is_some() {
            assert!(row["gpu"].as_f64().unwrap() > 0.0, "{v}");
        }
    }
}

#[test]
fn bench_profiles_each_launch_of_a_step() {
    let (ok, out, err) = steadygrad(&["bench", "--profile", "--quick", "--json"]);
    if !ok && std::env::var_os("STEADYGRAD_REQUIRE_GPU").is_none() {
        assert!(
            err.starts_with("error:") && err.contains("adapter"),
            "{err}"
        );
        return;
    }
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    let launches = v["launches"].as_array().unwrap();
    // The same launches as a training step counts (tests/counters.rs holds the number).
    let (ok, train, err) = steadygrad(&[
        "train", "--epochs", "1", "--limit", "64", "--json", "--device", "gpu",
    ]);
    assert!(ok, "{err}");
    let last: serde_json::Value = serde_json::from_str(train.lines().last().unwrap()).unwrap();
    let per_step = last["dispatches_per_step"].as_f64().unwrap();
    assert_eq!(launches.len() as f64, per_step, "{v}\n{last}");
    assert!(
        launches[0]["label"]
            .as_str()
            .unwrap()
            .starts_with("BnTrainGatherU8"),
        "{v}"
    );
    assert!(
        launches
            .iter()
            .all(|l| l["seconds"].as_f64().unwrap() > 0.0),
        "{v}"
    );
    assert!(v["step_seconds"].as_f64().unwrap() > 0.0, "{v}");
    // A model of one's own, by its Keras JSON: the example CNN's file, launch for launch
    // what `--model cnn` (the same file, built in) profiles.
    let profile = |model: &str| {
        let (ok, out, err) =
            steadygrad(&["bench", "--profile", "--quick", "--json", "--model", model]);
        assert!(ok, "{model}: {err}");
        let v: serde_json::Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
        let labels: Vec<String> = (v["launches"].as_array().unwrap().iter())
            .map(|l| l["label"].as_str().unwrap().to_string())
            .collect();
        labels
    };
    let by_file = profile("examples/cnn.json");
    assert!(
        by_file.iter().any(|l| l.starts_with("MaxPool →")),
        "{by_file:?}"
    );
    assert_eq!(by_file, profile("cnn"));
    for (args, needle) in [
        (vec!["--model", "resnet"], "--model resnet"),
        (vec!["--model", "missing.json"], "missing.json"),
        (vec!["--batch-size", "0"], "--batch-size 0"),
    ] {
        let mut a = vec!["bench", "--profile", "--quick"];
        a.extend(&args);
        let (ok, _, err) = steadygrad(&a);
        assert!(
            !ok && err.starts_with("error:") && err.contains(needle),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn tune_refuses_a_model_it_cannot_read_before_touching_the_cache() {
    let dir = tmp("tune-cache");
    std::fs::create_dir_all(&dir).unwrap();
    let cache = dir.join("matmul-autotune.json");
    std::fs::write(&cache, "{}").unwrap();
    let missing = dir.join("missing.json");
    let bad = dir.join("bad.json");
    std::fs::write(
        &bad,
        r#"{"class_name": "Sequential", "config": {"layers": [{"class_name": "Conv3D"}]}}"#,
    )
    .unwrap();
    for model in [&missing, &bad] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_steadygrad"))
            .args(["tune", "--model-config"])
            .arg(model)
            .env("STEADYGRAD_CACHE_DIR", &dir)
            .env("XDG_RUNTIME_DIR", std::env::temp_dir())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success());
        assert!(
            err.starts_with("error:") && err.trim_end().lines().count() == 1,
            "{err}"
        );
        let name = model.file_name().unwrap().to_string_lossy();
        assert!(err.contains(name.as_ref()), "{err}");
        assert_eq!(std::fs::read_to_string(&cache).unwrap(), "{}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
