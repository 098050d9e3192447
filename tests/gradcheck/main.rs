//! Every backward kernel against central finite differences of its forward kernel, on the
//! CPU reference (in f64-accumulated sums over f32 evaluations).

#[path = "../common/mod.rs"]
mod common;
mod window;

use common::*;
use steadygrad::backend::{ActKind, Backend, CpuBackend, Kernel, LossKind};

fn run(k: &Kernel, inputs: &[Vec<f32>]) -> Vec<Vec<f32>> {
    let mut be = CpuBackend::new();
    let ids: Vec<_> = inputs.iter().map(|d| be.upload(d).unwrap()).collect();
    be.run(k, &ids).unwrap();
    ids.iter().map(|b| be.read(*b).unwrap()).collect()
}

/// d/d(inputs[which]) of Σ u·outputs[out] by central differences.
fn numeric(
    f: &dyn Fn(&[Vec<f32>]) -> Vec<f32>,
    inputs: &[Vec<f32>],
    which: usize,
    u: &[f32],
) -> Vec<f32> {
    let h = 1e-2f32;
    (0..inputs[which].len())
        .map(|i| {
            let mut p = inputs.to_vec();
            p[which][i] += h;
            let fp: f64 = f(&p)
                .iter()
                .zip(u)
                .map(|(a, b)| *a as f64 * *b as f64)
                .sum();
            p[which][i] -= 2.0 * h;
            let fm: f64 = f(&p)
                .iter()
                .zip(u)
                .map(|(a, b)| *a as f64 * *b as f64)
                .sum();
            ((fp - fm) / (2.0 * h as f64)) as f32
        })
        .collect()
}

fn check(what: &str, analytic: &[f32], numeric: &[f32]) {
    assert_close(what, analytic, numeric, 2e-3, 2e-2);
}

/// Inputs away from kinks (|x| ≥ 0.05) so the finite difference is meaningful.
fn smooth_inputs(n: usize, seed: u64) -> Vec<f32> {
    random(n, 2.0, seed)
        .into_iter()
        .map(|v| {
            if v.abs() < 0.05 {
                v + 0.1f32.copysign(v)
            } else {
                v
            }
        })
        .collect()
}

#[test]
fn matmul_gradients() {
    let (m, k, n) = (3, 4, 5);
    let a = random(m * k, 1.0, 1);
    let b = random(k * n, 1.0, 2);
    let u = random(m * n, 1.0, 3);
    let f = |p: &[Vec<f32>]| {
        run(
            &Kernel::MatMul {
                m,
                k,
                n,
                trans_a: false,
                trans_b: false,
                accumulate: false,
            },
            &[p[0].clone(), p[1].clone(), vec![0.0; m * n]],
        )[2]
        .clone()
    };
    let da = run(
        &Kernel::MatMul {
            m,
            k: n,
            n: k,
            trans_a: false,
            trans_b: true,
            accumulate: false,
        },
        &[u.clone(), b.clone(), vec![0.0; m * k]],
    )[2]
    .clone();
    let db = run(
        &Kernel::MatMul {
            m: k,
            k: m,
            n,
            trans_a: true,
            trans_b: false,
            accumulate: false,
        },
        &[a.clone(), u.clone(), vec![0.0; k * n]],
    )[2]
    .clone();
    check("dA", &da, &numeric(&f, &[a.clone(), b.clone()], 0, &u));
    check("dB", &db, &numeric(&f, &[a, b], 1, &u));
}

#[test]
fn bias_gradient_is_column_sum() {
    let (rows, cols) = (4, 3);
    let x = random(rows * cols, 1.0, 4);
    let b = random(cols, 1.0, 5);
    let u = random(rows * cols, 1.0, 6);
    let f = |p: &[Vec<f32>]| {
        run(
            &Kernel::BiasAdd { rows, cols },
            &[p[0].clone(), p[1].clone(), vec![0.0; rows * cols]],
        )[2]
        .clone()
    };
    let db = run(
        &Kernel::ColumnSum { rows, cols },
        &[u.clone(), vec![0.0; cols]],
    )[1]
    .clone();
    check("db", &db, &numeric(&f, &[x, b], 1, &u));
}

