//! Convolution (im2col, col2im) and pooling parity on awkward shapes: 1×1, 3×3 and 5×5
//! windows, strides 1 and 2, dilation 2, same and valid padding, 1, 3 and (for the
//! four-channel kernels) 4, 8 and 16 channels, batches of 1 and 33, odd spatial sizes.

use super::*;
use steadygrad::backend::kernel::pool_chunks;
use steadygrad::backend::ops::{conv, conv_input_grad};
use steadygrad::backend::window::{Padding, Window};

/// The windows every window kernel runs on: (batch, (h, w, c), kernel, strides, dilation,
/// padding).
pub(super) fn windows() -> Vec<Window> {
    let mut v = Vec::new();
    for (n, hwc, k, s, d, pad) in [
        (1, (5, 5, 1), (1, 1), (1, 1), (1, 1), Padding::Valid),
        (2, (7, 5, 3), (3, 3), (1, 1), (1, 1), Padding::Same),
        (33, (9, 7, 1), (3, 3), (2, 2), (1, 1), Padding::Same),
        (3, (11, 9, 3), (5, 5), (2, 2), (1, 1), Padding::Valid),
        (2, (9, 9, 3), (3, 3), (1, 1), (2, 2), Padding::Valid),
        (2, (8, 10, 1), (3, 3), (1, 1), (2, 2), Padding::Same),
        (1, (6, 7, 2), (5, 5), (2, 2), (1, 1), Padding::Same),
        (3, (5, 6, 3), (2, 3), (3, 2), (1, 1), Padding::Same),
        // Channels in whole vec4s (the four-channel kernels).
        (3, (13, 11, 4), (3, 3), (1, 1), (1, 1), Padding::Valid),
        (2, (7, 9, 8), (3, 3), (2, 2), (2, 1), Padding::Same),
        (33, (5, 5, 16), (5, 5), (1, 1), (1, 1), Padding::Same),
        // Wide windows across: 13 taps (past the direct kernel gradient's rows of taps),
        // and 12 over rows of three positions (too short for the forward's row blocks).
        (2, (4, 15, 2), (2, 13), (1, 1), (1, 1), Padding::Same),
        (1, (3, 14, 2), (1, 12), (1, 1), (1, 1), Padding::Valid),
    ] {
        v.push(Window::new(n, hwc, k, s, d, pad).unwrap());
    }
    v
}

/// Pooling windows: no dilation; strides equal to the pool, overlapping and global.
fn pools() -> Vec<Window> {
    let mut v = Vec::new();
    for (n, hwc, k, s, pad) in [
        (1, (4, 4, 1), (2, 2), (2, 2), Padding::Valid),
        (33, (7, 9, 3), (2, 2), (2, 2), Padding::Same),
        (2, (10, 10, 3), (3, 3), (2, 2), Padding::Same),
        (3, (11, 7, 2), (3, 3), (1, 1), Padding::Valid),
        (2, (5, 5, 4), (5, 5), (5, 5), Padding::Valid),
        (1, (6, 5, 3), (4, 4), (1, 1), Padding::Same),
        // Tiling windows that leave the last row and column of the input untaken.
        (3, (11, 11, 4), (2, 2), (2, 2), Padding::Valid),
        (2, (8, 7, 2), (3, 2), (3, 2), Padding::Valid),
        // Overlapping windows over channels in whole vec4s (the four-channel walk over
        // positions).
        (2, (9, 8, 8), (3, 3), (2, 2), Padding::Same),
        (3, (7, 6, 4), (3, 3), (1, 1), Padding::Valid),
        // A global pool over a map that is not square, and unequal overlapping strides
        // (the backward walks only the windows holding each position).
        (2, (9, 6, 4), (9, 6), (9, 6), Padding::Valid),
        (2, (6, 7, 3), (2, 3), (1, 2), Padding::Same),
    ] {
        v.push(Window::new(n, hwc, k, s, (1, 1), pad).unwrap());
    }
    v
}

pub(super) fn window_kernels_match_reference() {
    // Each kernel reading through storage and through textures.
    for mut g in every_read_path() {
        window_kernels_match_reference_on(&mut g);
    }
}

