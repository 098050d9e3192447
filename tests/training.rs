//! End-to-end training: GPU and CPU agree step by step, training reaches a useful accuracy,
//! the non-finite guard names a layer, clipping and momentum behave as the chapter says.

mod common;

use common::*;
use steadygrad::backend::{ActKind, Backend, CpuBackend};
use steadygrad::data::idx::load_mnist_dir;
use steadygrad::data::Dataset;
use steadygrad::nn::{Initializer, Layer, Sequential};
use steadygrad::optim::{Clip, Sgd};
use steadygrad::train::{Callback, Divergence, EpochLogs, FitOptions, LossName, Session};
use steadygrad::Error;

fn mnist() -> (Dataset, Dataset) {
    load_mnist_dir(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data")).unwrap()
}

fn first(d: &Dataset, n: usize) -> Dataset {
    d.subset(&(0..n).collect::<Vec<_>>())
}

fn mlp(act: ActKind, init: Initializer, hidden: &[usize], seed: u64) -> Sequential {
    let mut layers = vec![Layer::flatten()];
    for &h in hidden {
        layers.push(
            Layer::dense(h)
                .activation(act)
                .kernel_initializer(init)
                .into(),
        );
    }
    layers.push(Layer::dense(10).activation(ActKind::Softmax).into());
    Sequential::new(&[28, 28], layers, seed).unwrap()
}

fn compiled(m: Sequential, be: Box<dyn Backend>, opt: Sgd) -> Session {
    let mut s = Session::with_backend(m, be).unwrap();
    s.compile(Box::new(opt), LossName::SparseCategoricalCrossentropy)
        .unwrap();
    s
}

#[derive(Default)]
struct Losses(Vec<f32>);
impl Callback for Losses {
    fn on_batch_end(&mut self, _s: usize, _r: usize, loss: Option<f32>) {
        self.0.extend(loss);
    }
}

#[test]
fn first_five_steps_agree_on_gpu_and_cpu() {
    let Some(g) = gpu() else { return };
    let (train, _) = mnist();
    let data = first(&train, 160);
    let opts = FitOptions {
        batch_size: 32,
        shuffle: false,
        metrics_every: Some(1),
        ..Default::default()
    };
    let mut runs = Vec::new();
    for be in [Box::new(CpuBackend::new()) as Box<dyn Backend>, Box::new(g)] {
        // The seed network: BN, ELU, He init, Nesterov.
        let mut layers = vec![Layer::flatten(), Layer::batch_norm()];
        for h in [300, 100] {
            layers.push(
                Layer::dense(h)
                    .activation(ActKind::Elu { alpha: 1.0 })
                    .kernel_initializer(Initializer::HE_NORMAL)
                    .into(),
            );
            layers.push(Layer::batch_norm());
        }
        layers.push(Layer::dense(10).activation(ActKind::Softmax).into());
        let m = Sequential::new(&[28, 28], layers, 7).unwrap();
        let mut m = compiled(m, be, Sgd::new(0.01).momentum(0.9).nesterov(true));
        let mut losses = Losses::default();
        let h = m.fit(&data, None, &opts, &mut [&mut losses]).unwrap();
        assert_eq!(
            h.counters.submits_per_step, 1.0,
            "one submit per training step"
        );
        assert_eq!(
            h.counters.readback_bytes_per_step, 0.0,
            "no readback inside a step"
        );
        runs.push(losses.0);
    }
    assert_eq!(runs[0].len(), 5);
    for (i, (c, g)) in runs[0].iter().zip(&runs[1]).enumerate() {
        assert!(
            ((c - g) / c).abs() < 1e-4,
            "step {i}: CPU loss {c}, GPU loss {g}"
        );
    }
}

#[test]
fn one_epoch_on_the_gpu_reaches_useful_accuracy() {
    let Some(g) = gpu() else { return };
    let (train, test) = mnist();
    let m = mlp(ActKind::Relu, Initializer::HE_NORMAL, &[300, 100], 1);
    let mut m = compiled(m, Box::new(g), Sgd::new(0.01).momentum(0.9).nesterov(true));
    let opts = FitOptions {
        epochs: 1,
        batch_size: 32,
        seed: 3,
        ..Default::default()
    };
    let h = m.fit(&train, Some(&test), &opts, &mut []).unwrap();
    let acc = h.epochs[0].val_accuracy.unwrap();
    assert!(acc >= 0.88, "test accuracy after one epoch: {acc}");
    let (loss, eval_acc) = m.evaluate(&test, 100).unwrap();
    assert!((eval_acc - acc).abs() < 1e-6 && loss.is_finite());
    assert!(h.epochs[0]
        .grad_norms
        .iter()
        .all(|(_, n)| n.is_finite() && *n > 0.0));
}

#[test]
fn streamed_batches_equal_resident_ones() {
    let (train, _) = mnist();
    let data = first(&train, 96);
    let opts = FitOptions {
        batch_size: 32,
        shuffle: true,
        seed: 5,
        ..Default::default()
    };
    let mut results = Vec::new();
    for stream in [false, true] {
        let m = mlp(ActKind::Relu, Initializer::HE_NORMAL, &[16], 2);
        let mut m = compiled(m, Box::new(CpuBackend::new()), Sgd::new(0.05));
        m.force_streaming(stream);
        let h = m.fit(&data, None, &opts, &mut []).unwrap();
        results.push((h.epochs[0].loss, m.get_weights().unwrap()));
    }
    assert_eq!(results[0].0, results[1].0);
    assert_eq!(results[0].1, results[1].1);
}

/// A model larger than one binding is split into several arena groups (one update launch
/// each, the global clip norm still over all of them): the same training, value for value,
/// with the same gradient statistics.
#[test]
fn models_split_across_arena_groups_train_exactly_alike() {
    let (train, _) = mnist();
    let data = first(&train, 96);
    let opts = FitOptions {
        batch_size: 32,
        shuffle: false,
        ..Default::default()
    };
    let mut results = Vec::new();
    // Unlimited: one group; 32,000 words: the 784×40 kernel alone, the rest in another.
    for limit in [None, Some(32_000)] {
        let be = match limit {
            None => CpuBackend::new(),
            Some(words) => CpuBackend::with_binding_limit(words),
        };
        let m = mlp(
            ActKind::Elu { alpha: 1.0 },
            Initializer::HE_NORMAL,
            &[40, 20],
            4,
        );
        let opt = Sgd::new(0.05).momentum(0.9).clip(Clip::GlobalNorm(0.5));
        let mut s = compiled(m, Box::new(be), opt);
        let h = s.fit(&data, None, &opts, &mut []).unwrap();
        let state = s.optimizer_state().unwrap();
        let dispatches = h.counters.dispatches_per_step;
        results.push((
            h.epochs[0].loss,
            s.get_weights().unwrap(),
            state.slots,
            dispatches,
        ));
    }
    // Two groups: a gradient-statistics and an update launch more per step.
    assert_eq!(results[1].3, results[0].3 + 2.0, "dispatches per step");
    assert_eq!(results[0].0, results[1].0, "loss");
    assert_eq!(results[0].1, results[1].1, "weights");
    assert_eq!(results[0].2, results[1].2, "momentum slots");
}

fn deep_relu(seed: u64) -> Sequential {
    mlp(
        ActKind::Relu,
        Initializer::HE_NORMAL,
        &[64, 64, 64, 64, 64, 64],
        seed,
    )
}

#[test]
fn exploding_gradients_are_caught_and_clipping_prevents_them() {
    let (train, _) = mnist();
    let data = first(&train, 640);
    let opts = FitOptions {
        epochs: 3,
        batch_size: 32,
        check_every: Some(1),
        // The divergence guard would stop this run first (tests/divergence.rs); here the
        // non-finite guard is under test.
        divergence: Divergence {
            loss_factor: f32::INFINITY,
            grad_factor: f32::INFINITY,
            warn_only: false,
        },
        ..Default::default()
    };
    // Checked every step, and only at each epoch's end (the gradient statistics then
    // gathered on the epochs' first and last steps alone): the guard names a layer either way.
    for check_every in [Some(1), None] {
        let m = deep_relu(4);
        let mut m = compiled(m, Box::new(CpuBackend::new()), Sgd::new(3.0).momentum(0.9));
        let opts = FitOptions {
            check_every,
            ..opts.clone()
        };
        match m.fit(&data, None, &opts, &mut []) {
            Err(Error::NonFinite {
                layer,
                tensor,
                step,
            }) => {
                assert!(layer.starts_with("dense"), "guard names a layer: {layer}");
                assert!(tensor.starts_with(&layer));
                assert!(step < 60);
            }
            other => panic!("expected the non-finite guard to stop training, got {other:?}"),
        }
    }
    let m = deep_relu(4);
    let mut m = compiled(
        m,
        Box::new(CpuBackend::new()),
        Sgd::new(3.0).momentum(0.9).clip(Clip::Norm(1.0)),
    );
    let h = m
        .fit(&data, None, &opts, &mut [])
        .expect("clipped training stays finite");
    assert!(h.epochs.iter().all(|e| e.loss.is_finite()));
}

struct Last(Option<EpochLogs>);
impl Callback for Last {
    fn on_epoch_end(
        &mut self,
        _s: &mut Session,
        l: &EpochLogs,
    ) -> steadygrad::Result<steadygrad::train::Control> {
        self.0 = Some(l.clone());
        Ok(steadygrad::train::Control::Continue)
    }
}

#[test]
fn momentum_and_nesterov_beat_plain_sgd_in_one_epoch() {
    let (train, _) = mnist();
    let data = first(&train, 1024);
    let mut losses = Vec::new();
    for opt in [
        Sgd::new(0.01),
        Sgd::new(0.01).momentum(0.9),
        Sgd::new(0.01).momentum(0.9).nesterov(true),
    ] {
        let m = mlp(ActKind::Relu, Initializer::HE_NORMAL, &[32], 6);
        let mut m = compiled(m, Box::new(CpuBackend::new()), opt);
        let mut last = Last(None);
        m.fit(
            &data,
            None,
            &FitOptions {
                batch_size: 32,
                seed: 1,
                ..Default::default()
            },
            &mut [&mut last],
        )
        .unwrap();
        losses.push(last.0.unwrap().loss);
    }
    assert!(
        losses[1] < losses[0],
        "momentum {} vs plain {}",
        losses[1],
        losses[0]
    );
    assert!(
        losses[2] < losses[0],
        "nesterov {} vs plain {}",
        losses[2],
        losses[0]
    );
}

#[test]
fn summary_counts_match_keras() {
    let m = mlp(ActKind::Relu, Initializer::HE_NORMAL, &[300, 100], 0);
    let s = m.summary();
    for want in ["235,500", "30,100", "1,010", "Total params: 266,610"] {
        assert!(s.contains(want), "summary lacks {want}:\n{s}");
    }
    let names: Vec<&str> = m.layers().iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["flatten", "dense", "dense_1", "dense_2"]);
    assert_eq!(m.weights()[2].name, "dense_1/kernel");
    assert_eq!(m.weights()[2].shape, vec![300, 100]);
}

