//! Every backward kernel against central finite differences of its forward kernel, on the
//! CPU reference (in f64-accumulated sums over f32 evaluations).

mod common;

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
            let dx = run(&bwd, &[x.clone(), y, u.clone(), vec![0.0; n], step.clone()])[3].clone();
            check(
                &format!("{act:?} training={training}"),
                &dx,
                &numeric(&f, std::slice::from_ref(&x), 0, &u),
            );
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

/// Windows with padding, strides, dilation and several channels.
fn windows() -> Vec<steadygrad::backend::window::Window> {
    use steadygrad::backend::window::{Padding, Window};
    vec![
        Window::new(2, (5, 4, 2), (3, 3), (2, 1), (1, 1), Padding::Same).unwrap(),
        Window::new(1, (7, 6, 3), (2, 3), (1, 2), (2, 1), Padding::Valid).unwrap(),
        Window::new(2, (4, 5, 1), (3, 2), (2, 2), (1, 1), Padding::Same).unwrap(),
    ]
}

#[test]
fn col2im_is_the_gradient_of_im2col() {
    for (i, win) in windows().into_iter().enumerate() {
        let x = random(win.input_len(), 1.0, 70 + i as u64);
        let cols = win.positions() * win.patch();
        let u = random(cols, 1.0, 80 + i as u64);
        let f = |p: &[Vec<f32>]| {
            run(&Kernel::Im2col { win }, &[p[0].clone(), vec![0.0; cols]])[1].clone()
        };
        let analytic = run(
            &Kernel::Col2im { win },
            &[u.clone(), vec![0.0; win.input_len()]],
        )[1]
        .clone();
        check(
            &format!("col2im {win:?}"),
            &analytic,
            &numeric(&f, &[x], 0, &u),
        );
    }
}

/// A convolution's gradients (the direct kernel's forward, no activation): its input
/// gradient straight from the output gradient (`ConvInputGrad`) and its kernel gradient in
/// one stripe (the implicit matmul's) and in several.
#[test]
fn convolution_gradients() {
    for (i, win) in windows().into_iter().enumerate() {
        let filters = 4;
        let (positions, patch, n) = (win.positions(), win.patch(), win.input_len());
        let x = random(n, 1.0, 100 + i as u64);
        let w = random(patch * filters, 1.0, 110 + i as u64);
        let u = random(positions * filters, 1.0, 120 + i as u64);
        let conv = Kernel::ConvDirect {
            win,
            filters,
            act: ActKind::Linear,
            training: false,
            seed: 0,
        };
        let f = |p: &[Vec<f32>]| {
            let inputs = [
                p[0].clone(),
                p[1].clone(),
                vec![0.0; filters],
                vec![0.0; positions * filters],
                vec![0.0; steadygrad::backend::STEP_WORDS],
            ];
            run(&conv, &inputs)[3].clone()
        };
        let inputs = [x.clone(), w.clone()];
        let dx = run(
            &Kernel::ConvInputGrad { win, filters },
            &[u.clone(), w.clone(), vec![0.0; n]],
        )[2]
        .clone();
        check(
            &format!("conv input gradient {win:?}"),
            &dx,
            &numeric(&f, &inputs, 0, &u),
        );
        let dw_numeric = numeric(&f, &inputs, 1, &u);
        for stripes in [1, 3] {
            let len = stripes * patch * filters;
            let kernel = Kernel::ConvDirectWeightGrad {
                win,
                filters,
                stripes,
            };
            let partials = run(&kernel, &[x.clone(), u.clone(), vec![0.0; len]])[2].clone();
            let dw: Vec<f32> = (0..patch * filters)
                .map(|k| {
                    (0..stripes)
                        .map(|s| partials[s * patch * filters + k])
                        .sum()
                })
                .collect();
            check(
                &format!("conv kernel gradient, {stripes} stripes {win:?}"),
                &dw,
                &dw_numeric,
            );
        }
    }
}

