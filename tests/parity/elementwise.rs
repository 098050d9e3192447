//! Element-wise, row and column, loss and batch-norm parity.

use super::matmul::acts;
use super::*;
use steadygrad::backend::ops::elementwise::act_value;

pub(super) fn activations_match_reference_forward_and_backward() {
    let Some(mut g) = gpu() else { return };
    for &n in &[1usize, 7, 33, 128, 300, 785] {
        for act in acts() {
            for training in [false, true] {
                let x = random_with_edges(n, 6.0, n as u64);
                let step = step_record(17, 0, 0.0, [0.0; 4]);
                let fwd = Kernel::ActForward {
                    act,
                    n,
                    training,
                    seed: 5,
                };
                let (c, gg) = both(&mut g, &fwd, &[x.clone(), vec![0.0; n], step.clone()]);
                assert_close(&format!("{act:?} y n={n}"), &gg[1], &c[1], 1e-6, 1e-5);
                let y = c[1].clone();
                let dy = random(n, 1.0, 99);
                let bwd = Kernel::ActBackward {
                    act,
                    n,
                    training,
                    seed: 5,
                };
                let (c, gg) = both(
                    &mut g,
                    &bwd,
                    &[x.clone(), y.clone(), dy.clone(), vec![0.0; n], step.clone()],
                );
                assert_close(&format!("{act:?} dx n={n}"), &gg[3], &c[3], 1e-6, 1e-5);
                if !act.derivative_from_output() {
                    continue;
                }
                // The dense epilogue's backward, as one row of n columns, as n rows of
                // one and (n a multiple of 4) as rows of 4, its bias gradient whole or
                // (more than one row) as partial sums over 2, 3 or 7 stripes of rows: from
                // the output alone, the same derivative as from the input.
                let dx = c[3].clone();
                // The activation layer's backward from its output alone.
                let k = Kernel::ActBackwardFromOutput {
                    act,
                    n,
                    training,
                    seed: 5,
                };
                let inputs = [y.clone(), dy.clone(), vec![f32::NAN; n], step.clone()];
                let (c, gg) = both(&mut g, &k, &inputs);
                assert_close(&format!("{act:?} from y n={n}"), &gg[2], &c[2], 1e-6, 1e-5);
                assert_close(
                    &format!("{act:?} from y vs x n={n}"),
                    &c[2],
                    &dx,
                    1e-6,
                    1e-5,
                );
                let mut shapes = vec![(1, n, 1), (n, 1, 1), (n, 1, 7)];
                if n % 4 == 0 {
                    shapes.extend([(n / 4, 4, 1), (n / 4, 4, 2), (n / 4, 4, 3)]);
                }
                for (rows, cols, stripes) in shapes {
                    let k = Kernel::BiasActBackward {
                        rows,
                        cols,
                        stripes,
                        act,
                        training,
                        seed: 5,
                    };
                    let inputs = [
                        y.clone(),
                        dy.clone(),
                        vec![0.0; n],
                        vec![0.0; stripes * cols],
                        step.clone(),
                    ];
                    let what = format!("{act:?} n={n} stripes={stripes}");
                    let (c, gg) = both(&mut g, &k, &inputs);
                    assert_close(&format!("{what} dz"), &gg[2], &c[2], 1e-6, 1e-5);
                    assert_close(&format!("{what} db"), &gg[3], &c[3], 1e-5, 1e-5);
                    assert_close(&format!("{what} dz vs dx"), &c[2], &dx, 1e-6, 1e-5);
                    // Each stripe sums its own block of ceil(rows / stripes) consecutive
                    // rows (past the rows, a stripe sums none).
                    let per = rows.div_ceil(stripes);
                    for s in 0..stripes {
                        for col in 0..cols {
                            let sum: f32 = (s * per..rows.min(s * per + per))
                                .map(|r| c[2][r * cols + col])
                                .sum();
                            let got = c[3][s * cols + col];
                            assert!(
                                (got - sum).abs() <= 1e-5 * (1.0 + sum.abs()),
                                "{what}: stripe {s} column {col} {got} vs {sum}"
                            );
                        }
                    }
                }
            }
        }
    }
}

