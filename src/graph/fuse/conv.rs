//! The convolution's fusion: its input gradient without im2col rows, where a kernel takes
//! its shape on the device.

use super::splice;
use crate::backend::ops::conv_input_grad::{
    input_grad_act_runs, input_grad_partial_rows, input_grad_runs,
};
use crate::backend::window::Window;
use crate::backend::{ActKind, Kernel};
use crate::graph::ir::{Graph, Node, TensorId};

/// A convolution's input gradient as the product into im2col rows (`dz·wᵀ`, a
/// [`Kernel::MatMul`]) and [`Kernel::Col2im`] of them (the weight gradient's product may run
/// between) becomes one launch in the product's place, [`Kernel::ConvInputGrad`], without
/// the rows: where [`input_grad_runs`] says a kernel takes the shape on the device (8-lane
/// subgroups or not), nothing else reads the rows and nothing all-reduces them or the
/// gradient. Returns whether it fused (one pair a call).
pub fn conv_input_grad(g: &mut Graph) -> bool {
    for i in 0..g.nodes.len() {
        let Kernel::MatMul {
            m,
            k,
            n,
            trans_a: false,
            trans_b: true,
            accumulate: false,
        } = g.nodes[i].kernel
        else {
            continue;
        };
        let (dz, w, rows) = (g.nodes[i].args[0], g.nodes[i].args[1], g.nodes[i].args[2]);
        let readers: Vec<usize> = (g.nodes.iter().enumerate())
            .filter(|(j, node)| *j != i && node.args.contains(&rows))
            .map(|(j, _)| j)
            .collect();
        let [j] = readers[..] else {
            continue;
        };
        let Kernel::Col2im { win } = g.nodes[j].kernel else {
            continue;
        };
        let dx = g.nodes[j].args[1];
        let synced = g.syncs.iter().any(|s| s.tensor == rows || s.tensor == dx);
        if j < i
            || g.nodes[j].args[0] != rows
            || (m, n) != (win.positions(), win.patch())
            || !input_grad_runs(&win, k, g.subgroups8)
            || synced
        {
            continue;
        }
        splice(g, j, 1, Vec::new());
        g.nodes[i] = Node {
            kernel: Kernel::ConvInputGrad { win, filters: k },
            args: vec![dz, w, dx],
        };
        return true;
    }
    false
}

/// A convolution's input gradient ([`Kernel::ConvInputGrad`]) whose only reader is the
/// backward of the activation before the convolution taken from that activation's output
/// becomes one launch, [`Kernel::ConvInputGradAct`], storing the activation's input
/// gradient: a batch norm then an activation layer ([`Kernel::ActBackwardFromOutput`]), or
/// a layer with its own bias and activation ([`Kernel::BiasActBackward`]: the launch also
/// writes its bias gradient's partial sums, which the column sum after it reads, or one
/// put in its place). Where the subgroup kernel runs the shape ([`input_grad_act_runs`]),
/// nothing else reads the convolution's input gradient (not in `keep`, not all-reduced).
/// Returns whether it fused (one pair a call).
pub fn conv_input_grad_act(g: &mut Graph, keep: &[TensorId]) -> bool {
    for i in 0..g.nodes.len() {
        let Kernel::ConvInputGrad { win, filters } = g.nodes[i].kernel else {
            continue;
        };
        let [dz, w, dx] = g.nodes[i].args[..] else {
            continue;
        };
        let readers: Vec<usize> = (g.nodes.iter().enumerate())
            .filter(|(_, node)| node.args.contains(&dx))
            .map(|(j, _)| j)
            .filter(|&j| j != i)
            .collect();
        let [j] = readers[..] else {
            continue;
        };
        let synced = g.syncs.iter().any(|s| s.tensor == dx);
        if j < i
            || !input_grad_act_runs(&win, filters, g.subgroups8)
            || keep.contains(&dx)
            || synced
        {
            continue;
        }
        let n = win.input_len();
        match (&g.nodes[j].kernel, &g.nodes[j].args[..]) {
            (
                &Kernel::ActBackwardFromOutput {
                    act,
                    n: len,
                    training,
                    seed,
                },
                &[y, dy, du, step],
            ) if dy == dx && len == n => {
                splice(g, j, 1, Vec::new());
                g.nodes[i] = Node {
                    kernel: act_kernel(win, filters, (act, training, seed), false),
                    args: vec![dz, w, y, du, step],
                };
                return true;
            }
            (
                &Kernel::BiasActBackward {
                    rows,
                    cols,
                    stripes,
                    act,
                    training,
                    seed,
                },
                &[y, dy, du, sums, step],
            ) if dy == dx && (rows * cols, cols) == (n, win.c) => {
                let prows = input_grad_partial_rows(&win);
                let partials = g.temp(format!("{}/walk", g.tensors[sums.0].name), &[prows, cols]);
                let column_sum = Kernel::ColumnSum { rows: prows, cols };
                let summing = (g.nodes.iter()).position(|m| {
                    matches!(m.kernel, Kernel::ColumnSum { .. }) && m.args[0] == sums
                });
                if let Some(k) = summing {
                    // The stripes' column sum sums the workgroups' rows instead.
                    g.nodes[k].kernel = column_sum;
                    g.nodes[k].args[0] = partials;
                    splice(g, j, 1, Vec::new());
                } else if stripes == 1 {
                    // `sums` is the bias gradient itself.
                    let node = Node {
                        kernel: column_sum,
                        args: vec![partials, sums],
                    };
                    splice(g, j, 1, vec![node]);
                } else {
                    // Stripes nothing sums: no bias gradient wanted.
                    splice(g, j, 1, Vec::new());
                }
                g.nodes[i] = Node {
                    kernel: act_kernel(win, filters, (act, training, seed), true),
                    args: vec![dz, w, y, du, partials, step],
                };
                return true;
            }
            _ => continue,
        }
    }
    false
}

