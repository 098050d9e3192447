//! Batch norm over the data feeding a dense layer (the seed network's first two layers,
//! Géron's batch-norm example): the data needs no gradient, so the layer's input gradient
//! `dy = dz·wᵀ` is formed only for batch norm's two column sums `Σ dy·x̂` and `Σ dy`. Both
//! follow from products of the layer's own size instead: with `c = x̂ᵀ·dz` (a matmul of the
//! weight gradient's shape) and `db = Σ dz` (the layer's bias gradient),
//! `Σᵣ dy·x̂ = Σₒ w·c`, `Σᵣ dy = Σₒ w·db`, and the weight gradient `yᵀ·dz = γ·c + β·db`
//! (since `y = γ·x̂ + β`). So the batch's `rows × units × features` multiply-adds of the
//! input gradient (a third of the first layer's, the step's largest) and batch norm's
//! backward walk become [`Kernel::BnDenseBackward`] over the kernel's `features × units`.
//! The same sums in another order: equal to float rounding, not bit for bit.

use super::ir::{Graph, Node, TensorId};
use crate::backend::Kernel;

/// Rewrites the first batch norm over data ([`Kernel::BnTrainGatherU8`], or
/// [`Kernel::BnTrain`] over whole vec4s where the gather runs apart) whose gradient reaches
/// it only through one dense layer (as above): the forward leaves x̂ in x (the gather's
/// batch) or writes it beside y ([`Kernel::BnTrainXhat`]), the weight gradient's matmul
/// reads x̂ for y, the input gradient's matmul goes, and [`Kernel::BnBackwardSums`] becomes
/// [`Kernel::BnDenseBackward`], which also writes the layer's bias gradient (its writer
/// before, the activation's or batch norm's backward, writes `Σ dz` into a buffer of its
/// own instead). Only where nothing else reads x, dy or the sums (nor `dw` or `db` between
/// their writers and the sums), x is not kept for the caller, the layer has a bias gradient
/// written with dz, and no all-reduce point exists (ranks add up the products first).
/// Returns whether it rewrote.
pub fn dense_over_data_norm(g: &mut Graph, keep: &[TensorId]) -> bool {
    if !g.syncs.is_empty() {
        return false;
    }
    for p in 0..g.nodes.len() {
        let a = &g.nodes[p].args;
        // x, gamma, beta, y, stats; the kernel writing x̂ apart (`None`: x̂ into x).
        let (rows, cols, [x, gamma, beta, y, stats], apart) = match g.nodes[p].kernel {
            Kernel::BnTrainGatherU8 {
                rows,
                cols,
                xhat: false,
                ..
            } => (rows, cols, [a[4], a[6], a[7], a[8], a[9]], None),
            Kernel::BnTrain {
                rows,
                cols,
                eps,
                momentum,
            } if cols.is_multiple_of(4) => {
                let apart = Kernel::BnTrainXhat {
                    rows,
                    cols,
                    eps,
                    momentum,
                };
                (rows, cols, [a[0], a[1], a[2], a[3], a[4]], Some(apart))
            }
            _ => continue,
        };
        let Some(found) = pattern(g, rows, [x, y, stats]).filter(|f| f.features == cols) else {
            continue;
        };
        let Found {
            input_grad,
            weight_grad,
            sums,
            db,
            dw,
            features,
            units,
            ..
        } = found;
        let dy = g.nodes[sums].args[3];
        let only = |t: TensorId, allowed: &[usize]| {
            (g.nodes.iter().enumerate()).all(|(i, n)| allowed.contains(&i) || !n.args.contains(&t))
        };
        // Written at `from`, and read by nothing after it before the sums (which must come
        // after it).
        let idle_until_sums = |from: usize, t: TensorId| {
            (g.nodes.get(from + 1..sums)).is_some_and(|ns| ns.iter().all(|n| !n.args.contains(&t)))
        };
        let dw_idle = idle_until_sums(weight_grad, dw);
        let db_idle = idle_until_sums(db.0, g.nodes[db.0].args[db.1]);
        let statistics = [input_grad, weight_grad, sums]
            .iter()
            .any(|i| g.statistics.contains(i));
        // x's writer before batch norm (the gather, when it runs apart) may stay.
        let writer = (0..p).filter(|&i| {
            let n = &g.nodes[i];
            (n.kernel.args().iter().zip(&n.args)).any(|(a, &t)| t == x && a.writes())
        });
        let mut x_users: Vec<usize> = writer.collect();
        x_users.extend([p, sums]);
        if !only(x, &x_users)
            || !only(dy, &[input_grad, sums])
            || !only(g.nodes[sums].args[2], &[sums])
            || !dw_idle
            || !db_idle
            || statistics
            || keep.contains(&x)
        {
            continue;
        }
        // x̂ where the gathered batch was, or in a buffer of its own.
        let xhat = match apart {
            None => {
                if let Kernel::BnTrainGatherU8 { xhat, .. } = &mut g.nodes[p].kernel {
                    *xhat = true;
                }
                x
            }
            Some(kernel) => {
                let name = format!("{}/xhat", g.tensors[x.0].name);
                let xhat = g.temp(name, &[rows, features]);
                g.nodes[p].kernel = kernel;
                g.nodes[p].args.push(xhat);
                xhat
            }
        };
        g.nodes[weight_grad].args[0] = xhat;
        // The bias gradient's writer hands Σ dz on through a buffer of its own.
        let (writer, at) = db;
        let db = g.nodes[writer].args[at];
        let name = format!("{}/sums", g.tensors[db.0].name);
        let dz_sums = g.temp(name, &[units]);
        g.nodes[writer].args[at] = dz_sums;
        g.nodes[sums] = Node {
            kernel: Kernel::BnDenseBackward { features, units },
            args: vec![
                found.w,
                gamma,
                beta,
                dz_sums,
                dw,
                found.dgamma,
                found.dbeta,
                db,
            ],
        };
        remove(g, input_grad);
        return true;
    }
    false
}