/// The dense launch `y = f(x·w + b)` against its backward kernels (BiasActBackward, or
/// ColumnSum for a linear one, then the two matmuls), for x, w and b.
#[test]
fn dense_gradients() {
    let (m, k, n) = (3, 4, 5);
    let x = random(m * k, 1.0, 30);
    let w = random(k * n, 1.0, 31);
    let u = random(m * n, 1.0, 32);
    let mut step = vec![0.0; 8];
    step[0] = f32::from_bits(9);
    let mut acts: Vec<ActKind> = ActKind::all()
        .into_iter()
        .filter(|a| a.derivative_from_output())
        .collect();
    acts.push(ActKind::Elu { alpha: 0.7 });
    for act in acts {
        for training in [false, true] {
            // Pre-activations away from the kinks: the bias moves them off 0.
            let b: Vec<f32> = (0..n).map(|j| 0.3 + 0.1 * j as f32).collect();
            let fwd = Kernel::Dense {
                m,
                k,
                n,
                act,
                training,
                seed: 3,
            };
            let f = |p: &[Vec<f32>]| {
                let inputs = [
                    p[0].clone(),
                    p[1].clone(),
                    p[2].clone(),
                    vec![0.0; m * n],
                    step.clone(),
                ];
                run(&fwd, &inputs)[3].clone()
            };
            let inputs = [x.clone(), w.clone(), b.clone()];
            let y = f(&inputs);
            let (dz, db) = if act == ActKind::Linear {
                let db = run(
                    &Kernel::ColumnSum { rows: m, cols: n },
                    &[u.clone(), vec![0.0; n]],
                );
                (u.clone(), db[1].clone())
            } else {
                let k = Kernel::BiasActBackward {
                    rows: m,
                    cols: n,
                    stripes: 1,
                    act,
                    training,
                    seed: 3,
                };
                let out = run(
                    &k,
                    &[y, u.clone(), vec![0.0; m * n], vec![0.0; n], step.clone()],
                );
                (out[2].clone(), out[3].clone())
            };
            let mm = |m, k, n, ta, tb| Kernel::MatMul {
                m,
                k,
                n,
                trans_a: ta,
                trans_b: tb,
                accumulate: false,
            };
            let dx = run(
                &mm(m, n, k, false, true),
                &[dz.clone(), w.clone(), vec![0.0; m * k]],
            )[2]
            .clone();
            let dw = run(
                &mm(k, m, n, true, false),
                &[x.clone(), dz, vec![0.0; k * n]],
            )[2]
            .clone();
            let what = format!("{act:?} training={training}");
            check(&format!("{what} dx"), &dx, &numeric(&f, &inputs, 0, &u));
            check(&format!("{what} dw"), &dw, &numeric(&f, &inputs, 1, &u));
            check(&format!("{what} db"), &db, &numeric(&f, &inputs, 2, &u));
        }
    }
}

#[test]
fn activation_gradients() {
    let n = 24;
    let x = smooth_inputs(n, 7);
    let u = random(n, 1.0, 8);
    // Every element-wise activation (Linear and Softmax excepted), and ELU with another alpha.
    let mut acts: Vec<ActKind> = ActKind::all()
        .into_iter()
        .filter(|a| !matches!(a, ActKind::Softmax | ActKind::Linear))
        .collect();
    acts.push(ActKind::Elu { alpha: 0.7 });
    for act in acts {
        for training in [false, true] {
            let mut step = vec![0.0; 8];
            step[0] = f32::from_bits(9);
            let fwd = Kernel::ActForward {
                act,
                n,
                training,
                seed: 3,
            };
            let f =
                |p: &[Vec<f32>]| run(&fwd, &[p[0].clone(), vec![0.0; n], step.clone()])[1].clone();
            let y = f(std::slice::from_ref(&x));
            let bwd = Kernel::ActBackward {
                act,
                n,
                training,
                seed: 3,
            };
            let dx = run(
                &bwd,
                &[x.clone(), y.clone(), u.clone(), vec![0.0; n], step.clone()],
            )[3]
            .clone();
            let numeric = numeric(&f, std::slice::from_ref(&x), 0, &u);
            check(&format!("{act:?} training={training}"), &dx, &numeric);
            // From the output alone, where the output tells the derivative.
            if act.derivative_from_output() {
                let k = Kernel::ActBackwardFromOutput {
                    act,
                    n,
                    training,
                    seed: 3,
                };
                let dx = run(&k, &[y, u.clone(), vec![0.0; n], step.clone()])[2].clone();
                check(
                    &format!("{act:?} from y training={training}"),
                    &dx,
                    &numeric,
                );
            }
        }
    }
}

