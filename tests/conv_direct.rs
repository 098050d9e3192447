//! The direct convolution over a small receptive field ([`Kernel::ConvDirect`]) and its
//! backward rule (`graph::autodiff`: the kernel gradient as striped partial sums and their
//! column sum, the input gradient through im2col's adjoint): against central finite
//! differences of the forward, against the im2col + dense path it replaces (outputs and
//! every gradient), and chosen by the Conv2D layer exactly where it fits. (The example CNN
//! trains through it in `tests/cnn.rs`, against Keras.)

mod common;

use std::collections::HashMap;

use common::*;
use steadygrad::backend::ops::conv;
use steadygrad::backend::window::{Padding, Window};
use steadygrad::backend::{ActKind, Backend, CpuBackend, Kernel, STEP_WORDS};
use steadygrad::graph::autodiff::{backward, Seed};
use steadygrad::graph::{Graph, TensorId};

/// Runs every node of `g` on the CPU reference over a buffer per tensor, `given` bound
/// first (the rest zeros); returns every tensor's values.
fn run_graph(g: &Graph, given: &HashMap<TensorId, Vec<f32>>) -> Vec<Vec<f32>> {
    let mut be = CpuBackend::new();
    let ids: Vec<_> = (0..g.tensors.len())
        .map(|i| {
            let data = given
                .get(&TensorId(i))
                .cloned()
                .unwrap_or_else(|| vec![0.0; g.tensors[i].numel()]);
            be.upload(&data).unwrap()
        })
        .collect();
    for node in &g.nodes {
        let bufs: Vec<_> = node.args.iter().map(|t| ids[t.0]).collect();
        be.run(&node.kernel, &bufs).unwrap();
    }
    ids.iter().map(|b| be.read(*b).unwrap()).collect()
}

/// A graph of one convolution over `win` with `filters` filters, direct or as im2col rows
/// times the kernel through the dense epilogue, its backward from an external `dy`
/// appended: (graph, [x, w, bias, step, y, dy], gradients of x, w and bias).
fn conv_graph(
    win: Window,
    filters: usize,
    act: ActKind,
    direct: bool,
) -> (Graph, [TensorId; 6], [TensorId; 3]) {
    let mut g = Graph::default();
    let x = g.external("x", &[win.n, win.h, win.w, win.c]);
    let w = g.external("w", &[win.patch(), filters]);
    let b = g.external("bias", &[filters]);
    let step = g.external("step", &[STEP_WORDS]);
    let y = g.temp("y", &[win.positions(), filters]);
    if direct {
        let kernel = Kernel::ConvDirect {
            win,
            filters,
            act,
            training: false,
            seed: 0,
        };
        g.push(kernel, vec![x, w, b, y, step]);
    } else {
        let cols = g.temp("cols", &[win.positions(), win.patch()]);
        g.push(Kernel::Im2col { win }, vec![x, cols]);
        let dense = Kernel::Dense {
            m: win.positions(),
            k: win.patch(),
            n: filters,
            act,
            training: false,
            seed: 0,
        };
        g.push(dense, vec![cols, w, b, y, step]);
    }
    let dy = g.external("dy", &[win.positions(), filters]);
    let forward = g.nodes.len();
    let seed = Seed {
        y,
        dy,
        dy_column_sums: None,
    };
    let grads = backward(&mut g, forward, seed, &[x, w, b]).unwrap();
    (g, [x, w, b, step, y, dy], [grads[&x], grads[&w], grads[&b]])
}

/// Windows with padding, strides, dilation and several channels (fields of 6 to 25).
fn windows() -> Vec<Window> {
    vec![
        Window::new(2, (5, 4, 2), (3, 3), (2, 1), (1, 1), Padding::Same).unwrap(),
        Window::new(1, (7, 6, 1), (2, 3), (1, 2), (2, 1), Padding::Valid).unwrap(),
        Window::new(3, (6, 5, 1), (5, 5), (2, 2), (1, 1), Padding::Same).unwrap(),
    ]
}