/// [`Kernel::ConvInputGradAct`] over `win` and `filters` through activation `act` (with
/// RReLU's training flag and seed), with or without the bias partial sums.
fn act_kernel(win: Window, filters: usize, act: (ActKind, bool, u32), bias: bool) -> Kernel {
    let (act, training, seed) = act;
    Kernel::ConvInputGradAct {
        win,
        filters,
        act,
        training,
        seed,
        bias,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::window::{Padding, Window};
    use crate::backend::ActKind;
    use crate::graph::ir::{Reduce, TensorId};

    /// A convolution's backward over `win` (16 filters) as the plain graph has it: the
    /// product into im2col rows, the weight gradient's product, col2im of the rows, a node
    /// reading the input gradient; an all-reduce of the weight gradient.
    fn conv_backward(win: Window, subgroups8: bool) -> (Graph, TensorId) {
        let mut g = Graph {
            subgroups8,
            ..Graph::default()
        };
        let (positions, patch, filters) = (win.positions(), win.patch(), 16);
        let dz = g.external("dz", &[positions, filters]);
        let w = g.external("w", &[patch, filters]);
        let cols = g.external("cols", &[positions, patch]);
        let rows = g.temp("rows", &[positions, patch]);
        let dw = g.temp("dw", &[patch, filters]);
        let dx = g.temp("dx", &[win.input_len()]);
        let out = g.temp("out", &[win.input_len()]);
        let product = |m, k, n, trans_a, trans_b| Kernel::MatMul {
            m,
            k,
            n,
            trans_a,
            trans_b,
            accumulate: false,
        };
        g.push(
            product(positions, filters, patch, false, true),
            vec![dz, w, rows],
        );
        g.push(
            product(patch, positions, filters, true, false),
            vec![cols, dz, dw],
        );
        g.all_reduce(dw, 0, patch * filters, Reduce::Sum);
        g.push(Kernel::Col2im { win }, vec![rows, dx]);
        let n = win.input_len();
        g.push(Kernel::Scale { n, factor: 2.0 }, vec![dx, out]);
        (g, rows)
    }

    fn conv_win(stride: usize) -> Window {
        let s = (stride, stride);
        Window::new(2, (9, 9, 32), (3, 3), s, (1, 1), Padding::Valid).unwrap()
    }

    #[test]
    fn the_product_into_rows_and_their_col2im_become_one_node() {
        let win = conv_win(1);
        let (mut g, _) = conv_backward(win, true);
        let sync_before = g.syncs[0].at;
        assert!(conv_input_grad(&mut g));
        assert_eq!(g.nodes.len(), 3);
        assert_eq!(
            g.nodes[0].kernel,
            Kernel::ConvInputGrad { win, filters: 16 }
        );
        let dx = g.nodes[2].args[0];
        assert_eq!(g.nodes[0].args[2], dx, "writes what the col2im wrote");
        assert!(matches!(
            g.nodes[1].kernel,
            Kernel::MatMul { trans_a: true, .. }
        ));
        assert_eq!(g.syncs[0].at, sync_before, "the all-reduce stays after dw");
        assert!(!conv_input_grad(&mut g), "nothing left to fuse");
    }

    #[test]
    fn few_channels_fuse_on_any_device() {
        // Six channels at stride 1, dilated or not: the direct kernel, with or without 8-lane
        // subgroups; at stride 2 the rows stay.
        for subgroups8 in [false, true] {
            for d in [1, 2] {
                let few = Window::new(2, (9, 9, 6), (3, 3), (1, 1), (d, d), Padding::Same);
                let few = few.unwrap();
                let (mut g, _) = conv_backward(few, subgroups8);
                assert!(conv_input_grad(&mut g), "dilation {d}");
                assert_eq!(
                    g.nodes[0].kernel,
                    Kernel::ConvInputGrad {
                        win: few,
                        filters: 16
                    }
                );
            }
            let win = Window::new(2, (9, 9, 6), (3, 3), (2, 2), (1, 1), Padding::Same);
            let (mut g, _) = conv_backward(win.unwrap(), subgroups8);
            assert!(!conv_input_grad(&mut g), "stride 2");
        }
    }

    #[test]
    fn strides_and_sixteen_channels_fuse_on_subgroups() {
        // A stride of 2 (walked by stride class); 16 channels and 8 at stride 2 (a lane's
        // positions with all their channels).
        let sixteen = Window::new(2, (9, 9, 16), (3, 3), (1, 1), (1, 1), Padding::Valid);
        let eight = Window::new(2, (9, 9, 8), (3, 3), (2, 2), (1, 1), Padding::Valid);
        for win in [conv_win(2), sixteen.unwrap(), eight.unwrap()] {
            let (mut g, _) = conv_backward(win, true);
            assert!(conv_input_grad(&mut g), "{win:?}");
        }
    }

    #[test]
    fn the_rows_stay_where_the_device_or_the_graph_needs_them() {
        // No 8-lane subgroups; 6 channels at stride 2 (past the direct kernel's stride, a
        // quarter of the subgroup kernel's 8 channels computed thrown away); the rows read by
        // another node.
        let (mut g, _) = conv_backward(conv_win(1), false);
        assert!(!conv_input_grad(&mut g));
        let narrow = Window::new(2, (9, 9, 6), (3, 3), (2, 2), (1, 1), Padding::Valid);
        let (mut g, _) = conv_backward(narrow.unwrap(), true);
        assert!(!conv_input_grad(&mut g));
        let (mut g, rows) = conv_backward(conv_win(1), true);
        let n = conv_win(1).positions() * conv_win(1).patch();
        let other = g.temp("other", &[n]);
        g.push(Kernel::Scale { n, factor: 1.0 }, vec![rows, other]);
        assert!(!conv_input_grad(&mut g));
    }

    /// The input gradient over `win` (16 filters) followed by the activation's backward from
    /// its output y (the convolution's input): the graph after the rows' fusion.
    fn input_grad_then_act(win: Window, subgroups8: bool) -> (Graph, [TensorId; 5]) {
        let mut g = Graph {
            subgroups8,
            ..Graph::default()
        };
        let n = win.input_len();
        let dz = g.external("dz", &[win.positions(), 16]);
        let w = g.external("w", &[win.patch(), 16]);
        let y = g.external("y", &[n]);
        let step = g.external("step", &[8]);
        let (dx, du) = (g.temp("dx", &[n]), g.temp("du", &[n]));
        g.push(Kernel::ConvInputGrad { win, filters: 16 }, vec![dz, w, dx]);
        let act = Kernel::ActBackwardFromOutput {
            act: ActKind::Relu,
            n,
            training: true,
            seed: 4,
        };
        g.push(act, vec![y, dx, du, step]);
        (g, [dz, w, y, du, step])
    }

    #[test]
    fn the_input_gradient_takes_the_activation_backward_after_it() {
        let (mut g, [dz, w, y, du, step]) = input_grad_then_act(conv_win(1), true);
        assert!(conv_input_grad_act(&mut g, &[]));
        assert_eq!(g.nodes.len(), 1);
        let want = act_kernel(conv_win(1), 16, (ActKind::Relu, true, 4), false);
        assert_eq!(g.nodes[0].kernel, want);
        assert_eq!(g.nodes[0].args, vec![dz, w, y, du, step]);
        assert!(!conv_input_grad_act(&mut g, &[]), "nothing left to fuse");
    }

    #[test]
    fn the_activation_backward_stays_where_the_gradient_is_needed_or_no_kernel_takes_it() {
        // Kept (read back), read by another node, no 8-lane subgroups, the direct kernel's
        // shape (few channels at stride 1).
        let (mut g, _) = input_grad_then_act(conv_win(1), true);
        let dx = g.nodes[0].args[2];
        assert!(!conv_input_grad_act(&mut g, &[dx]));
        let n = conv_win(1).input_len();
        let other = g.temp("other", &[n]);
        g.push(Kernel::Scale { n, factor: 1.0 }, vec![dx, other]);
        assert!(!conv_input_grad_act(&mut g, &[]));
        let (mut g, _) = input_grad_then_act(conv_win(1), false);
        assert!(!conv_input_grad_act(&mut g, &[]));
        let few = Window::new(2, (9, 9, 6), (3, 3), (1, 1), (1, 1), Padding::Same).unwrap();
        let (mut g, _) = input_grad_then_act(few, true);
        assert!(!conv_input_grad_act(&mut g, &[]));
    }

    /// The input gradient over `win` (16 filters) followed by the bias + activation backward
    /// of the layer that wrote y over `stripes` stripes of positions, and (`summed`) their
    /// column sum into the bias gradient.
    fn input_grad_then_bias_act(win: Window, stripes: usize, summed: bool) -> Graph {
        let mut g = Graph {
            subgroups8: true,
            ..Graph::default()
        };
        let (n, c) = (win.input_len(), win.c);
        let dz = g.external("dz", &[win.positions(), 16]);
        let w = g.external("w", &[win.patch(), 16]);
        let y = g.external("y", &[n]);
        let step = g.external("step", &[8]);
        let (dx, du) = (g.temp("dx", &[n]), g.temp("du", &[n]));
        let sums = g.temp("sums", &[stripes, c]);
        g.push(Kernel::ConvInputGrad { win, filters: 16 }, vec![dz, w, dx]);
        let back = Kernel::BiasActBackward {
            rows: n / c,
            cols: c,
            stripes,
            act: ActKind::Elu { alpha: 1.0 },
            training: false,
            seed: 2,
        };
        g.push(back, vec![y, dx, du, sums, step]);
        if summed {
            let db = g.temp("db", &[c]);
            let cols = Kernel::ColumnSum {
                rows: stripes,
                cols: c,
            };
            g.push(cols, vec![sums, db]);
        }
        g
    }

    #[test]
    fn the_input_gradient_takes_the_bias_and_activation_backward_after_it() {
        let win = conv_win(1);
        let rows = input_grad_partial_rows(&win);
        let elu = (ActKind::Elu { alpha: 1.0 }, false, 2);
        // Stripes summed after: the column sum reads the workgroups' sums instead.
        let mut g = input_grad_then_bias_act(win, 3, true);
        let (du, db) = (g.nodes[1].args[2], g.nodes[2].args[1]);
        assert!(conv_input_grad_act(&mut g, &[]));
        assert_eq!(g.nodes.len(), 2);
        assert_eq!(g.nodes[0].kernel, act_kernel(win, 16, elu, true));
        let (y, partials) = (g.nodes[0].args[2], g.nodes[0].args[4]);
        assert_eq!(g.nodes[0].args[3], du);
        assert_eq!(g.shape(partials), [rows, win.c]);
        assert_eq!(g.shape(y), [win.input_len()]);
        let sum = Kernel::ColumnSum { rows, cols: win.c };
        assert_eq!(g.nodes[1].kernel, sum);
        assert_eq!(g.nodes[1].args, vec![partials, db]);
        // One stripe (the bias gradient itself): a column sum in the backward's place.
        let mut g = input_grad_then_bias_act(win, 1, false);
        let db = g.nodes[1].args[3];
        assert!(conv_input_grad_act(&mut g, &[]));
        assert_eq!(g.nodes[1].kernel, sum);
        assert_eq!(g.nodes[1].args, vec![g.nodes[0].args[4], db]);
        // Stripes nothing sums (no bias gradient wanted): the launch alone.
        let mut g = input_grad_then_bias_act(win, 3, false);
        assert!(conv_input_grad_act(&mut g, &[]));
        assert_eq!(g.nodes.len(), 1);
        // Not the activation's backward of this input (another shape of rows): no fusion.
        let mut g = input_grad_then_bias_act(win, 3, true);
        if let Kernel::BiasActBackward { rows, cols, .. } = &mut g.nodes[1].kernel {
            (*rows, *cols) = (*rows * *cols / 4, 4);
        }
        assert!(!conv_input_grad_act(&mut g, &[]));
    }
}