#[test]
fn prelu_and_softmax_gradients() {
    let (rows, cols) = (5, 4);
    let n = rows * cols;
    let x = smooth_inputs(n, 9);
    let alpha = random(cols, 0.5, 10);
    let u = random(n, 1.0, 11);
    let f = |p: &[Vec<f32>]| {
        run(
            &Kernel::PreluForward { rows, cols },
            &[p[0].clone(), p[1].clone(), vec![0.0; n]],
        )[2]
        .clone()
    };
    let g = run(
        &Kernel::PreluBackward { rows, cols },
        &[
            x.clone(),
            alpha.clone(),
            u.clone(),
            vec![0.0; n],
            vec![0.0; cols],
        ],
    );
    check(
        "prelu dx",
        &g[3],
        &numeric(&f, &[x.clone(), alpha.clone()], 0, &u),
    );
    check(
        "prelu dalpha",
        &g[4],
        &numeric(&f, &[x.clone(), alpha], 1, &u),
    );
    let sf = |p: &[Vec<f32>]| {
        run(
            &Kernel::SoftmaxForward { rows, cols },
            &[p[0].clone(), vec![0.0; n]],
        )[1]
        .clone()
    };
    let y = sf(std::slice::from_ref(&x));
    let dx = run(
        &Kernel::SoftmaxBackward { rows, cols },
        &[y, u.clone(), vec![0.0; n]],
    )[2]
    .clone();
    check("softmax dx", &dx, &numeric(&sf, &[x], 0, &u));
}

#[test]
fn loss_gradients() {
    let (rows, cols) = (4, 3);
    let n = rows * cols;
    let z = random(n, 2.0, 12);
    let labels: Vec<f32> = [0u32, 2, 1, 2].iter().map(|&l| f32::from_bits(l)).collect();
    for kind in LossKind::ALL {
        let k = Kernel::Loss {
            kind,
            rows,
            cols,
            total: rows,
        };
        // The scalar loss is the mean of the per-row losses (their sum lands in metrics[0]).
        let inputs = |z: &[f32]| {
            [
                z.to_vec(),
                labels.clone(),
                vec![0.0; n],
                vec![0.0; cols],
                vec![0.0; 3],
            ]
        };
        let f = |p: &[Vec<f32>]| vec![run(&k, &inputs(&p[0]))[4][0] / rows as f32];
        let grad = run(&k, &inputs(&z))[2].clone();
        check(
            &format!("{kind:?}"),
            &grad,
            &numeric(&f, std::slice::from_ref(&z), 0, &[1.0]),
        );
    }
}

/// The output layer fused with its loss (DenseLoss): the weight, bias and input gradients
/// it writes against finite differences of the mean loss it accumulates.
#[test]
fn fused_output_layer_gradients() {
    let (rows, k, cols) = (4, 5, 3);
    let labels: Vec<f32> = [0u32, 2, 1, 2].iter().map(|&l| f32::from_bits(l)).collect();
    for kind in LossKind::ALL {
        let kernel = Kernel::DenseLoss {
            kind,
            rows,
            k,
            cols,
            total: rows,
        };
        let inputs = |p: &[Vec<f32>]| {
            vec![
                p[0].clone(),
                p[1].clone(),
                p[2].clone(),
                vec![0.0; rows * cols],
                labels.clone(),
                vec![0.0; rows * cols],
                vec![0.0; cols],
                vec![0.0; 3],
                vec![0.0; rows * k],
                vec![0.0; k * cols],
            ]
        };
        let f = |p: &[Vec<f32>]| vec![run(&kernel, &inputs(p))[7][0] / rows as f32];
        let p = [
            smooth_inputs(rows * k, 50),
            smooth_inputs(k * cols, 51),
            smooth_inputs(cols, 52),
        ];
        let out = run(&kernel, &inputs(&p));
        for (which, buffer, name) in [(0, 8, "dh"), (1, 9, "dw"), (2, 6, "db")] {
            check(
                &format!("{kind:?} {name}"),
                &out[buffer],
                &numeric(&f, &p, which, &[1.0]),
            );
        }
    }
}