#[test]
fn its_gradients_match_finite_differences() {
    for (i, win) in windows().into_iter().enumerate() {
        let filters = [4, 8, 12][i];
        // Activations smooth at 0 (ELU with α = 1), so a difference step across it stays exact.
        let act = [
            ActKind::Linear,
            ActKind::Elu { alpha: 1.0 },
            ActKind::Sigmoid,
        ][i];
        let (g, [x, w, b, step, y, dy], [dx, dw, db]) = conv_graph(win, filters, act, true);
        let seed = 10 * i as u64;
        let mut given = HashMap::from([
            (x, random(win.input_len(), 1.0, seed + 1)),
            (w, random(win.patch() * filters, 0.5, seed + 2)),
            (b, random(filters, 0.5, seed + 3)),
            (step, vec![0.0; STEP_WORDS]),
            (dy, random(win.positions() * filters, 1.0, seed + 4)),
        ]);
        let out = run_graph(&g, &given);
        let u = given[&dy].clone();
        for (input, grad, what) in [(x, dx, "dx"), (w, dw, "dw"), (b, db, "dbias")] {
            let h = 1e-2f32;
            let numeric: Vec<f32> = (0..given[&input].len())
                .map(|j| {
                    let mut loss = |delta: f32| -> f64 {
                        given.get_mut(&input).unwrap()[j] += delta;
                        let v = run_graph(&g, &given)[y.0].clone();
                        given.get_mut(&input).unwrap()[j] -= delta;
                        v.iter().zip(&u).map(|(a, b)| *a as f64 * *b as f64).sum()
                    };
                    ((loss(h) - loss(-h)) / (2.0 * h as f64)) as f32
                })
                .collect();
            assert_close(
                &format!("{what} {win:?}"),
                &out[grad.0],
                &numeric,
                2e-3,
                2e-2,
            );
        }
    }
}

#[test]
fn it_equals_im2col_rows_times_the_kernel_forward_and_backward() {
    for (i, win) in windows().into_iter().enumerate() {
        let filters = [8, 4, 16][i];
        let act = [ActKind::Relu, ActKind::Linear, ActKind::Elu { alpha: 1.0 }][i];
        let direct = conv_graph(win, filters, act, true);
        let rows = conv_graph(win, filters, act, false);
        let seed = 50 + 10 * i as u64;
        let data = [
            random_with_edges(win.input_len(), 2.0, seed + 1),
            random(win.patch() * filters, 1.0, seed + 2),
            random(filters, 1.0, seed + 3),
            vec![0.0; STEP_WORDS],
            vec![0.0; win.positions() * filters],
            random(win.positions() * filters, 1.0, seed + 4),
        ];
        let bind = |ts: &[TensorId; 6]| -> HashMap<TensorId, Vec<f32>> {
            ts.iter().copied().zip(data.iter().cloned()).collect()
        };
        let a = run_graph(&direct.0, &bind(&direct.1));
        let b = run_graph(&rows.0, &bind(&rows.1));
        let what = ["y"];
        assert_close(
            &format!("{} {win:?}", what[0]),
            &a[direct.1[4].0],
            &b[rows.1[4].0],
            1e-5,
            1e-5,
        );
        for (k, name) in ["dx", "dw", "dbias"].iter().enumerate() {
            let (ga, gb) = (direct.2[k], rows.2[k]);
            assert_close(&format!("{name} {win:?}"), &a[ga.0], &b[gb.0], 1e-5, 1e-4);
        }
    }
}

#[test]
fn the_example_cnns_first_convolution_runs_directly_its_second_through_rows() {
    let valid =
        |hwc, k, c| Window::new(4, hwc, (k, k), (1, 1), (1, 1), Padding::Valid).map(|w| (w, c));
    // The example CNN's first convolution (3×3 over one channel, 16 filters): directly.
    let (w, f) = valid((28, 28, 1), 3, 16).unwrap();
    assert!(conv::direct_fits(&w, f));
    // Its second (3×3 over 16 channels): im2col rows and the autotuned matmul (or the
    // implicit matmul on 8-lane subgroups).
    let (w, f) = valid((13, 13, 16), 3, 32).unwrap();
    assert!(!conv::direct_fits(&w, f));
    // LeNet's second (5×5 over 6 channels, not in whole vec4s: 150 values): directly.
    let (w, f) = valid((14, 14, 6), 5, 16).unwrap();
    assert!(conv::direct_fits(&w, f));
    // 5×5 over 12 channels (300 values): rows again.
    let (w, f) = valid((14, 14, 12), 5, 16).unwrap();
    assert!(!conv::direct_fits(&w, f));
    // 5×5 over 10 channels (250 values) into 64 filters: directly, its weights within a
    // uniform block.
    let (w, f) = valid((14, 14, 10), 5, 64).unwrap();
    assert!(conv::direct_fits(&w, f));
    // Every stripe holds about STRIPE_POSITIONS positions and the stripes cover them all.
    let (w, _) = valid((28, 28, 1), 3, 16).unwrap();
    let s = conv::stripes(&w, 4, false);
    assert!(s * conv::STRIPE_POSITIONS >= w.positions());
    assert!((s - 1) * conv::STRIPE_POSITIONS < w.positions());
    // LeNet's first convolution (5×5 over one channel, same padding: rows of taps): whole
    // rows of 28 positions, four a stripe (112 positions).
    let w = Window::new(4, (28, 28, 1), (5, 5), (1, 1), (1, 1), Padding::Same).unwrap();
    assert!(conv::strip_grad(&w));
    assert_eq!(conv::stripes(&w, 6, false), 4 * 28 / 4);
}
