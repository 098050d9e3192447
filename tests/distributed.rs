//! Data-parallel training in one process: ranks as threads ([`ThreadGroup`]), each with
//! its own backend, equal one process on the same global batches. (`tests/mpi.rs` runs
//! the same over MPI, as processes under `mpirun`.)

#[path = "common/mod.rs"]
mod common;

use common::*;
use steadygrad::backend::ActKind;
use steadygrad::data::{Dataset, Samples};
use steadygrad::dist::{Communicator, ThreadGroup};
use steadygrad::nn::{BatchNormalization, Initializer, Layer, Sequential, Weight};
use steadygrad::train::{FitOptions, LossName, Session};
use steadygrad::{Backend, CpuBackend, Sgd};

/// Flatten, optional input BN, two ELU hidden layers (BN after each when `bn`), softmax.
fn model(bn: bool, synchronized: bool) -> Sequential {
    let norm = || -> Layer {
        BatchNormalization {
            synchronized,
            momentum: 0.9,
            ..Default::default()
        }
        .into()
    };
    let mut layers = vec![Layer::flatten()];
    if bn {
        layers.push(norm());
    }
    for units in [24, 16] {
        let d = Layer::dense(units)
            .kernel_initializer(Initializer::HE_NORMAL)
            .activation(ActKind::Elu { alpha: 1.0 });
        layers.push(d.into());
        if bn {
            layers.push(norm());
        }
    }
    layers.push(Layer::dense(10).activation(ActKind::Softmax).into());
    Sequential::new(&[4, 5], layers, 3).unwrap()
}

/// A small CNN: convolution, channel batch norm (synchronized), max pooling, a strided
/// no-bias convolution, global average pooling, softmax.
fn cnn() -> Sequential {
    use steadygrad::backend::window::Padding;
    use steadygrad::nn::{Conv2D, GlobalPooling2D, PoolKind, Pooling2D, Reshape};
    let layers: Vec<Layer> = vec![
        Reshape::new(&[4, 5, 1]).into(),
        Conv2D::new(6, 3)
            .padding(Padding::Same)
            .activation(ActKind::Relu)
            .into(),
        BatchNormalization {
            synchronized: true,
            momentum: 0.9,
            ..Default::default()
        }
        .into(),
        Pooling2D::new(PoolKind::Max, 2).into(),
        Conv2D::new(8, 1).use_bias(false).into(),
        GlobalPooling2D {
            kind: PoolKind::Average,
            keepdims: false,
        }
        .into(),
        Layer::dense(10).activation(ActKind::Softmax).into(),
    ];
    Sequential::new(&[4, 5], layers, 3).unwrap()
}

fn data(n: usize) -> Dataset {
    let x = random(n * 20, 2.0, 7).iter().map(|v| v + 1.0).collect();
    let y = (0..n).map(|i| (i * 7 % 10) as u32).collect();
    Dataset::new(Samples::F32(x), y, vec![4, 5]).unwrap()
}

fn options(batch_size: usize, epochs: usize) -> FitOptions {
    FitOptions {
        epochs,
        batch_size,
        shuffle: true,
        seed: 5,
        ..Default::default()
    }
}

/// A rank's (or the one process's) final weights, last epoch's (loss, accuracy) and an
/// evaluation's.
type Outcome = (Vec<Weight>, (f32, f32), (f32, f32));

fn session(m: Sequential, backend: Box<dyn Backend>) -> Session {
    let mut s = Session::with_backend(m, backend).unwrap();
    let opt = Sgd::new(0.05).momentum(0.9).nesterov(true);
    s.compile(Box::new(opt), LossName::SparseCategoricalCrossentropy)
        .unwrap();
    s
}

/// Trains on `ranks` threads; returns each rank's weights and (loss, accuracy) of its
/// last epoch and of an evaluation.
fn train_ranks(
    ranks: usize,
    m: &Sequential,
    d: &Dataset,
    o: &FitOptions,
    gpu_backends: bool,
) -> Vec<Outcome> {
    let handles: Vec<_> = ThreadGroup::new(ranks)
        .into_iter()
        .map(|comm| {
            let (m, d, o) = (m.clone(), d.clone(), o.clone());
            std::thread::spawn(move || {
                let backend: Box<dyn Backend> = if gpu_backends {
                    Box::new(gpu().expect("checked by the caller"))
                } else {
                    Box::new(CpuBackend::new())
                };
                let mut s = session(m, backend);
                s.set_communicator(Box::new(comm)).unwrap();
                let h = s.fit(&d, None, &o, &mut []).unwrap();
                let last = h.epochs.last().unwrap();
                let eval = s.evaluate(&d, 16).unwrap();
                (s.get_weights().unwrap(), (last.loss, last.accuracy), eval)
            })
        })
        .collect();
    handles.into_iter().map(|h| h.join().unwrap()).collect()
}

fn train_one(m: &Sequential, d: &Dataset, o: &FitOptions) -> Outcome {
    let mut s = session(m.clone(), Box::new(CpuBackend::new()));
    let h = s.fit(d, None, o, &mut []).unwrap();
    let last = h.epochs.last().unwrap();
    let eval = s.evaluate(d, 16).unwrap();
    (s.get_weights().unwrap(), (last.loss, last.accuracy), eval)
}

