//! Behaviours the chapter states, checked on the CPU reference (the GPU equals it per
//! `tests/parity.rs`): BN edge cases and moving averages, clipping examples, RReLU/PReLU.

mod common;

use common::*;
use steadygrad::backend::{
    ActKind, ArenaTensor, Backend, ClipMode, CpuBackend, Kernel, UpdateRule,
};
use steadygrad::data::{Dataset, Samples};
use steadygrad::nn::{Layer, Sequential};
use steadygrad::optim::Sgd;
use steadygrad::train::{Ewma, FitOptions, Session};

fn run(k: &Kernel, inputs: &[Vec<f32>]) -> Vec<Vec<f32>> {
    let mut be = CpuBackend::new();
    let ids: Vec<_> = inputs.iter().map(|d| be.upload(d).unwrap()).collect();
    be.run(k, &ids).unwrap();
    ids.iter().map(|b| be.read(*b).unwrap()).collect()
}

#[test]
fn batch_norm_of_one_sample_yields_beta() {
    let cols = 4;
    let x = vec![3.0, -2.0, 1e4, 0.0];
    let beta = vec![0.1, 0.2, 0.3, 0.4];
    let s = run(
        &Kernel::BnTrain {
            rows: 1,
            cols,
            eps: 1e-3,
            momentum: 0.99,
        },
        &[
            x.clone(),
            vec![2.0; cols],
            beta.clone(),
            vec![0.0; cols],
            vec![0.0; 2 * cols],
            vec![0.0; cols],
            vec![1.0; cols],
        ],
    );
    assert_eq!(s[3], beta);
    let g = run(
        &Kernel::BnBackward {
            rows: 1,
            cols,
            eps: 1e-3,
        },
        &[
            x,
            s[4].clone(),
            vec![2.0; cols],
            vec![1.0; cols],
            vec![0.0; cols],
            vec![0.0; cols],
            vec![0.0; cols],
        ],
    );
    assert!(g.iter().flatten().all(|v| v.is_finite()));
}

fn bn_model() -> Session {
    let m = Sequential::new(
        &[3],
        vec![
            Layer::batch_norm(),
            Layer::dense(2).activation(ActKind::Softmax).into(),
        ],
        1,
    )
    .unwrap();
    compile_cpu(m, Sgd::new(0.0))
}

#[test]
fn moving_statistics_follow_the_closed_form_ewma() {
    let x = random(4 * 3 * 5, 3.0, 1);
    let data = Dataset::new(Samples::F32(x.clone()), vec![0; 20], vec![3]).unwrap();
    let mut m = bn_model();
    m.fit(
        &data,
        None,
        &FitOptions {
            batch_size: 4,
            shuffle: false,
            ..Default::default()
        },
        &mut [],
    )
    .unwrap();
    let m = m.into_model().unwrap();
    for c in 0..3 {
        let mut mean = Ewma::starting_at(0.99, 0.0);
        let mut var = Ewma::starting_at(0.99, 1.0);
        for b in 0..5 {
            let col: Vec<f64> = (0..4).map(|r| x[(b * 4 + r) * 3 + c] as f64).collect();
            let mu = col.iter().sum::<f64>() / 4.0;
            mean.update(mu);
            var.update(col.iter().map(|v| (v - mu).powi(2)).sum::<f64>() / 4.0);
        }
        let got_mean =
            m.weights()[m.weight_index("batch_normalization/moving_mean").unwrap()].data[c] as f64;
        let got_var = m.weights()[m
            .weight_index("batch_normalization/moving_variance")
            .unwrap()]
        .data[c] as f64;
        approx::assert_abs_diff_eq!(got_mean, mean.value().unwrap(), epsilon = 1e-5);
        approx::assert_abs_diff_eq!(got_var, var.value().unwrap(), epsilon = 1e-5);
    }
}

#[test]
fn inference_uses_the_moving_statistics() {
    let mut m = bn_model();
    let x = vec![1.0, 2.0, 3.0, -1.0, 0.5, 4.0];
    let both = m.predict(&x, 2).unwrap();
    let alone = m.predict(&x[..3], 1).unwrap();
    assert_eq!(
        &both[..2],
        &alone[..],
        "a sample's output does not depend on its batch"
    );
    m.set_weight("batch_normalization/moving_mean", &[1.0, 1.0, 1.0])
        .unwrap();
    let moved = m.predict(&x[..3], 1).unwrap();
    assert_ne!(moved, alone, "changing the moving mean changes the output");
}

fn clip(mode: ClipMode, grads: &[Vec<f32>]) -> Vec<Vec<f32>> {
    let mut be = CpuBackend::new();
    let step = be
        .upload(&[0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0])
        .unwrap();
    let stats = be.upload(&vec![0.0; 3 * grads.len()]).unwrap();
    let scales = be.alloc(grads.len()).unwrap();
    let lens: Vec<usize> = grads.iter().map(Vec::len).collect();
    let tensors = ArenaTensor::pack(&lens);
    let end = tensors.last().map(|t| t.offset + t.n).unwrap_or(0);
    let g = be.alloc(end).unwrap();
    for (t, v) in tensors.iter().zip(grads) {
        be.write(g, t.offset, v).unwrap();
    }
    let partials = be.alloc(2 * grads.len()).unwrap();
    let k = Kernel::GradStats {
        tensors: tensors.clone(),
        first_segment: 0,
    };
    be.run(&k, &[g, partials]).unwrap();
    let k = Kernel::ClipScale {
        tensors: tensors.clone(),
        mode,
    };
    be.run(&k, &[partials, stats, scales, step]).unwrap();
    // With lr = 1 and w = 0, plain SGD leaves w = −(clipped g).
    let w = be.alloc(end).unwrap();
    let k = Kernel::Update {
        rule: UpdateRule::Sgd {
            momentum: 0.0,
            nesterov: false,
        },
        tensors: tensors.clone(),
        clipvalue: 0.0,
        weight_decay: 0.0,
    };
    be.run(&k, &[w, g, scales, step]).unwrap();
    let w = be.read(w).unwrap();
    tensors
        .iter()
        .map(|t| w[t.offset..t.offset + t.n].iter().map(|x| -x).collect())
        .collect()
}