pub(super) fn row_and_column_kernels_match_reference() {
    let Some(mut g) = gpu() else { return };
    for &(rows, cols) in &[(1usize, 1usize), (7, 33), (33, 7), (300, 10), (2, 785)] {
        let n = rows * cols;
        let x = random_with_edges(n, 3.0, 1);
        let v = random(cols, 1.0, 2);
        let dy = random(n, 1.0, 3);
        check(
            &mut g,
            Kernel::BiasAdd { rows, cols },
            vec![x.clone(), v.clone(), vec![0.0; n]],
            1e-6,
        );
        check(
            &mut g,
            Kernel::ColumnSum { rows, cols },
            vec![dy.clone(), vec![0.0; cols]],
            1e-5,
        );
        check(
            &mut g,
            Kernel::PreluForward { rows, cols },
            vec![x.clone(), v.clone(), vec![0.0; n]],
            1e-6,
        );
        check(
            &mut g,
            Kernel::PreluBackward { rows, cols },
            vec![
                x.clone(),
                v.clone(),
                dy.clone(),
                vec![0.0; n],
                vec![0.0; cols],
            ],
            1e-5,
        );
        let mut big = x.clone();
        big[0] = 100.0;
        if n > 1 {
            big[1] = -100.0;
        }
        check(
            &mut g,
            Kernel::SoftmaxForward { rows, cols },
            vec![big.clone(), vec![0.0; n]],
            1e-5,
        );
        check(
            &mut g,
            Kernel::SoftmaxBackward { rows, cols },
            vec![x.clone(), dy.clone(), vec![0.0; n]],
            1e-5,
        );
        check(
            &mut g,
            Kernel::Add { n },
            vec![x.clone(), dy.clone(), vec![0.0; n]],
            1e-6,
        );
        check(
            &mut g,
            Kernel::Scale { n, factor: -0.37 },
            vec![x.clone(), vec![0.0; n]],
            1e-6,
        );
    }
}

/// The output layer fused with its loss and backward products (Kernel::DenseLoss): on the
/// GPU against the CPU reference, and on the CPU equal bit for bit to the linear dense
/// layer, the loss and the two matmuls it replaces. Shapes past one workgroup's 256 lanes
/// in rows and in k, one output column, the widest head.
pub(super) fn dense_loss_matches_reference_and_the_kernels_it_replaces() {
    let Some(mut g) = gpu() else { return };
    for &(rows, k, cols) in &[
        (1usize, 1usize, 1usize),
        (7, 13, 10),
        (32, 100, 10),
        (33, 300, 3),
        (300, 5, 16),
        (5, 257, 1),
        (130, 100, 10),
    ] {
        let h = random_with_edges(rows * k, 2.0, 40);
        let w = random(k * cols, 0.5, 41);
        let bias = random(cols, 0.5, 42);
        let labels: Vec<u32> = (0..rows)
            .map(|r| {
                if cols == 1 {
                    (r % 2) as u32
                } else {
                    ((r * 7) % cols) as u32
                }
            })
            .collect();
        let labels = words(&labels);
        for kind in LossKind::ALL {
            let fused = Kernel::DenseLoss {
                kind,
                rows,
                k,
                cols,
                total: rows + 1,
            };
            let inputs = vec![
                h.clone(),
                w.clone(),
                bias.clone(),
                vec![0.0; rows * cols],
                labels.clone(),
                vec![0.0; rows * cols],
                vec![0.0; cols],
                vec![1.0, 2.0, 3.0],
                vec![0.0; rows * k],
                vec![0.0; k * cols],
            ];
            let what = format!("{kind:?} {rows}×{k}×{cols}");
            let (c, gg) = both(&mut g, &fused, &inputs);
            for (i, name) in [
                (3, "logits"),
                (5, "dx"),
                (6, "bias gradient"),
                (7, "metrics"),
                (8, "dh"),
                (9, "dw"),
            ] {
                assert_close(&format!("{what} {name}"), &gg[i], &c[i], 1e-5, 1e-4);
            }
            let dense = Kernel::Dense {
                m: rows,
                k,
                n: cols,
                act: ActKind::Linear,
                training: true,
                seed: 0,
            };
            let step = vec![0.0; STEP_WORDS];
            let x = run_cpu(
                &dense,
                &[h.clone(), w.clone(), bias.clone(), inputs[3].clone(), step],
            );
            let loss = Kernel::Loss {
                kind,
                rows,
                cols,
                total: rows + 1,
            };
            let l = run_cpu(
                &loss,
                &[
                    x[3].clone(),
                    labels.clone(),
                    inputs[5].clone(),
                    inputs[6].clone(),
                    inputs[7].clone(),
                ],
            );
            let product = |m, kk, n, ta, tb, a: &Vec<f32>, b: &Vec<f32>| {
                let mm = Kernel::MatMul {
                    m,
                    k: kk,
                    n,
                    trans_a: ta,
                    trans_b: tb,
                    accumulate: false,
                };
                run_cpu(&mm, &[a.clone(), b.clone(), vec![0.0; m * n]])[2].clone()
            };
            let dh = product(rows, cols, k, false, true, &l[2], &w);
            let dw = product(k, rows, cols, true, false, &h, &l[2]);
            assert_eq!(c[3], x[3], "{what}: logits as Dense computes them");
            for (i, j) in [(5, 2), (6, 3), (7, 4)] {
                assert_eq!(c[i], l[j], "{what}: buffer {i} as Loss computes it");
            }
            assert_eq!(c[8], dh, "{what}: dh as MatMul computes it");
            assert_eq!(c[9], dw, "{what}: dw as MatMul computes it");
            // The same step in two launches (larger batches): each against its reference,
            // and the pair's references against the one launch's.
            let rows_kernel = Kernel::DenseLossRows {
                kind,
                rows,
                k,
                cols,
                total: rows + 1,
            };
            let mut rows_inputs = inputs[..6].to_vec();
            rows_inputs.push(vec![f32::NAN; 2 * rows]);
            rows_inputs.push(vec![0.0; rows * k]);
            let (rc, rg) = both(&mut g, &rows_kernel, &rows_inputs);
            for (i, name) in [(3, "logits"), (5, "dx"), (6, "row metrics"), (7, "dh")] {
                assert_close(&format!("{what} rows {name}"), &rg[i], &rc[i], 1e-5, 1e-4);
            }
            let sums_kernel = Kernel::DenseLossSums { rows, k, cols };
            let sums_inputs = vec![
                h.clone(),
                rc[5].clone(),
                rc[6].clone(),
                vec![f32::NAN; cols],
                vec![1.0, 2.0, 3.0],
                vec![f32::NAN; k * cols],
            ];
            let (sc, sg) = both(&mut g, &sums_kernel, &sums_inputs);
            for (i, name) in [(3, "bias gradient"), (4, "metrics"), (5, "dw")] {
                assert_close(&format!("{what} sums {name}"), &sg[i], &sc[i], 1e-5, 1e-4);
            }
            for (pair, one) in [(&rc[3], &c[3]), (&rc[5], &c[5]), (&rc[7], &c[8])] {
                assert_eq!(pair, one, "{what}: the rows launch as the one launch");
            }
            for (pair, one) in [(&sc[3], &c[6]), (&sc[4], &c[7]), (&sc[5], &c[9])] {
                assert_eq!(pair, one, "{what}: the sums launch as the one launch");
            }
        }
    }
}