#[test]
fn discouraged_init_pairs_are_warned_about() {
    let relu_glorot = mlp(ActKind::Relu, Initializer::GLOROT_UNIFORM, &[8], 0);
    assert!(relu_glorot
        .init_warnings()
        .iter()
        .any(|w| w.contains("He initialization")));
    let selu_he = mlp(ActKind::Selu, Initializer::HE_NORMAL, &[8], 0);
    assert!(selu_he
        .init_warnings()
        .iter()
        .any(|w| w.contains("lecun_normal")));
    let plain = Initializer::RandomNormal {
        mean: 0.0,
        stddev: 1.0,
    };
    let deep_sigmoid = mlp(ActKind::Sigmoid, plain, &[8, 8, 8], 0);
    assert!(deep_sigmoid
        .init_warnings()
        .iter()
        .any(|w| w.contains("vanish")));
    assert!(mlp(ActKind::Selu, Initializer::LECUN_NORMAL, &[8], 0)
        .init_warnings()
        .is_empty());
    assert!(mlp(ActKind::Tanh, Initializer::GLOROT_UNIFORM, &[8], 0)
        .init_warnings()
        .is_empty());
}

#[test]
fn every_activation_trains_the_mlp_in_one_epoch() {
    let (train, test) = mnist();
    let cases = [
        (ActKind::Relu, Initializer::HE_NORMAL),
        (ActKind::LeakyRelu { alpha: 0.2 }, Initializer::HE_NORMAL),
        (
            ActKind::Rrelu {
                lower: 0.125,
                upper: 1.0 / 3.0,
            },
            Initializer::HE_NORMAL,
        ),
        (ActKind::Elu { alpha: 1.0 }, Initializer::HE_NORMAL),
        (ActKind::Selu, Initializer::LECUN_NORMAL),
        (ActKind::Tanh, Initializer::GLOROT_UNIFORM),
        (ActKind::Sigmoid, Initializer::GLOROT_UNIFORM),
    ];
    let opts = FitOptions {
        epochs: 1,
        batch_size: 32,
        seed: 2,
        ..Default::default()
    };
    for (act, init) in cases {
        let m = mlp(act, init, &[300, 100], 5);
        // The logistic function saturates and learns slowly (the chapter's point): at the
        // seed's 0.01 it reaches only ~0.5 after one epoch, so it gets a 10× larger rate.
        let lr = if act == ActKind::Sigmoid { 0.1 } else { 0.01 };
        let mut m = compiled(
            m,
            Box::new(CpuBackend::new()),
            Sgd::new(lr).momentum(0.9).nesterov(true),
        );
        let h = m.fit(&train, Some(&test), &opts, &mut []).unwrap();
        let acc = h.epochs[0].val_accuracy.unwrap();
        assert!(acc >= 0.85, "{act:?}: test accuracy {acc} after one epoch");
    }
    // PReLU as a layer after a linear Dense.
    let layers = vec![
        Layer::flatten(),
        Layer::dense(300)
            .kernel_initializer(Initializer::HE_NORMAL)
            .into(),
        Layer::prelu(),
        Layer::dense(100)
            .kernel_initializer(Initializer::HE_NORMAL)
            .into(),
        Layer::prelu(),
        Layer::dense(10).activation(ActKind::Softmax).into(),
    ];
    let m = Sequential::new(&[28, 28], layers, 5).unwrap();
    let mut m = compiled(
        m,
        Box::new(CpuBackend::new()),
        Sgd::new(0.01).momentum(0.9).nesterov(true),
    );
    let h = m.fit(&train, Some(&test), &opts, &mut []).unwrap();
    assert!(
        h.epochs[0].val_accuracy.unwrap() >= 0.85,
        "prelu: {:?}",
        h.epochs[0].val_accuracy
    );
}

