//! Batch norm and the activation layer after it in one launch ([`Kernel::BnTrainAct`]).

use super::replace;
use crate::backend::{ActKind, Kernel};
use crate::graph::ir::{Graph, TensorId, TensorKind};

/// Batch norm followed at once by an activation layer that is its output's one reader
/// (the activation's backward taken elsewhere: inside a max pooling's, or from its own
/// output) becomes one launch, [`Kernel::BnTrainAct`], which stores the activated output
/// and not the normalized one. Not for softmax, RReLU drawing slopes, an output the host
/// reads (`keep`), or an all-reduce point or statistics-only node at the pair. Returns
/// whether it fused.
pub fn batch_norm_into_activation(g: &mut Graph, keep: &[TensorId]) -> bool {
    for i in 0..g.nodes.len().saturating_sub(1) {
        let (a, b) = (&g.nodes[i], &g.nodes[i + 1]);
        let (
            &Kernel::BnTrain {
                rows,
                cols,
                eps,
                momentum,
            },
            &Kernel::ActForward { act, training, .. },
        ) = (&a.kernel, &b.kernel)
        else {
            continue;
        };
        let out = a.args[3];
        let elementwise = match act {
            ActKind::Linear | ActKind::Softmax => false,
            ActKind::Rrelu { .. } => !training,
            _ => true,
        };
        let readers = g
            .nodes
            .iter()
            .flat_map(|n| {
                let writes = n.kernel.writes();
                (0..n.args.len())
                    .filter(move |p| !writes.contains(p))
                    .map(|p| n.args[p])
            })
            .filter(|&t| t == out)
            .count();
        let apart = g.syncs.iter().any(|s| s.at == i + 1)
            || g.statistics.iter().any(|&k| k == i || k == i + 1);
        if !elementwise
            || b.args[0] != out
            || readers != 1
            || keep.contains(&out)
            || g.tensors[out.0].kind != TensorKind::Temp
            || apart
        {
            continue;
        }
        let mut args = a.args.clone();
        args[3] = b.args[1];
        let fused = Kernel::BnTrainAct {
            rows,
            cols,
            eps,
            momentum,
            act,
        };
        replace(g, i, 2, fused, args);
        return true;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Batch norm over `x`, an activation layer over its output, and (with `other`) a
    /// second reader of the normalized output: the graph and the activation's output.
    fn bn_then_act(act: ActKind, training: bool, other: bool) -> (Graph, TensorId) {
        let mut g = Graph::default();
        let (rows, cols) = (64, 8);
        let x = g.external("x", &[rows, cols]);
        let step = g.external("step", &[8]);
        let names = ["gamma", "beta", "stats", "mm", "mv"];
        let bn: Vec<_> = names.iter().map(|n| g.temp(*n, &[2 * cols])).collect();
        let out = g.temp("out", &[rows, cols]);
        let kernel = Kernel::BnTrain {
            rows,
            cols,
            eps: 1e-3,
            momentum: 0.99,
        };
        g.push(kernel, vec![x, bn[0], bn[1], out, bn[2], bn[3], bn[4]]);
        let y = g.temp("y", &[rows, cols]);
        let n = rows * cols;
        let seed = 3;
        g.push(
            Kernel::ActForward {
                act,
                n,
                training,
                seed,
            },
            vec![out, y, step],
        );
        if other {
            let z = g.temp("z", &[n]);
            g.push(Kernel::Scale { n, factor: 2.0 }, vec![out, z]);
        }
        (g, y)
    }

    #[test]
    fn batch_norm_stores_the_activation_of_its_output_when_nothing_else_reads_it() {
        let (mut g, y) = bn_then_act(ActKind::Relu, true, false);
        assert!(batch_norm_into_activation(&mut g, &[]));
        assert_eq!(g.nodes.len(), 1);
        assert!(matches!(
            g.nodes[0].kernel,
            Kernel::BnTrainAct {
                act: ActKind::Relu,
                cols: 8,
                ..
            }
        ));
        assert_eq!(g.nodes[0].args[3], y, "it writes the activation's output");
        assert_eq!(g.nodes[0].args.len(), g.nodes[0].kernel.arity());
        // Not when the normalized output has another reader or the host reads it, nor for
        // softmax or RReLU drawing slopes.
        let rrelu = ActKind::Rrelu {
            lower: 0.1,
            upper: 0.3,
        };
        for (act, training, other, keep) in [
            (ActKind::Relu, false, true, false),
            (ActKind::Relu, false, false, true),
            (ActKind::Softmax, false, false, false),
            (rrelu, true, false, false),
        ] {
            let (mut g, _) = bn_then_act(act, training, other);
            let keep: Vec<TensorId> = if keep {
                vec![g.nodes[0].args[3]]
            } else {
                vec![]
            };
            assert!(
                !batch_norm_into_activation(&mut g, &keep),
                "{act:?} {other} {keep:?}"
            );
        }
        let (mut g, _) = bn_then_act(rrelu, false, false);
        assert!(
            batch_norm_into_activation(&mut g, &[]),
            "RReLU at its mean slope"
        );
    }
}