fn window_kernels_match_reference_on(g: &mut GpuBackend) {
    for (i, win) in windows().into_iter().enumerate() {
        let x = random_with_edges(win.input_len(), 3.0, i as u64);
        let cols = win.positions() * win.patch();
        check(g, Kernel::Im2col { win }, vec![x, vec![0.0; cols]], 1e-6);
        let d = random(cols, 1.0, 40 + i as u64);
        check(
            g,
            Kernel::Col2im { win },
            vec![d, vec![f32::NAN; win.input_len()]],
            1e-5,
        );
    }
    for (i, win) in pools().into_iter().enumerate() {
        // Ties included: values rounded to a coarse grid.
        let x: Vec<f32> = random_with_edges(win.input_len(), 3.0, 7 + i as u64)
            .iter()
            .map(|v| (v * 2.0).round() / 2.0)
            .collect();
        let out = win.pooled_len();
        let (c, gg) = both(
            g,
            &Kernel::MaxPool { win },
            &[x.clone(), vec![0.0; out], vec![0.0; out]],
        );
        assert_close(&format!("max pool {win:?}"), &gg[1], &c[1], 0.0, 0.0);
        let (ci, gi) = (words_of(&c[2]), words_of(&gg[2]));
        assert_eq!(ci, gi, "argmax {win:?}");
        let dy = random(out, 1.0, 60 + i as u64);
        check(
            g,
            Kernel::MaxPoolBackward { win },
            vec![dy.clone(), c[2].clone(), vec![f32::NAN; win.input_len()]],
            1e-6,
        );
        pool_act_backward_matches(g, win, &x, &dy, &c[2]);
        untaken_positions_get_zero(g, win, &x, &dy, &c[2]);
        check(g, Kernel::AvgPool { win }, vec![x, vec![0.0; out]], 1e-6);
        check(
            g,
            Kernel::AvgPoolBackward { win },
            vec![dy, vec![f32::NAN; win.input_len()]],
            1e-5,
        );
    }
}

/// Max pooling's backward fused with the activation derivative before it, on the GPU
/// against the CPU reference, and on the CPU against the kernels it replaces
/// (MaxPoolBackward, then BiasActBackward on its dx over positions × channels): `y` (the
/// pooling's input) stands for the activation's output.
fn pool_act_backward_matches(
    g: &mut dyn Backend,
    win: Window,
    y: &[f32],
    dy: &[f32],
    argmax: &[f32],
) {
    let n = win.input_len();
    let chunks = pool_chunks(&win);
    let step = step_record(5, 0, 0.0, [0.0; 4]);
    let dx = run_cpu(
        &Kernel::MaxPoolBackward { win },
        &[dy.to_vec(), argmax.to_vec(), vec![0.0; n]],
    )[2]
    .clone();
    let rrelu = ActKind::Rrelu {
        lower: 0.1,
        upper: 0.3,
    };
    for act in [
        ActKind::Relu,
        ActKind::Elu { alpha: 0.5 },
        rrelu,
        ActKind::Sigmoid,
    ] {
        for training in [false, true] {
            let fused = Kernel::MaxPoolActBackward {
                win,
                act,
                training,
                seed: 2,
            };
            let inputs = vec![
                y.to_vec(),
                dy.to_vec(),
                argmax.to_vec(),
                vec![f32::NAN; n],
                vec![f32::NAN; chunks * win.c],
                step.clone(),
            ];
            check(g, fused.clone(), inputs.clone(), 1e-5);
            let c = run_cpu(&fused, &inputs);
            let (rows, cols) = (n / win.c, win.c);
            let epilogue = Kernel::BiasActBackward {
                rows,
                cols,
                stripes: 1,
                act,
                training,
                seed: 2,
            };
            let two = run_cpu(
                &epilogue,
                &[
                    y.to_vec(),
                    dx.clone(),
                    vec![0.0; n],
                    vec![0.0; cols],
                    step.clone(),
                ],
            );
            assert_eq!(
                c[3], two[2],
                "{win:?} {act:?}: dz differs from the two kernels"
            );
            let db: Vec<f32> = (0..cols)
                .map(|ch| (0..chunks).map(|k| c[4][k * cols + ch]).sum())
                .collect();
            assert_close(&format!("{win:?} {act:?} db"), &db, &two[3], 1e-5, 1e-5);
        }
    }
}

