//! Peephole fusions over a finished step graph (after autodiff): adjacent nodes replaced
//! by one kernel that does their work, computing the same values in the same order (the
//! convolution's in conv.rs, batch norm's with the activation after it in batch_norm.rs).

mod batch_norm;
mod conv;

pub use batch_norm::batch_norm_into_activation;
pub use conv::{conv_input_grad, conv_input_grad_act};

use super::ir::{Graph, Node, TensorId};
use crate::backend::ops::loss::DENSE_LOSS_MAX_COLS;
use crate::backend::{ActKind, Kernel};

/// The byte-image gather followed at once by batch norm over the gathered batch (the seed
/// network's first layer) becomes one launch, [`Kernel::BnTrainGatherU8`], which still
/// writes the gathered batch and labels for the nodes that read them (the loss, batch
/// norm's backward). Needs whole words of pixels a row, its 12 storage buffers within the
/// device's limit (WebGPU guarantees 8), and no all-reduce point or statistics-only node at
/// the pair. Returns whether it fused.
pub fn gather_into_batch_norm(g: &mut Graph) -> bool {
    for i in 0..g.nodes.len().saturating_sub(1) {
        let (a, b) = (&g.nodes[i], &g.nodes[i + 1]);
        let (
            &Kernel::GatherU8 { rows, features },
            &Kernel::BnTrain {
                rows: bn_rows,
                cols,
                eps,
                momentum,
            },
        ) = (&a.kernel, &b.kernel)
        else {
            continue;
        };
        let fused = Kernel::BnTrainGatherU8 {
            rows,
            cols,
            eps,
            momentum,
            xhat: false,
        };
        let fits = rows == bn_rows
            && features == cols
            && features.is_multiple_of(4)
            && g.fits_kernel(&fused);
        let apart = g.syncs.iter().any(|s| s.at == i + 1)
            || g.statistics.iter().any(|&k| k == i || k == i + 1);
        if !fits || apart || b.args[0] != a.args[4] {
            continue;
        }
        // data, labels, perm, step, x, y; then gamma, beta, out, stats, moving statistics.
        let mut args = a.args.clone();
        args.extend_from_slice(&b.args[1..]);
        replace(g, i, 2, fused, args);
        return true;
    }
    false
}

/// The most multiply-adds (`rows × k × cols`) of an output layer fused into one launch by
/// [`output_layer_into_loss`]: its one workgroup walks all three products on one core of a
/// CPU adapter, where the four launches it replaces spread over the cores. Measured for the
/// seed network's head (k = 100, 10 classes), the fused launch against the four, µs:
/// llvmpipe 794–992 against 1,002–1,591 at batch 32, about even at 64 (1,392–1,408 against
/// 1,396–1,936), 2,967–3,313 against 1,895–2,483 at 128; SwiftShader 787–1,278 against
/// 1,156–1,409 at batch 32, mixed from 64 up. Larger heads take two launches that spread
/// over the device: on llvmpipe, µs, 421 against the four's 796 at batch 128, 1,022–1,171
/// against 1,392–2,178 at 512, 1,925 against 2,457 at 1,024 (at 64, 200–277 against the
/// one launch's 367–431, with no whole step measurably faster for the launch more).
pub const DENSE_LOSS_MAX_MACS: usize = 1 << 16;

