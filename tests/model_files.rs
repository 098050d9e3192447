//! Saving, loading, Keras import, surgery and freezing.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use safetensors::tensor::{Dtype, TensorView};
use steadygrad::backend::ActKind;
use steadygrad::data::idx::load_mnist_dir;
use steadygrad::data::{load_safetensors_dataset, Dataset, Samples};
use steadygrad::io::{load_model, load_weights, model_from_json, save_model};
use steadygrad::nn::{Activation, Initializer, Layer, LayerKind, Sequential};
use steadygrad::optim::Sgd;
use steadygrad::train::{FitOptions, Session};
use steadygrad::Error;

use common::compile_cpu;

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("steadygrad-mf-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn mnist_small() -> (Dataset, Dataset) {
    let (tr, te) = load_mnist_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("data")).unwrap();
    (tr.limit(256), te.limit(200))
}

fn seedish(seed: u64) -> Sequential {
    Sequential::new(
        &[28, 28],
        vec![
            Layer::flatten(),
            Layer::batch_norm(),
            Layer::dense(32)
                .activation(ActKind::Elu { alpha: 1.0 })
                .kernel_initializer(Initializer::HE_NORMAL)
                .into(),
            Layer::batch_norm(),
            Layer::dense(16)
                .activation(ActKind::LeakyRelu { alpha: 0.1 })
                .kernel_initializer(Initializer::HE_NORMAL)
                .into(),
            Layer::prelu(),
            Layer::dense(10).activation(ActKind::Softmax).into(),
        ],
        seed,
    )
    .unwrap()
}

fn compile(m: Sequential) -> Session {
    compile_cpu(m, Sgd::new(0.01).momentum(0.9).nesterov(true))
}

/// Saves a session's model with its optimizer state.
fn save(s: &mut Session, dir: &Path) {
    let state = s.optimizer_state().unwrap();
    save_model(s.model().unwrap(), Some(&state), dir).unwrap();
}

fn flat(d: &Dataset) -> Vec<f32> {
    (0..d.len()).flat_map(|i| d.sample(i)).collect()
}

#[test]
fn save_load_is_bit_exact_and_resuming_equals_an_uninterrupted_run() {
    let (train, test) = mnist_small();
    let opts = |steps| FitOptions {
        epochs: 10,
        batch_size: 32,
        shuffle: false,
        max_steps: Some(steps),
        ..Default::default()
    };
    // Uninterrupted: 12 steps.
    let mut a = compile(seedish(1));
    a.fit(&train, None, &opts(12), &mut []).unwrap();
    // Interrupted after 8 steps (one epoch), saved, loaded, resumed for 4.
    let mut b = compile(seedish(1));
    b.fit(&train, None, &opts(8), &mut []).unwrap();
    let dir = tmpdir("resume");
    save(&mut b, &dir);
    let before = b.predict(&flat(&test), 64).unwrap();
    let loaded = load_model(&dir).unwrap();
    let c = loaded.model;
    assert_eq!(
        c.weights(),
        b.get_weights().unwrap(),
        "weights round-trip bit for bit"
    );
    assert_eq!(
        c.layers(),
        b.model().unwrap().layers(),
        "architecture round-trips"
    );
    let mut c = compile(c);
    assert_eq!(
        c.predict(&flat(&test), 64).unwrap(),
        before,
        "predictions round-trip exactly"
    );
    let state = loaded.optimizer.expect("optimizer state saved");
    assert_eq!(state.iterations, 8);
    c.set_optimizer_state(&state).unwrap();
    assert_eq!(c.optimizer_state().unwrap(), b.optimizer_state().unwrap());
    c.fit(&train, None, &opts(12), &mut []).unwrap();
    assert_eq!(
        c.get_weights().unwrap(),
        a.get_weights().unwrap(),
        "resumed run equals the uninterrupted one"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

fn write_safetensors(path: &Path, tensors: &[(String, Vec<usize>, Vec<u8>, Dtype)]) {
    let views: Vec<(String, TensorView)> = tensors
        .iter()
        .map(|(n, s, b, d)| (n.clone(), TensorView::new(*d, s.clone(), b).unwrap()))
        .collect();
    std::fs::write(path, safetensors::serialize(views, None).unwrap()).unwrap();
}

#[test]
fn keras_architecture_and_weights_import() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/keras_model.json"
    ))
    .unwrap();
    let m = model_from_json(&text, 0).unwrap();
    assert_eq!(m.input_shape(), vec![28, 28]);
    let names: Vec<(&str, &str)> = m
        .layers()
        .iter()
        .map(|l| (l.name.as_str(), l.class_name()))
        .collect();
    assert_eq!(
        names,
        [
            ("flatten", "Flatten"),
            ("dense", "Dense"),
            ("batch_normalization", "BatchNormalization"),
            ("activation", "Activation"),
            ("dense_1", "Dense"),
            ("dense_2", "Dense"),
            ("p_re_lu", "PReLU"),
            ("dense_3", "Dense")
        ]
    );
    let dense = |i: usize| match &m.layers()[i].kind {
        LayerKind::Dense(d) => d.clone(),
        other => panic!("{other:?}"),
    };
    assert!(!dense(1).use_bias);
    assert_eq!(dense(1).kernel_initializer, Initializer::HE_NORMAL);
    assert_eq!(
        m.layers()[3].kind,
        LayerKind::Activation(Activation::new(ActKind::Elu { alpha: 1.0 }))
    );
    assert_eq!(dense(4).activation, ActKind::LeakyRelu { alpha: 0.2 });
    assert_eq!(dense(5).activation, ActKind::Selu);
    assert_eq!(dense(5).kernel_initializer, Initializer::LECUN_NORMAL);
    assert_eq!(dense(7).activation, ActKind::Softmax);
    assert_eq!(dense(7).kernel_initializer, Initializer::GLOROT_UNIFORM);

    // Weights as Keras writes them: variable paths with the model-name prefix.
    let mut model = model_from_json(&text, 0).unwrap();
    let dir = tmpdir("keras");
    std::fs::create_dir_all(&dir).unwrap();
    let mut expected = HashMap::new();
    let tensors: Vec<(String, Vec<usize>, Vec<u8>, Dtype)> = model
        .weights()
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let v: Vec<f32> = (0..w.data.len())
                .map(|j| (i * 1000 + j) as f32 * 1e-4)
                .collect();
            expected.insert(w.name.clone(), v.clone());
            (
                format!("sequential/{}", w.name),
                w.shape.clone(),
                bytemuck::cast_slice(&v).to_vec(),
                Dtype::F32,
            )
        })
        .collect();
    let wpath = dir.join("weights.safetensors");
    write_safetensors(&wpath, &tensors);
    load_weights(&mut model, &wpath).unwrap();
    for w in model.weights() {
        assert_eq!(&w.data, &expected[&w.name], "{}", w.name);
    }
    std::fs::remove_dir_all(&dir).unwrap();

    let bad = text.replace("\"PReLU\"", "\"GaussianNoise\"");
    let e = model_from_json(&bad, 0).unwrap_err();
    assert!(e.to_string().contains("GaussianNoise"), "{e}");
}