#[test]
fn pooling_gradients() {
    use steadygrad::backend::window::{Padding, Window};
    let pools = [
        Window::new(2, (5, 4, 2), (3, 3), (2, 1), (1, 1), Padding::Same).unwrap(),
        Window::new(1, (7, 6, 3), (2, 3), (1, 2), (1, 1), Padding::Valid).unwrap(),
        Window::new(2, (4, 5, 1), (3, 2), (2, 2), (1, 1), Padding::Same).unwrap(),
    ];
    for (i, win) in pools.into_iter().enumerate() {
        let n = win.input_len();
        let out = win.pooled_len();
        // Distinct values spaced wider than the difference step: no ties flip.
        let mut x: Vec<f32> = (0..n).map(|k| k as f32 * 0.05).collect();
        let perm = random(n, 1.0, 90 + i as u64);
        let mut idx: Vec<usize> = (0..n).collect();
        idx.sort_by(|&a, &b| perm[a].total_cmp(&perm[b]));
        x = idx.iter().map(|&k| x[k]).collect();
        let u = random(out, 1.0, 95 + i as u64);
        let maxf = |p: &[Vec<f32>]| {
            run(
                &Kernel::MaxPool { win },
                &[p[0].clone(), vec![0.0; out], vec![0.0; out]],
            )[1]
            .clone()
        };
        let argmax = run(
            &Kernel::MaxPool { win },
            &[x.clone(), vec![0.0; out], vec![0.0; out]],
        )[2]
        .clone();
        let analytic = run(
            &Kernel::MaxPoolBackward { win },
            &[u.clone(), argmax, vec![0.0; n]],
        )[2]
        .clone();
        let num = {
            // A smaller step than the spacing of the values.
            let h = 1e-3f32;
            (0..n)
                .map(|k| {
                    let mut p = x.clone();
                    p[k] += h;
                    let fp: f64 = maxf(&[p.clone()])
                        .iter()
                        .zip(&u)
                        .map(|(a, b)| (*a * *b) as f64)
                        .sum();
                    p[k] -= 2.0 * h;
                    let fm: f64 = maxf(&[p])
                        .iter()
                        .zip(&u)
                        .map(|(a, b)| (*a * *b) as f64)
                        .sum();
                    ((fp - fm) / (2.0 * h as f64)) as f32
                })
                .collect::<Vec<f32>>()
        };
        check(&format!("max pool {win:?}"), &analytic, &num);
        let avgf = |p: &[Vec<f32>]| {
            run(&Kernel::AvgPool { win }, &[p[0].clone(), vec![0.0; out]])[1].clone()
        };
        let analytic = run(&Kernel::AvgPoolBackward { win }, &[u.clone(), vec![0.0; n]])[1].clone();
        check(
            &format!("avg pool {win:?}"),
            &analytic,
            &numeric(&avgf, &[x], 0, &u),
        );
    }
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

/// Max pooling over an activation's output, `y = maxpool(f(z))`, against its fused backward
/// (MaxPoolActBackward): dz by finite differences, the partial sums' column sums equal to
/// Σ dz. Strictly increasing activations on distinct values: no ties flip.
#[test]
fn max_pooling_after_activation_gradients() {
    use steadygrad::backend::kernel::pool_chunks;
    use steadygrad::backend::window::{Padding, Window};
    let pools = [
        Window::new(2, (5, 4, 2), (3, 3), (2, 1), (1, 1), Padding::Same).unwrap(),
        Window::new(1, (7, 6, 3), (2, 2), (2, 2), (1, 1), Padding::Valid).unwrap(),
    ];
    let mut step = vec![0.0; 8];
    step[0] = f32::from_bits(3);
    for (i, win) in pools.into_iter().enumerate() {
        let n = win.input_len();
        let out = win.pooled_len();
        let perm = random(n, 1.0, 70 + i as u64);
        let mut idx: Vec<usize> = (0..n).collect();
        idx.sort_by(|&a, &b| perm[a].total_cmp(&perm[b]));
        let z: Vec<f32> = idx.iter().map(|&k| k as f32 * 0.05 - 1.0).collect();
        let u = random(out, 1.0, 75 + i as u64);
        for act in [
            ActKind::Elu { alpha: 0.7 },
            ActKind::LeakyRelu { alpha: 0.2 },
            ActKind::Tanh,
        ] {
            let activate = Kernel::ActForward {
                act,
                n,
                training: false,
                seed: 0,
            };
            let forward = |p: &[Vec<f32>]| {
                let y = run(&activate, &[p[0].clone(), vec![0.0; n], step.clone()])[1].clone();
                let pooled = run(
                    &Kernel::MaxPool { win },
                    &[y.clone(), vec![0.0; out], vec![0.0; out]],
                );
                (y, pooled)
            };
            let f = |p: &[Vec<f32>]| forward(p).1[1].clone();
            let (y, pooled) = forward(std::slice::from_ref(&z));
            let chunks = pool_chunks(&win);
            let k = Kernel::MaxPoolActBackward {
                win,
                act,
                training: false,
                seed: 0,
            };
            let g = run(
                &k,
                &[
                    y,
                    u.clone(),
                    pooled[2].clone(),
                    vec![0.0; n],
                    vec![0.0; chunks * win.c],
                    step.clone(),
                ],
            );
            let what = format!("{win:?} {act:?}");
            // A smaller step than the spacing of the values.
            let h = 1e-3f32;
            let num: Vec<f32> = (0..n)
                .map(|k| {
                    let dot = |p: Vec<f32>| -> f64 {
                        f(&[p]).iter().zip(&u).map(|(a, b)| (*a * *b) as f64).sum()
                    };
                    let (mut zp, mut zm) = (z.clone(), z.clone());
                    zp[k] += h;
                    zm[k] -= h;
                    ((dot(zp) - dot(zm)) / (2.0 * h as f64)) as f32
                })
                .collect();
            check(&format!("{what} dz"), &g[3], &num);
            let c = win.c;
            for ch in 0..c {
                let sum: f32 = (0..n / c).map(|r| g[3][r * c + ch]).sum();
                let partials: f32 = (0..chunks).map(|k| g[4][k * c + ch]).sum();
                assert!(
                    (sum - partials).abs() < 1e-4,
                    "{what} channel {ch}: {sum} vs {partials}"
                );
            }
        }
    }
}