/// The backward nodes of batch norm over x (output y, statistics stats) and the dense
/// layer reading y, by index, with the tensors the rewrite takes.
struct Found {
    input_grad: usize,
    weight_grad: usize,
    sums: usize,
    w: TensorId,
    /// The node writing the layer's bias gradient `Σ dz`, and the position of that buffer.
    db: (usize, usize),
    dw: TensorId,
    dgamma: TensorId,
    dbeta: TensorId,
    features: usize,
    units: usize,
}

fn pattern(g: &Graph, rows: usize, [x, y, stats]: [TensorId; 3]) -> Option<Found> {
    let find = |f: &dyn Fn(&Node) -> bool| g.nodes.iter().position(f);
    let sums = find(&|n| {
        matches!(n.kernel, Kernel::BnBackwardSums { rows: r, .. } if r == rows)
            && n.args[..2] == [x, stats]
    })?;
    let s = &g.nodes[sums].args;
    let (dy, dgamma, dbeta) = (s[3], s[4], s[5]);
    let input_grad = find(&|n| {
        matches!(
            n.kernel,
            Kernel::MatMul { m, trans_a: false, trans_b: true, accumulate: false, .. } if m == rows
        ) && n.args[2] == dy
    })?;
    let Kernel::MatMul {
        k: units,
        n: features,
        ..
    } = g.nodes[input_grad].kernel
    else {
        return None;
    };
    let (dz, w) = (g.nodes[input_grad].args[0], g.nodes[input_grad].args[1]);
    let weight_grad = find(&|n| {
        n.kernel
            == Kernel::MatMul {
                m: features,
                k: rows,
                n: units,
                trans_a: true,
                trans_b: false,
                accumulate: false,
            }
            && n.args[..2] == [y, dz]
    })?;
    let dw = g.nodes[weight_grad].args[2];
    // db = Σ dz: the bias gradient written with dz (the activation's or batch norm's
    // backward after the layer), before the weight gradient.
    let db = g.nodes[..weight_grad]
        .iter()
        .enumerate()
        .find_map(|(i, n)| {
            let args = n.kernel.args();
            let writes_dz = (args.iter().zip(&n.args)).any(|(a, &t)| t == dz && a.writes());
            let db = args.iter().position(|a| a.name == "db" && a.writes())?;
            writes_dz.then_some((i, db))
        })?;
    Some(Found {
        input_grad,
        weight_grad,
        sums,
        w,
        db,
        dw,
        dgamma,
        dbeta,
        features,
        units,
    })
}