#[test]
fn corrupt_or_mismatched_files_are_clear_errors_and_leave_the_folder_untouched() {
    let m = seedish(2);
    let dir = tmpdir("corrupt");
    save_model(&m, None, &dir).unwrap();
    let snapshot = |d: &Path| -> Vec<(String, Vec<u8>)> {
        let mut v: Vec<_> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (
                    e.file_name().to_string_lossy().to_string(),
                    std::fs::read(e.path()).unwrap(),
                )
            })
            .collect();
        v.sort();
        v
    };
    let good = snapshot(&dir);
    let wpath = dir.join("weights.safetensors");
    let other = tmpdir("other");
    std::fs::create_dir_all(&other).unwrap();
    let probe = |bytes: Vec<u8>, want: &str| {
        let p = other.join("weights.safetensors");
        std::fs::write(&p, bytes).unwrap();
        let mut fresh = seedish(3);
        let e = load_weights(&mut fresh, &p).unwrap_err();
        assert!(matches!(e, Error::ModelFile { .. }), "{e}");
        assert!(e.to_string().contains(want), "{e} lacks {want:?}");
    };
    let full = std::fs::read(&wpath).unwrap();
    probe(full[..full.len() / 2].to_vec(), "not a valid safetensors");
    let named = |skip: &str, reshape: Option<&str>, int: Option<&str>| {
        let tensors: Vec<(String, Vec<usize>, Vec<u8>, Dtype)> = m
            .weights()
            .iter()
            .filter(|w| w.name != skip)
            .map(|w| {
                let shape = if Some(w.name.as_str()) == reshape {
                    vec![w.data.len(), 1]
                } else {
                    w.shape.clone()
                };
                let dt = if Some(w.name.as_str()) == int {
                    Dtype::I32
                } else {
                    Dtype::F32
                };
                (
                    w.name.clone(),
                    shape,
                    bytemuck::cast_slice(&w.data).to_vec(),
                    dt,
                )
            })
            .collect();
        let p = other.join("tmp.safetensors");
        write_safetensors(&p, &tensors);
        std::fs::read(&p).unwrap()
    };
    probe(named("dense/bias", None, None), "missing tensor dense/bias");
    probe(named("", Some("dense_1/kernel"), None), "shape");
    probe(named("", None, Some("dense/kernel")), "floating point");
    let mut arch = seedish(3);
    arch.add(Layer::dense(4), 0).unwrap();
    let p = other.join("weights.safetensors");
    std::fs::write(&p, named("", None, None)).unwrap();
    let e = load_weights(&mut arch, &p).unwrap_err();
    assert!(
        e.to_string().contains("missing tensor dense_3/kernel"),
        "{e}"
    );
    // A failed save (the target is a file, not a folder) leaves the existing folder as it was.
    let not_a_dir = dir.join("model.json");
    assert!(save_model(&m, None, &not_a_dir).is_err());
    assert_eq!(snapshot(&dir), good);
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::remove_dir_all(&other).unwrap();
}

