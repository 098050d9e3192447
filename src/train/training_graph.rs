//! The training half of a step's graph, after the forward pass and the loss: autodiff's
//! backward pass (weight gradients written into the gradient arenas), on several ranks
//! their sum across ranks, the weight penalties (their gradient term and their share of
//! the reported loss), the gradient statistics and clip factors, the optimizer's fused
//! update (with weight decay), the weight constraints, and for health steps the norms of
//! each kernel's update.

use std::collections::HashMap;

use super::session::Session;
use crate::backend::kernel::segment_count;
use crate::backend::ops::regularization::{penalty_chunks, Penalized};
use crate::backend::{ArenaTensor, BufId, ClipMode, Kernel};
use crate::error::Result;
use crate::graph::autodiff::{self, Seed};
use crate::graph::{Graph, Reduce, TensorId, TensorKind};

use super::plan::HealthLayout;

/// What the training half of a step's graph binds to and knows of the forward half.
pub(crate) struct TrainingGraph<'a> {
    /// External tensors' buffers (added to).
    pub bound: &'a mut HashMap<TensorId, BufId>,
    /// Views the plan owns (added to).
    pub views: &'a mut Vec<BufId>,
    /// Each weight's tensor.
    pub w: &'a [TensorId],
    /// The step record.
    pub step: TensorId,
    /// This rank's batch rows.
    pub rows: usize,
    /// For health steps, where the statistics go.
    pub health: Option<(TensorId, &'a HealthLayout)>,
    /// Whether the batch is one rank's shard (the gradients are then summed across ranks).
    pub sharded: bool,
}