#[test]
fn clipping_examples() {
    let g = clip(
        ClipMode::PerTensorNorm(1.0),
        &[vec![3.0, 4.0], vec![0.1, 0.2]],
    );
    assert_close("clipnorm (3,4)", &g[0], &[0.6, 0.8], 1e-7, 1e-6);
    assert_eq!(
        g[1],
        vec![0.1, 0.2],
        "a gradient inside the bound is untouched"
    );
    let g = clip(ClipMode::GlobalNorm(1.0), &[vec![3.0, 0.0], vec![0.0, 4.0]]);
    assert_close("global a", &g[0], &[0.6, 0.0], 1e-7, 1e-6);
    assert_close("global b", &g[1], &[0.0, 0.8], 1e-7, 1e-6);
}

#[test]
fn rrelu_draws_new_slopes_each_training_step_and_is_fixed_at_inference() {
    let n = 256;
    let x = vec![-1.0; n];
    let slopes = |step: u32, training: bool| -> Vec<f32> {
        let k = Kernel::ActForward {
            act: ActKind::Rrelu {
                lower: 0.125,
                upper: 1.0 / 3.0,
            },
            n,
            training,
            seed: 9,
        };
        let mut record = vec![0.0; 8];
        record[0] = f32::from_bits(step);
        run(&k, &[x.clone(), vec![0.0; n], record])[1]
            .iter()
            .map(|y| -y)
            .collect()
    };
    let (a, b) = (slopes(1, true), slopes(2, true));
    assert_ne!(a, b);
    assert!(a.iter().chain(&b).all(|s| (0.125..=1.0 / 3.0).contains(s)));
    assert_eq!(slopes(1, false), slopes(2, false));
    assert!(slopes(1, false)
        .iter()
        .all(|s| (s - 11.0 / 48.0).abs() < 1e-6));
}

#[test]
fn prelu_alpha_moves_under_training() {
    let m = Sequential::new(
        &[4],
        vec![
            Layer::dense(8).into(),
            Layer::prelu(),
            Layer::dense(2).activation(ActKind::Softmax).into(),
        ],
        3,
    )
    .unwrap();
    let mut m = compile_cpu(m, Sgd::new(0.1));
    let x = random(64 * 4, 2.0, 4);
    let y = (0..64).map(|i| (x[i * 4] > 0.0) as u32).collect();
    let data = Dataset::new(Samples::F32(x), y, vec![4]).unwrap();
    m.fit(
        &data,
        None,
        &FitOptions {
            epochs: 3,
            batch_size: 16,
            ..Default::default()
        },
        &mut [],
    )
    .unwrap();
    let m = m.into_model().unwrap();
    let alpha = &m.weights()[m.weight_index("p_re_lu/alpha").unwrap()].data;
    assert!(
        alpha.iter().any(|a| *a != 0.0),
        "alpha stayed at its zero init: {alpha:?}"
    );
}

#[test]
fn same_seed_same_weights() {
    let make = |s| {
        Sequential::new(&[784], vec![Layer::dense(30).into()], s)
            .unwrap()
            .weights()[0]
            .data
            .clone()
    };
    assert_eq!(make(1), make(1));
    assert_ne!(make(1), make(2));
}

#[test]
fn dead_relus_and_saturation_are_reported() {
    let x = random(64 * 8, 1.0, 11);
    let data = Dataset::new(Samples::F32(x), vec![0; 64], vec![8]).unwrap();
    let mut m = Sequential::new(
        &[8],
        vec![
            Layer::dense(6).activation(ActKind::Relu).into(),
            Layer::dense(5).activation(ActKind::Sigmoid).into(),
            Layer::dense(2).activation(ActKind::Softmax).into(),
        ],
        1,
    )
    .unwrap();
    // Kill every unit of the ReLU layer but one, and drive the sigmoids into saturation.
    m.set_weight("dense/bias", &[-100.0, -100.0, -100.0, -100.0, -100.0, 0.0])
        .unwrap();
    m.set_weight("dense_1/bias", &[50.0; 5]).unwrap();
    let mut m = compile_cpu(m, Sgd::new(0.1));
    let s = m.activation_stats(&data, 64).unwrap();
    assert_eq!(s.len(), 2);
    assert_eq!(
        (
            s[0].layer.as_str(),
            s[0].activation.as_str(),
            s[0].dead_units,
            s[0].units
        ),
        ("dense", "relu", 5, 6)
    );
    assert_eq!(s[1].activation, "sigmoid");
    assert_eq!(s[1].saturated_fraction, 1.0, "{:?}", s[1]);
}