pub(super) fn losses_and_metrics_match_reference_for_large_logits() {
    let Some(mut g) = gpu() else { return };
    // 32 rows: the batch size at which one loop form ran 80× slower on llvmpipe.
    for &(rows, cols) in &[
        (1usize, 10usize),
        (7, 10),
        (32, 10),
        (33, 3),
        (300, 10),
        (5, 1),
    ] {
        let n = rows * cols;
        let mut z = random_with_edges(n, 10.0, 4);
        z[0] = 100.0;
        if n > 2 {
            z[2] = -100.0;
        }
        let labels: Vec<u32> = (0..rows)
            .map(|r| {
                ((r * 7) % cols.max(2).min(cols + 1)).min(if cols == 1 { 1 } else { cols - 1 })
                    as u32
            })
            .collect();
        let labels = words(&labels);
        for kind in LossKind::ALL {
            let k = Kernel::Loss {
                kind,
                rows,
                cols,
                total: rows,
            };
            // Metrics accumulate onto what is there.
            let inputs = [
                z.clone(),
                labels.clone(),
                vec![0.0; n],
                vec![0.0; cols],
                vec![1.0, 2.0, 3.0],
            ];
            let (c, gg) = both(&mut g, &k, &inputs);
            assert!(
                c[4].iter().all(|v| v.is_finite()),
                "{kind:?}: reference loss not finite"
            );
            assert_close(&format!("{kind:?} grad"), &gg[2], &c[2], 1e-6, 1e-5);
            assert_close(&format!("{kind:?} column sums"), &gg[3], &c[3], 1e-6, 1e-5);
            assert_close(&format!("{kind:?} metrics"), &gg[4], &c[4], 1e-5, 1e-5);
            assert_eq!(c[4][2], 3.0 + rows as f32, "rows counted");
            let sums: Vec<f32> = (0..cols)
                .map(|j| (0..rows).map(|r| c[2][r * cols + j]).sum())
                .collect();
            assert_close(&format!("{kind:?} Σ grad"), &c[3], &sums, 1e-7, 1e-6);
        }
    }
}

