//! Matmul and dense-layer parity: every autotuner candidate, every transpose, odd shapes.

use super::*;

pub(super) fn matmul_matches_reference_for_odd_sizes_and_both_variants() {
    let Some(g) = gpu() else { return };
    for variant in g.candidates() {
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
            // A convolution's im2col product: 3×3 taps, 12 filters (B's rows whole vec4s).
            (37, 9, 12),
            // Wider than the narrow kernel's registers: 32 and 48 filters, in groups of 16
            // columns (a weight gradient's long k in the second).
            (37, 9, 32),
            (9, 300, 48),
            // Few rows over a long k: a workgroup a row, its lanes splitting k.
            (9, 1100, 32),
            (5, 1100, 12),
            // 24 filters: groups of 12 columns.
            (37, 9, 24),
            (9, 1100, 24),
            // A classifier's head: only B's rows (10 columns) are not whole texels, which
            // the subgroup kernel reads a float at a time.
            (40, 100, 10),
            (100, 40, 10),
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
                let scale = magnitudes(&kernel, vec![abs(&a), abs(&b), abs(&c)], 2);
                check_scaled(&mut g, kernel, vec![a, b, c], 1e-5, Some(scale));
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
                    // The activations' slopes are at most SELU's 1.76: the linear
                    // product's magnitudes bound the output's rounding as well.
                    let linear = Kernel::Dense {
                        m,
                        k,
                        n,
                        act: ActKind::Linear,
                        training: false,
                        seed: 3,
                    };
                    let out = vec![0.0; m * n];
                    let abs_in = vec![abs(&x), abs(&w), abs(&bias), out.clone(), step.clone()];
                    let scale = magnitudes(&linear, abs_in, 3);
                    check_scaled(
                        &mut g,
                        kernel,
                        vec![x, w, bias, out, step],
                        1e-5,
                        Some(scale),
                    );
                }
            }
        }
    }
}

/// Buffer `out` of `kernel` run on the CPU reference over `inputs` (their absolute values,
/// [`abs`]): for a product, Σ|a||b| (+ |c| where it accumulates) — the size of the terms
/// whose rounding the result carries.
fn magnitudes(kernel: &Kernel, inputs: Vec<Vec<f32>>, out: usize) -> (usize, Vec<f32>) {
    (out, run_cpu(kernel, &inputs).swap_remove(out))
}

fn abs(v: &[f32]) -> Vec<f32> {
    v.iter().map(|x| x.abs()).collect()
}

/// The activations a dense layer fuses (those whose output tells the derivative).
pub(super) fn dense_acts() -> Vec<ActKind> {
    let v: Vec<ActKind> = acts()
        .into_iter()
        .filter(|a| a.derivative_from_output())
        .collect();
    assert!(!ActKind::Elu { alpha: -0.5 }.derivative_from_output());
    v
}

/// Every element-wise activation (softmax has its own row-wise kernels), plus one with a
/// non-default parameter.
pub(super) fn acts() -> Vec<ActKind> {
    let mut v: Vec<ActKind> = ActKind::all()
        .into_iter()
        .filter(|a| *a != ActKind::Softmax)
        .collect();
    v.push(ActKind::Elu { alpha: 0.5 });
    v
}
