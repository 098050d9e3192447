//! Reverse-mode automatic differentiation over a forward [`Graph`]: walks the forward nodes
//! backwards and appends, for each, the nodes of its backward rule. All rules live in the
//! one `match` below.

use std::collections::{HashMap, HashSet};

use super::ir::{Graph, TensorId};
use crate::backend::ops::conv;
use crate::backend::window::Window;
use crate::backend::{ActKind, Kernel};
use crate::error::{Error, Result};

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
                let Some(&dy) = grads.get(&a[1]) else {
                    continue;
                };
                if needs.contains(&a[0]) {
                    let shape = g.shape(a[0]).to_vec();
                    let dx = g.temp(grad_name(g, a[0]), &shape);
                    g.push(
                        Kernel::ActBackward {
                            act,
                            n,
                            training,
                            seed,
                        },
                        vec![a[0], a[1], dy, dx, a[2]],
                    );
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

/// Storage buffers of [`Kernel::BnActBackward`] and [`Kernel::MaxPoolActBackward`] (their
/// `args`; checked by a test).
const BN_ACT_BUFFERS: usize = 9;
const POOL_ACT_BUFFERS: usize = 6;

/// A dense layer (or convolution) whose output the backward of the batch norm or max
/// pooling after it can take through the activation.
struct FusableDense {
    /// The activation, whether RReLU drew slopes, its seed.
    act: (ActKind, bool, u32),
    /// The layer's bias.
    bias: TensorId,
    /// The step record it reads.
    step: TensorId,
}

/// The forward dense layer that wrote `x`, when the backward of the one node reading `x`
/// (a batch norm or a max pooling) can also do that layer's epilogue backward
/// ([`Kernel::BnActBackward`], [`Kernel::MaxPoolActBackward`]): a non-linear activation,
/// no other forward node reads `x` (so its gradient is that node's dx alone), and the fused
/// kernel's `buffers` storage buffers within the device's limit.
fn fusable_dense(
    g: &Graph,
    forward_len: usize,
    x: TensorId,
    buffers: usize,
) -> Option<FusableDense> {
    if !g.fits(buffers) {
        return None;
    }
    let mut producer = None;
    let mut readers = 0;
    for node in &g.nodes[..forward_len] {
        let writes = node.kernel.writes();
        for (p, t) in node.args.iter().enumerate() {
            if *t == x {
                if writes.contains(&p) {
                    producer = Some(node);
                } else {
                    readers += 1;
                }
            }
        }
    }
    match producer?.kernel {
        Kernel::Dense {
            act,
            training,
            seed,
            ..
        }
        | Kernel::ConvDirect {
            act,
            training,
            seed,
            ..
        } if act != ActKind::Linear && readers == 1 => {
            let args = &producer?.args;
            Some(FusableDense {
                act: (act, training, seed),
                bias: args[2],
                step: args[4],
            })
        }
        _ => None,
    }
}

/// The gradient of a dense layer's (or direct convolution's) pre-activation, the bias
/// gradient accumulated on the way: from the batch norm after it when that took the
/// epilogue's backward, else through [`bias_act_backward`]; `None` when its output has
/// no gradient. `a`: the node's args x, w, b, y, step; `(m, n)`: y's shape.
fn epilogue_dz(
    g: &mut Graph,
    grads: &mut HashMap<TensorId, TensorId>,
    (fused, needs, start): (
        &HashMap<TensorId, (TensorId, TensorId)>,
        &HashSet<TensorId>,
        Seed,
    ),
    a: &[TensorId],
    (m, n): (usize, usize),
    act: (ActKind, bool, u32),
) -> Option<TensorId> {
    let bias_grad = needs.contains(&a[2]);
    if let Some(&(dz, db)) = fused.get(&a[3]) {
        // The batch norm after this layer already took the epilogue's backward.
        if bias_grad {
            accumulate(g, grads, a[2], db);
        }
        return Some(dz);
    }
    let dy = *grads.get(&a[3])?;
    let args = [a[2], a[3], a[4], dy];
    Some(bias_act_backward(
        g,
        grads,
        start,
        args,
        (m, n),
        act,
        bias_grad,
    ))
}

/// The backward of a direct convolution from `dz`, its pre-activation's gradient: the
/// kernel gradient as partial sums over stripes of positions and their column sum; the
/// input gradient as a dense layer's over im2col rows (`dz·wᵀ`) folded back by col2im.
fn conv_direct_backward(
    g: &mut Graph,
    grads: &mut HashMap<TensorId, TensorId>,
    needs: &HashSet<TensorId>,
    [x, w, dz]: [TensorId; 3],
    (win, filters): (Window, usize),
) {
    let grad_name = |g: &Graph, t: TensorId| format!("d{}", g.tensors[t.0].name);
    let field = win.patch();
    if needs.contains(&w) {
        let stripes = conv::stripes(&win);
        let name = format!("{}/partials", grad_name(g, w));
        let partials = g.temp(name, &[stripes, field * filters]);
        let kernel = Kernel::ConvDirectWeightGrad {
            win,
            filters,
            stripes,
        };
        g.push(kernel, vec![x, dz, partials]);
        let dw = g.temp(grad_name(g, w), &[field, filters]);
        let sum = Kernel::ColumnSum {
            rows: stripes,
            cols: field * filters,
        };
        g.push(sum, vec![partials, dw]);
        accumulate(g, grads, w, dw);
    }
    if needs.contains(&x) {
        let rows = win.positions();
        let dcols = g.temp(format!("{}/cols", grad_name(g, x)), &[rows, field]);
        let product = Kernel::MatMul {
            m: rows,
            k: filters,
            n: field,
            trans_a: false,
            trans_b: true,
            accumulate: false,
        };
        g.push(product, vec![dz, w, dcols]);
        let dx = g.temp(grad_name(g, x), g.shape(x).to_vec().as_slice());
        g.push(Kernel::Col2im { win }, vec![dcols, dx]);
        accumulate(g, grads, x, dx);
    }
}

/// The backward of a dense layer's epilogue from `dy`, its output's gradient: `dz`
/// (returned), and the bias gradient accumulated when `bias_grad`. `[bias, y, step, dy]`;
/// `(m, n)`: y's shape.
#[allow(clippy::too_many_arguments)]
fn bias_act_backward(
    g: &mut Graph,
    grads: &mut HashMap<TensorId, TensorId>,
    start: Seed,
    [bias, y, step, dy]: [TensorId; 4],
    (m, n): (usize, usize),
    (act, training, seed): (ActKind, bool, u32),
    bias_grad: bool,
) -> TensorId {
    let grad_name = |g: &Graph, t: TensorId| format!("d{}", g.tensors[t.0].name);
    if act == ActKind::Linear {
        if bias_grad {
            let db = match start.dy_column_sums {
                Some(sums) if dy == start.dy => sums,
                _ => {
                    let db = g.temp(grad_name(g, bias), &[n]);
                    g.push(Kernel::ColumnSum { rows: m, cols: n }, vec![dy, db]);
                    db
                }
            };
            accumulate(g, grads, bias, db);
        }
        return dy;
    }
    // dz = f'(y)·dy from the output; the bias gradient in the same pass.
    let dz = g.temp(format!("{}/pre", grad_name(g, y)), &[m, n]);
    let db = g.temp(grad_name(g, bias), &[n]);
    g.push(
        Kernel::BiasActBackward {
            rows: m,
            cols: n,
            act,
            training,
            seed,
        },
        vec![y, dy, dz, db, step],
    );
    if bias_grad {
        accumulate(g, grads, bias, db);
    }
    dz
}

/// Adds `d` to the gradient of `t` (a new tensor when `t` already has one).
fn accumulate(g: &mut Graph, grads: &mut HashMap<TensorId, TensorId>, t: TensorId, d: TensorId) {
    match grads.get(&t).copied() {
        None => {
            grads.insert(t, d);
        }
        Some(old) => {
            let n = g.tensors[t.0].numel();
            let shape = g.shape(t).to_vec();
            let sum = g.temp(format!("d{}", g.tensors[t.0].name), &shape);
            g.push(Kernel::Add { n }, vec![old, d, sum]);
            grads.insert(t, sum);
        }
    }
}

/// The two matmuls of `c = a·b`'s backward pass, for the operands that need them:
/// `da = dc·bᵀ` and `db = aᵀ·dc`. `[a, b, dc]`, `(m, k, n)`: c is `[m, n]`.
fn matmul_backward(
    g: &mut Graph,
    grads: &mut HashMap<TensorId, TensorId>,
    needs: &HashSet<TensorId>,
    [a, b, dc]: [TensorId; 3],
    (m, k, n): (usize, usize, usize),
) {
    let grad_name = |g: &Graph, t: TensorId| format!("d{}", g.tensors[t.0].name);
    let mm = |m, k, n, trans_a, trans_b| Kernel::MatMul {
        m,
        k,
        n,
        trans_a,
        trans_b,
        accumulate: false,
    };
    if needs.contains(&a) {
        let da = g.temp(grad_name(g, a), &[m, k]);
        g.push(mm(m, n, k, false, true), vec![dc, b, da]);
        accumulate(g, grads, a, da);
    }
    if needs.contains(&b) {
        let db = g.temp(grad_name(g, b), &[k, n]);
        g.push(mm(k, m, n, true, false), vec![a, dc, db]);
        accumulate(g, grads, b, db);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::window::{Padding, Window};

    #[test]
    fn fused_kernels_bind_the_buffers_the_limit_check_counts() {
        let act = ActKind::Relu;
        let bn = Kernel::BnActBackward {
            rows: 2,
            cols: 3,
            eps: 1e-3,
            act,
            training: false,
            seed: 0,
        };
        assert_eq!(bn.arity(), BN_ACT_BUFFERS);
        let win = Window::new(1, (4, 4, 1), (2, 2), (2, 2), (1, 1), Padding::Valid).unwrap();
        let pool = Kernel::MaxPoolActBackward {
            win,
            act,
            training: false,
            seed: 0,
        };
        assert_eq!(pool.arity(), POOL_ACT_BUFFERS);
    }
}
