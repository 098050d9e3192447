//! Synchronized batch norm's kernels (a batch split over ranks): each matches the CPU
//! reference, and the shards' results summed on the host, as the all-reduce sums them,
//! equal the one-launch kernels on the whole batch.

use super::*;

/// Runs `kernel` on both backends, checks every buffer agrees, returns the CPU's.
fn agreed(g: &mut dyn Backend, kernel: Kernel, inputs: Vec<Vec<f32>>) -> Vec<Vec<f32>> {
    let (c, gg) = both(g, &kernel, &inputs);
    for (i, (cv, gv)) in c.iter().zip(&gg).enumerate() {
        assert_close(&format!("{kernel:?} buffer {i}"), gv, cv, 1e-4, 1e-3);
    }
    c
}

fn sum_into(acc: &mut [f32], part: &[f32]) {
    acc.iter_mut().zip(part).for_each(|(a, p)| *a += p);
}

pub(super) fn synchronized_batch_norm_matches_reference_and_the_whole_batch() {
    let Some(mut g) = gpu() else { return };
    let eps = 1e-3;
    // Shards of unequal rows (odd totals), single-row shards, and a large common offset.
    for &(rows, cols, ranks) in &[
        (2usize, 3usize, 2usize),
        (33, 100, 2),
        (7, 12, 3),
        (256, 12, 4),
    ] {
        for offset in [0.0f32, 1e4] {
            let n = rows * cols;
            let x: Vec<f32> = random_with_edges(n, 2.0, 8)
                .iter()
                .map(|v| v + offset)
                .collect();
            let (gamma, beta) = (random(cols, 2.0, 9), random(cols, 1.0, 10));
            let moving = [random(cols, 1.0, 11), random(cols, 1.0, 12)];
            let dy = random(n, 1.0, 13);
            // The whole batch in one launch each, on the reference.
            let mut cpu = CpuBackend::new();
            let mut run = |k: &Kernel, inputs: &[Vec<f32>]| {
                let ids: Vec<_> = inputs.iter().map(|d| cpu.upload(d).unwrap()).collect();
                cpu.run(k, &ids).unwrap();
                ids.iter()
                    .map(|b| cpu.read(*b).unwrap())
                    .collect::<Vec<_>>()
            };
            let momentum = 0.99;
            let whole = run(
                &Kernel::BnTrain {
                    rows,
                    cols,
                    eps,
                    momentum,
                },
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
            let whole_back = run(
                &Kernel::BnBackward { rows, cols, eps },
                &[
                    x.clone(),
                    whole[4].clone(),
                    gamma.clone(),
                    dy.clone(),
                    vec![0.0; n],
                    vec![0.0; cols],
                    vec![0.0; cols],
                ],
            );
            let shards: Vec<(usize, usize)> = (0..ranks)
                .map(|r| steadygrad::dist::shard_rows(rows, r, ranks))
                .collect();
            let part = |v: &[f32], (o, r): (usize, usize)| v[o * cols..(o + r) * cols].to_vec();
            // Mean, then variance about it: each rank's share, summed.
            let mut stats = vec![0.0f32; 2 * cols];
            for centered in [false, true] {
                let mut sum = vec![0.0f32; 2 * cols];
                for &s in &shards {
                    let k = Kernel::BnMoments {
                        rows: s.1,
                        cols,
                        total: rows,
                        centered,
                    };
                    let out = agreed(&mut g, k, vec![part(&x, s), stats.clone()]);
                    let range = if centered { cols..2 * cols } else { 0..cols };
                    sum_into(&mut sum[range.clone()], &out[1][range]);
                }
                let range = if centered { cols..2 * cols } else { 0..cols };
                stats[range.clone()].copy_from_slice(&sum[range]);
            }
            assert_close("synced mean", &stats[..cols], &whole[4][..cols], 1e-2, 1e-5);
            assert_close("synced var", &stats[cols..], &whole[4][cols..], 1e-4, 1e-3);
            let stats = whole[4].clone();
            // Output and moving statistics from the given statistics (same on every rank).
            let mut y = Vec::new();
            for &s in &shards {
                let k = Kernel::BnNormalize {
                    rows: s.1,
                    cols,
                    total: rows,
                    eps,
                    momentum,
                };
                let inputs = vec![
                    part(&x, s),
                    gamma.clone(),
                    beta.clone(),
                    vec![0.0; s.1 * cols],
                    stats.clone(),
                    moving[0].clone(),
                    moving[1].clone(),
                ];
                let out = agreed(&mut g, k, inputs);
                assert_close("synced moving mean", &out[5], &whole[5], 1e-3, 1e-5);
                assert_close("synced moving var", &out[6], &whole[6], 1e-4, 1e-4);
                y.extend_from_slice(&out[3]);
            }
            assert_close("synced y", &y, &whole[3], 1e-4, 1e-3);
            // Backward: the shards' sums add up to the whole batch's dgamma and dbeta.
            let mut sums = vec![0.0f32; 2 * cols];
            for &s in &shards {
                let k = Kernel::BnBackwardSums {
                    rows: s.1,
                    cols,
                    eps,
                };
                let inputs = vec![
                    part(&x, s),
                    stats.clone(),
                    vec![0.0; 2 * cols],
                    part(&dy, s),
                    vec![0.0; cols],
                    vec![0.0; cols],
                ];
                let out = agreed(&mut g, k, inputs);
                assert_eq!(out[4], out[2][..cols], "dgamma share and sums");
                assert_eq!(out[5], out[2][cols..], "dbeta share and sums");
                sum_into(&mut sums, &out[2]);
            }
            assert_close("synced dgamma", &sums[..cols], &whole_back[5], 1e-3, 1e-3);
            assert_close("synced dbeta", &sums[cols..], &whole_back[6], 1e-3, 1e-3);
            let mut dx = Vec::new();
            for &s in &shards {
                let k = Kernel::BnBackwardDx {
                    rows: s.1,
                    cols,
                    total: rows,
                    eps,
                };
                let inputs = vec![
                    part(&x, s),
                    stats.clone(),
                    gamma.clone(),
                    part(&dy, s),
                    vec![0.0; s.1 * cols],
                    sums.clone(),
                ];
                dx.extend_from_slice(&agreed(&mut g, k, inputs)[4]);
            }
            assert_close("synced dx", &dx, &whole_back[4], 1e-3, 1e-3);
        }
    }
}

/// Batch norm over the data feeding a dense layer: the forward writing x̂ beside y (equal
/// to BnTrain's on the CPU, x̂ by its formula), and the backward from the layer's weight
/// gradient (in place of the synchronized sums' walk over dy) on awkward sizes (one
/// feature, units that do not fill the 64 lanes or overrun them, features past one
/// dispatch's 65,535 workgroups), with edge values.
pub(super) fn dense_batch_norm_backward_matches_reference() {
    let Some(mut g) = gpu() else { return };
    for (rows, cols) in [(1usize, 4usize), (5, 8), (33, 784), (70, 12)] {
        let (eps, momentum) = (1e-3, 0.99);
        // Large means among the edge values: x̂ must not cancel them away.
        let x: Vec<f32> = random_with_edges(rows * cols, 3.0, 46)
            .iter()
            .enumerate()
            .map(|(i, v)| v + if i % cols == 1 { 1e3 } else { 0.0 })
            .collect();
        let inputs = vec![
            x.clone(),
            random(cols, 2.0, 47),
            random(cols, 1.0, 48),
            vec![0.0; rows * cols],
            vec![0.0; 2 * cols],
            random(cols, 1.0, 49),
            random(cols, 1.0, 50).iter().map(|v| v.abs()).collect(),
            vec![0.0; rows * cols],
        ];
        let k = Kernel::BnTrainXhat {
            rows,
            cols,
            eps,
            momentum,
        };
        check(&mut g, k.clone(), inputs.clone(), 1e-5);
        let c = run_cpu(&k, &inputs);
        let train = Kernel::BnTrain {
            rows,
            cols,
            eps,
            momentum,
        };
        let plain = run_cpu(&train, &inputs[..7]);
        assert_eq!(
            c[..7],
            plain[..],
            "BnTrainXhat's first seven buffers as BnTrain's"
        );
        let xhat: Vec<f32> = (0..rows * cols)
            .map(|i| (x[i] - c[4][i % cols]) / (c[4][cols + i % cols] + eps).sqrt())
            .collect();
        assert_eq!(c[7], xhat, "x̂");
    }
    for (features, units) in [(1usize, 1usize), (3, 70), (13, 64), (784, 300), (65_537, 2)] {
        let n = features * units;
        let inputs = vec![
            random_with_edges(n, 1.0, 41),
            random_with_edges(features, 2.0, 42),
            random(features, 1.0, 43),
            random_with_edges(units, 3.0, 44),
            random_with_edges(n, 5.0, 45),
            vec![0.0; features],
            vec![0.0; features],
            vec![0.0; units],
        ];
        check(
            &mut g,
            Kernel::BnDenseBackward { features, units },
            inputs,
            1e-5,
        );
    }
}
