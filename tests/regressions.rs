//! Regression tests for bugs found while reading the code, one each: an empty
//! `batch_shape`, `transfer --seed` not seeding the new head, the input shape hard-wired to
//! 28×28, the step record carried as f32 (inexact past 2²⁴), and builder methods that
//! silently did nothing on the wrong layer kind (now a compile error, see the
//! `compile_fail` example on `steadygrad::nn`).

mod common;

use std::path::{Path, PathBuf};

use common::*;
use safetensors::tensor::{Dtype, TensorView};
use steadygrad::backend::{ActKind, Backend, CpuBackend, Kernel, STEP_WORDS};
use steadygrad::io::{load_model, model_from_json, save_model};
use steadygrad::nn::{Layer, Sequential};

fn tmp(name: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!("steadygrad-reg-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&p);
    std::fs::create_dir_all(&p).unwrap();
    p
}

#[test]
fn an_empty_batch_shape_is_an_error_not_a_panic() {
    for shape in ["[]", "[null]", "[null, 0]", "[null, -3]", "[null, \"28\"]"] {
        let text = format!(
            r#"{{"class_name": "Sequential", "config": {{"layers": [
                {{"class_name": "InputLayer", "config": {{"batch_shape": {shape}}}}},
                {{"class_name": "Flatten", "config": {{}}}},
                {{"class_name": "Dense", "config": {{"units": 2}}}}]}}}}"#
        );
        let e = model_from_json(&text, 0).unwrap_err();
        assert!(e.to_string().contains("batch"), "{shape}: {e}");
    }
    // And through the CLI, as a model folder.
    let dir = tmp("empty-shape");
    std::fs::write(
        dir.join("model.json"),
        r#"{"class_name": "Sequential", "config": {"layers": [{"class_name": "InputLayer", "config": {"batch_shape": []}}]}}"#,
    )
    .unwrap();
    let (ok, _, err) = steadygrad(&["summary", "--model", dir.to_str().unwrap()]);
    assert!(
        !ok && err.starts_with("error:") && err.contains("model.json"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

fn write_dataset(path: &Path, n: usize, shape: &[usize], classes: u32) {
    let features: usize = shape.iter().product();
    let x: Vec<f32> = random(n * features, 1.0, 3);
    // A learnable rule: the class is which third of the range the first value is in.
    let y: Vec<i64> = (0..n)
        .map(|i| (((x[i * features] + 1.0) / 2.0 * classes as f32) as i64).min(classes as i64 - 1))
        .collect();
    let mut xs = vec![n];
    xs.extend_from_slice(shape);
    let views = vec![
        (
            "x",
            TensorView::new(Dtype::F32, xs, bytemuck::cast_slice(&x)).unwrap(),
        ),
        (
            "y",
            TensorView::new(Dtype::I64, vec![n], bytemuck::cast_slice(&y)).unwrap(),
        ),
    ];
    std::fs::write(path, safetensors::serialize(views, None).unwrap()).unwrap();
}

#[test]
fn the_input_shape_comes_from_the_data() {
    let dir = tmp("shape");
    let data = dir.join("d.safetensors");
    write_dataset(&data, 96, &[3, 5], 3);
    let out = dir.join("model");
    let (ok, stdout, err) = steadygrad(&[
        "train",
        "--data",
        data.to_str().unwrap(),
        "--test-data",
        data.to_str().unwrap(),
        "--hidden",
        "8",
        "--classes-out",
        "3",
        "--epochs",
        "2",
        "--device",
        "cpu",
        "--json",
        "--save",
        out.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    assert!(stdout.contains("\"test_accuracy\""), "{stdout}");
    let m = load_model(&out).unwrap().model;
    assert_eq!(m.input_shape(), &[3, 5]);
    assert_eq!(
        m.weights()[m.weight_index("dense/kernel").unwrap()].shape,
        vec![15, 8]
    );
}

#[test]
fn transfer_seed_seeds_the_new_head() {
    let dir = tmp("seed");
    let data = dir.join("d.safetensors");
    write_dataset(&data, 64, &[6], 2);
    let base = Sequential::new(
        &[6],
        vec![
            Layer::dense(5).activation(ActKind::Relu).into(),
            Layer::dense(3).activation(ActKind::Softmax).into(),
        ],
        1,
    )
    .unwrap();
    let from = dir.join("base");
    save_model(&base, None, &from).unwrap();
    let head = |seed: &str, name: &str| {
        let out = dir.join(name);
        let (ok, _, err) = steadygrad(&[
            "transfer",
            "--from",
            from.to_str().unwrap(),
            "--new-head",
            "2",
            "--data",
            data.to_str().unwrap(),
            "--epochs",
            "0",
            "--device",
            "cpu",
            "--json",
            "--seed",
            seed,
            "--save",
            out.to_str().unwrap(),
        ]);
        assert!(ok, "{err}");
        let m = load_model(&out).unwrap().model;
        let i = m.weight_index("dense_1/kernel").unwrap();
        m.weights()[i].data.clone()
    };
    let (a, b, a2) = (head("1", "a"), head("2", "b"), head("1", "a2"));
    assert_eq!(a, a2, "the same seed gives the same head");
    assert_ne!(a, b, "another seed gives another head");
}

#[test]
fn the_step_record_is_exact_past_two_to_the_24() {
    // RReLU draws its slopes from the step: steps 2²⁴ and 2²⁴ + 1 are one f32 apart only
    // as u32 words.
    let n = 64;
    let slopes = |be: &mut dyn Backend, step: u32| -> Vec<f32> {
        let k = Kernel::ActForward {
            act: ActKind::Rrelu {
                lower: 0.1,
                upper: 0.3,
            },
            n,
            training: true,
            seed: 3,
        };
        let mut record = vec![0.0; STEP_WORDS];
        record[0] = f32::from_bits(step);
        let x = be.upload(&vec![-1.0; n]).unwrap();
        let y = be.alloc(n).unwrap();
        let s = be.upload(&record).unwrap();
        be.run(&k, &[x, y, s]).unwrap();
        be.read(y).unwrap()
    };
    let big = 1u32 << 24;
    let mut devices: Vec<Box<dyn Backend>> = vec![Box::new(CpuBackend::new())];
    if let Some(g) = gpu() {
        devices.push(Box::new(g));
    }
    for mut be in devices {
        let (a, b) = (slopes(be.as_mut(), big), slopes(be.as_mut(), big + 1));
        assert_ne!(
            a,
            b,
            "{}: consecutive steps draw different slopes",
            be.info().kind
        );
    }
}