/// Removes node `i`, moving the later nodes' statistics indices with them (the rewrite
/// runs only where there are no all-reduce points).
fn remove(g: &mut Graph, i: usize) {
    g.nodes.remove(i);
    for k in &mut g.statistics {
        if *k > i {
            *k -= 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::ActKind;
    use crate::graph::ir::Reduce;

    const ROWS: usize = 4;
    const FEATURES: usize = 8;
    const UNITS: usize = 3;

    /// The gathered batch norm, a dense layer over it, the layer's backward (its bias
    /// gradient with dz, then the input and the weight gradient) and batch norm's sums; the
    /// tensors x, dy, dz.
    fn graph() -> (Graph, [TensorId; 3]) {
        let mut g = Graph::default();
        let (rows, features, units) = (ROWS, FEATURES, UNITS);
        let mut ext = |name: &str, n: usize| g.external(name, &[n]);
        let gather = [
            ext("data", 64),
            ext("labels", 16),
            ext("perm", 16),
            ext("step", 8),
        ];
        let (gamma, beta, mm, mv) = (
            ext("gamma", features),
            ext("beta", features),
            ext("mm", features),
            ext("mv", features),
        );
        let (w, bias) = (ext("w", features * units), ext("bias", units));
        let x = g.temp("x", &[rows, features]);
        let labels = g.temp("batch_labels", &[rows]);
        let y = g.temp("y", &[rows, features]);
        let stats = g.temp("stats", &[2 * features]);
        let mut args = gather.to_vec();
        args.extend([x, labels, gamma, beta, y, stats, mm, mv]);
        let bn = Kernel::BnTrainGatherU8 {
            rows,
            cols: features,
            eps: 1e-3,
            momentum: 0.99,
            xhat: false,
        };
        g.push(bn, args);
        let z = g.temp("z", &[rows, units]);
        let dense = Kernel::Dense {
            m: rows,
            k: features,
            n: units,
            act: ActKind::Relu,
            training: true,
            seed: 0,
        };
        g.push(dense, vec![y, w, bias, z, gather[3]]);
        let (dout, dz, db) = (
            g.temp("dout", &[rows, units]),
            g.temp("dz", &[rows, units]),
            g.temp("db", &[units]),
        );
        g.push(Kernel::Scale { n: 1, factor: 1.0 }, vec![z, dout]);
        let act = Kernel::BiasActBackward {
            rows,
            cols: units,
            stripes: 1,
            act: ActKind::Relu,
            training: true,
            seed: 0,
        };
        g.push(act, vec![z, dout, dz, db, gather[3]]);
        let (dy, dw) = (
            g.temp("dy", &[rows, features]),
            g.temp("dw", &[features, units]),
        );
        let product = |[m, k, n]: [usize; 3], trans_a, trans_b| Kernel::MatMul {
            m,
            k,
            n,
            trans_a,
            trans_b,
            accumulate: false,
        };
        g.push(
            product([rows, units, features], false, true),
            vec![dz, w, dy],
        );
        g.push(
            product([features, rows, units], true, false),
            vec![y, dz, dw],
        );
        let (sums, dgamma, dbeta) = (
            g.temp("sums", &[2 * features]),
            g.temp("dgamma", &[features]),
            g.temp("dbeta", &[features]),
        );
        let k = Kernel::BnBackwardSums {
            rows,
            cols: features,
            eps: 1e-3,
        };
        g.push(k, vec![x, stats, sums, dy, dgamma, dbeta]);
        (g, [x, dy, dz])
    }

    fn names(g: &Graph, args: &[TensorId]) -> Vec<String> {
        args.iter().map(|t| g.tensors[t.0].name.clone()).collect()
    }

    #[test]
    fn the_input_gradient_goes_and_the_sums_come_from_the_weight_gradient() {
        let (mut g, [x, ..]) = graph();
        let before = g.nodes.len();
        assert!(dense_over_data_norm(&mut g, &[]));
        assert_eq!(g.nodes.len(), before - 1);
        assert!(matches!(
            g.nodes[0].kernel,
            Kernel::BnTrainGatherU8 { xhat: true, .. }
        ));
        let weight_grad = &g.nodes[before - 3];
        assert!(matches!(
            weight_grad.kernel,
            Kernel::MatMul { trans_a: true, .. }
        ));
        assert_eq!(weight_grad.args[0], x, "x̂ for y");
        let last = g.nodes.last().unwrap();
        assert_eq!(
            last.kernel,
            Kernel::BnDenseBackward {
                features: FEATURES,
                units: UNITS
            }
        );
        assert_eq!(
            names(&g, &last.args),
            ["w", "gamma", "beta", "db/sums", "dw", "dgamma", "dbeta", "db"]
        );
        // The bias gradient's writer writes Σ dz into the new buffer.
        assert_eq!(names(&g, &g.nodes[3].args)[3], "db/sums");
        // Once only.
        assert!(!dense_over_data_norm(&mut g, &[]));
    }

    /// [`graph`] with the gather and batch norm apart (an adapter binding fewer buffers).
    fn unfused() -> (Graph, [TensorId; 3]) {
        let (mut g, t) = graph();
        let a = g.nodes[0].args.clone();
        let gather = Node {
            kernel: Kernel::GatherU8 {
                rows: ROWS,
                features: FEATURES,
            },
            args: a[..6].to_vec(),
        };
        let mut bn_args = vec![a[4]];
        bn_args.extend(&a[6..]);
        let bn = Node {
            kernel: Kernel::BnTrain {
                rows: ROWS,
                cols: FEATURES,
                eps: 1e-3,
                momentum: 0.99,
            },
            args: bn_args,
        };
        g.nodes.splice(0..1, [gather, bn]);
        (g, t)
    }

    #[test]
    fn apart_from_the_gather_batch_norm_writes_xhat_into_a_buffer_of_its_own() {
        let (mut g, [x, ..]) = unfused();
        let before = g.nodes.len();
        assert!(dense_over_data_norm(&mut g, &[]));
        assert_eq!(g.nodes.len(), before - 1);
        assert!(matches!(g.nodes[1].kernel, Kernel::BnTrainXhat { .. }));
        assert_eq!(g.nodes[1].args[0], x);
        let xhat = g.nodes[1].args[7];
        assert_eq!(names(&g, &[xhat]), ["x/xhat"]);
        let weight_grad = g
            .nodes
            .iter()
            .find(|n| matches!(n.kernel, Kernel::MatMul { trans_a: true, .. }))
            .unwrap();
        assert_eq!(weight_grad.args[0], xhat);
        assert!(matches!(
            g.nodes.last().unwrap().kernel,
            Kernel::BnDenseBackward { .. }
        ));
    }

    #[test]
    fn other_readers_an_all_reduce_or_a_kept_x_leave_it_alone() {
        let (mut g, [x, dy, _]) = graph();
        g.push(Kernel::Scale { n: 1, factor: 1.0 }, vec![dy, dy]);
        assert!(!dense_over_data_norm(&mut g, &[]));
        // The weight gradient before the bias gradient: no db to read yet.
        let (mut g, _) = graph();
        assert!(matches!(
            g.nodes[5].kernel,
            Kernel::MatMul { trans_a: true, .. }
        ));
        g.nodes[3..=5].rotate_right(1);
        assert!(!dense_over_data_norm(&mut g, &[]));
        // The sums before the weight gradient: left alone, not a slice past the end.
        let (mut g, _) = graph();
        g.nodes.swap(5, 6);
        assert!(!dense_over_data_norm(&mut g, &[]));
        assert!(!dense_over_data_norm(&mut g, &[]));
        let (mut g, [x2, ..]) = graph();
        g.push(Kernel::Scale { n: 1, factor: 1.0 }, vec![x2, x2]);
        assert!(!dense_over_data_norm(&mut g, &[]));
        let (mut g, _) = graph();
        assert!(!dense_over_data_norm(&mut g, &[x]));
        let (mut g, [_, _, dz]) = graph();
        g.all_reduce(dz, 0, 1, Reduce::Sum);
        assert!(!dense_over_data_norm(&mut g, &[]));
    }
}