/// The seed network on `be`, compiled as the README's command trains it.
fn seed_session(be: Box<dyn Backend>) -> Session {
    let mut s = Session::with_backend(steadygrad::nn::seed_network(false).unwrap(), be).unwrap();
    s.compile(
        Box::new(Sgd::new(0.01).momentum(0.9).nesterov(true)),
        LossName::SparseCategoricalCrossentropy,
    )
    .unwrap();
    s
}

/// Issue 24's count: the seed network's training step in at most 14 launches at every
/// batch size (the output layer in one launch up to batch 64, in two from 128).
#[test]
fn the_seed_networks_step_takes_at_most_14_launches_at_every_batch() {
    let (train, _) = mnist();
    for (batch, plain) in [(32, 13.0), (128, 14.0), (512, 14.0)] {
        let data = first(&train, batch * 10);
        let backends: Vec<Box<dyn Backend>> = match gpu() {
            Some(g) => vec![Box::new(CpuBackend::new()), Box::new(g)],
            None => vec![Box::new(CpuBackend::new())],
        };
        for be in backends {
            let mut s = seed_session(be);
            let opts = FitOptions {
                epochs: 1,
                batch_size: batch,
                ..Default::default()
            };
            let h = s.fit(&data, None, &opts, &mut []).unwrap();
            // 10 steps; the gradient statistics' two launches on the first and the last.
            let expected = (plain * 10.0 + 4.0) / 10.0;
            assert_eq!(h.counters.dispatches_per_step, expected, "batch {batch}");
        }
    }
}