/// Within 1e-5 + 1e-4·|w| of one process, and bit-identical across ranks.
fn assert_equal_to_one_process(one: &Outcome, ranks: &[Outcome]) {
    for (r, (w, metrics, eval)) in ranks.iter().enumerate() {
        for (a, b) in w.iter().zip(&one.0) {
            assert_eq!(a.name, b.name);
            assert_close(
                &format!("rank {r} {}", a.name),
                &a.data,
                &b.data,
                1e-5,
                1e-4,
            );
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            let r0 = ranks[0].0.iter().find(|x| x.name == a.name).unwrap();
            assert_eq!(
                bits(&a.data),
                bits(&r0.data),
                "rank {r} {} vs rank 0",
                a.name
            );
        }
        assert_close(
            "epoch loss, accuracy",
            &[metrics.0, metrics.1],
            &[one.1 .0, one.1 .1],
            1e-5,
            1e-4,
        );
        assert_close(
            "evaluation",
            &[eval.0, eval.1],
            &[one.2 .0, one.2 .1],
            1e-5,
            1e-4,
        );
    }
}

#[test]
fn two_ranks_equal_one_process_for_a_plain_mlp() {
    let (m, d) = (model(false, false), data(160));
    let o = options(32, 4); // 20 steps
    assert_equal_to_one_process(&train_one(&m, &d, &o), &train_ranks(2, &m, &d, &o, false));
}

#[test]
fn synchronized_batch_norm_on_three_ranks_equals_one_process_with_uneven_last_batches() {
    // 70 samples in batches of 30: the last global batch (10 rows) splits 4/3/3.
    let (m, d) = (model(true, true), data(70));
    let o = options(30, 7);
    assert_equal_to_one_process(&train_one(&m, &d, &o), &train_ranks(3, &m, &d, &o, false));
}

#[test]
fn synchronized_batch_norm_on_gpu_ranks_equals_one_cpu_process() {
    if gpu().is_none() {
        return;
    }
    let (m, d) = (model(true, true), data(64));
    let o = options(16, 2); // 8 steps
    assert_equal_to_one_process(&train_one(&m, &d, &o), &train_ranks(2, &m, &d, &o, true));
}

#[test]
fn a_cnn_with_synchronized_channel_batch_norm_on_two_ranks_equals_one_process() {
    let (m, d) = (cnn(), data(70));
    let o = options(20, 2); // the last global batch (10 rows) splits 5/5
    assert_equal_to_one_process(&train_one(&m, &d, &o), &train_ranks(2, &m, &d, &o, false));
}

#[test]
fn unsynchronized_batch_norm_keeps_equal_moving_statistics_on_every_rank() {
    // Each rank normalizes with its shard's statistics (Keras's synchronized=False), so
    // the result is not one process's; the moving statistics are averaged, and every rank
    // ends with the same weights (the per-epoch checksum would have failed otherwise).
    let (m, d) = (model(true, false), data(96));
    let ranks = train_ranks(2, &m, &d, &options(32, 3), false);
    let one = train_one(&m, &d, &options(32, 3));
    let moving = |w: &[Weight]| {
        w.iter()
            .filter(|x| x.name.ends_with("moving_mean"))
            .flat_map(|x| x.data.clone())
            .collect::<Vec<f32>>()
    };
    assert_eq!(moving(&ranks[0].0), moving(&ranks[1].0));
    assert_ne!(
        moving(&ranks[0].0),
        moving(&one.0),
        "shard statistics differ from the batch's"
    );
}

#[test]
fn a_global_batch_that_does_not_divide_is_refused() {
    let (m, d) = (model(false, false), data(40));
    let handles: Vec<_> = ThreadGroup::new(2)
        .into_iter()
        .map(|comm| {
            let (m, d) = (m.clone(), d.clone());
            std::thread::spawn(move || {
                let mut s = session(m, Box::new(CpuBackend::new()));
                s.set_communicator(Box::new(comm)).unwrap();
                s.fit(&d, None, &options(15, 1), &mut [])
                    .unwrap_err()
                    .to_string()
            })
        })
        .collect();
    for h in handles {
        let e = h.join().unwrap();
        assert!(e.contains("15") && e.contains("2 ranks"), "{e}");
    }
}

#[test]
fn ranks_with_different_weights_are_named() {
    let handles: Vec<_> = ThreadGroup::new(2)
        .into_iter()
        .map(|comm| {
            std::thread::spawn(move || {
                // Rank 1 builds its model from another seed.
                let m = model(false, false);
                let m = if comm.rank() == 1 {
                    Sequential::new(&[4, 5], m.layers().to_vec(), 4).unwrap()
                } else {
                    m
                };
                let mut s = session(m, Box::new(CpuBackend::new()));
                s.set_communicator(Box::new(comm)).unwrap_err().to_string()
            })
        })
        .collect();
    for h in handles {
        let e = h.join().unwrap();
        assert!(e.contains("rank 1") && e.contains("differ"), "{e}");
    }
}