/// Where no window took a position, the fused backward writes exactly 0 even when the
/// activation's output there is not finite (0·f'(NaN) would be NaN), on both paths: the
/// tiling windows' cell walk and the general one.
fn untaken_positions_get_zero(
    g: &mut dyn Backend,
    win: Window,
    y: &[f32],
    dy: &[f32],
    argmax: &[f32],
) {
    let taken: std::collections::HashSet<u32> = argmax.iter().map(|a| a.to_bits()).collect();
    if taken.len() == win.input_len() {
        return;
    }
    let y: Vec<f32> = y
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            if taken.contains(&(i as u32)) {
                v
            } else {
                f32::NAN
            }
        })
        .collect();
    let kernel = Kernel::MaxPoolActBackward {
        win,
        act: ActKind::Elu { alpha: 0.5 },
        training: false,
        seed: 0,
    };
    let inputs = vec![
        y,
        dy.to_vec(),
        argmax.to_vec(),
        vec![f32::NAN; win.input_len()],
        vec![f32::NAN; pool_chunks(&win) * win.c],
        step_record(1, 0, 0.0, [0.0; 4]),
    ];
    let (c, gg) = both(g, &kernel, &inputs);
    for (name, out) in [("CPU", &c), ("GPU", &gg)] {
        for i in (0..win.input_len()).filter(|i| !taken.contains(&(*i as u32))) {
            assert_eq!(out[3][i].to_bits(), 0, "{name} {win:?}: dz[{i}] untaken");
        }
        assert!(
            out[4].iter().all(|v| v.is_finite()),
            "{name} {win:?}: partials"
        );
    }
    assert_close(&format!("{win:?} dz"), &gg[3], &c[3], 1e-5, 1e-5);
}

/// The direct convolution and its kernel gradient against the CPU reference, on every
/// window above (fields of 1 to 400 values: the kernel takes any, the layer picks it for
/// at most 32) with 4, 12 (a partial block of 16), 20 and 64 filters (and over channels in
/// vec4s with 36 and 40: partial blocks of 64) and with 1, 6, 10 and 30
/// (not in whole vec4s: the entries that read and store floats), several activations, and
/// stripes of every size from one to one per position.
pub(super) fn direct_convolutions_match_reference() {
    // The kernel gradient one block of field values an invocation and several; the
    // forward's entries for adapters without 8-lane subgroups, and (where the adapter has
    // them) those sharing the weights through them.
    for (field_blocks, subgroups) in [(false, Some(false)), (true, None)] {
        let opts = GpuOptions {
            field_blocks: Some(field_blocks),
            subgroups,
            ..GpuOptions::from_env().unwrap()
        };
        let Ok(mut g) = GpuBackend::new(&opts) else {
            return;
        };
        direct_convolutions_match_reference_on(&mut g);
    }
}

fn direct_convolutions_match_reference_on(g: &mut GpuBackend) {
    let rrelu = ActKind::Rrelu {
        lower: 0.1,
        upper: 0.3,
    };
    let step = step_record(3, 0, 0.0, [0.0; 4]);
    for (i, win) in windows().into_iter().enumerate() {
        let filters = [4, 12, 20, 64, 6, 1, 10, 30][i % 8];
        let act = [
            ActKind::Linear,
            ActKind::Relu,
            rrelu,
            ActKind::Elu { alpha: 0.5 },
        ][i % 4];
        let x = random_with_edges(win.input_len(), 3.0, 200 + i as u64);
        let w = random(win.patch() * filters, 1.0, 220 + i as u64);
        let bias = random(filters, 1.0, 240 + i as u64);
        let out = win.positions() * filters;
        // The forward where the device takes it: weights within the direct kernel's
        // uniform block, or the implicit matmul.
        let forward =
            conv::direct_weights_fit(&win, filters) || conv::is_gemm(&win, filters, g.subgroups8());
        for training in [false, true].into_iter().filter(|_| forward) {
            let kernel = Kernel::ConvDirect {
                win,
                filters,
                act,
                training,
                seed: 7,
            };
            let inputs = vec![
                x.clone(),
                w.clone(),
                bias.clone(),
                vec![f32::NAN; out],
                step.clone(),
            ];
            check(g, kernel, inputs, 1e-5);
        }
        // The implicit matmul and its kernel gradient over more than 32 filters, not in
        // whole blocks of 64 (a workgroup's second quads of filters partly past the last).
        if win.c.is_multiple_of(4) {
            for wide in [36, 40] {
                let kernel = Kernel::ConvDirect {
                    win,
                    filters: wide,
                    act,
                    training: false,
                    seed: 7,
                };
                let inputs = vec![
                    x.clone(),
                    random(win.patch() * wide, 1.0, 280 + i as u64),
                    random(wide, 1.0, 300 + i as u64),
                    vec![f32::NAN; win.positions() * wide],
                    step.clone(),
                ];
                check(g, kernel, inputs, 1e-5);
                let kernel = Kernel::ConvDirectWeightGrad {
                    win,
                    filters: wide,
                    stripes: 1,
                };
                let dz = random(win.positions() * wide, 1.0, 320 + i as u64);
                let inputs = vec![x.clone(), dz, vec![f32::NAN; win.patch() * wide]];
                check(g, kernel, inputs, 1e-4);
            }
        }
        let dz = random_with_edges(out, 2.0, 260 + i as u64);
        let positions = win.positions();
        for stripes in [
            1,
            3,
            steadygrad::backend::ops::conv::stripes(&win, filters, false),
            positions,
        ] {
            let len = stripes * win.patch() * filters;
            let kernel = Kernel::ConvDirectWeightGrad {
                win,
                filters,
                stripes,
            };
            // Sums that cancel are measured against the sums of the terms' magnitudes.
            let abs_x: Vec<f32> = x.iter().map(|v| v.abs()).collect();
            let abs_dz: Vec<f32> = dz.iter().map(|v| v.abs()).collect();
            let magnitude = run_cpu(&kernel, &[abs_x, abs_dz, vec![0.0; len]])[2].clone();
            let inputs = vec![x.clone(), dz.clone(), vec![f32::NAN; len]];
            check_scaled(g, kernel, inputs, 1e-5, Some((2, magnitude)));
        }
    }
}