/// The gap between |x| and the next f32 above it.
fn ulp(x: f32) -> f32 {
    f32::from_bits(x.abs().to_bits() + 1) - x.abs()
}

pub(super) fn batch_norm_kernels_match_reference_including_large_means() {
    let Some(mut g) = gpu() else { return };
    // Column counts in whole vec4s take the four-columns-an-invocation kernels; many rows
    // over few such columns (a convolution's channels) the workgroups that split the rows
    // (3,111 rows: lanes of unequal share; through textures on CPU adapters).
    let all_acts = acts();
    for (shape, &(rows, cols)) in [
        (1usize, 7usize),
        (2, 33),
        (32, 10),
        (1000, 3),
        (1, 4),
        (32, 12),
        (33, 100),
        (256, 784),
        (3111, 12),
        (4096, 32),
    ]
    .iter()
    .enumerate()
    {
        let n = rows * cols;
        for offset in [0.0f32, 1e4] {
            let x: Vec<f32> = random_with_edges(n, 2.0, 8)
                .iter()
                .map(|v| v + offset)
                .collect();
            let train = Kernel::BnTrain {
                rows,
                cols,
                eps: 1e-3,
                momentum: 0.99,
            };
            let moving = [random(cols, 1.0, 11), random(cols, 1.0, 12)];
            let gamma = random(cols, 2.0, 9);
            let beta = random(cols, 1.0, 10);
            let (c, gg) = both(
                &mut g,
                &train,
                &[
                    x.clone(),
                    gamma.clone(),
                    beta.clone(),
                    vec![0.0; n],
                    vec![0.0; 2 * cols],
                    moving[0].clone(),
                    moving[1].clone(),
                ],
            );
            // A GPU may divide to 2.5 ulp (Vulkan's precision; NVIDIA's driver does), so
            // the batch mean may sit a few ulps from the reference's: at an offset of 1e4
            // (an ulp of 1e-3) that moves y by as much times gamma/σ.
            let (mean, var) = c[4].split_at(cols);
            for (i, (a, b)) in gg[3].iter().zip(&c[3]).enumerate() {
                let col = i % cols;
                let slack = 3.0 * ulp(mean[col]) * gamma[col].abs() / (var[col] + 1e-3).sqrt();
                assert!(
                    (a - b).abs() <= 1e-4 + 1e-3 * b.abs() + slack,
                    "bn y[{i}] ({rows}×{cols}, offset {offset}): got {a}, expected {b}"
                );
            }
            assert_close("bn mean", &gg[4][..cols], &c[4][..cols], 1e-3, 1e-5);
            assert_close("bn var", &gg[4][cols..], &c[4][cols..], 1e-4, 1e-3);
            assert_close("bn moving mean", &gg[5], &c[5], 1e-3, 1e-5);
            assert_close("bn moving var", &gg[6], &c[6], 1e-4, 1e-3);
            // With the activation after it applied as the output is stored (an activation
            // a shape, RReLU at its mean slope): on the GPU against the CPU reference, whose
            // output is BnTrain's through the activation and whose statistics are BnTrain's.
            let act = all_acts[shape % all_acts.len()];
            let fused = Kernel::BnTrainAct {
                rows,
                cols,
                eps: 1e-3,
                momentum: 0.99,
                act,
            };
            let inputs = [
                x.clone(),
                gamma.clone(),
                beta.clone(),
                vec![f32::NAN; n],
                vec![0.0; 2 * cols],
                moving[0].clone(),
                moving[1].clone(),
            ];
            let (ca, ga) = both(&mut g, &fused, &inputs);
            for (i, (a, b)) in ga[3].iter().zip(&ca[3]).enumerate() {
                let col = i % cols;
                let slack = 4.0 * ulp(mean[col]) * gamma[col].abs() / (var[col] + 1e-3).sqrt();
                let want = act_value(act, c[3][i], false, 0, 0, i);
                assert_eq!(
                    ca[3][i].to_bits(),
                    want.to_bits(),
                    "{act:?} y[{i}] on the CPU"
                );
                assert!(
                    (a - b).abs() <= 1e-4 + 1e-3 * b.abs() + slack,
                    "bn + {act:?} y[{i}] ({rows}×{cols}, offset {offset}): got {a}, expected {b}"
                );
            }
            assert_eq!(ca[4..], c[4..], "{act:?}: statistics as BnTrain's");
            assert_close("bn + act mean", &ga[4][..cols], &c[4][..cols], 1e-3, 1e-5);
            let stats = c[4].clone();
            let (mean, var) = (stats[..cols].to_vec(), stats[cols..].to_vec());
            check(
                &mut g,
                Kernel::BnApply {
                    rows,
                    cols,
                    eps: 1e-3,
                },
                vec![
                    x.clone(),
                    mean,
                    var,
                    gamma.clone(),
                    beta.clone(),
                    vec![0.0; n],
                ],
                1e-5,
            );
            let dy = random(n, 1.0, 13);
            let stats_of_x = stats.clone();
            let (c, gg) = both(
                &mut g,
                &Kernel::BnBackward {
                    rows,
                    cols,
                    eps: 1e-3,
                },
                &[
                    x.clone(),
                    stats,
                    gamma.clone(),
                    dy.clone(),
                    vec![0.0; n],
                    vec![0.0; cols],
                    vec![0.0; cols],
                ],
            );
            for i in 4..7 {
                let e = rel_err(&gg[i], &c[i]);
                assert!(
                    e < 1e-4 || c[i].iter().all(|v| v.abs() < 1e-5),
                    "bn backward buffer {i}: {e:e}"
                );
            }
            if offset == 0.0 {
                bn_act_backward_matches(&mut g, (rows, cols), &x, &stats_of_x, &gamma, &dy);
            }
        }
    }
}

