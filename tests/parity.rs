//! Every kernel: the GPU equals the CPU reference on random inputs with edge values and
//! odd sizes.

mod common;

use common::*;
use std::collections::HashSet;
use std::sync::Mutex;

use steadygrad::backend::autotune::CANDIDATES;
use steadygrad::backend::kernel::{arena_end, segment_count};
use steadygrad::backend::{
    ActKind, ArenaTensor, Backend, ClipMode, CpuBackend, GpuBackend, GpuOptions, Kernel,
    KernelKind, LossKind, STEP_WORDS,
};
use strum::IntoEnumIterator;

/// The kernel variants a parity case has run for.
static COVERED: Mutex<Vec<KernelKind>> = Mutex::new(Vec::new());

/// u32 values as the f32 words that carry them (labels, indices, the step record).
fn words(v: &[u32]) -> Vec<f32> {
    v.iter().map(|&u| f32::from_bits(u)).collect()
}

/// A step record: step, batch offset, learning rate, optimizer scalars.
fn step_record(step: u32, offset: u32, lr: f32, scalars: [f32; 4]) -> Vec<f32> {
    let mut r = words(&[step, offset]);
    r.push(lr);
    r.push(0.0);
    r.extend(scalars);
    assert_eq!(r.len(), STEP_WORDS);
    r
}

/// Runs `kernel` on the CPU reference and on `gpu` with the same buffers and returns both
/// sets of buffers after the launch.
fn both(
    gpu: &mut dyn Backend,
    kernel: &Kernel,
    inputs: &[Vec<f32>],
) -> (Vec<Vec<f32>>, Vec<Vec<f32>>) {
    COVERED.lock().unwrap().push(KernelKind::from(kernel));
    let mut cpu = CpuBackend::new();
    let mut out = Vec::new();
    for be in [&mut cpu as &mut dyn Backend, gpu] {
        let ids: Vec<_> = inputs.iter().map(|d| be.upload(d).unwrap()).collect();
        be.run(kernel, &ids).unwrap();
        out.push(ids.iter().map(|b| be.read(*b).unwrap()).collect::<Vec<_>>());
    }
    let g = out.pop().unwrap();
    let c = out.pop().unwrap();
    (c, g)
}

fn check(gpu: &mut dyn Backend, kernel: Kernel, inputs: Vec<Vec<f32>>, tol: f64) {
    let (c, g) = both(gpu, &kernel, &inputs);
    for (i, (cv, gv)) in c.iter().zip(&g).enumerate() {
        assert!(
            gv.iter()
                .zip(cv)
                .all(|(a, b)| a.is_finite() == b.is_finite()),
            "{kernel:?} buffer {i}: finiteness differs"
        );
        // Bit-identical values (also NaN-coded words such as "no step yet") agree.
        let (gv, cv): (Vec<f32>, Vec<f32>) = gv
            .iter()
            .zip(cv)
            .map(|(a, b)| {
                if a.to_bits() == b.to_bits() {
                    (0.0, 0.0)
                } else {
                    (*a, *b)
                }
            })
            .unzip();
        let e = rel_err(&gv, &cv);
        assert!(
            e < tol,
            "{kernel:?} buffer {i}: relative error {e:e} ≥ {tol:e}"
        );
    }
}

