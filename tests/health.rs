//! Gradient health: the statistics computed on the GPU equal the CPU reference's for the
//! same step; the verdicts the chapter predicts (vanishing for sigmoid with N(0, 1), healthy
//! for ReLU + He + batch norm, dead units when biases kill them, exploding before the loss
//! turns non-finite); sampling off leaves the step untouched; history and charts written.

mod common;

use common::*;
use steadygrad::backend::{ActKind, Backend, CpuBackend};
use steadygrad::data::idx::load_mnist_dir;
use steadygrad::data::Dataset;
use steadygrad::experiment::{self, DepthOptions};
use steadygrad::health::{csv, plot, verdict, HealthSample, VerdictKind};
use steadygrad::nn::{Initializer, Layer, Sequential};
use steadygrad::optim::Sgd;
use steadygrad::train::{Device, Divergence, FitOptions, LossName, Session};

fn digits() -> (Dataset, Dataset) {
    load_mnist_dir(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data")).unwrap()
}

fn sampled(
    m: Sequential,
    be: Box<dyn Backend>,
    data: &Dataset,
    sgd: Sgd,
    every: usize,
    steps: u64,
) -> (
    Vec<HealthSample>,
    steadygrad::Result<steadygrad::train::History>,
) {
    let mut s = Session::with_backend(m, be).unwrap();
    s.compile(Box::new(sgd), LossName::SparseCategoricalCrossentropy)
        .unwrap();
    let opts = FitOptions {
        epochs: 100,
        batch_size: 32,
        shuffle: false,
        health_every: Some(every),
        max_steps: Some(steps),
        divergence: Divergence {
            warn_only: true,
            ..Default::default()
        },
        ..Default::default()
    };
    struct Collect(Vec<HealthSample>);
    impl steadygrad::train::Callback for Collect {
        fn on_health(&mut self, s: &HealthSample) {
            self.0.push(s.clone());
        }
    }
    let mut c = Collect(Vec::new());
    let r = s.fit(data, None, &opts, &mut [&mut c]);
    (c.0, r)
}

#[test]
fn gpu_statistics_equal_the_cpu_reference() {
    let Some(g) = gpu() else { return };
    let (train, _) = digits();
    let data = train.limit(64);
    let (cpu, _) = sampled(
        seed_network(false),
        Box::new(CpuBackend::new()),
        &data,
        Sgd::new(0.01),
        1,
        1,
    );
    let (gpu, r) = sampled(
        seed_network(false),
        Box::new(g),
        &data,
        Sgd::new(0.01),
        1,
        1,
    );
    r.unwrap();
    let (c, g) = (&cpu[0], &gpu[0]);
    assert_eq!(c.layers.len(), g.layers.len());
    assert!((c.loss - g.loss).abs() < 1e-4 * c.loss.abs().max(1.0));
    let close = |what: &str, a: Option<f32>, b: Option<f32>| match (a, b) {
        (Some(a), Some(b)) => assert!(
            (a - b).abs() <= 1e-5 + 1e-3 * b.abs(),
            "{what}: gpu {a} vs cpu {b}"
        ),
        (None, None) => {}
        other => panic!("{what}: {other:?}"),
    };
    for (lc, lg) in c.layers.iter().zip(&g.layers) {
        assert_eq!(lc.layer, lg.layer);
        close(&format!("{} act_mean", lc.layer), lg.act_mean, lc.act_mean);
        close(&format!("{} act_std", lc.layer), lg.act_std, lc.act_std);
        close(
            &format!("{} dead", lc.layer),
            lg.dead_fraction,
            lc.dead_fraction,
        );
        close(
            &format!("{} saturated", lc.layer),
            lg.saturated_fraction,
            lc.saturated_fraction,
        );
        close(
            &format!("{} grad_norm", lc.layer),
            lg.grad_norm,
            lc.grad_norm,
        );
        close(
            &format!("{} update_ratio", lc.layer),
            lg.update_ratio,
            lc.update_ratio,
        );
    }
}

fn depth(name: &str) -> experiment::DepthResult {
    let (train, test) = digits();
    let c = experiment::configs()
        .into_iter()
        .find(|c| c.name == name)
        .unwrap();
    let o = DepthOptions {
        epochs: 1,
        health_every: 5,
        device: Device::Cpu,
        ..Default::default()
    };
    experiment::run_one(&c, &o, &train.limit(2048), &test.limit(500)).unwrap()
}

#[test]
fn a_deep_sigmoid_stack_with_normal_init_is_vanishing_at_its_lowest_layers() {
    let r = depth("sigmoid_normal");
    let v = r
        .verdicts
        .iter()
        .find(|v| v.kind == VerdictKind::Vanishing)
        .unwrap_or_else(|| panic!("{:?}", r.verdicts));
    assert_eq!(
        v.layers.first().map(String::as_str),
        Some("dense"),
        "names the lowest layer first: {v:?}"
    );
    assert!(v.text.contains("batch normalization"), "{}", v.text);
}

#[test]
fn relu_with_he_and_batch_norm_is_healthy() {
    let r = depth("relu_he_bn");
    assert_eq!(r.verdicts.len(), 1, "{:?}", r.verdicts);
    assert_eq!(r.verdicts[0].kind, VerdictKind::Healthy);
}

#[test]
fn dead_relus_are_reported_by_layer() {
    let (train, _) = digits();
    let mut m = Sequential::new(
        &[28, 28],
        vec![
            Layer::flatten(),
            Layer::dense(64)
                .activation(ActKind::Relu)
                .kernel_initializer(Initializer::HE_NORMAL)
                .into(),
            Layer::dense(32)
                .activation(ActKind::Relu)
                .kernel_initializer(Initializer::HE_NORMAL)
                .into(),
            Layer::dense(10).activation(ActKind::Softmax).into(),
        ],
        3,
    )
    .unwrap();
    // Large negative biases kill most of the second layer's units.
    let mut bias = vec![-100.0; 32];
    bias[..4].fill(0.0);
    m.set_weight("dense_1/bias", &bias).unwrap();
    let (samples, r) = sampled(
        m,
        Box::new(CpuBackend::new()),
        &train.limit(640),
        Sgd::new(0.01),
        2,
        10,
    );
    r.unwrap();
    let v = verdict(&samples);
    let dead = v
        .iter()
        .find(|v| v.kind == VerdictKind::Dead)
        .unwrap_or_else(|| panic!("{v:?}"));
    assert_eq!(dead.layers, vec!["dense_1".to_string()]);
    assert!(dead.text.contains("dense_1 88% dead"), "{}", dead.text);
}

#[test]
fn exploding_gradients_are_reported_before_the_loss_turns_non_finite() {
    let (train, _) = digits();
    let mut layers = vec![Layer::flatten()];
    for _ in 0..6 {
        layers.push(
            Layer::dense(64)
                .activation(ActKind::Relu)
                .kernel_initializer(Initializer::HE_NORMAL)
                .into(),
        );
    }
    layers.push(Layer::dense(10).activation(ActKind::Softmax).into());
    let m = Sequential::new(&[28, 28], layers, 4).unwrap();
    // The setup tests/training.rs drives to non-finite gradients.
    let sgd = Sgd::new(3.0).momentum(0.9);
    let (samples, _) = sampled(
        m,
        Box::new(CpuBackend::new()),
        &train.limit(640),
        sgd,
        1,
        60,
    );
    // The first samples whose verdict says exploding, all still with a finite loss.
    let first = (2..=samples.len())
        .find(|&k| {
            verdict(&samples[..k])
                .iter()
                .any(|v| v.kind == VerdictKind::Exploding)
        })
        .unwrap_or_else(|| {
            panic!(
                "never judged exploding: {:?}",
                samples.iter().map(|s| s.loss).collect::<Vec<_>>()
            )
        });
    assert!(
        samples[..first].iter().all(|s| s.loss.is_finite()),
        "judged exploding only after the loss went non-finite"
    );
}

#[test]
fn sampling_off_leaves_the_step_as_it_was() {
    let (train, _) = digits();
    let data = train.limit(640);
    let mut counts = Vec::new();
    for (health, every_step) in [(None, false), (Some(1000), false), (None, true)] {
        let mut s =
            Session::with_backend(seed_network(false), Box::new(CpuBackend::new())).unwrap();
        s.compile(
            Box::new(Sgd::new(0.01)),
            LossName::SparseCategoricalCrossentropy,
        )
        .unwrap();
        let before = s.counters();
        let h = s
            .fit(
                &data,
                None,
                &FitOptions {
                    batch_size: 64,
                    health_every: health,
                    every_step_statistics: every_step,
                    ..Default::default()
                },
                &mut [],
            )
            .unwrap();
        counts.push((
            h.counters.dispatches_per_step,
            s.counters().readback_bytes - before.readback_bytes,
            h.health.len(),
        ));
    }
    // The seed network's step: as many dispatches as before health sampling existed:
    // 13 launches, and the gradient statistics' two more on the steps that gather them
    // (here the first and the last of 10), or on every step.
    assert_eq!(counts[2].0, 15.0, "{counts:?}");
    let plain = counts[0].0;
    assert_eq!((plain * 10.0).round(), 134.0, "{counts:?}");
    assert_eq!(counts[0].2, 0);
    // One sampled step (the first) adds a few kernels and one read; the others are unchanged.
    assert_eq!(counts[1].2, 1);
    assert!(
        counts[1].0 > plain && counts[1].0 < plain + 2.0,
        "{counts:?}"
    );
    assert!(counts[1].1 > counts[0].1, "the sample is read back");
}

#[test]
fn history_round_trips_and_charts_are_written() {
    let r = depth("relu_he");
    let dir = std::env::temp_dir().join(format!("steadygrad-health-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let text = csv::to_csv(&r.samples);
    let back = csv::from_csv(&dir.join("h.csv"), &text).unwrap();
    assert_eq!(back.len(), r.samples.len());
    assert_eq!(csv::to_csv(&back), text, "CSV round-trips");
    let files = plot::write_charts(&dir, "relu_he", &r.samples).unwrap();
    assert_eq!(files.len(), 4);
    for f in files {
        let bytes = std::fs::read(&f).unwrap();
        assert!(
            bytes.starts_with(b"\x89PNG") && bytes.len() > 10_000,
            "{}",
            f.display()
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
