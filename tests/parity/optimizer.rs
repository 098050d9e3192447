//! Optimizer (gradient statistics, clip factors, updates), gather and health parity.

use super::*;

/// Arena tensors of odd sizes (one element; one across 40 chunks and 3 statistics
/// segments), with a learning-rate multiplier each and gaps of padding between them.
pub(super) fn arena_tensors() -> Vec<ArenaTensor> {
    let mut t = ArenaTensor::pack(&[785, 1, 40_000, 7]);
    for (i, x) in t.iter_mut().enumerate() {
        x.slot = 3 - i;
        x.lr_mult = [0.5, 1.0, 2.0, 0.25][i];
    }
    t
}

pub(super) fn optimizer_kernels_match_reference() {
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
pub(super) fn update_rules_match_reference() {
    // Each kernel reading through storage and through textures.
    for mut g in every_read_path() {
        update_rules_match_reference_on(&mut g);
    }
}

fn update_rules_match_reference_on(g: &mut GpuBackend) {
    let tensors = arena_tensors();
    let n = arena_end(&tensors);
    let rules = update_rules();
    // Adam's alpha and Nadam's u_t, u_{t+1}, u_product, beta_2^t at step 4.
    let scalars = [0.000_6, 0.455, 0.456, 0.083, 0.996];
    for (ri, rule) in rules.into_iter().enumerate() {
        for (clipvalue, weight_decay) in [(0.0, 0.0), (0.5, 0.1)] {
            let k = Kernel::Update {
                rule,
                tensors: tensors.clone(),
                clipvalue,
                weight_decay,
            };
            let mut inputs = vec![
                random(n, 1.0, 15 + ri as u64),
                random_with_edges(n, 2.0, 16),
                vec![1.0, 0.7, 0.3, 2.0],
                step_record(4, 0, 0.05, [scalars[0], scalars[1], scalars[2], scalars[4]]),
            ];
            for (si, name) in rule.slots().into_iter().enumerate() {
                let slot = if name == "average_gradient" {
                    // A centered RMSprop's ḡ keeps ḡ² ≤ v, as the moving averages of g
                    // and g² do; past that its denominator has no root and the update is
                    // NaN (on both sides, but with nothing left to compare).
                    let velocity = &inputs[4];
                    random(n, 0.9, 17 + si as u64)
                        .iter()
                        .zip(velocity)
                        .map(|(u, v)| u * v.sqrt())
                        .collect()
                } else {
                    // Second moments and accumulators are non-negative.
                    random(n, 0.1, 17 + si as u64)
                        .iter()
                        .map(|v| v.abs())
                        .collect()
                };
                inputs.push(slot);
            }
            // The padding between tensors is left as it was (check compares it too).
            check(g, k, inputs, 1e-5);
        }
    }
}

pub(super) fn gathers_match_reference() {
    let Some(mut g) = gpu() else { return };
    let (samples, rows) = (37usize, 5usize);
    let labels = words(&(0..samples as u32).map(|i| i % 10).collect::<Vec<_>>());
    let perm = words(&(0..samples as u32).rev().collect::<Vec<_>>());
    let step = step_record(0, 3, 0.0, [0.0; 4]);
    // Rows of 7 bytes straddle words (a byte an invocation); rows of 8 are whole words
    // (a word an invocation); rows of 16,400, more than a uniform block's 16,384 floats,
    // take the fused batch norm's storage entry (gamma and beta).
    for features in [7usize, 8, 16_400] {
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
                packed_words.clone(),
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
        if features % 4 == 0 {
            gather_and_batch_norm_match(
                &mut g,
                [&packed_words, &labels, &perm, &step],
                rows,
                features,
                &c,
            );
        }
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

/// The health statistics, with edge values: exact zeros (dead units), saturated outputs.
pub(super) fn health_kernels_match_reference() {
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

/// The gather fused with batch norm over the gathered batch, on the GPU against the CPU
/// reference, and on the CPU equal to the two kernels it replaces (`gathered`: the
/// gather's buffers after it ran). `[data, labels, perm, step]`.
fn gather_and_batch_norm_match(
    g: &mut GpuBackend,
    [data, labels, perm, step]: [&Vec<f32>; 4],
    rows: usize,
    cols: usize,
    gathered: &[Vec<f32>],
) {
    let n = rows * cols;
    let (gamma, beta) = (random(cols, 2.0, 31), random(cols, 1.0, 32));
    let moving = [random(cols, 1.0, 33), random(cols, 1.0, 34)];
    let fused = |xhat| Kernel::BnTrainGatherU8 {
        rows,
        cols,
        eps: 1e-3,
        momentum: 0.99,
        xhat,
    };
    let inputs = vec![
        data.clone(),
        labels.clone(),
        perm.clone(),
        step.clone(),
        vec![0.0; n],
        vec![0.0; rows],
        gamma.clone(),
        beta.clone(),
        vec![0.0; n],
        vec![0.0; 2 * cols],
        moving[0].clone(),
        moving[1].clone(),
    ];
    check(g, fused(false), inputs.clone(), 1e-5);
    check(g, fused(true), inputs.clone(), 1e-5);
    let c = run_cpu(&fused(false), &inputs);
    // With x̂ left in x: the rest unchanged, x the normalized batch.
    let normalized = run_cpu(&fused(true), &inputs);
    for i in 5..12 {
        assert_eq!(
            words_of(&normalized[i]),
            words_of(&c[i]),
            "buffer {i} with x̂"
        );
    }
    let xhat: Vec<f32> = (0..n)
        .map(|i| {
            let (mean, var) = (c[9][i % cols], c[9][cols + i % cols]);
            (gathered[4][i] - mean) / (var + 1e-3).sqrt()
        })
        .collect();
    assert_eq!(normalized[4], xhat, "x̂ in x");
    let train = Kernel::BnTrain {
        rows,
        cols,
        eps: 1e-3,
        momentum: 0.99,
    };
    let two = run_cpu(
        &train,
        &[
            gathered[4].clone(),
            gamma,
            beta,
            vec![0.0; n],
            vec![0.0; 2 * cols],
            moving[0].clone(),
            moving[1].clone(),
        ],
    );
    assert_eq!(c[4], gathered[4], "x as the gather writes it");
    assert_eq!(words_of(&c[5]), words_of(&gathered[5]), "labels");
    for (i, name) in [
        (8, "out"),
        (9, "stats"),
        (10, "moving mean"),
        (11, "moving var"),
    ] {
        assert_eq!(c[i], two[i - 5], "{name} as BnTrain computes it");
    }
}
