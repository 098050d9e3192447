//! Reverse-mode automatic differentiation over a forward [`Graph`]: walks the forward nodes
//! backwards and appends, for each, the nodes of its backward rule. All rules live in the
//! one `match` below.

use std::collections::{HashMap, HashSet};

mod parts;

use super::ir::{Graph, TensorId};
use crate::backend::Kernel;
use crate::error::{Error, Result};
use parts::*;

/// Where the backward pass starts: a forward tensor `y` and its already-computed gradient
/// `dy` (the loss kernel writes the gradient of the loss with respect to its input), and
/// when the same kernel also summed `dy`'s columns, those sums (a bias gradient for free).
#[derive(Clone, Copy, Debug)]
pub struct Seed {
    /// The forward tensor.
    pub y: TensorId,
    /// Its gradient.
    pub dy: TensorId,
    /// `Σ_rows dy`, when already computed.
    pub dy_column_sums: Option<TensorId>,
}

/// Appends the backward pass of `g.nodes[..forward_len]` to `g`.
///
/// Returns the gradient tensor of every tensor in `wrt` that the seed depends on. Only
/// tensors that depend on `wrt` get gradients: frozen layers below the last trainable one
/// cost nothing.
pub fn backward(
    g: &mut Graph,
    forward_len: usize,
    start: Seed,
    wrt: &[TensorId],
) -> Result<HashMap<TensorId, TensorId>> {
    // Which tensors depend on a parameter we differentiate with respect to.
    let mut needs: HashSet<TensorId> = wrt.iter().copied().collect();
    for node in &g.nodes[..forward_len] {
        let outs: Vec<TensorId> = node.outputs().collect();
        let depends = node
            .args
            .iter()
            .enumerate()
            .any(|(p, a)| !node.kernel.writes().contains(&p) && needs.contains(a));
        if depends {
            needs.extend(outs);
        }
    }

    let mut grads: HashMap<TensorId, TensorId> = HashMap::new();
    grads.insert(start.y, start.dy);
    // Dense outputs whose epilogue's backward the batch norm after them took over: the
    // gradient of the pre-activation and of the bias.
    let mut fused: HashMap<TensorId, (TensorId, TensorId)> = HashMap::new();
    // Activation layers' outputs whose backward the max pooling after them took over: the
    // gradient of the activation's input.
    let mut act_fused: HashMap<TensorId, TensorId> = HashMap::new();

    for i in (0..forward_len).rev() {
        let node = g.nodes[i].clone();
        let a = &node.args;
        let grad_name = |g: &Graph, t: TensorId| format!("d{}", g.tensors[t.0].name);
        match node.kernel {
            Kernel::MatMul {
                m,
                k,
                n,
                trans_a: false,
                trans_b: false,
                accumulate: false,
            } => {
                let Some(&dc) = grads.get(&a[2]) else {
                    continue;
                };
                matmul_backward(g, &mut grads, &needs, [a[0], a[1], dc], (m, k, n));
            }
            Kernel::Dense {
                m,
                k,
                n,
                act,
                training,
                seed,
            } => {
                // y = f(x·w + b); args x, w, b, y, step.
                let epilogue = (&fused, &needs, start);
                let Some(dz) =
                    epilogue_dz(g, &mut grads, epilogue, a, (m, n), (act, training, seed))
                else {
                    continue;
                };
                matmul_backward(g, &mut grads, &needs, [a[0], a[1], dz], (m, k, n));
            }
            Kernel::ConvDirect {
                win,
                filters,
                act,
                training,
                seed,
            } => {
                // y = f(conv(x, w) + b); args x, w, b, y, step — a dense layer over the
                // im2col rows, without the rows.
                let rows = win.positions();
                let epilogue = (&fused, &needs, start);
                let Some(dz) = epilogue_dz(
                    g,
                    &mut grads,
                    epilogue,
                    a,
                    (rows, filters),
                    (act, training, seed),
                ) else {
                    continue;
                };
                conv_direct_backward(g, &mut grads, &needs, [a[0], a[1], dz], (win, filters));
            }
            Kernel::BiasAdd { rows, cols } => {
                let Some(&dy) = grads.get(&a[2]) else {
                    continue;
                };
                if needs.contains(&a[0]) {
                    accumulate(g, &mut grads, a[0], dy);
                }
                if needs.contains(&a[1]) {
                    let db = g.temp(grad_name(g, a[1]), &[cols]);
                    g.push(Kernel::ColumnSum { rows, cols }, vec![dy, db]);
                    accumulate(g, &mut grads, a[1], db);
                }
            }
            Kernel::ActForward {
                act,
                n,
                training,
                seed,
            } => {
                if let Some(&du) = act_fused.get(&a[1]) {
                    // The max pooling after it took this backward.
                    accumulate(g, &mut grads, a[0], du);
                    continue;
                }
                let Some(&dy) = grads.get(&a[1]) else {
                    continue;
                };
                if needs.contains(&a[0]) {
                    let shape = g.shape(a[0]).to_vec();
                    let dx = g.temp(grad_name(g, a[0]), &shape);
                    if act_from_output(g, forward_len, a[0], act) {
                        let kernel = Kernel::ActBackwardFromOutput {
                            act,
                            n,
                            training,
                            seed,
                        };
                        g.push(kernel, vec![a[1], dy, dx, a[2]]);
                    } else {
                        let kernel = Kernel::ActBackward {
                            act,
                            n,
                            training,
                            seed,
                        };
                        g.push(kernel, vec![a[0], a[1], dy, dx, a[2]]);
                    }
                    accumulate(g, &mut grads, a[0], dx);
                }
            }
            Kernel::PreluForward { rows, cols } => {
                let Some(&dy) = grads.get(&a[2]) else {
                    continue;
                };
                let dx = g.temp(grad_name(g, a[0]), &[rows, cols]);
                let dalpha = g.temp(grad_name(g, a[1]), &[cols]);
                g.push(
                    Kernel::PreluBackward { rows, cols },
                    vec![a[0], a[1], dy, dx, dalpha],
                );
                if needs.contains(&a[0]) {
                    accumulate(g, &mut grads, a[0], dx);
                }
                if needs.contains(&a[1]) {
                    accumulate(g, &mut grads, a[1], dalpha);
                }
            }
            Kernel::SoftmaxForward { rows, cols } => {
                let Some(&dy) = grads.get(&a[1]) else {
                    continue;
                };
                if needs.contains(&a[0]) {
                    let dx = g.temp(grad_name(g, a[0]), &[rows, cols]);
                    g.push(Kernel::SoftmaxBackward { rows, cols }, vec![a[1], dy, dx]);
                    accumulate(g, &mut grads, a[0], dx);
                }
            }
            Kernel::BnTrain {
                rows, cols, eps, ..
            } => {
                // args x, gamma, beta, y, batch statistics, moving_mean, moving_var:
                // through the batch mean and variance as well.
                let Some(&dy) = grads.get(&a[3]) else {
                    continue;
                };
                let dgamma = g.temp(grad_name(g, a[1]), &[cols]);
                let dbeta = g.temp(grad_name(g, a[2]), &[cols]);
                if let (true, Some(d)) = (
                    needs.contains(&a[0]),
                    fusable_dense(g, forward_len, a[0], BN_ACT_BUFFERS),
                ) {
                    // x is a dense layer's activated output read by nothing else: dx goes
                    // straight through that activation's derivative, in the same launch.
                    let dz = g.temp(format!("{}/pre", grad_name(g, a[0])), &[rows, cols]);
                    let db = g.temp(grad_name(g, d.bias), &[cols]);
                    let (act, training, seed) = d.act;
                    g.push(
                        Kernel::BnActBackward {
                            rows,
                            cols,
                            eps,
                            act,
                            training,
                            seed,
                        },
                        vec![a[0], a[4], a[1], dy, dz, dgamma, dbeta, db, d.step],
                    );
                    fused.insert(a[0], (dz, db));
                } else if needs.contains(&a[0]) {
                    let dx = g.temp(grad_name(g, a[0]), &[rows, cols]);
                    g.push(
                        Kernel::BnBackward { rows, cols, eps },
                        vec![a[0], a[4], a[1], dy, dx, dgamma, dbeta],
                    );
                    accumulate(g, &mut grads, a[0], dx);
                } else {
                    // Batch norm over the data (the seed network's first layer): its input
                    // needs no gradient, so only the sums — one walk down each column, no dx.
                    let sums = g.temp(format!("{}/sums", grad_name(g, a[3])), &[2 * cols]);
                    g.push(
                        Kernel::BnBackwardSums { rows, cols, eps },
                        vec![a[0], a[4], sums, dy, dgamma, dbeta],
                    );
                }
                if needs.contains(&a[1]) {
                    accumulate(g, &mut grads, a[1], dgamma);
                }
                if needs.contains(&a[2]) {
                    accumulate(g, &mut grads, a[2], dbeta);
                }
            }
            Kernel::BnNormalize {
                rows,
                cols,
                total,
                eps,
                ..
            } => {
                // Synchronized BN (args as BnTrain): the shard's Σ dy·x̂ and Σ dy are its
                // share of dgamma and dbeta; their sums over the ranks give dx.
                let Some(&dy) = grads.get(&a[3]) else {
                    continue;
                };
                let dgamma = g.temp(grad_name(g, a[1]), &[cols]);
                let dbeta = g.temp(grad_name(g, a[2]), &[cols]);
                let sums = g.temp(format!("{}/sums", grad_name(g, a[3])), &[2 * cols]);
                g.push(
                    Kernel::BnBackwardSums { rows, cols, eps },
                    vec![a[0], a[4], sums, dy, dgamma, dbeta],
                );
                if needs.contains(&a[0]) {
                    g.all_reduce(sums, 0, 2 * cols, super::ir::Reduce::Sum);
                    let dx = g.temp(grad_name(g, a[0]), &[rows, cols]);
                    g.push(
                        Kernel::BnBackwardDx {
                            rows,
                            cols,
                            total,
                            eps,
                        },
                        vec![a[0], a[4], a[1], dy, dx, sums],
                    );
                    accumulate(g, &mut grads, a[0], dx);
                }
                if needs.contains(&a[1]) {
                    accumulate(g, &mut grads, a[1], dgamma);
                }
                if needs.contains(&a[2]) {
                    accumulate(g, &mut grads, a[2], dbeta);
                }
            }
            Kernel::BnApply { rows, cols, eps } => {
                let Some(&dy) = grads.get(&a[5]) else {
                    continue;
                };
                // Inference mode (a frozen layer): y is affine in x with fixed statistics,
                // dx = dy·gamma/sqrt(var + eps) — BnApply with zero mean and zero shift
                // computes exactly that.
                if needs.contains(&a[3]) || needs.contains(&a[4]) {
                    return Err(Error::Config(
                        "a trainable BatchNormalization cannot run in inference mode during training".into(),
                    ));
                }
                if needs.contains(&a[0]) {
                    let z1 = g.temp("zeros", &[cols]);
                    let z2 = g.temp("zeros", &[cols]);
                    let dx = g.temp(grad_name(g, a[0]), &[rows, cols]);
                    g.push(
                        Kernel::Scale {
                            n: cols,
                            factor: 0.0,
                        },
                        vec![a[1], z1],
                    );
                    g.push(
                        Kernel::Scale {
                            n: cols,
                            factor: 0.0,
                        },
                        vec![a[1], z2],
                    );
                    g.push(
                        Kernel::BnApply { rows, cols, eps },
                        vec![dy, z1, a[2], a[3], z2, dx],
                    );
                    accumulate(g, &mut grads, a[0], dx);
                }
            }
            Kernel::Im2col { win } => {
                // args x, cols: each input value receives what the rows that copied it got.
                let Some(&dcols) = grads.get(&a[1]) else {
                    continue;
                };
                if needs.contains(&a[0]) {
                    let dx = g.temp(grad_name(g, a[0]), g.shape(a[0]).to_vec().as_slice());
                    g.push(Kernel::Col2im { win }, vec![dcols, dx]);
                    accumulate(g, &mut grads, a[0], dx);
                }
            }
            Kernel::MaxPool { win } => {
                // args x, y, argmax.
                let Some(&dy) = grads.get(&a[1]) else {
                    continue;
                };
                if let (true, Some(d)) = (
                    needs.contains(&a[0]),
                    fusable_dense(g, forward_len, a[0], POOL_ACT_BUFFERS),
                ) {
                    // x is a convolution's activated output read by nothing else: the
                    // gradient goes through the activation's derivative in the same
                    // launch, the bias gradient as partial sums and their column sum.
                    let shape = g.shape(a[0]).to_vec();
                    let dz = g.temp(format!("{}/pre", grad_name(g, a[0])), &shape);
                    let chunks = crate::backend::kernel::pool_chunks(&win);
                    let partials = g.temp(
                        format!("{}/partials", grad_name(g, d.bias)),
                        &[chunks, win.c],
                    );
                    let (act, training, seed) = d.act;
                    g.push(
                        Kernel::MaxPoolActBackward {
                            win,
                            act,
                            training,
                            seed,
                        },
                        vec![a[0], dy, a[2], dz, partials, d.step],
                    );
                    let db = g.temp(grad_name(g, d.bias), &[win.c]);
                    if needs.contains(&d.bias) {
                        g.push(
                            Kernel::ColumnSum {
                                rows: chunks,
                                cols: win.c,
                            },
                            vec![partials, db],
                        );
                    }
                    fused.insert(a[0], (dz, db));
                } else if let (true, Some((act, u, step))) = (
                    needs.contains(&a[0]),
                    fusable_act(g, forward_len, a[0], POOL_ACT_BUFFERS),
                ) {
                    // x is an activation layer's output read by nothing else: the gradient
                    // of its input in the same launch (the bias partial sums go unread).
                    let shape = g.shape(u).to_vec();
                    let du = g.temp(grad_name(g, u), &shape);
                    let chunks = crate::backend::kernel::pool_chunks(&win);
                    let partials =
                        g.temp(format!("{}/partials", grad_name(g, a[0])), &[chunks, win.c]);
                    let (act, training, seed) = act;
                    g.push(
                        Kernel::MaxPoolActBackward {
                            win,
                            act,
                            training,
                            seed,
                        },
                        vec![a[0], dy, a[2], du, partials, step],
                    );
                    act_fused.insert(a[0], du);
                } else if needs.contains(&a[0]) {
                    let dx = g.temp(grad_name(g, a[0]), g.shape(a[0]).to_vec().as_slice());
                    g.push(Kernel::MaxPoolBackward { win }, vec![dy, a[2], dx]);
                    accumulate(g, &mut grads, a[0], dx);
                }
            }
            Kernel::Dropout { mask } => {
                // args x, y, step: the same mask, drawn again.
                let Some(&dy) = grads.get(&a[1]) else {
                    continue;
                };
                if needs.contains(&a[0]) {
                    let dx = g.temp(grad_name(g, a[0]), g.shape(a[0]).to_vec().as_slice());
                    g.push(Kernel::DropoutBackward { mask }, vec![dy, dx, a[2]]);
                    accumulate(g, &mut grads, a[0], dx);
                }
            }
            Kernel::AvgPool { win } => {
                // args x, y.
                let Some(&dy) = grads.get(&a[1]) else {
                    continue;
                };
                if needs.contains(&a[0]) {
                    let dx = g.temp(grad_name(g, a[0]), g.shape(a[0]).to_vec().as_slice());
                    g.push(Kernel::AvgPoolBackward { win }, vec![dy, dx]);
                    accumulate(g, &mut grads, a[0], dx);
                }
            }
            // No gradient flows through these: data movement and the loss (which seeds the
            // pass).
            Kernel::GatherU8 { .. } | Kernel::GatherF32 { .. } | Kernel::Loss { .. } => {}
            ref other => {
                if node.outputs().any(|o| grads.contains_key(&o)) {
                    return Err(Error::Config(format!("no gradient rule for {other:?}")));
                }
            }
        }
    }
    Ok(wrt
        .iter()
        .filter_map(|w| grads.get(w).map(|d| (*w, *d)))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::window::{Padding, Window};
    use crate::backend::ActKind;
    use crate::graph::ir::TensorKind;

    /// An activation layer over `x` and a 2×2 max pooling of its output (and, with `other`,
    /// a second reader of that output), differentiated with respect to `x`: the graph and
    /// the gradient of `x`.
    fn act_then_pool(act: ActKind, other: bool) -> (Graph, TensorId) {
        let win = Window::new(2, (4, 4, 4), (2, 2), (2, 2), (1, 1), Padding::Valid).unwrap();
        let mut g = Graph::default();
        let n = win.input_len();
        let x = g.tensor("x", &[n], TensorKind::External);
        let step = g.tensor("step", &[8], TensorKind::External);
        let y = g.temp("y", &[n]);
        let p = g.temp("p", &[win.pooled_len()]);
        let argmax = g.temp("argmax", &[win.pooled_len()]);
        let kernel = Kernel::ActForward {
            act,
            n,
            training: false,
            seed: 0,
        };
        g.push(kernel, vec![x, y, step]);
        if other {
            let z = g.temp("z", &[n]);
            g.push(Kernel::Scale { n, factor: 2.0 }, vec![y, z]);
        }
        g.push(Kernel::MaxPool { win }, vec![y, p, argmax]);
        let forward_len = g.nodes.len();
        let dp = g.tensor("dp", &[win.pooled_len()], TensorKind::External);
        let seed = Seed {
            y: p,
            dy: dp,
            dy_column_sums: None,
        };
        let grads = backward(&mut g, forward_len, seed, &[x]).unwrap();
        (g, grads[&x])
    }

    #[test]
    fn an_activation_layer_after_batch_norm_differentiates_from_its_output() {
        // Batch norm, then relu: the backward reads the activation's output, not the
        // normalized values, so the fusion after autodiff can leave those unstored.
        let (rows, cols) = (16, 8);
        let mut g = Graph::default();
        let x = g.tensor("x", &[rows, cols], TensorKind::External);
        let ext = |g: &mut Graph, name: &str, n: usize| g.tensor(name, &[n], TensorKind::External);
        let (gamma, beta, stats, mm, mv, step) = (
            ext(&mut g, "gamma", cols),
            ext(&mut g, "beta", cols),
            ext(&mut g, "stats", 2 * cols),
            ext(&mut g, "mm", cols),
            ext(&mut g, "mv", cols),
            ext(&mut g, "step", 8),
        );
        let out = g.temp("out", &[rows, cols]);
        let bn = Kernel::BnTrain {
            rows,
            cols,
            eps: 1e-3,
            momentum: 0.99,
        };
        g.push(bn, vec![x, gamma, beta, out, stats, mm, mv]);
        let y = g.temp("y", &[rows, cols]);
        let act = Kernel::ActForward {
            act: ActKind::Relu,
            n: rows * cols,
            training: false,
            seed: 0,
        };
        g.push(act, vec![out, y, step]);
        let dy = g.tensor("dy", &[rows, cols], TensorKind::External);
        let seed = Seed {
            y,
            dy,
            dy_column_sums: None,
        };
        backward(&mut g, 2, seed, &[gamma]).unwrap();
        let kernels: Vec<&Kernel> = g.nodes.iter().map(|n| &n.kernel).collect();
        assert!(
            kernels
                .iter()
                .any(|k| matches!(k, Kernel::ActBackwardFromOutput { .. }))
                && !kernels
                    .iter()
                    .any(|k| matches!(k, Kernel::ActBackward { .. })),
            "{kernels:?}"
        );
        assert!(crate::graph::fuse::batch_norm_into_activation(&mut g, &[]));
        assert!(matches!(g.nodes[0].kernel, Kernel::BnTrainAct { .. }));
    }

    #[test]
    fn an_activation_layers_backward_goes_into_the_max_pooling_after_it() {
        let (g, dx) = act_then_pool(ActKind::Elu { alpha: 0.5 }, false);
        let kernels: Vec<&Kernel> = g.nodes.iter().map(|n| &n.kernel).collect();
        let fused = g
            .nodes
            .iter()
            .find(|n| matches!(n.kernel, Kernel::MaxPoolActBackward { .. }))
            .expect("the fused backward");
        assert!(
            matches!(
                fused.kernel,
                Kernel::MaxPoolActBackward {
                    act: ActKind::Elu { .. },
                    ..
                }
            ),
            "{kernels:?}"
        );
        assert_eq!(fused.args[3], dx, "the fused launch writes x's gradient");
        assert!(
            !kernels.iter().any(|k| matches!(
                k,
                Kernel::ActBackward { .. } | Kernel::MaxPoolBackward { .. }
            )),
            "{kernels:?}"
        );
        // Where the activation's output has another reader, the activation is linear, or
        // its output does not tell its derivative, the two backward rules stay apart.
        let flipped = ActKind::Elu { alpha: -0.5 };
        for (act, other) in [
            (ActKind::Relu, true),
            (ActKind::Linear, false),
            (flipped, false),
        ] {
            let (g, _) = act_then_pool(act, other);
            let kernels: Vec<&Kernel> = g.nodes.iter().map(|n| &n.kernel).collect();
            assert!(
                kernels
                    .iter()
                    .any(|k| matches!(k, Kernel::MaxPoolBackward { .. }))
                    && !kernels
                        .iter()
                        .any(|k| matches!(k, Kernel::MaxPoolActBackward { .. })),
                "{act:?}: {kernels:?}"
            );
        }
    }
}
