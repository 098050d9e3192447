//! The building blocks the backward rules ([`super::backward`]'s one match) are made of:
//! the gradient of a dense layer's (or direct convolution's) epilogue, a matmul's and a
//! direct convolution's backward, gradients accumulated where a tensor has several
//! readers, and which dense layer a batch norm's or max pooling's backward can fuse.

use std::collections::{HashMap, HashSet};

use super::Seed;
use crate::backend::ops::conv;
use crate::backend::ops::elementwise::bias_stripes;
use crate::backend::window::Window;
use crate::backend::{ActKind, Kernel};
use crate::graph::ir::{Graph, TensorId};

/// Storage buffers of [`Kernel::BnActBackward`] and [`Kernel::MaxPoolActBackward`] (their
/// `args`; checked by a test).
pub(super) const BN_ACT_BUFFERS: usize = 9;
pub(super) const POOL_ACT_BUFFERS: usize = 6;

/// A dense layer (or convolution) whose output the backward of the batch norm or max
/// pooling after it can take through the activation.
pub(super) struct FusableDense {
    /// The activation, whether RReLU drew slopes, its seed.
    pub act: (ActKind, bool, u32),
    /// The layer's bias.
    pub bias: TensorId,
    /// The step record it reads.
    pub step: TensorId,
}

/// The forward dense layer that wrote `x`, when the backward of the one node reading `x`
/// (a batch norm or a max pooling) can also do that layer's epilogue backward
/// ([`Kernel::BnActBackward`], [`Kernel::MaxPoolActBackward`]): a non-linear activation,
/// no other forward node reads `x` (so its gradient is that node's dx alone), and the fused
/// kernel's `buffers` storage buffers within the device's limit.
pub(super) fn fusable_dense(
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

/// Whether an activation layer over `x` differentiates from its output alone
/// ([`Kernel::ActBackwardFromOutput`]): `x` is a training-mode batch norm's output (so that
/// batch norm can store the activated output and not `x`, [`Kernel::BnTrainAct`]) and the
/// activation's output tells its derivative.
pub(super) fn act_from_output(g: &Graph, forward_len: usize, x: TensorId, act: ActKind) -> bool {
    act != ActKind::Linear
        && act.derivative_from_output()
        && g.nodes[..forward_len]
            .iter()
            .any(|n| matches!(n.kernel, Kernel::BnTrain { .. }) && n.args[3] == x)
}

/// An activation layer ([`Kernel::ActForward`]) whose output the max pooling's backward
/// after it can take through the activation's derivative ([`Kernel::MaxPoolActBackward`],
/// its bias partial sums unused): a non-linear activation whose output tells its
/// derivative ([`ActKind::derivative_from_output`]) and no other forward node reading `y`.
/// Returns the activation (with RReLU's training flag and seed), its input and the step
/// record it reads.
pub(super) fn fusable_act(
    g: &Graph,
    forward_len: usize,
    y: TensorId,
    buffers: usize,
) -> Option<((ActKind, bool, u32), TensorId, TensorId)> {
    if !g.fits(buffers) {
        return None;
    }
    let mut found = None;
    let mut readers = 0;
    for node in &g.nodes[..forward_len] {
        match node.kernel {
            Kernel::ActForward {
                act,
                training,
                seed,
                ..
            } if node.args[1] == y => {
                found = Some(((act, training, seed), node.args[0], node.args[2]))
            }
            _ => {
                let writes = node.kernel.writes();
                readers += (0..node.args.len())
                    .filter(|p| node.args[*p] == y && !writes.contains(p))
                    .count();
            }
        }
    }
    found.filter(|((act, _, _), _, _)| {
        *act != ActKind::Linear && act.derivative_from_output() && readers == 1
    })
}

/// The gradient of a dense layer's (or direct convolution's) pre-activation, the bias
/// gradient accumulated on the way: from the batch norm after it when that took the
/// epilogue's backward, else through [`bias_act_backward`]; `None` when its output has
/// no gradient. `a`: the node's args x, w, b, y, step; `(m, n)`: y's shape.
pub(super) fn epilogue_dz(
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
/// kernel gradient as partial sums over stripes of positions and their column sum (one
/// stripe is the gradient itself: [`conv::stripes`]); the
/// input gradient as a dense layer's over im2col rows (`dz·wᵀ`) folded back by col2im.
pub(super) fn conv_direct_backward(
    g: &mut Graph,
    grads: &mut HashMap<TensorId, TensorId>,
    needs: &HashSet<TensorId>,
    [x, w, dz]: [TensorId; 3],
    (win, filters): (Window, usize),
) {
    let grad_name = |g: &Graph, t: TensorId| format!("d{}", g.tensors[t.0].name);
    let field = win.patch();
    if needs.contains(&w) {
        let stripes = conv::stripes(&win, filters, g.subgroups8);
        let kernel = Kernel::ConvDirectWeightGrad {
            win,
            filters,
            stripes,
        };
        let dw = g.temp(grad_name(g, w), &[field, filters]);
        if stripes == 1 {
            // One stripe: the partial sums are the gradient.
            g.push(kernel, vec![x, dz, dw]);
        } else {
            let name = format!("{}/partials", grad_name(g, w));
            let partials = g.temp(name, &[stripes, field * filters]);
            g.push(kernel, vec![x, dz, partials]);
            let sum = Kernel::ColumnSum {
                rows: stripes,
                cols: field * filters,
            };
            g.push(sum, vec![partials, dw]);
        }
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
pub(super) fn bias_act_backward(
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
    // dz = f'(y)·dy from the output; the bias gradient in the same pass (over many rows,
    // as partial sums over stripes of rows and their column sum).
    let dz = g.temp(format!("{}/pre", grad_name(g, y)), &[m, n]);
    let stripes = bias_stripes(m);
    let db = g.temp(grad_name(g, bias), &[n]);
    let sums = if stripes > 1 {
        g.temp(format!("{}/partials", grad_name(g, bias)), &[stripes, n])
    } else {
        db
    };
    g.push(
        Kernel::BiasActBackward {
            rows: m,
            cols: n,
            stripes,
            act,
            training,
            seed,
        },
        vec![y, dy, dz, sums, step],
    );
    if bias_grad {
        if stripes > 1 {
            g.push(
                Kernel::ColumnSum {
                    rows: stripes,
                    cols: n,
                },
                vec![sums, db],
            );
        }
        accumulate(g, grads, bias, db);
    }
    dz
}

/// Adds `d` to the gradient of `t` (a new tensor when `t` already has one).
pub(super) fn accumulate(
    g: &mut Graph,
    grads: &mut HashMap<TensorId, TensorId>,
    t: TensorId,
    d: TensorId,
) {
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
pub(super) fn matmul_backward(
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