/// Batch norm's backward fused with the activation derivative before it, on the GPU
/// against the CPU reference, and on the CPU against the two kernels it replaces
/// (BnBackward, then BiasActBackward on its dx): x (edge values included) stands for the
/// activation's output.
fn bn_act_backward_matches(
    g: &mut dyn Backend,
    (rows, cols): (usize, usize),
    x: &[f32],
    stats: &[f32],
    gamma: &[f32],
    dy: &[f32],
) {
    let n = rows * cols;
    let step = step_record(23, 0, 0.0, [0.0; 4]);
    let eps = 1e-3;
    let unfused = run_cpu(
        &Kernel::BnBackward { rows, cols, eps },
        &[
            x.to_vec(),
            stats.to_vec(),
            gamma.to_vec(),
            dy.to_vec(),
            vec![0.0; n],
            vec![0.0; cols],
            vec![0.0; cols],
        ],
    );
    for act in acts()
        .into_iter()
        .filter(|a| a.derivative_from_output() && *a != ActKind::Linear)
    {
        for training in [false, true] {
            let fused = Kernel::BnActBackward {
                rows,
                cols,
                eps,
                act,
                training,
                seed: 6,
            };
            let inputs = [
                x.to_vec(),
                stats.to_vec(),
                gamma.to_vec(),
                dy.to_vec(),
                vec![0.0; n],
                vec![0.0; cols],
                vec![0.0; cols],
                vec![0.0; cols],
                step.clone(),
            ];
            let (c, gg) = both(g, &fused, &inputs);
            let what = format!("{act:?} training={training} {rows}×{cols}");
            for (i, name) in [(4, "dz"), (5, "dgamma"), (6, "dbeta"), (7, "db")] {
                let e = rel_err(&gg[i], &c[i]);
                assert!(
                    e < 1e-4 || c[i].iter().all(|v| v.abs() < 1e-5),
                    "{what} {name}: {e:e}"
                );
            }
            let epilogue = Kernel::BiasActBackward {
                rows,
                cols,
                stripes: 1,
                act,
                training,
                seed: 6,
            };
            let two = run_cpu(
                &epilogue,
                &[
                    x.to_vec(),
                    unfused[4].clone(),
                    vec![0.0; n],
                    vec![0.0; cols],
                    step.clone(),
                ],
            );
            assert_eq!(
                c[4], two[2],
                "{what}: dz differs from BnBackward then BiasActBackward"
            );
            assert_eq!(
                c[7], two[3],
                "{what}: db differs from BnBackward then BiasActBackward"
            );
            assert_eq!(c[5], unfused[5], "{what}: dgamma");
            assert_eq!(c[6], unfused[6], "{what}: dbeta");
        }
    }
}
