//! Hostile command lines, one per class of failure the reliability review found: huge
//! sizes, values accepted silently, flags ignored in a combination, unclear messages. Each
//! must end with one line `error: …` that names the flag (or the file), exit non-zero, and
//! never panic or abort.

mod common;

use common::steadygrad;

fn refused(args: &[&str], names: &str) {
    let (ok, _, err) = steadygrad(args);
    assert!(!ok, "{args:?} was accepted");
    let lines: Vec<&str> = err.lines().filter(|l| !l.starts_with("device:")).collect();
    assert_eq!(lines.len(), 1, "{args:?}: one line expected, got {err:?}");
    assert!(lines[0].starts_with("error: "), "{args:?}: {err}");
    assert!(
        lines[0].contains(names),
        "{args:?}: {err} does not name {names:?}"
    );
    assert!(
        !err.contains("panicked") && !err.contains("memory allocation"),
        "{err}"
    );
}

const CPU: [&str; 4] = ["--device", "cpu", "--limit", "64"];

fn train(extra: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = ["train"]
        .iter()
        .chain(CPU.iter())
        .map(|s| s.to_string())
        .collect();
    v.extend(extra.iter().map(|s| s.to_string()));
    v
}

fn refused_train(extra: &[&str], names: &str) {
    let v = train(extra);
    let args: Vec<&str> = v.iter().map(String::as_str).collect();
    refused(&args, names);
}

#[test]
fn huge_sizes_are_refused_before_allocating() {
    refused_train(&["--hidden", "100000000000"], "dense");
    refused_train(&["--hidden", "40000,40000"], "dense_1/kernel");
    refused_train(&["--hidden", "30000,30000,30000"], "parameters");
    refused_train(&["--classes-out", "100000000000"], "dense_2");
    refused_train(&["--classes-out", "1e11"], "--classes-out");
    refused_train(&["--steps", "99999999999999999999"], "--steps");
}

#[test]
fn bad_values_are_not_accepted_silently() {
    refused_train(&["--activation", "relu:0.5"], "relu");
    refused_train(&["--activation", "leaky_relu:nan"], "leaky_relu");
    refused_train(&["--activation", "rrelu:0.5:0.1"], "rrelu");
    refused_train(&["--classes", "3,3"], "--classes");
    refused_train(&["--classes-out", "1"], "1 unit");
    refused_train(
        &["--lr-schedule", "exponential:-0.1:100:0.9"],
        "--lr-schedule",
    );
    refused_train(&["--lr-schedule", "piecewise:10:0.1,junk"], "--lr-schedule");
    refused_train(&["--lr-schedule", "junk"], "--lr-schedule");
    refused_train(&["--lr", "-0.01"], "--lr");
    refused_train(&["--lr=-0.01"], "--lr");
    refused_train(&["--lr", "NaN"], "--lr");
    refused_train(&["--momentum", "1"], "momentum");
    refused_train(&["--optimizer", "adam", "--beta-1", "1.5"], "beta_1");
    refused_train(&["--optimizer", "adam", "--epsilon", "-1"], "epsilon");
    refused_train(&["--optimizer", "adamz"], "adamz");
    refused_train(&["--steps", "0"], "--steps");
    refused_train(&["--check-every", "0"], "--check-every");
    refused_train(&["--batch-size", "0"], "batch size");
    refused_train(&["--seed", "-1"], "--seed");
}

#[test]
fn flags_that_cannot_combine_are_refused() {
    refused_train(&["--hidden", "10", "--model", "somewhere"], "--hidden");
    refused_train(
        &["--no-batch-norm", "--batch-norm", "before"],
        "--no-batch-norm",
    );
    refused_train(&["--optimizer", "adam", "--rho", "0.5"], "--rho");
    refused_train(&["--optimizer", "sgd", "--amsgrad"], "--amsgrad");
    refused_train(
        &["--lr", "0.1", "--lr-schedule", "exponential:0.1:100:0.9"],
        "--lr",
    );
    refused_train(&["--test-data", "x.safetensors"], "--test-data");
    refused(
        &[
            "transfer",
            "--from",
            "m",
            "--new-head",
            "2",
            "--lr-unfrozen",
            "0.1",
        ],
        "--unfreeze-top",
    );
    refused(&["evaluate", "--model", "m", "--limit", "5"], "--limit");
}

#[test]
fn output_files_are_checked_before_training() {
    refused_train(&["--history", "/nonexistent-dir/h.csv"], "--history");
    refused_train(&["--health", "/nonexistent-dir/h.csv"], "--health");
    refused_train(&["--history", "/tmp"], "is a folder");
    refused_train(&["--health-every", "0"], "--health-every");
    refused(&["experiment", "depth", "--layers", "0"], "--layers");
    refused(&["experiment", "depth", "--only", "nope"], "nope");
    refused(
        &["plot", "--history", "Cargo.toml", "--out", "/tmp/x"],
        "Cargo.toml",
    );
    let bad = std::env::temp_dir().join("steadygrad-hostile-epochs.csv");
    std::fs::write(
        &bad,
        "epoch,loss,accuracy,test_loss,test_accuracy,samples_per_second\n1,zz,0.5,,,1\n",
    )
    .unwrap();
    refused(
        &[
            "plot",
            "--history",
            bad.to_str().unwrap(),
            "--out",
            "/tmp/x",
        ],
        "line 2: loss",
    );
}

#[test]
fn files_are_named_in_their_errors() {
    refused_train(&["--data", "/nonexistent-data"], "/nonexistent-data");
    refused_train(&["--data", "Cargo.toml"], "Cargo.toml");
    refused(
        &[
            "evaluate",
            "--model",
            "/nonexistent-model",
            "--device",
            "cpu",
        ],
        "/nonexistent-model",
    );
    refused(
        &[
            "predict",
            "--model",
            "/nonexistent-model",
            "--input",
            "/nonexistent-x",
            "--output",
            "y",
        ],
        "/nonexistent-x",
    );
}