fn matmul_matches_reference_for_odd_sizes_and_both_variants() {
    let Some(_) = gpu() else { return };
    for variant in CANDIDATES {
        let mut g = GpuBackend::new(&GpuOptions {
            matmul: Some(variant),
            ..GpuOptions::from_env().unwrap()
        })
        .unwrap();
        let sizes = [
            (1, 1, 1),
            (7, 13, 5),
            (7, 33, 1),
            (33, 7, 300),
            (1, 785, 7),
            (300, 33, 785),
            (64, 64, 64),
            // 4-aligned shapes take the vec4 kernel on CPU adapters.
            (8, 12, 16),
            (32, 300, 100),
            (6, 8, 4),
            // More than one workgroup of 8×8 blocks both ways.
            (72, 16, 136),
            // The seed network's first layer at batch 32.
            (32, 784, 300),
        ];
        for (si, &(m, k, n)) in sizes.iter().enumerate() {
            for flags in 0..8u32 {
                let (ta, tb, acc) = (flags & 1 != 0, flags & 2 != 0, flags & 4 != 0);
                let kernel = Kernel::MatMul {
                    m,
                    k,
                    n,
                    trans_a: ta,
                    trans_b: tb,
                    accumulate: acc,
                };
                let a = random_with_edges(m * k, 1.0, 10 + si as u64);
                let b = random(k * n, 1.0, 20 + si as u64);
                let c = random(m * n, 1.0, 30 + si as u64);
                check(&mut g, kernel, vec![a, b, c], 1e-5);
            }
            // The dense layer's launch: the same bodies, stored through the bias and
            // activation epilogue (a pipeline per activation: every activation through
            // the first variant's body, three of them, the random one among them,
            // through the others').
            let acts = if variant == CANDIDATES[0] {
                dense_acts()
            } else {
                vec![
                    ActKind::Linear,
                    ActKind::Elu { alpha: 0.5 },
                    ActKind::Rrelu {
                        lower: 0.1,
                        upper: 0.3,
                    },
                ]
            };
            for (ai, act) in acts.into_iter().enumerate() {
                for training in [false, true] {
                    let kernel = Kernel::Dense {
                        m,
                        k,
                        n,
                        act,
                        training,
                        seed: 3,
                    };
                    let x = random_with_edges(m * k, 1.0, 40 + si as u64);
                    let w = random(k * n, 1.0, 50 + ai as u64);
                    let bias = random_with_edges(n, 2.0, 60);
                    let step = step_record(11, 0, 0.0, [0.0; 4]);
                    check(
                        &mut g,
                        kernel,
                        vec![x, w, bias, vec![0.0; m * n], step],
                        1e-5,
                    );
                }
            }
        }
    }
}

/// The activations a dense layer fuses (those whose output tells the derivative).
fn dense_acts() -> Vec<ActKind> {
    let v: Vec<ActKind> = acts()
        .into_iter()
        .filter(|a| a.derivative_from_output())
        .collect();
    assert!(!ActKind::Elu { alpha: -0.5 }.derivative_from_output());
    v
}

/// Every element-wise activation (softmax has its own row-wise kernels), plus one with a
/// non-default parameter.
fn acts() -> Vec<ActKind> {
    let mut v: Vec<ActKind> = ActKind::all()
        .into_iter()
        .filter(|a| *a != ActKind::Softmax)
        .collect();
    v.push(ActKind::Elu { alpha: 0.5 });
    v
}

fn activations_match_reference_forward_and_backward() {
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
                // one and (n a multiple of 4) as rows of 4: from the output alone, the
                // same derivative as from the input.
                let dx = c[3].clone();
                let mut shapes = vec![(1, n), (n, 1)];
                if n % 4 == 0 {
                    shapes.push((n / 4, 4));
                }
                for (rows, cols) in shapes {
                    let k = Kernel::BiasActBackward {
                        rows,
                        cols,
                        act,
                        training,
                        seed: 5,
                    };
                    let inputs = [
                        y.clone(),
                        dy.clone(),
                        vec![0.0; n],
                        vec![0.0; cols],
                        step.clone(),
                    ];
                    let (c, gg) = both(&mut g, &k, &inputs);
                    assert_close(&format!("{act:?} dz n={n}"), &gg[2], &c[2], 1e-6, 1e-5);
                    assert_close(&format!("{act:?} db n={n}"), &gg[3], &c[3], 1e-5, 1e-5);
                    assert_close(&format!("{act:?} dz vs dx n={n}"), &c[2], &dx, 1e-6, 1e-5);
                    let sum: f32 = c[2].iter().sum();
                    if cols == 1 {
                        assert_close(&format!("{act:?} db = Σ dz"), &c[3], &[sum], 1e-5, 1e-5);
                    }
                }
            }
        }
    }
}

