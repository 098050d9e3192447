//! Batch norm over the data feeding a dense layer, its backward without the layer's input
//! gradient ([`Kernel::BnDenseBackward`], `graph::data_norm`): against finite differences
//! of the forward and against the kernels it replaces. (The seed network trains through
//! it in the Keras golden suites, `tests/keras.rs` and `tests/optimizers.rs`.)

mod common;

use common::*;
use steadygrad::backend::{Backend, CpuBackend, Kernel};

fn run(k: &Kernel, inputs: &[Vec<f32>]) -> Vec<Vec<f32>> {
    let mut be = CpuBackend::new();
    let ids: Vec<_> = inputs.iter().map(|d| be.upload(d).unwrap()).collect();
    be.run(k, &ids).unwrap();
    ids.iter().map(|b| be.read(*b).unwrap()).collect()
}

const EPS: f32 = 1e-3;

/// Batch norm's training forward over x: (y, statistics).
fn bn(x: &[f32], gamma: &[f32], beta: &[f32], rows: usize, cols: usize) -> [Vec<f32>; 2] {
    let k = Kernel::BnTrain {
        rows,
        cols,
        eps: EPS,
        momentum: 0.99,
    };
    let out = run(
        &k,
        &[
            x.to_vec(),
            gamma.to_vec(),
            beta.to_vec(),
            vec![0.0; rows * cols],
            vec![0.0; 2 * cols],
            vec![0.0; cols],
            vec![1.0; cols],
        ],
    );
    [out[3].clone(), out[4].clone()]
}

/// `op(a)·op(b)` on the CPU reference.
fn matmul(a: &[f32], b: &[f32], [m, k, n]: [usize; 3], trans_a: bool, trans_b: bool) -> Vec<f32> {
    let mm = Kernel::MatMul {
        m,
        k,
        n,
        trans_a,
        trans_b,
        accumulate: false,
    };
    run(&mm, &[a.to_vec(), b.to_vec(), vec![0.0; m * n]])[2].clone()
}

/// x̂ of x by its statistics.
fn normalized(x: &[f32], stats: &[f32], cols: usize) -> Vec<f32> {
    (x.iter().enumerate())
        .map(|(i, v)| (v - stats[i % cols]) / (stats[cols + i % cols] + EPS).sqrt())
        .collect()
}

/// dgamma, dbeta, dw by the new kernel from x̂ᵀ·dz and Σ dz.
fn fused(
    [x, gamma, beta, w, dz]: [&[f32]; 5],
    [rows, features, units]: [usize; 3],
) -> [Vec<f32>; 3] {
    let stats = bn(x, gamma, beta, rows, features)[1].clone();
    let xhat = normalized(x, &stats, features);
    let c = matmul(&xhat, dz, [features, rows, units], true, false);
    let db: Vec<f32> = (0..units)
        .map(|o| (0..rows).map(|r| dz[r * units + o]).sum())
        .collect();
    let k = Kernel::BnDenseBackward { features, units };
    let out = run(
        &k,
        &[
            w.to_vec(),
            gamma.to_vec(),
            beta.to_vec(),
            db.clone(),
            c,
            vec![0.0; features],
            vec![0.0; features],
            vec![0.0; units],
        ],
    );
    assert_eq!(out[7], db, "Σ dz handed on as the bias gradient");
    [out[5].clone(), out[6].clone(), out[4].clone()]
}

#[test]
fn the_gradients_match_finite_differences_and_the_kernels_they_replace() {
    let (rows, features, units) = (7, 5, 3);
    let x = random(rows * features, 2.0, 1);
    let gamma = random(features, 1.5, 2);
    let beta = random(features, 1.0, 3);
    let w = random(features * units, 1.0, 4);
    let u = random(rows * units, 1.0, 5);
    // f = Σ u·(bn(x)·w): dz = u.
    let f = |gamma: &[f32], beta: &[f32], w: &[f32]| -> f64 {
        let y = bn(&x, gamma, beta, rows, features)[0].clone();
        let z = matmul(&y, w, [rows, features, units], false, false);
        z.iter().zip(&u).map(|(a, b)| *a as f64 * *b as f64).sum()
    };
    let numeric = |which: usize| -> Vec<f32> {
        let h = 1e-2f32;
        let base = [gamma.clone(), beta.clone(), w.clone()];
        (0..base[which].len())
            .map(|i| {
                let mut p = base.clone();
                p[which][i] += h;
                let fp = f(&p[0], &p[1], &p[2]);
                p[which][i] -= 2.0 * h;
                let fm = f(&p[0], &p[1], &p[2]);
                ((fp - fm) / (2.0 * h as f64)) as f32
            })
            .collect()
    };
    let [dgamma, dbeta, dw] = fused([&x, &gamma, &beta, &w, &u], [rows, features, units]);
    assert_close("dgamma", &dgamma, &numeric(0), 2e-3, 2e-2);
    assert_close("dbeta", &dbeta, &numeric(1), 2e-3, 2e-2);
    assert_close("dw", &dw, &numeric(2), 2e-3, 2e-2);

    // The kernels it replaces: dy = dz·wᵀ, dw = yᵀ·dz, batch norm's column sums of dy.
    let [y, stats] = bn(&x, &gamma, &beta, rows, features);
    let dy = matmul(&u, &w, [rows, units, features], false, true);
    let sums = run(
        &Kernel::BnBackwardSums {
            rows,
            cols: features,
            eps: EPS,
        },
        &[
            x.clone(),
            stats,
            vec![0.0; 2 * features],
            dy,
            vec![0.0; features],
            vec![0.0; features],
        ],
    );
    let old_dw = matmul(&y, &u, [features, rows, units], true, false);
    assert_close("dgamma as before", &dgamma, &sums[4], 1e-5, 1e-4);
    assert_close("dbeta as before", &dbeta, &sums[5], 1e-5, 1e-4);
    assert_close("dw as before", &dw, &old_dw, 1e-5, 1e-4);
}