#[test]
fn frozen_layers_stay_bit_identical_and_unfreezing_changes_only_them() {
    let (train, _) = mnist_small();
    let base = seedish(4);
    let mut m = base.without_top(1).unwrap();
    m.add(Layer::dense(10).activation(ActKind::Softmax), 9)
        .unwrap();
    let reused = m.layers().len() - 1;
    for i in 0..reused {
        m.set_trainable(i, false).unwrap();
    }
    let (_, trainable, _) = m.param_counts();
    assert_eq!(trainable, 16 * 10 + 10, "only the new head is trainable");
    assert!(m
        .summary()
        .contains(&format!("Trainable params: {}", trainable)));
    let head = format!("{}/", m.layers().last().unwrap().name);
    let mut m = compile(m);
    let before = m.get_weights().unwrap();
    m.fit(
        &train,
        None,
        &FitOptions {
            epochs: 1,
            ..Default::default()
        },
        &mut [],
    )
    .unwrap();
    let after = m.get_weights().unwrap();
    for (b, a) in before.iter().zip(&after) {
        if b.name.starts_with(&head) {
            assert_ne!(a.data, b.data, "{} (head) changed", a.name);
        } else {
            assert_eq!(
                a.data, b.data,
                "{} (frozen, BN statistics included) unchanged",
                a.name
            );
        }
    }
    // Unfreeze the top reused Dense (dense_1) with a lower rate; nothing else below moves.
    let top_dense = m
        .model()
        .unwrap()
        .layers()
        .iter()
        .position(|l| l.name == "dense_1")
        .unwrap();
    m.set_trainable(top_dense, true).unwrap();
    m.set_lr_multiplier(top_dense, 0.1).unwrap();
    m.fit(
        &train,
        None,
        &FitOptions {
            epochs: 1,
            ..Default::default()
        },
        &mut [],
    )
    .unwrap();
    let later = m.get_weights().unwrap();
    for (a, l) in after.iter().zip(&later) {
        let moves = a.name.starts_with(&head) || a.name.starts_with("dense_1/");
        assert_eq!(a.data != l.data, moves, "{}", a.name);
    }
    // The original model is untouched by the surgery.
    assert_eq!(base.weights(), seedish(4).weights());
}

#[test]
fn safetensors_data_sets_load_with_any_label_type() {
    let dir = tmpdir("data");
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("d.safetensors");
    let x: Vec<u8> = (0..24).collect();
    let y: Vec<i64> = vec![0, 2, 1];
    write_safetensors(
        &p,
        &[
            ("x".into(), vec![3, 2, 4], x.clone(), Dtype::U8),
            (
                "y".into(),
                vec![3],
                bytemuck::cast_slice(&y).to_vec(),
                Dtype::I64,
            ),
        ],
    );
    let d = load_safetensors_dataset(&p).unwrap();
    assert_eq!(d.sample_shape, vec![2, 4]);
    assert_eq!(d.y, vec![0, 2, 1]);
    assert_eq!(d.x, Samples::U8(x));
    let yf: Vec<f32> = vec![1.0, 0.5, 2.0];
    let xf: Vec<f32> = vec![0.0; 6];
    write_safetensors(
        &p,
        &[
            (
                "x".into(),
                vec![3, 2],
                bytemuck::cast_slice(&xf).to_vec(),
                Dtype::F32,
            ),
            (
                "y".into(),
                vec![3],
                bytemuck::cast_slice(&yf).to_vec(),
                Dtype::F32,
            ),
        ],
    );
    let e = load_safetensors_dataset(&p).unwrap_err();
    assert!(e.to_string().contains("whole number"), "{e}");
    write_safetensors(
        &p,
        &[
            (
                "x".into(),
                vec![3, 2],
                bytemuck::cast_slice(&xf).to_vec(),
                Dtype::F32,
            ),
            ("y".into(), vec![2], vec![0; 8], Dtype::F32),
        ],
    );
    assert!(load_safetensors_dataset(&p)
        .unwrap_err()
        .to_string()
        .contains("match x"));
    let filtered = Dataset::new(Samples::U8(vec![0; 4]), vec![8, 3, 9, 8], vec![1])
        .unwrap()
        .filter_classes(&[8, 9])
        .unwrap();
    assert_eq!(filtered.y, vec![0, 1, 0]);
    std::fs::remove_dir_all(&dir).unwrap();
}
