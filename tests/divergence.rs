//! The divergence guard: a run whose loss explodes while staying finite is stopped (or,
//! asked to, warned about) on the CPU and the GPU, with and without batch normalization,
//! naming a layer; a healthy run is not; no read-back is added inside steps.

mod common;

use common::*;
use steadygrad::backend::{ActKind, Backend, CpuBackend};
use steadygrad::data::idx::load_mnist_dir;
use steadygrad::data::Dataset;
use steadygrad::nn::{Initializer, Layer, Sequential};
use steadygrad::optim::Sgd;
use steadygrad::train::{Divergence, FitOptions, LossName, Session};
use steadygrad::Error;

fn digits(n: usize) -> Dataset {
    let (train, _) =
        load_mnist_dir(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data")).unwrap();
    train.limit(n)
}

fn mlp(act: ActKind, batch_norm: bool) -> Sequential {
    let mut layers = vec![Layer::flatten()];
    for units in [64, 32] {
        layers.push(
            Layer::dense(units)
                .activation(act)
                .kernel_initializer(Initializer::GLOROT_UNIFORM)
                .into(),
        );
        if batch_norm {
            layers.push(Layer::batch_norm());
        }
    }
    layers.push(Layer::dense(10).activation(ActKind::Softmax).into());
    Sequential::new(&[28, 28], layers, 5).unwrap()
}

fn devices() -> Vec<Box<dyn Backend>> {
    let mut v: Vec<Box<dyn Backend>> = vec![Box::new(CpuBackend::new())];
    if let Some(g) = gpu() {
        v.push(Box::new(g));
    }
    v
}

fn fit(
    m: Sequential,
    be: Box<dyn Backend>,
    lr: f32,
    warn_only: bool,
) -> (Session, steadygrad::Result<steadygrad::train::History>) {
    let mut s = Session::with_backend(m, be).unwrap();
    s.compile(
        Box::new(Sgd::new(lr)),
        LossName::SparseCategoricalCrossentropy,
    )
    .unwrap();
    let opts = FitOptions {
        epochs: 1,
        divergence: Divergence {
            warn_only,
            ..Default::default()
        },
        ..Default::default()
    };
    let h = s.fit(&digits(1024), None, &opts, &mut []);
    (s, h)
}

#[test]
fn an_exploding_finite_loss_is_stopped_with_and_without_batch_norm() {
    for be in devices() {
        let dev = be.info().kind;
        let (_, r) = fit(mlp(ActKind::Sigmoid, false), be, 1e6, false);
        match r {
            Err(Error::Diverged { layer, .. }) => assert!(layer.starts_with("dense"), "{layer}"),
            other => panic!("{dev}: expected a divergence error, got {other:?}"),
        }
    }
    for be in devices() {
        let dev = be.info().kind;
        let (_, r) = fit(mlp(ActKind::Sigmoid, true), be, 1e6, false);
        assert!(
            matches!(
                r,
                Err(Error::Diverged { .. }) | Err(Error::NonFinite { .. })
            ),
            "{dev}: with batch norm: {r:?}"
        );
    }
}

#[test]
fn warn_only_goes_on_and_says_so_once() {
    let (s, r) = fit(
        mlp(ActKind::Tanh, false),
        Box::new(CpuBackend::new()),
        1e6,
        true,
    );
    let h = r.unwrap();
    let warnings: Vec<&String> = h.epochs.iter().flat_map(|e| &e.warnings).collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("diverging"), "{}", warnings[0]);
    assert_eq!(s.steps_done(), 32, "the epoch ran to its end");
}

#[test]
fn a_healthy_run_is_not_flagged_and_steps_read_nothing_back() {
    for be in devices() {
        let (_, r) = fit(mlp(ActKind::Relu, true), be, 0.01, false);
        let h = r.unwrap();
        assert!(h.epochs.iter().all(|e| e.warnings.is_empty()));
        assert_eq!(h.counters.readback_bytes_per_step, 0.0);
        assert_eq!(h.counters.submits_per_step, 1.0);
    }
}
