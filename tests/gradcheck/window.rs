//! The window kernels' gradients (im2col, convolution, pooling) against central finite
//! differences, with the helpers of main.rs.

use super::*;

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