/// The output layer's linear [`Kernel::Dense`], the [`Kernel::Loss`] on its logits and the
/// two backward [`Kernel::MatMul`]s from the loss's gradient (its weight gradient and its
/// input's) become one launch, [`Kernel::DenseLoss`], which still writes the logits — or,
/// past [`DENSE_LOSS_MAX_MACS`], two: [`Kernel::DenseLossRows`] (four rows an invocation:
/// logits, loss, gradient, input gradient) and [`Kernel::DenseLossSums`] (weight and bias
/// gradients, metrics). Only for heads of at most [`DENSE_LOSS_MAX_COLS`] outputs, within
/// the device's buffer limit, with no all-reduce point or statistics-only node among the
/// four. Returns whether it fused.
pub fn output_layer_into_loss(g: &mut Graph) -> bool {
    for i in 0..g.nodes.len().saturating_sub(3) {
        let (d, l) = (&g.nodes[i], &g.nodes[i + 1]);
        let (
            &Kernel::Dense {
                m,
                k,
                n,
                act: ActKind::Linear,
                ..
            },
            &Kernel::Loss {
                kind,
                rows,
                cols,
                total,
            },
        ) = (&d.kernel, &l.kernel)
        else {
            continue;
        };
        let (h, w, bias, x) = (d.args[0], d.args[1], d.args[2], d.args[3]);
        let dx = l.args[2];
        let input_grad = Kernel::MatMul {
            m: rows,
            k: cols,
            n: k,
            trans_a: false,
            trans_b: true,
            accumulate: false,
        };
        let weight_grad = Kernel::MatMul {
            m: k,
            k: rows,
            n: cols,
            trans_a: true,
            trans_b: false,
            accumulate: false,
        };
        let product = |node: &Node, kernel: &Kernel, a, b| {
            (node.kernel == *kernel && node.args[..2] == [a, b]).then(|| node.args[2])
        };
        let (p, q) = (&g.nodes[i + 2], &g.nodes[i + 3]);
        let grads = match (
            product(p, &input_grad, dx, w),
            product(q, &weight_grad, h, dx),
        ) {
            (Some(dh), Some(dw)) => Some((dh, dw)),
            _ => product(q, &input_grad, dx, w).zip(product(p, &weight_grad, h, dx)),
        };
        let fused = Kernel::DenseLoss {
            kind,
            rows,
            k,
            cols,
            total,
        };
        let one = rows * k * cols <= DENSE_LOSS_MAX_MACS;
        let rows_kernel = Kernel::DenseLossRows {
            kind,
            rows,
            k,
            cols,
            total,
        };
        let fits = (m, n) == (rows, cols)
            && l.args[0] == x
            && cols <= DENSE_LOSS_MAX_COLS
            && g.fits_kernel(if one { &fused } else { &rows_kernel });
        let apart = g.syncs.iter().any(|s| (i + 1..=i + 3).contains(&s.at))
            || g.statistics.iter().any(|s| (i..=i + 3).contains(s));
        let Some((dh, dw)) = grads.filter(|_| fits && !apart) else {
            continue;
        };
        // labels, dx, dx_sums, metrics.
        let [labels, dx, dx_sums, metrics] = l.args[1..] else {
            continue;
        };
        if one {
            let args = vec![h, w, bias, x, labels, dx, dx_sums, metrics, dh, dw];
            replace(g, i, 4, fused, args);
        } else {
            let row_metrics = g.temp("head_row_metrics", &[rows, 2]);
            let first = Node {
                kernel: rows_kernel,
                args: vec![h, w, bias, x, labels, dx, row_metrics, dh],
            };
            let second = Node {
                kernel: Kernel::DenseLossSums { rows, k, cols },
                args: vec![h, dx, row_metrics, dx_sums, metrics, dw],
            };
            splice(g, i, 4, vec![first, second]);
        }
        return true;
    }
    false
}

/// Puts a node of `kernel` over `args` in place of the `count` nodes from `i`, moving the
/// later nodes' all-reduce points and statistics indices with them.
pub(super) fn replace(g: &mut Graph, i: usize, count: usize, kernel: Kernel, args: Vec<TensorId>) {
    splice(g, i, count, vec![Node { kernel, args }]);
}