fn row_and_column_kernels_match_reference() {
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

fn losses_and_metrics_match_reference_for_large_logits() {
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
        for kind in [
            LossKind::SoftmaxCrossEntropy,
            LossKind::SigmoidBinaryCrossEntropy,
            LossKind::MeanSquaredError,
        ] {
            let k = Kernel::Loss { kind, rows, cols };
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

fn batch_norm_kernels_match_reference_including_large_means() {
    let Some(mut g) = gpu() else { return };
    // Column counts in whole vec4s take the four-columns-an-invocation kernels.
    for &(rows, cols) in &[
        (1usize, 7usize),
        (2, 33),
        (32, 10),
        (1000, 3),
        (1, 4),
        (32, 12),
        (33, 100),
        (256, 784),
    ] {
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
            assert_close("bn y", &gg[3], &c[3], 1e-4, 1e-3);
            assert_close("bn mean", &gg[4][..cols], &c[4][..cols], 1e-3, 1e-5);
            assert_close("bn var", &gg[4][cols..], &c[4][cols..], 1e-4, 1e-3);
            assert_close("bn moving mean", &gg[5], &c[5], 1e-3, 1e-5);
            assert_close("bn moving var", &gg[6], &c[6], 1e-4, 1e-3);
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
                    gamma,
                    dy,
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
        }
    }
}

/// Arena tensors of odd sizes (one element; one across 40 chunks and 3 statistics
/// segments), with a learning-rate multiplier each and gaps of padding between them.
fn arena_tensors() -> Vec<ArenaTensor> {
    let mut t = ArenaTensor::pack(&[785, 1, 40_000, 7]);
    for (i, x) in t.iter_mut().enumerate() {
        x.slot = 3 - i;
        x.lr_mult = [0.5, 1.0, 2.0, 0.25][i];
    }
    t
}

fn optimizer_kernels_match_reference() {
    let Some(mut g) = gpu() else { return };
    let tensors = arena_tensors();
    let end = arena_end(&tensors);
    let segs = segment_count(&tensors);
    let mut grad = random_with_edges(end, 2.0, 14);
    let step = step_record(3, 0, 0.05, [0.0; 4]);
    let none = f32::from_bits(u32::MAX);
    // The second group's launch: its segments after 2 of an earlier group.
    let stats_k = Kernel::GradStats {
        tensors: tensors.clone(),
        first_segment: 2,
    };
    check(
        &mut g,
        stats_k.clone(),
        vec![grad.clone(), vec![0.5; 2 * (segs + 2)]],
        1e-5,
    );
    // A NaN in the third tensor's second segment (slot 1), and garbage in the padding.
    grad[tensors[2].offset + 20_000] = f32::NAN;
    grad[tensors[0].offset + 700] = f32::INFINITY;
    grad[tensors[0].offset + 900] = f32::NAN;
    let (c, gg) = both(&mut g, &stats_k, &[grad.clone(), vec![0.0; 2 * (segs + 2)]]);
    for (name, out) in [("reference", &c), ("GPU", &gg)] {
        let flags: Vec<u32> = (0..segs + 2).map(|i| out[1][2 * i + 1].to_bits()).collect();
        assert_eq!(
            flags,
            vec![0, 0, 1, 0, 0, 1, 0, 0],
            "{name}: non-finite segments"
        );
    }
    let partials = c[1].clone();
    let stats = vec![
        0.0, 1.0, none, 0.0, 2.0, 5.0, 0.0, 0.0, none, 0.0, 0.0, none,
    ];
    for mode in [
        ClipMode::None,
        ClipMode::PerTensorNorm(1.0),
        ClipMode::GlobalNorm(2.0),
    ] {
        let shifted = Kernel::GradStats {
            tensors: tensors.clone(),
            first_segment: 0,
        };
        let clean = both(
            &mut g,
            &shifted,
            &[random(end, 0.3, 9), vec![0.0; 2 * segs]],
        )
        .0;
        let k = Kernel::ClipScale {
            tensors: tensors.clone(),
            mode,
        };
        check(
            &mut g,
            k.clone(),
            vec![clean[1].clone(), stats.clone(), vec![0.0; 4], step.clone()],
            1e-6,
        );
        // With the non-finite segments: its tensor's first bad step is recorded once.
        let (c, gg) = both(
            &mut g,
            &k,
            &[
                partials[4..].to_vec(),
                stats.clone(),
                vec![0.0; 4],
                step.clone(),
            ],
        );
        for (name, out) in [("reference", &c), ("GPU", &gg)] {
            let firsts: Vec<u32> = (0..4).map(|s| out[1][3 * s + 2].to_bits()).collect();
            assert_eq!(
                firsts,
                vec![u32::MAX, 5.0f32.to_bits(), u32::MAX, 3],
                "{name}"
            );
        }
    }
}

/// Every optimizer's update rule in every configuration, with value clipping, a clip
/// factor, a learning-rate multiplier, edge-valued gradients and a late step's scalars.
fn update_rules_match_reference() {
    let Some(mut g) = gpu() else { return };
    let tensors = arena_tensors();
    let n = arena_end(&tensors);
    let rules = update_rules();
    // Adam's alpha and Nadam's u_t, u_{t+1}, u_product, beta_2^t at step 4.
    let scalars = [0.000_6, 0.455, 0.456, 0.083, 0.996];
    for (ri, rule) in rules.into_iter().enumerate() {
        for clipvalue in [0.0, 0.5] {
            let k = Kernel::Update {
                rule,
                tensors: tensors.clone(),
                clipvalue,
            };
            let mut inputs = vec![
                random(n, 1.0, 15 + ri as u64),
                random_with_edges(n, 2.0, 16),
                vec![1.0, 0.7, 0.3, 2.0],
                step_record(4, 0, 0.05, [scalars[0], scalars[1], scalars[2], scalars[4]]),
            ];
            for (si, _) in rule.slots().iter().enumerate() {
                // Second moments and accumulators are non-negative.
                inputs.push(
                    random(n, 0.1, 17 + si as u64)
                        .iter()
                        .map(|v| v.abs())
                        .collect(),
                );
            }
            // The padding between tensors is left as it was (check compares it too).
            check(&mut g, k, inputs, 1e-5);
        }
    }
}

fn gathers_match_reference() {
    let Some(mut g) = gpu() else { return };
    let (samples, rows) = (37usize, 5usize);
    let labels = words(&(0..samples as u32).map(|i| i % 10).collect::<Vec<_>>());
    let perm = words(&(0..samples as u32).rev().collect::<Vec<_>>());
    let step = step_record(0, 3, 0.0, [0.0; 4]);
    // Rows of 7 bytes straddle words (a byte an invocation); rows of 8 are whole words
    // (a word an invocation).
    for features in [7usize, 8] {
        let bytes: Vec<u8> = (0..samples * features)
            .map(|i| (i * 37 % 256) as u8)
            .collect();
        let mut packed = bytes.clone();
        packed.resize(bytes.len().div_ceil(4) * 4, 0);
        let packed_words: Vec<f32> = packed
            .chunks(4)
            .map(|c| f32::from_bits(u32::from_le_bytes([c[0], c[1], c[2], c[3]])))
            .collect();
        let (c, gg) = both(
            &mut g,
            &Kernel::GatherU8 { rows, features },
            &[
                packed_words,
                labels.clone(),
                perm.clone(),
                step.clone(),
                vec![0.0; rows * features],
                vec![0.0; rows],
            ],
        );
        assert_eq!(c[4][0], bytes[(samples - 4) * features] as f32 / 255.0);
        assert_eq!(
            c[4][features + 1],
            bytes[(samples - 5) * features + 1] as f32 / 255.0
        );
        assert_close("gather u8 x", &gg[4], &c[4], 1e-7, 1e-6);
        assert_eq!(words_of(&gg[5]), words_of(&c[5]));
    }
    let features = 7;
    let data = random(samples * features, 1.0, 18);
    check(
        &mut g,
        Kernel::GatherF32 { rows, features },
        vec![
            data,
            labels,
            perm,
            step,
            vec![0.0; rows * features],
            vec![0.0; rows],
        ],
        1e-7,
    );
}

#[test]
fn bad_launches_are_typed_errors() {
    let mut cpu = CpuBackend::new();
    let a = cpu.alloc(4).unwrap();
    let b = cpu.alloc(4).unwrap();
    let k = Kernel::MatMul {
        m: 3,
        k: 3,
        n: 3,
        trans_a: false,
        trans_b: false,
        accumulate: false,
    };
    assert!(cpu.prepare(&k, &[a, b, a]).is_err());
    assert!(cpu.prepare(&Kernel::Add { n: 4 }, &[a, b]).is_err());
    assert!(cpu.prepare(&Kernel::Add { n: 4 }, &[a, b, a]).is_err());
}

/// Views: reads, writes and launches see exactly the parent's words they cover; views of
/// one parent that overlap are refused as aliases, disjoint ones are not; misplaced views
/// are errors.
#[test]
fn views_alias_their_parents_words() {
    let mut backends: Vec<Box<dyn Backend>> = vec![Box::new(CpuBackend::new())];
    if let Some(g) = gpu() {
        backends.push(Box::new(g));
    }
    for mut be in backends {
        let parent = be
            .upload(&(0..200).map(|i| i as f32).collect::<Vec<_>>())
            .unwrap();
        let a = be.view(parent, 0, 5).unwrap();
        let b = be.view(parent, 64, 5).unwrap();
        let c = be.view(parent, 128, 70).unwrap();
        assert_eq!(be.read(b).unwrap(), vec![64.0, 65.0, 66.0, 67.0, 68.0]);
        be.write(b, 1, &[-1.0]).unwrap();
        assert_eq!(be.read(parent).unwrap()[65], -1.0);
        // c = a + b, all inside one buffer.
        let add = Kernel::Add { n: 5 };
        be.run(&add, &[a, b, c]).unwrap();
        let all = be.read(parent).unwrap();
        assert_eq!(&all[128..133], &[64.0, 0.0, 68.0, 70.0, 72.0]);
        assert_eq!(all[133], 133.0, "words past the view are untouched");
        assert_eq!(all[5], 5.0);
        let wide = be.view(parent, 0, 100).unwrap();
        assert!(
            be.prepare(&add, &[wide, b, c]).is_err(),
            "overlapping views"
        );
        assert!(be.view(parent, 3, 5).is_err(), "unaligned offset");
        assert!(be.view(parent, 192, 9).is_err(), "past the end");
        assert_eq!(be.len(c), 70);
    }
}

/// The health statistics, with edge values: exact zeros (dead units), saturated outputs.
fn health_kernels_match_reference() {
    let Some(mut g) = gpu() else { return };
    for &(rows, cols) in &[(1usize, 1usize), (7, 13), (32, 300), (5, 257)] {
        for saturation in 0..3u32 {
            let mut y = random_with_edges(rows * cols, 1.0, 21);
            // Column 0 dead: zero in every row; a few values at the bounds.
            for r in 0..rows {
                y[r * cols] = 0.0;
            }
            if y.len() > 3 {
                y[1] = 0.995;
                y[2] = -0.995;
                y[3] = 0.005;
            }
            check(
                &mut g,
                Kernel::ActStats {
                    rows,
                    cols,
                    saturation,
                    offset: 4,
                },
                vec![y, vec![0.0; 8]],
                1e-4,
            );
        }
    }
    for n in [1usize, 7, 785, 235_200] {
        let a = random_with_edges(n, 1.0, 22);
        let b = random(n, 1.0, 23);
        check(
            &mut g,
            Kernel::PairNorms { n, offset: 2 },
            vec![a, b, vec![0.0; 4]],
            1e-4,
        );
    }
}

fn words_of(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

/// The whole GPU-vs-CPU parity suite, then the check that it covered every kernel variant:
/// a new `Kernel` variant without a parity case fails here.
#[test]
fn every_kernel_variant_matches_the_reference() {
    let Some(_) = gpu() else { return };
    matmul_matches_reference_for_odd_sizes_and_both_variants();
    activations_match_reference_forward_and_backward();
    row_and_column_kernels_match_reference();
    losses_and_metrics_match_reference_for_large_logits();
    batch_norm_kernels_match_reference_including_large_means();
    optimizer_kernels_match_reference();
    update_rules_match_reference();
    gathers_match_reference();
    health_kernels_match_reference();
    let covered: HashSet<KernelKind> = COVERED.lock().unwrap().iter().copied().collect();
    let missing: Vec<KernelKind> = KernelKind::iter()
        .filter(|k| !covered.contains(k))
        .collect();
    assert!(
        missing.is_empty(),
        "kernel variants without a parity case: {missing:?}"
    );
}