#[test]
fn gathering_statistics_on_fewer_steps_changes_no_weight() {
    let (train, _) = mnist();
    let data = first(&train, 320);
    let mut runs = Vec::new();
    for gpu_path in [false, true] {
        for every_step in [false, true] {
            let be: Box<dyn Backend> = match (gpu_path, gpu()) {
                (false, _) => Box::new(CpuBackend::new()),
                (true, Some(g)) => Box::new(g),
                (true, None) => continue,
            };
            let mut s = seed_session(be);
            let opts = FitOptions {
                epochs: 2,
                batch_size: 32,
                shuffle: false,
                every_step_statistics: every_step,
                ..Default::default()
            };
            let h = s.fit(&data, None, &opts, &mut []).unwrap();
            runs.push((gpu_path, every_step, h, s.get_weights().unwrap()));
        }
    }
    for pair in runs.chunks(2) {
        let [(_, false, sampled, w0), (_, true, every, w1)] = pair else {
            panic!("runs in pairs")
        };
        // 10 steps an epoch: statistics on the first and the last, or on all.
        assert_eq!(every.counters.dispatches_per_step, 15.0);
        assert_eq!(sampled.counters.dispatches_per_step, 13.4);
        for (a, b) in w0.iter().zip(w1) {
            assert_eq!(a.data, b.data, "{}", a.name);
        }
        for (a, b) in sampled.epochs.iter().zip(&every.epochs) {
            assert_eq!(a.loss, b.loss);
            // Mean norms over 2 and over 10 steps of the same run: same order of size.
            for ((name, x), (_, y)) in a.grad_norms.iter().zip(&b.grad_norms) {
                assert!(
                    x.is_finite() && *x > 0.0 && (x / y - 1.0).abs() < 0.5,
                    "{name}: {x} vs {y}"
                );
            }
        }
    }
}

