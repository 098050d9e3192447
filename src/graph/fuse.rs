//! Peephole fusions over a finished step graph (after autodiff): two adjacent nodes
//! replaced by one kernel that does both, computing the same values in the same order.

use super::ir::{Graph, Node};
use crate::backend::Kernel;

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
        };
        let fits = rows == bn_rows
            && features == cols
            && features.is_multiple_of(4)
            && g.fits(fused.arity());
        let apart = g.syncs.iter().any(|s| s.at == i + 1)
            || g.statistics.iter().any(|&k| k == i || k == i + 1);
        if !fits || apart || b.args[0] != a.args[4] {
            continue;
        }
        // data, labels, perm, step, x, y; then gamma, beta, out, stats, moving statistics.
        let mut args = a.args.clone();
        args.extend_from_slice(&b.args[1..]);
        g.nodes[i] = Node {
            kernel: fused,
            args,
        };
        g.nodes.remove(i + 1);
        for s in &mut g.syncs {
            if s.at > i + 1 {
                s.at -= 1;
            }
        }
        for k in &mut g.statistics {
            if *k > i + 1 {
                *k -= 1;
            }
        }
        return true;
    }
    false
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
        let mut g = graph(8);
        g.storage_limit = Some(10);
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
}