impl Session {
    /// Appends the training half of a step to `g` (see the module's documentation).
    pub(crate) fn lower_training(
        &mut self,
        g: &mut Graph,
        cx: TrainingGraph,
        seed: Seed,
    ) -> Result<()> {
        let t = self.trainer.as_ref().ok_or_else(|| {
            crate::Error::Config("the session is not compiled: call compile before fit".into())
        })?;
        let TrainingGraph {
            bound,
            views,
            w,
            step,
            rows,
            health,
            sharded,
        } = cx;
        let model = &self.weights.model;
        let rules = model.weight_rules();
        let nw = model.weights().len().max(1);
        let forward_len = g.nodes.len();
        let trainable: Vec<usize> = (0..model.weights().len())
            .filter(|&i| model.is_trainable(i))
            .collect();
        let wrt: Vec<TensorId> = trainable.iter().map(|&i| w[i]).collect();
        let grads = autodiff::backward(g, forward_len, seed, &wrt)?;
        let backend = self.device.backend.as_mut();
        let stats = external(g, bound, "grad_stats", 3 * nw, self.device.grad_stats);
        let scales = external(g, bound, "clip_scales", nw, self.device.clip_scales);
        let partials_len = backend.len(t.partials);
        let partials = external(g, bound, "grad_partials", partials_len, t.partials);
        // Per group: the tensors updated, their gradients bound to views of the group's
        // gradient arena (autodiff's kernels write them in place), and the arenas.
        let mut groups = Vec::new();
        for (arena, train) in self.weights.arenas.iter().zip(&t.arenas) {
            let mut tensors = Vec::new();
            for &(i, offset) in &arena.layout.members {
                let Some(&gr) = grads.get(&w[i]) else {
                    continue;
                };
                if !trainable.contains(&i) {
                    continue;
                }
                let n = model.weights()[i].data.len();
                let view = backend.view(train.grads, offset, n)?;
                views.push(view);
                g.tensors[gr.0].kind = TensorKind::External;
                bound.insert(gr, view);
                tensors.push(ArenaTensor {
                    offset,
                    n,
                    slot: i,
                    lr_mult: model.layers()[model.weights()[i].layer].lr_multiplier,
                });
            }
            if tensors.is_empty() {
                continue;
            }
            let ga = external(g, bound, "grads", arena.layout.words, train.grads);
            let pa = external(g, bound, "weights", arena.layout.words, arena.params);
            groups.push((arena, train, ga, pa, tensors));
        }
        if sharded {
            // One flat all-reduce of every group's gradient arena.
            for (arena, _, ga, _, _) in &groups {
                g.all_reduce(*ga, 0, arena.layout.words, Reduce::Sum);
            }
        }
        // The penalties, after the gradients' sum (each rank adds the same term) and
        // before the statistics (clipping sees the whole gradient, as Keras's does).
        let penalized: Vec<Vec<Penalized>> = (groups.iter())
            .map(|(_, _, _, _, tensors)| {
                (tensors.iter())
                    .filter_map(|&tensor| {
                        let r = rules[tensor.slot].0?;
                        Some(Penalized {
                            tensor,
                            l1: r.l1,
                            l2: r.l2,
                        })
                    })
                    .collect()
            })
            .collect();
        let chunks: usize = penalized.iter().map(|p| penalty_chunks(p)).sum();
        if chunks > 0 {
            let sums = g.temp("penalty_partials", &[chunks]);
            let mut first = 0;
            for ((_, _, ga, pa, _), tensors) in groups.iter().zip(penalized) {
                if tensors.is_empty() {
                    continue;
                }
                let n = penalty_chunks(&tensors);
                g.push(Kernel::Penalty { tensors, first }, vec![*pa, *ga, sums]);
                first += n;
            }
            let metrics = external(g, bound, "metrics", 3, self.device.metrics);
            g.push(Kernel::AddPenalty { chunks, rows }, vec![sums, metrics]);
        }
        // Without norm clipping nothing in the step reads the statistics (the clip factors
        // stay 1): they are gathered only on the steps the host reads them after.
        let clip = t.optimizer.clip().mode();
        let push_stats = |g: &mut Graph, k: Kernel, args: Vec<TensorId>| {
            if clip == ClipMode::None {
                g.push_statistics(k, args)
            } else {
                g.push(k, args)
            }
        };
        let mut all = Vec::new();
        for (_, _, ga, _, tensors) in &groups {
            push_stats(
                g,
                Kernel::GradStats {
                    tensors: tensors.clone(),
                    first_segment: segment_count(&all),
                },
                vec![*ga, partials],
            );
            all.extend_from_slice(tensors);
        }
        if !all.is_empty() {
            push_stats(
                g,
                Kernel::ClipScale {
                    tensors: all,
                    mode: clip,
                },
                vec![partials, stats, scales, step],
            );
        }
        // Health steps keep each kernel's value before its update.
        let mut before = Vec::new();
        if let Some((_, layout)) = health {
            for &(_, wi) in &layout.kernels {
                let n = model.weights()[wi].data.len();
                let copy = g.temp(format!("{}/before", model.weights()[wi].name), &[n]);
                g.push(Kernel::Scale { n, factor: 1.0 }, vec![w[wi], copy]);
                before.push((wi, copy));
            }
        }
        let slot_names = t.optimizer.slots();
        let mut constrained = Vec::new();
        for (arena, train, ga, pa, tensors) in groups {
            let state: Vec<TensorId> = (slot_names.iter().zip(&train.slots))
                .map(|(name, b)| external(g, bound, name, arena.layout.words, *b))
                .collect();
            constrained.extend(tensors.iter().map(|t| t.slot));
            t.optimizer
                .lower_update(g, pa, ga, scales, step, &state, tensors);
        }
        // Constraints after the update, as Keras applies them.
        for i in constrained {
            if let Some(c) = &rules[i].1 {
                let weight = &model.weights()[i];
                let (rows, cols, per_row) = c.layout(&weight.shape).map_err(|e| {
                    crate::Error::Config(format!("{}: constraint: {e}", weight.name))
                })?;
                let crate::nn::Constraint::MaxNorm { max_value, .. } = *c;
                let k = Kernel::MaxNorm {
                    rows,
                    cols,
                    per_row,
                    max_value,
                };
                g.push(k, vec![w[i]]);
            }
        }
        if let Some((ht, layout)) = health {
            for (j, (wi, copy)) in before.into_iter().enumerate() {
                let n = model.weights()[wi].data.len();
                g.push(
                    Kernel::PairNorms {
                        n,
                        offset: 4 * layout.acts.len() + 2 * j,
                    },
                    vec![w[wi], copy, ht],
                );
            }
        }
        Ok(())
    }
}

/// An external tensor of `len` values bound to `buf`.
fn external(
    g: &mut Graph,
    bound: &mut HashMap<TensorId, BufId>,
    name: &str,
    len: usize,
    buf: BufId,
) -> TensorId {
    let t = g.external(name, &[len.max(1)]);
    bound.insert(t, buf);
    t
}