#[test]
fn a_metrics_read_in_flight_sees_the_steps_before_it() {
    let (train, _) = mnist();
    let data = first(&train, 320);
    let mut backends: Vec<Box<dyn steadygrad::backend::Backend>> =
        vec![Box::new(steadygrad::backend::CpuBackend::new())];
    if let Some(g) = gpu() {
        backends.push(Box::new(g));
    }
    for be in backends {
        let mut s =
            Session::with_backend(steadygrad::nn::seed_network(false).unwrap(), be).unwrap();
        s.compile(
            Box::new(steadygrad::optim::Sgd::new(0.01)),
            LossName::SparseCategoricalCrossentropy,
        )
        .unwrap();
        let mut e = s.begin_epoch(&data, 32, None).unwrap();
        for _ in 0..3 {
            s.train_next(&data, &mut e).unwrap();
        }
        let after_three = pollster::block_on(s.metrics_async()).unwrap();
        let read = s.start_metrics();
        // The next steps are submitted before the read is taken.
        for _ in 0..4 {
            s.train_next(&data, &mut e).unwrap();
        }
        let seen = pollster::block_on(s.finish_metrics(read)).unwrap();
        assert_eq!(seen, after_three);
        let after_seven = pollster::block_on(s.metrics_async()).unwrap();
        assert_ne!(after_seven, after_three);
    }
}