/// A convolution's input gradient straight from its output gradient against its CPU
/// reference where a GPU kernel takes the shape (the direct one for at most 8 channels at
/// stride 1, any adapter; the 8-lane subgroup one for more channels; elsewhere the product
/// into im2col rows and col2im run instead), and that reference against those two kernels,
/// on every window above and on more channels (5 to 8 in two vec4s, dilation down the rows,
/// rows not in whole blocks of 8; a partial block of 32, two blocks; 4 to 16 channels, a
/// lane's eight positions with all of them; strides 2 and 3 by stride class; few channels
/// dilated across) with 4 to 64 filters, 6 and 10 not in whole vec4s.
pub(super) fn conv_input_grad_matches_reference() {
    let Some(g) = gpu() else { return };
    // On 8-lane subgroups their entries, and as an adapter without them the others.
    let mut backends = vec![g];
    if backends[0].subgroups8() {
        let opts = GpuOptions {
            subgroups: Some(false),
            ..GpuOptions::from_env().unwrap()
        };
        backends.push(GpuBackend::new(&opts).unwrap());
    }
    for mut g in backends {
        conv_input_grad_matches_reference_on(&mut g);
    }
}

fn conv_input_grad_matches_reference_on(g: &mut GpuBackend) {
    let mut wins = windows();
    for (n, hwc, k, s, d, pad) in [
        (2, (9, 10, 6), (3, 3), (1, 1), (2, 1), Padding::Same),
        (1, (6, 17, 8), (5, 5), (1, 1), (1, 1), Padding::Same),
        (2, (7, 6, 32), (3, 3), (1, 1), (1, 1), Padding::Valid),
        (3, (6, 5, 40), (3, 3), (1, 1), (1, 2), Padding::Same),
        (1, (4, 4, 64), (2, 2), (1, 1), (1, 1), Padding::Same),
        // At most 16 channels: two blocks of 32 positions a subgroup (a partial one of 64).
        (2, (7, 9, 16), (3, 3), (1, 1), (1, 1), Padding::Valid),
        (1, (6, 5, 13), (3, 2), (1, 1), (2, 1), Padding::Same),
        // Strides past 1: a workgroup a stride class (rows of odd extents, classes unequal).
        (2, (9, 10, 16), (3, 3), (2, 2), (1, 1), Padding::Same),
        (1, (7, 8, 32), (3, 3), (2, 1), (1, 1), Padding::Valid),
        (1, (11, 10, 14), (2, 3), (3, 2), (1, 2), Padding::Valid),
        // Fewer channels, a lane's positions with all of them: one quad (4 filters) and three
        // (8 filters) after the direct kernel's 8 channels at stride 1 (10 filters); two:
        // the second window.
        (1, (8, 9, 8), (3, 3), (1, 1), (1, 1), Padding::Valid),
        (2, (9, 7, 4), (3, 3), (2, 2), (1, 1), Padding::Same),
        (2, (7, 8, 11), (2, 2), (1, 1), (1, 1), Padding::Valid),
        // Few channels dilated across: the direct kernel's values sliding DW places a tap.
        (2, (9, 11, 5), (3, 3), (1, 1), (1, 2), Padding::Valid),
        (1, (8, 20, 3), (2, 3), (1, 1), (2, 3), Padding::Same),
    ] {
        wins.push(Window::new(n, hwc, k, s, d, pad).unwrap());
    }
    let mut on_gpu = 0;
    for (i, win) in wins.into_iter().enumerate() {
        let filters = [4, 8, 12, 64, 6, 10][i % 6];
        let (positions, patch) = (win.positions(), win.patch());
        let dz = random_with_edges(positions * filters, 2.0, 300 + i as u64);
        let w = random(patch * filters, 1.0, 320 + i as u64);
        let kernel = Kernel::ConvInputGrad { win, filters };
        let abs = |v: &[f32]| v.iter().map(|x| x.abs()).collect::<Vec<f32>>();
        let len = win.input_len();
        let magnitude = run_cpu(&kernel, &[abs(&dz), abs(&w), vec![0.0; len]])[2].clone();
        // The reference against the product into im2col rows and their col2im.
        let product = Kernel::MatMul {
            m: positions,
            k: filters,
            n: patch,
            trans_a: false,
            trans_b: true,
            accumulate: false,
        };
        let rows = run_cpu(
            &product,
            &[dz.clone(), w.clone(), vec![0.0; positions * patch]],
        )[2]
        .clone();
        let want = run_cpu(&Kernel::Col2im { win }, &[rows, vec![0.0; len]])[1].clone();
        let got = run_cpu(&kernel, &[dz.clone(), w.clone(), vec![f32::NAN; len]])[2].clone();
        let diff: Vec<f32> = got.iter().zip(&want).map(|(a, b)| a - b).collect();
        let e = norm(&diff) / norm(&magnitude).max(1e-30);
        assert!(e < 1e-6, "{win:?}: reference off the two kernels by {e:e}");
        if conv_input_grad::input_grad_act_runs(&win, filters, g.subgroups8()) {
            input_grad_act_matches(g, win, filters, (&dz, &w, &got), i);
        }
        if conv_input_grad::input_grad_runs(&win, filters, g.subgroups8()) {
            let inputs = vec![dz, w, vec![f32::NAN; len]];
            check_scaled(g, kernel, inputs, 1e-5, Some((2, magnitude)));
            on_gpu += 1;
        }
    }
    assert!(on_gpu >= 5, "the direct kernel ran on {on_gpu} windows");
}