#[test]
fn batch_norm_gradients() {
    let (rows, cols, eps) = (6, 3, 1e-3);
    let n = rows * cols;
    let x = random(n, 2.0, 13);
    let gamma = random(cols, 1.5, 14);
    let beta = random(cols, 1.0, 15);
    let u = random(n, 1.0, 16);
    // Training-mode forward: statistics recomputed from the perturbed x.
    let train = Kernel::BnTrain {
        rows,
        cols,
        eps,
        momentum: 0.99,
    };
    let forward = |x: &[f32], gamma: &[f32], beta: &[f32]| {
        let inputs = [
            x.to_vec(),
            gamma.to_vec(),
            beta.to_vec(),
            vec![0.0; n],
            vec![0.0; 2 * cols],
            vec![0.0; cols],
            vec![1.0; cols],
        ];
        run(&train, &inputs)
    };
    let f = |p: &[Vec<f32>]| forward(&p[0], &p[1], &p[2])[3].clone();
    let stats = forward(&x, &gamma, &beta)[4].clone();
    let g = run(
        &Kernel::BnBackward { rows, cols, eps },
        &[
            x.clone(),
            stats,
            gamma.clone(),
            u.clone(),
            vec![0.0; n],
            vec![0.0; cols],
            vec![0.0; cols],
        ],
    );
    let inputs = [x, gamma, beta];
    check("bn dx", &g[4], &numeric(&f, &inputs, 0, &u));
    check("bn dgamma", &g[5], &numeric(&f, &inputs, 1, &u));
    check("bn dbeta", &g[6], &numeric(&f, &inputs, 2, &u));
}

/// Synchronized batch norm over two shards of one batch (4 and 2 rows), the all-reduces
/// done on the host: the shards' dx, and their dgamma and dbeta summed, against finite
/// differences of the whole batch's output.
#[test]
fn synchronized_batch_norm_gradients() {
    let (rows, cols, eps) = (6, 3, 1e-3);
    let n = rows * cols;
    let x = random(n, 2.0, 23);
    let gamma = random(cols, 1.5, 24);
    let beta = random(cols, 1.0, 25);
    let u = random(n, 1.0, 26);
    let shards = [(0usize, 4usize), (4, 2)];
    let part = |v: &[f32], (o, r): (usize, usize)| v[o * cols..(o + r) * cols].to_vec();
    let add = |a: &mut [f32], b: &[f32]| a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
    let stats_of = |x: &[f32]| {
        let mut stats = vec![0.0f32; 2 * cols];
        for centered in [false, true] {
            let mut sum = vec![0.0f32; 2 * cols];
            for s in shards {
                let k = Kernel::BnMoments {
                    rows: s.1,
                    cols,
                    total: rows,
                    centered,
                };
                add(&mut sum, &run(&k, &[part(x, s), stats.clone()])[1]);
            }
            let r = if centered { cols..2 * cols } else { 0..cols };
            stats[r.clone()].copy_from_slice(&sum[r]);
        }
        stats
    };
    let forward = |x: &[f32], gamma: &[f32], beta: &[f32]| {
        let stats = stats_of(x);
        let mut y = Vec::new();
        for s in shards {
            let k = Kernel::BnNormalize {
                rows: s.1,
                cols,
                total: rows,
                eps,
                momentum: 0.99,
            };
            let inputs = [
                part(x, s),
                gamma.to_vec(),
                beta.to_vec(),
                vec![0.0; s.1 * cols],
                stats.clone(),
                vec![0.0; cols],
                vec![1.0; cols],
            ];
            y.extend(run(&k, &inputs)[3].clone());
        }
        y
    };
    let f = |p: &[Vec<f32>]| forward(&p[0], &p[1], &p[2]);
    let stats = stats_of(&x);
    let (mut dgamma, mut dbeta, mut sums) = (vec![0.0; cols], vec![0.0; cols], vec![0.0; 2 * cols]);
    for s in shards {
        let k = Kernel::BnBackwardSums {
            rows: s.1,
            cols,
            eps,
        };
        let inputs = [
            part(&x, s),
            stats.clone(),
            vec![0.0; 2 * cols],
            part(&u, s),
            vec![0.0; cols],
            vec![0.0; cols],
        ];
        let out = run(&k, &inputs);
        add(&mut sums, &out[2]);
        add(&mut dgamma, &out[4]);
        add(&mut dbeta, &out[5]);
    }
    let mut dx = Vec::new();
    for s in shards {
        let k = Kernel::BnBackwardDx {
            rows: s.1,
            cols,
            total: rows,
            eps,
        };
        let inputs = [
            part(&x, s),
            stats.clone(),
            gamma.clone(),
            part(&u, s),
            vec![0.0; s.1 * cols],
            sums.clone(),
        ];
        dx.extend(run(&k, &inputs)[4].clone());
    }
    let inputs = [x, gamma, beta];
    check("synced bn dx", &dx, &numeric(&f, &inputs, 0, &u));
    check("synced bn dgamma", &dgamma, &numeric(&f, &inputs, 1, &u));
    check("synced bn dbeta", &dbeta, &numeric(&f, &inputs, 2, &u));
}

