//! Dropout, alpha dropout and MC dropout, where Keras is random: the deterministic parts
//! exactly (identity at inference, the same mask on the CPU reference and the GPU for the
//! same seed and step, the gradient through the mask) and the statistics within bounds
//! (the kept fraction, E[output] = input, alpha dropout's mean and variance, MC dropout's
//! spread).

mod common;

use common::*;
use steadygrad::backend::kernel::DropoutMask;
use steadygrad::backend::{ActKind, Backend, CpuBackend, Kernel};
use steadygrad::nn::{Initializer, Layer, Sequential};
use steadygrad::train::Session;

fn mask(rows: usize, rate: f32, alpha: bool) -> DropoutMask {
    DropoutMask {
        rows,
        sample: [1, 1, 100],
        shared: [false; 4],
        rate,
        seed: 4242,
        alpha,
    }
}

/// Dropout of `x` at `step` on `be`.
fn drop(be: &mut dyn Backend, m: DropoutMask, x: &[f32], step: u32) -> Vec<f32> {
    let record = [f32::from_bits(step), 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0];
    let ids = [
        be.upload(x).unwrap(),
        be.alloc(x.len()).unwrap(),
        be.upload(&record).unwrap(),
    ];
    be.run(&Kernel::Dropout { mask: m }, &ids).unwrap();
    be.read(ids[1]).unwrap()
}

#[test]
fn the_kept_fraction_and_the_mean_are_within_binomial_bounds() {
    let n = 200_000;
    for rate in [0.1f32, 0.3, 0.5] {
        let m = mask(n / 100, rate, false);
        let y = drop(&mut CpuBackend::new(), m, &vec![1.0; n], 1);
        let kept = y.iter().filter(|&&v| v != 0.0).count() as f64 / n as f64;
        let p = 1.0 - rate as f64;
        let sigma = (p * (1.0 - p) / n as f64).sqrt();
        assert!((kept - p).abs() < 4.0 * sigma, "rate {rate}: kept {kept}");
        // Kept units scaled by 1/(1 − rate): E[output] = input.
        assert!(y
            .iter()
            .all(|&v| v == 0.0 || (v - 1.0 / (1.0 - rate)).abs() < 1e-6));
        let mean = y.iter().map(|&v| v as f64).sum::<f64>() / n as f64;
        assert!(
            (mean - 1.0).abs() < 4.0 * sigma / p,
            "rate {rate}: mean {mean}"
        );
    }
}

#[test]
fn alpha_dropout_keeps_mean_and_variance() {
    let n = 200_000;
    let x: Vec<f32> = {
        // Standard normal inputs (Box–Muller over the test helper's uniforms).
        let u = random(n, 1.0, 3);
        let v = random(n, 1.0, 4);
        (u.iter().zip(&v))
            .map(|(a, b)| {
                let (a, b) = ((a.abs() as f64).max(1e-9), *b as f64);
                ((-2.0 * a.ln()).sqrt() * (std::f64::consts::PI * b).cos()) as f32
            })
            .collect()
    };
    let stats = |v: &[f32]| {
        let m = v.iter().map(|&a| a as f64).sum::<f64>() / v.len() as f64;
        let var = v.iter().map(|&a| (a as f64 - m).powi(2)).sum::<f64>() / v.len() as f64;
        (m, var)
    };
    let (m0, v0) = stats(&x);
    let y = drop(&mut CpuBackend::new(), mask(n / 100, 0.2, true), &x, 2);
    let (m1, v1) = stats(&y);
    assert!((m1 - m0).abs() < 0.02, "mean {m0} → {m1}");
    assert!((v1 - v0).abs() < 0.05, "variance {v0} → {v1}");
}

#[test]
fn the_same_seed_and_step_draw_the_same_mask_on_cpu_and_gpu_and_steps_differ() {
    let x = vec![1.0; 3000];
    let m = mask(30, 0.5, false);
    let cpu = drop(&mut CpuBackend::new(), m, &x, 7);
    assert_ne!(
        cpu,
        drop(&mut CpuBackend::new(), m, &x, 8),
        "another step, another mask"
    );
    if let Some(mut g) = gpu() {
        assert_eq!(drop(&mut g, m, &x, 7), cpu);
    }
    // A noise shape of (batch, 1): one draw per sample, shared by its 100 units.
    let shared = DropoutMask {
        shared: [false, true, true, true],
        ..m
    };
    let y = drop(&mut CpuBackend::new(), shared, &x, 7);
    for row in y.chunks(100) {
        assert!(row.iter().all(|&v| v == row[0]));
    }
}

fn dropout_mlp(rate: f32) -> Sequential {
    let layers: Vec<Layer> = vec![
        Layer::flatten(),
        Layer::dense(64)
            .activation(ActKind::Relu)
            .kernel_initializer(Initializer::HE_NORMAL)
            .into(),
        Layer::dropout(rate),
        Layer::batch_norm(),
        Layer::dense(10).activation(ActKind::Softmax).into(),
    ];
    Sequential::new(&[4, 5], layers, 9).unwrap()
}

#[test]
fn inference_is_the_identity_and_mc_dropout_spreads_around_it() {
    let x = random(8 * 20, 1.0, 12);
    let with = dropout_mlp(0.3);
    // The same weights without the dropout layer.
    let mut without = Sequential::new(
        &[4, 5],
        with.layers()
            .iter()
            .filter(|l| l.class_name() != "Dropout")
            .cloned()
            .collect(),
        9,
    )
    .unwrap();
    for w in with.weights() {
        without.set_weight(&w.name, &w.data).unwrap();
    }
    let mut backends: Vec<Box<dyn Backend>> = vec![Box::new(CpuBackend::new())];
    if let Some(g) = gpu() {
        backends.push(Box::new(g));
    }
    for be in backends {
        let dev = be.info().kind;
        let mut s = Session::with_backend(with.clone(), be).unwrap();
        let p = s.predict(&x, 8).unwrap();
        let q = Session::with_backend(without.clone(), Box::new(CpuBackend::new()))
            .unwrap()
            .predict(&x, 8)
            .unwrap();
        assert_close(&format!("{dev}: inference"), &p, &q, 1e-6, 1e-5);
        let (mean, std) = s.predict_mc(&x, 8, 50).unwrap();
        for row in mean.chunks(10) {
            let sum: f32 = row.iter().sum();
            assert!(
                (sum - 1.0).abs() < 1e-5,
                "{dev}: MC probabilities sum to {sum}"
            );
        }
        assert!(std.iter().any(|&s| s > 1e-3), "{dev}: MC samples differ");
        assert!(
            mean.iter().zip(&p).any(|(a, b)| (a - b).abs() > 1e-4),
            "{dev}: the MC mean is not the deterministic prediction"
        );
        let (mean2, _) = s.predict_mc(&x, 8, 50).unwrap();
        assert_eq!(mean, mean2, "{dev}: MC dropout is reproducible");
        assert!(s.predict_mc(&x, 8, 0).is_err());
    }
    // No dropout, no spread.
    let mut s = Session::with_backend(dropout_mlp(0.0), Box::new(CpuBackend::new())).unwrap();
    let (_, std) = s.predict_mc(&x, 8, 5).unwrap();
    assert!(std.iter().all(|&v| v < 1e-6));
}