/// The input gradient through the derivative of the activation before the convolution
/// (`Kernel::ConvInputGradAct`; `sums`: the plain input gradient's CPU values): its CPU
/// reference against the input gradient times f'(y), and the GPU against the reference,
/// for an activation a window (y with zeros, negatives and positives; RReLU in training
/// mode draws its slopes per element); with the bias gradient's partial sums, whose rows
/// together hold every input position once (their column sums are the gradient's).
fn input_grad_act_matches(
    g: &mut GpuBackend,
    win: Window,
    filters: usize,
    (dz, w, sums): (&[f32], &[f32], &[f32]),
    i: usize,
) {
    let act = [
        ActKind::Relu,
        ActKind::Elu { alpha: 0.5 },
        ActKind::Rrelu {
            lower: 0.1,
            upper: 0.3,
        },
        ActKind::Selu,
    ][i % 4];
    let len = win.input_len();
    let mut y = random_with_edges(len, 2.0, 340 + i as u64);
    y[0] = 0.0;
    let step = step_record(5, 0, 0.0, [0.0; 4]);
    let back = Kernel::ActBackwardFromOutput {
        act,
        n: len,
        training: true,
        seed: 9,
    };
    let want = run_cpu(
        &back,
        &[y.clone(), sums.to_vec(), vec![0.0; len], step.clone()],
    )[2]
    .clone();
    for bias in [false, true] {
        let kernel = Kernel::ConvInputGradAct {
            win,
            filters,
            act,
            training: true,
            seed: 9,
            bias,
        };
        let mut inputs = vec![dz.to_vec(), w.to_vec(), y.clone(), vec![f32::NAN; len]];
        let c = win.c;
        if bias {
            let rows = conv_input_grad::input_grad_partial_rows(&win);
            inputs.push(vec![f32::NAN; rows * c]);
        }
        inputs.push(step.clone());
        let out = run_cpu(&kernel, &inputs);
        assert_eq!(out[3], want, "{win:?} {act:?}: the fused reference");
        if bias {
            for ch in 0..c {
                let column = |v: &[f32]| v.iter().skip(ch).step_by(c).map(|&x| f64::from(x)).sum();
                let (got, total): (f64, f64) = (column(&out[4]), column(&want));
                let scale: f64 = want.iter().map(|x| f64::from(x.abs())).sum();
                assert!(
                    (got - total).abs() <= 1e-5 * scale,
                    "{win:?}: channel {ch}'s partial sums {got} against {total}"
                );
            }
        }
        check(g, kernel, inputs, 1e-5);
    }
}