#[test]
fn dropout_gradients_follow_the_same_mask() {
    use steadygrad::backend::kernel::DropoutMask;
    for alpha in [false, true] {
        let mask = DropoutMask {
            rows: 3,
            sample: [1, 2, 5],
            shared: [false, false, true, false],
            rate: 0.4,
            seed: 77,
            alpha,
        };
        let n = mask.len();
        let step = vec![f32::from_bits(3), 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0];
        let x = random(n, 1.0, 5);
        let u = random(n, 1.0, 6);
        let f = |p: &[Vec<f32>]| {
            run(
                &Kernel::Dropout { mask },
                &[p[0].clone(), vec![0.0; n], step.clone()],
            )[1]
            .clone()
        };
        let analytic = run(
            &Kernel::DropoutBackward { mask },
            &[u.clone(), vec![0.0; n], step.clone()],
        )[1]
        .clone();
        check(
            &format!("dropout alpha={alpha}"),
            &analytic,
            &numeric(&f, &[x], 0, &u),
        );
    }
}

/// Batch norm over an activation's output, `y = BN(f(z))`, against its fused backward
/// (BnActBackward): dz, dgamma and dbeta by finite differences, db as the column sums of
/// dz — for every activation whose derivative its output tells, RReLU drawing slopes too.
#[test]
fn batch_norm_after_activation_gradients() {
    let (rows, cols, eps) = (6, 3, 1e-3);
    let n = rows * cols;
    let z = smooth_inputs(n, 40);
    let gamma = random(cols, 1.5, 41);
    let beta = random(cols, 1.0, 42);
    let u = random(n, 1.0, 43);
    let mut step = vec![0.0; 8];
    step[0] = f32::from_bits(11);
    let train = Kernel::BnTrain {
        rows,
        cols,
        eps,
        momentum: 0.99,
    };
    let mut acts: Vec<ActKind> = ActKind::all()
        .into_iter()
        .filter(|a| a.derivative_from_output() && *a != ActKind::Linear)
        .collect();
    acts.push(ActKind::Elu { alpha: 0.7 });
    for act in acts {
        for training in [false, true] {
            let activate = Kernel::ActForward {
                act,
                n,
                training,
                seed: 4,
            };
            let forward = |p: &[Vec<f32>]| {
                let x = run(&activate, &[p[0].clone(), vec![0.0; n], step.clone()])[1].clone();
                let inputs = [
                    x.clone(),
                    p[1].clone(),
                    p[2].clone(),
                    vec![0.0; n],
                    vec![0.0; 2 * cols],
                    vec![0.0; cols],
                    vec![1.0; cols],
                ];
                (x, run(&train, &inputs))
            };
            let f = |p: &[Vec<f32>]| forward(p).1[3].clone();
            let inputs = [z.clone(), gamma.clone(), beta.clone()];
            let (x, out) = forward(&inputs);
            let k = Kernel::BnActBackward {
                rows,
                cols,
                eps,
                act,
                training,
                seed: 4,
            };
            let g = run(
                &k,
                &[
                    x,
                    out[4].clone(),
                    gamma.clone(),
                    u.clone(),
                    vec![0.0; n],
                    vec![0.0; cols],
                    vec![0.0; cols],
                    vec![0.0; cols],
                    step.clone(),
                ],
            );
            let what = format!("{act:?} training={training}");
            check(&format!("{what} dz"), &g[4], &numeric(&f, &inputs, 0, &u));
            check(
                &format!("{what} dgamma"),
                &g[5],
                &numeric(&f, &inputs, 1, &u),
            );
            check(
                &format!("{what} dbeta"),
                &g[6],
                &numeric(&f, &inputs, 2, &u),
            );
            let sums: Vec<f32> = (0..cols)
                .map(|c| (0..rows).map(|r| g[4][r * cols + c]).sum())
                .collect();
            assert_close(&format!("{what} db"), &g[7], &sums, 1e-6, 1e-5);
        }
    }
}
