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
    assert!(err.contains("unfroze the top 1"), "{err}");
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