/// The convolution over larger fields as the implicit matmul (8-lane subgroup adapters:
/// fields past the direct kernel's, channels and filters in vec4s) and its kernel gradient
/// in one stripe, against the CPU reference: strides 1 and 2, dilation 2, same and valid
/// padding, 4 to 32 channels, 4 to 64 filters (partial blocks of 32), position counts
/// that are not multiples of 4 or 32, every activation kind of the epilogue.
pub(super) fn gemm_convolutions_match_reference() {
    let Some(mut g) = gpu() else { return };
    if !g.subgroups8() {
        eprintln!("note: the implicit-matmul convolution needs 8-lane subgroups: not run here");
        return;
    }
    let step = step_record(3, 0, 0.0, [0.0; 4]);
    let acts = [
        ActKind::Linear,
        ActKind::Relu,
        ActKind::Rrelu {
            lower: 0.1,
            upper: 0.3,
        },
        ActKind::Elu { alpha: 0.5 },
    ];
    for (i, (n, hwc, k, s, d, pad, filters)) in [
        (2, (7, 6, 8), (3, 3), (1, 1), (1, 1), Padding::Same, 32),
        (3, (9, 7, 4), (5, 5), (2, 2), (1, 1), Padding::Valid, 28),
        (33, (5, 5, 16), (3, 3), (1, 1), (2, 2), Padding::Same, 64),
        (1, (6, 5, 12), (2, 3), (1, 2), (1, 1), Padding::Same, 60),
        (2, (13, 13, 32), (3, 3), (1, 1), (1, 1), Padding::Valid, 64),
        // Fewer filters than a subgroup's 32: lanes past them compute and store nothing; at
        // most 16, a lane's positions with all their filters (one to four quads).
        (3, (8, 7, 8), (3, 3), (1, 1), (1, 1), Padding::Same, 8),
        (2, (9, 7, 8), (3, 3), (2, 2), (1, 1), Padding::Same, 16),
        (1, (7, 9, 12), (3, 3), (1, 1), (1, 1), Padding::Valid, 12),
        (3, (6, 6, 4), (5, 5), (1, 1), (1, 1), Padding::Same, 4),
    ]
    .into_iter()
    .enumerate()
    {
        let win = Window::new(n, hwc, k, s, d, pad).unwrap();
        let x = random_with_edges(win.input_len(), 3.0, 400 + i as u64);
        let w = random(win.patch() * filters, 1.0, 420 + i as u64);
        let bias = random(filters, 1.0, 440 + i as u64);
        let out = win.positions() * filters;
        let kernel = Kernel::ConvDirect {
            win,
            filters,
            act: acts[i % 4],
            training: true,
            seed: 7,
        };
        assert!(conv::runs_on_subgroups(&kernel, true), "{win:?}");
        let inputs = vec![x.clone(), w, bias, vec![f32::NAN; out], step.clone()];
        check(&mut g, kernel, inputs, 1e-5);
        let dz = random_with_edges(out, 2.0, 460 + i as u64);
        let abs = |v: &[f32]| v.iter().map(|x| x.abs()).collect::<Vec<f32>>();
        // Its kernel gradient whole and as partial sums over stripes of positions (of
        // whole rows of them where the direct kernel's stripes are).
        for stripes in [1, 2, 3] {
            let len = stripes * win.patch() * filters;
            let kernel = Kernel::ConvDirectWeightGrad {
                win,
                filters,
                stripes,
            };
            assert!(conv::runs_on_subgroups(&kernel, true), "{win:?}");
            let magnitude = run_cpu(&kernel, &[abs(&x), abs(&dz), vec![0.0; len]])[2].clone();
            let inputs = vec![x.clone(), dz.clone(), vec![f32::NAN; len]];
            check_scaled(&mut g, kernel, inputs, 1e-5, Some((2, magnitude)));
        }
    }
}
