//! Convolution (im2col, col2im) and pooling parity on awkward shapes: 1×1, 3×3 and 5×5
//! windows, strides 1 and 2, dilation 2, same and valid padding, 1 and 3 channels, batches
//! of 1 and 33, odd spatial sizes.

use super::*;
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
    ] {
        v.push(Window::new(n, hwc, k, s, (1, 1), pad).unwrap());
    }
    v
}

pub(super) fn window_kernels_match_reference() {
    let Some(mut g) = gpu() else { return };
    for (i, win) in windows().into_iter().enumerate() {
        let x = random_with_edges(win.input_len(), 3.0, i as u64);
        let cols = win.positions() * win.patch();
        check(
            &mut g,
            Kernel::Im2col { win },
            vec![x, vec![0.0; cols]],
            1e-6,
        );
        let d = random(cols, 1.0, 40 + i as u64);
        check(
            &mut g,
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
            &mut g,
            &Kernel::MaxPool { win },
            &[x.clone(), vec![0.0; out], vec![0.0; out]],
        );
        assert_close(&format!("max pool {win:?}"), &gg[1], &c[1], 0.0, 0.0);
        let (ci, gi) = (words_of(&c[2]), words_of(&gg[2]));
        assert_eq!(ci, gi, "argmax {win:?}");
        let dy = random(out, 1.0, 60 + i as u64);
        check(
            &mut g,
            Kernel::MaxPoolBackward { win },
            vec![dy.clone(), c[2].clone(), vec![f32::NAN; win.input_len()]],
            1e-6,
        );
        check(
            &mut g,
            Kernel::AvgPool { win },
            vec![x, vec![0.0; out]],
            1e-6,
        );
        check(
            &mut g,
            Kernel::AvgPoolBackward { win },
            vec![dy, vec![f32::NAN; win.input_len()]],
            1e-5,
        );
    }
}
