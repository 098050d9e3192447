//! Bad input gets a clear, typed error naming the problem — never a panic.

mod common;

use std::io::Write;

use common::compile_cpu;

use steadygrad::backend::ActKind;
use steadygrad::data::idx::{load_idx_pair, load_mnist_dir};
use steadygrad::data::{Dataset, Samples};
use steadygrad::nn::{Layer, Sequential};
use steadygrad::optim::{Clip, Sgd};
use steadygrad::train::{FitOptions, Session};
use steadygrad::CpuBackend;
use steadygrad::Error;

fn tmp(name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("steadygrad-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::File::create(&p).unwrap().write_all(bytes).unwrap();
    p
}

fn idx(magic: [u8; 4], dims: &[u32], body: &[u8]) -> Vec<u8> {
    let mut v = magic.to_vec();
    for d in dims {
        v.extend(d.to_be_bytes());
    }
    v.extend(body);
    v
}

#[test]
fn corrupt_idx_files_are_named() {
    let labels = tmp("labels", &idx([0, 0, 8, 1], &[2], &[1, 2]));
    let truncated = tmp("trunc", &idx([0, 0, 8, 3], &[2, 2, 2], &[0; 5]));
    let e = load_idx_pair(&truncated, &labels).unwrap_err();
    assert!(
        matches!(e, Error::Data { .. })
            && e.to_string().contains("trunc")
            && e.to_string().contains("truncated"),
        "{e}"
    );
    let magic = tmp("magic", &idx([1, 2, 8, 3], &[2, 2, 2], &[0; 8]));
    let e = load_idx_pair(&magic, &labels).unwrap_err();
    assert!(e.to_string().contains("magic"), "{e}");
    let three = tmp("three_labels", &idx([0, 0, 8, 1], &[3], &[1, 2, 3]));
    let images = tmp("images", &idx([0, 0, 8, 3], &[2, 2, 2], &[0; 8]));
    let e = load_idx_pair(&images, &three).unwrap_err();
    assert!(e.to_string().contains("3 labels for 2 images"), "{e}");
    let gz = tmp("bad.gz", &[0x1f, 0x8b, 1, 2, 3]);
    let e = load_idx_pair(&gz, &labels).unwrap_err();
    assert!(e.to_string().contains("gzip"), "{e}");
    let e = load_mnist_dir(std::path::Path::new("/nonexistent-folder")).unwrap_err();
    assert!(e.to_string().contains("train-images-idx3-ubyte"), "{e}");
}

fn model() -> Session {
    let m = Sequential::new(
        &[2, 2],
        vec![
            Layer::flatten(),
            Layer::dense(3).into(),
            Layer::dense(10).activation(ActKind::Softmax).into(),
        ],
        0,
    )
    .unwrap();
    compile_cpu(m, Sgd::new(0.1))
}

#[test]
fn labels_out_of_range_are_rejected() {
    let d = Dataset::new(Samples::U8(vec![0; 8]), vec![3, 10], vec![2, 2]).unwrap();
    let e = model()
        .fit(&d, None, &FitOptions::default(), &mut [])
        .unwrap_err();
    assert!(e.to_string().contains("label 10 of sample 1"), "{e}");
}

#[test]
fn batch_size_zero_and_empty_data_are_rejected() {
    let d = Dataset::new(Samples::U8(vec![0; 8]), vec![3, 1], vec![2, 2]).unwrap();
    let opts = FitOptions {
        batch_size: 0,
        ..Default::default()
    };
    let e = model().fit(&d, None, &opts, &mut []).unwrap_err();
    assert!(e.to_string().contains("batch size"), "{e}");
    let empty = Dataset::new(Samples::U8(vec![]), vec![], vec![2, 2]).unwrap();
    let e = model()
        .fit(&empty, None, &FitOptions::default(), &mut [])
        .unwrap_err();
    assert!(e.to_string().contains("empty"), "{e}");
    assert!(model().evaluate(&d, 0).is_err());
}

#[test]
fn nan_in_data_and_wrong_shapes_are_rejected() {
    let e = Dataset::new(
        Samples::F32(vec![0.0, f32::NAN, 0.0, 0.0]),
        vec![1],
        vec![2, 2],
    )
    .unwrap_err();
    assert!(e.to_string().contains("non-finite"), "{e}");
    let e = Dataset::new(Samples::F32(vec![0.0; 5]), vec![1], vec![2, 2]).unwrap_err();
    assert!(matches!(e, Error::InvalidData(_)), "{e}");
    let d = Dataset::new(Samples::F32(vec![0.0; 6]), vec![1, 2], vec![3]).unwrap();
    let e = model()
        .fit(&d, None, &FitOptions::default(), &mut [])
        .unwrap_err();
    assert!(matches!(e, Error::Shape(_)), "{e}");
    assert!(model().predict(&[0.0; 5], 4).is_err());
    assert!(model().predict(&[f32::INFINITY, 0.0, 0.0, 0.0], 4).is_err());
}

#[test]
fn bad_configurations_are_rejected() {
    assert!(Clip::from_options(Some(1.0), Some(1.0), None).is_err());
    assert!(Clip::from_options(None, Some(-1.0), None).is_err());
    let e = Sequential::new(&[2, 2], vec![Layer::dense(3).into()], 0).unwrap_err();
    assert!(e.to_string().contains("Flatten"), "{e}");
    let m = Sequential::new(
        &[4],
        vec![Layer::dense(3).activation(ActKind::Relu).into()],
        0,
    )
    .unwrap();
    // A loss that does not fit the output is refused when compiling, before any step.
    let mut s = Session::with_backend(m, Box::new(CpuBackend::new())).unwrap();
    let e = s
        .compile(
            Box::new(Sgd::new(0.1)),
            steadygrad::train::LossName::SparseCategoricalCrossentropy,
        )
        .unwrap_err();
    assert!(e.to_string().contains("softmax"), "{e}");
    let d = Dataset::new(Samples::F32(vec![0.0; 4]), vec![1], vec![4]).unwrap();
    let uncompiled = Sequential::new(&[4], vec![Layer::dense(3).into()], 0).unwrap();
    let mut uncompiled = Session::with_backend(uncompiled, Box::new(CpuBackend::new())).unwrap();
    assert!(uncompiled
        .fit(&d, None, &FitOptions::default(), &mut [])
        .unwrap_err()
        .to_string()
        .contains("compile"));
}