/// Puts `nodes` (no more than `count`) in place of the `count` nodes from `i`, moving the
/// later nodes' all-reduce points and statistics indices with them.
pub(super) fn splice(g: &mut Graph, i: usize, count: usize, nodes: Vec<Node>) {
    let moved = count - nodes.len();
    g.nodes.splice(i..i + count, nodes);
    for s in &mut g.syncs {
        if s.at >= i + count {
            s.at -= moved;
        }
    }
    for k in &mut g.statistics {
        if *k >= i + count {
            *k -= moved;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::ir::Reduce;

    /// A gather of `features` pixels a row, batch norm over it, a node after them reading
    /// the output, and an all-reduce point and a statistics node after that.
    fn graph(features: usize) -> Graph {
        let mut g = Graph::default();
        let rows = 2;
        let ext = |g: &mut Graph, name: &str, n: usize| g.external(name, &[n]);
        let (data, labels, perm, step) = (
            ext(&mut g, "data", 16),
            ext(&mut g, "labels", 8),
            ext(&mut g, "perm", 8),
            ext(&mut g, "step", 8),
        );
        let x = g.temp("x", &[rows, features]);
        let y = g.temp("y", &[rows]);
        g.push(
            Kernel::GatherU8 { rows, features },
            vec![data, labels, perm, step, x, y],
        );
        let bn: Vec<_> = ["gamma", "beta", "out", "stats", "mm", "mv"]
            .iter()
            .map(|n| g.temp(*n, &[2 * rows * features]))
            .collect();
        let mut args = vec![x];
        args.extend(&bn);
        let (eps, momentum) = (1e-3, 0.99);
        let cols = features;
        g.push(
            Kernel::BnTrain {
                rows,
                cols,
                eps,
                momentum,
            },
            args,
        );
        let z = g.temp("z", &[rows * features]);
        g.push(
            Kernel::Scale {
                n: rows * features,
                factor: 2.0,
            },
            vec![bn[2], z],
        );
        g.all_reduce(z, 0, 1, Reduce::Sum);
        g.push_statistics(Kernel::Scale { n: 1, factor: 1.0 }, vec![z, z]);
        g
    }

    #[test]
    fn a_gather_and_the_batch_norm_over_it_become_one_node() {
        let mut g = graph(8);
        assert!(gather_into_batch_norm(&mut g));
        assert_eq!(g.nodes.len(), 3);
        assert!(matches!(
            g.nodes[0].kernel,
            Kernel::BnTrainGatherU8 { cols: 8, .. }
        ));
        assert_eq!(g.nodes[0].args.len(), 12);
        assert_eq!(g.nodes[0].kernel.arity(), 12);
        // The later nodes' places moved with them.
        assert_eq!(g.syncs[0].at, 2);
        assert_eq!(g.statistics, vec![2]);
    }

    #[test]
    fn a_device_that_binds_fewer_buffers_keeps_them_apart() {
        // gamma, beta and the step record through uniform blocks: 9 storage buffers, within
        // SwiftShader's 10.
        let mut g = graph(8);
        g.storage_limit = Some(8);
        assert!(!gather_into_batch_norm(&mut g));
        g.storage_limit = Some(9);
        assert!(gather_into_batch_norm(&mut g));
        // Past a uniform block's 16,384 floats they are storage again: 12.
        let mut g = graph(16_388);
        g.storage_limit = Some(11);
        assert!(!gather_into_batch_norm(&mut g));
        g.storage_limit = Some(12);
        assert!(gather_into_batch_norm(&mut g));
    }

    #[test]
    fn rows_of_bytes_that_straddle_words_stay_apart() {
        let mut g = graph(7);
        assert!(!gather_into_batch_norm(&mut g));
        assert_eq!(g.nodes.len(), 4);
    }

    /// A linear head over h (`rows`×`k` → `cols`), its loss and the two backward products in
    /// `order` (true: input gradient first), then a node reading the input gradient.
    fn head(rows: usize, k: usize, cols: usize, input_first: bool) -> Graph {
        let mut g = Graph::default();
        let h = g.external("h", &[rows, k]);
        let w = g.external("w", &[k, cols]);
        let bias = g.external("bias", &[cols]);
        let x = g.temp("x", &[rows, cols]);
        g.push(
            Kernel::Dense {
                m: rows,
                k,
                n: cols,
                act: ActKind::Linear,
                training: true,
                seed: 0,
            },
            vec![h, w, bias, x, bias],
        );
        let labels = g.external("labels", &[rows]);
        let (dx, db, metrics) = (
            g.temp("dx", &[rows, cols]),
            g.temp("db", &[cols]),
            g.temp("metrics", &[3]),
        );
        g.push(
            Kernel::Loss {
                kind: crate::backend::LossKind::SoftmaxCrossEntropy,
                rows,
                cols,
                total: rows,
            },
            vec![x, labels, dx, db, metrics],
        );
        let (dh, dw) = (g.temp("dh", &[rows, k]), g.temp("dw", &[k, cols]));
        let input_grad = (
            Kernel::MatMul {
                m: rows,
                k: cols,
                n: k,
                trans_a: false,
                trans_b: true,
                accumulate: false,
            },
            vec![dx, w, dh],
        );
        let weight_grad = (
            Kernel::MatMul {
                m: k,
                k: rows,
                n: cols,
                trans_a: true,
                trans_b: false,
                accumulate: false,
            },
            vec![h, dx, dw],
        );
        let (first, second) = if input_first {
            (input_grad, weight_grad)
        } else {
            (weight_grad, input_grad)
        };
        g.push(first.0, first.1);
        g.push(second.0, second.1);
        let z = g.temp("z", &[rows * k]);
        g.push(
            Kernel::Scale {
                n: rows * k,
                factor: 2.0,
            },
            vec![dh, z],
        );
        g.all_reduce(dw, 0, k * cols, Reduce::Sum);
        g
    }

    #[test]
    fn an_output_layer_its_loss_and_both_products_become_one_node() {
        for input_first in [true, false] {
            let mut g = head(32, 100, 10, input_first);
            assert!(output_layer_into_loss(&mut g));
            assert_eq!(g.nodes.len(), 2);
            let Kernel::DenseLoss { rows, k, cols, .. } = g.nodes[0].kernel else {
                panic!("{:?}", g.nodes[0].kernel)
            };
            assert_eq!((rows, k, cols), (32, 100, 10));
            let names: Vec<&str> = g.nodes[0]
                .args
                .iter()
                .map(|t| g.tensors[t.0].name.as_str())
                .collect();
            assert_eq!(
                names,
                ["h", "w", "bias", "x", "labels", "dx", "db", "metrics", "dh", "dw"]
            );
            assert_eq!(g.nodes[0].kernel.arity(), 10);
            // The all-reduce point after the four moved with the node after them.
            assert_eq!(g.syncs[0].at, 2);
        }
    }

    #[test]
    fn a_larger_batch_takes_two_nodes_a_row_an_invocation_then_the_sums() {
        let mut g = head(128, 100, 10, false);
        assert!(output_layer_into_loss(&mut g));
        assert_eq!(g.nodes.len(), 3);
        let names = |n: usize| -> Vec<&str> {
            (g.nodes[n].args.iter())
                .map(|t| g.tensors[t.0].name.as_str())
                .collect()
        };
        assert!(matches!(
            g.nodes[0].kernel,
            Kernel::DenseLossRows {
                rows: 128,
                k: 100,
                cols: 10,
                ..
            }
        ));
        let rows_args = [
            "h",
            "w",
            "bias",
            "x",
            "labels",
            "dx",
            "head_row_metrics",
            "dh",
        ];
        assert_eq!(names(0), rows_args);
        assert_eq!(
            g.nodes[1].kernel,
            Kernel::DenseLossSums {
                rows: 128,
                k: 100,
                cols: 10
            }
        );
        let sums_args = ["h", "dx", "head_row_metrics", "db", "metrics", "dw"];
        assert_eq!(names(1), sums_args);
        assert_eq!(g.tensors[g.nodes[0].args[6].0].shape, [128, 2]);
        assert_eq!(g.syncs[0].at, 3);
    }

    #[test]
    fn heads_too_wide_or_apart_stay_four_launches() {
        // More columns than a lane's registers.
        assert!(!output_layer_into_loss(&mut head(2, 3, 17, true)));
        assert!(!output_layer_into_loss(&mut head(128, 3, 17, true)));
        // A device that binds fewer buffers.
        let mut g = head(2, 3, 4, true);
        g.storage_limit = Some(9);
        assert!(!output_layer_into_loss(&mut g));
        // An all-reduce point between them (the loss's gradient shared across ranks).
        let mut g = head(2, 3, 4, true);
        g.syncs[0].at = 2;
        assert!(!output_layer_into_loss(&mut g));
        // A statistics node among them.
        let mut g = head(2, 3, 4, true);
        g.statistics.push(1);
        assert!(!output_layer_into_loss(&mut g));
        // A product that adds into its output.
        let mut g = head(2, 3, 4, true);
        if let Kernel::MatMul { accumulate, .. } = &mut g.nodes[3].kernel {
            *accumulate = true;
        }
        assert!(!output_layer_into_loss(&mut g));
        // A head with an activation of its own.
        let mut g = head(2, 3, 4, true);
        if let Kernel::Dense { act, .. } = &mut g.nodes[0].kernel {
            *act = ActKind::Relu;
        }
        assert!(!output_layer_into_loss(&mut g));
    }
}
