//! Walks longer than llvmpipe lets one loop run (65,535 iterations): a convolution's
//! columns at batch 100 and more (26×26 positions an image) — column sums, the dense
//! epilogue's backward, batch norm over channels (with and without the activation
//! derivative before it), pooling and the weight gradient.

use super::*;
use steadygrad::backend::ops::elementwise::bias_stripes;
use steadygrad::backend::window::{Padding, Window};

/// Rows past the loop limit.
const ROWS: usize = 67_600;

pub(super) fn long_columns_match_the_reference() {
    let Some(mut g) = gpu() else { return };
    for cols in [16, 3] {
        let n = ROWS * cols;
        let y = random_with_edges(n, 1.0, 1)
            .iter()
            .map(|v| v.max(0.0))
            .collect::<Vec<_>>();
        let dy = random(n, 1.0, 2);
        check(
            &mut g,
            Kernel::ColumnSum { rows: ROWS, cols },
            vec![dy.clone(), vec![0.0; cols]],
            1e-5,
        );
        // One walk a column, and (as training lowers it) partial sums over stripes.
        for stripes in [1, bias_stripes(ROWS)] {
            check(
                &mut g,
                Kernel::BiasActBackward {
                    rows: ROWS,
                    cols,
                    stripes,
                    act: ActKind::Relu,
                    training: true,
                    seed: 0,
                },
                vec![
                    y.clone(),
                    dy.clone(),
                    vec![0.0; n],
                    vec![0.0; stripes * cols],
                    step_record(1, 0, 0.01, [0.0; 4]),
                ],
                1e-5,
            );
        }
        let (gamma, beta) = (random(cols, 2.0, 3), random(cols, 1.0, 4));
        let train = Kernel::BnTrain {
            rows: ROWS,
            cols,
            eps: 1e-3,
            momentum: 0.99,
        };
        let moving = [random(cols, 1.0, 5), random(cols, 1.0, 6)];
        let ins = vec![
            y.clone(),
            gamma.clone(),
            beta,
            vec![0.0; n],
            vec![0.0; 2 * cols],
            moving[0].clone(),
            moving[1].clone(),
        ];
        let (c, _) = both(&mut g, &train, &ins);
        check(&mut g, train, ins, 1e-5);
        check(
            &mut g,
            Kernel::BnBackward {
                rows: ROWS,
                cols,
                eps: 1e-3,
            },
            vec![
                y.clone(),
                c[4].clone(),
                gamma.clone(),
                dy.clone(),
                vec![0.0; n],
                vec![0.0; cols],
                vec![0.0; cols],
            ],
            1e-4,
        );
        check(
            &mut g,
            Kernel::BnActBackward {
                rows: ROWS,
                cols,
                eps: 1e-3,
                act: ActKind::Relu,
                training: false,
                seed: 0,
            },
            vec![
                y.clone(),
                c[4].clone(),
                gamma,
                dy.clone(),
                vec![0.0; n],
                vec![0.0; cols],
                vec![0.0; cols],
                vec![0.0; cols],
                step_record(1, 0, 0.01, [0.0; 4]),
            ],
            1e-4,
        );
    }
    // The epilogue backward at a convolution's shape, other kinds of derivative (RReLU's
    // drawn slopes too).
    for act in [
        ActKind::Elu { alpha: 1.0 },
        ActKind::Rrelu {
            lower: 0.125,
            upper: 0.333,
        },
        ActKind::Selu,
    ] {
        let (rows, cols) = (3000, 8);
        let n = rows * cols;
        check(
            &mut g,
            Kernel::BiasActBackward {
                rows,
                cols,
                stripes: 1,
                act,
                training: true,
                seed: 7,
            },
            vec![
                random_with_edges(n, 1.0, 12),
                random(n, 1.0, 13),
                vec![0.0; n],
                vec![0.0; cols],
                step_record(3, 0, 0.01, [0.0; 4]),
            ],
            1e-5,
        );
    }
    // The example CNN's first convolution and pooling at batch 100.
    let conv = Window::new(100, (28, 28, 1), (3, 3), (1, 1), (1, 1), Padding::Valid).unwrap();
    let x = random(conv.input_len(), 1.0, 7);
    check(
        &mut g,
        Kernel::Im2col { win: conv },
        vec![x, vec![0.0; conv.positions() * conv.patch()]],
        1e-9,
    );
    let pool = Window::new(100, (26, 26, 16), (2, 2), (2, 2), (1, 1), Padding::Valid).unwrap();
    let xp = random(pool.input_len(), 1.0, 8);
    let out = pool.pooled_len();
    let (c, _) = both(
        &mut g,
        &Kernel::MaxPool { win: pool },
        &[xp.clone(), vec![0.0; out], vec![0.0; out]],
    );
    check(
        &mut g,
        Kernel::MaxPool { win: pool },
        vec![xp, vec![0.0; out], vec![0.0; out]],
        1e-9,
    );
    check(
        &mut g,
        Kernel::MaxPoolBackward { win: pool },
        vec![
            random(out, 1.0, 9),
            c[2].clone(),
            vec![0.0; pool.input_len()],
        ],
        1e-6,
    );
    // Past what one invocation may walk there, llvmpipe refuses rather than cut it short.
    if g.info().adapter.starts_with("llvmpipe") {
        let rows = steadygrad::backend::gpu::LLVMPIPE_MAX_COLUMN_ROWS + 1;
        let bufs: Vec<_> = [rows, 1, 1, rows, 2, 1, 1]
            .iter()
            .map(|&n| g.alloc(n).unwrap())
            .collect();
        let k = Kernel::BnTrain {
            rows,
            cols: 1,
            eps: 1e-3,
            momentum: 0.99,
        };
        let e = g.prepare(&k, &bufs).unwrap_err().to_string();
        assert!(e.contains("llvmpipe") && e.contains("smaller batch"), "{e}");
    }
    for variant in g.candidates() {
        let mut gv = GpuBackend::new(&GpuOptions {
            matmul: Some(variant),
            ..GpuOptions::from_env().unwrap()
        })
        .unwrap();
        // A convolution's weight gradient at batch 100 and at batch 256 (26×26 positions
        // an image): the narrow body walks it four steps an iteration, the others hand it
        // to the reduction kernel; with B transposed, the scalar narrow body.
        for (k, trans_b) in [
            (ROWS, false),
            (173_056, false),
            (ROWS, true),
            (20_000, true),
        ] {
            check(
                &mut gv,
                Kernel::MatMul {
                    m: 9,
                    k,
                    n: 16,
                    trans_a: true,
                    trans_b,
                    accumulate: false,
                },
                vec![
                    random(9 * k, 1.0, 10),
                    random(k * 16, 1.0, 11),
                    vec![0.0; 144],
                ],
                1e-5,
            );
        }
        // More rows than the narrow body splits k for: one lane walks all of a long k (a
        // pipeline of its own, four steps an iteration) — a dense layer's launch too.
        let (m, k) = (40, 70_000);
        let (x, w) = (random(m * k, 1.0, 12), random(k * 16, 1.0, 13));
        check(
            &mut gv,
            Kernel::MatMul {
                m,
                k,
                n: 16,
                trans_a: false,
                trans_b: false,
                accumulate: false,
            },
            vec![x.clone(), w.clone(), vec![0.0; m * 16]],
            1e-5,
        );
        let dense = Kernel::Dense {
            m,
            k,
            n: 16,
            act: ActKind::Relu,
            training: false,
            seed: 0,
        };
        let step = step_record(1, 0, 0.0, [0.0; 4]);
        let bias = random(16, 1.0, 14);
        check(
            &mut gv,
            dense,
            vec![x, w, bias, vec![0.0; m * 16], step],
            1e-5,
        );
    }
}
