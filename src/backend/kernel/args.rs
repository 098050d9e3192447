//! Every kernel's buffers ([`Kernel::args`]): the one description the launch checks,
//! the planner, autodiff, the WGSL declarations and the bind groups derive from.

use super::{
    arena_end, input_grad_partial_rows, pool_chunks, segment_count, Arg, Kernel, STEP_WORDS,
};

impl Kernel {
    /// The kernel's buffers, in launch order: each one's name (its WGSL variable), access,
    /// element type and least length — the one description the launch checks, the
    /// planner, autodiff, the WGSL declarations and the bind groups all derive from.
    pub fn args(&self) -> Vec<Arg> {
        use Arg as A;
        let step = A::read("step", STEP_WORDS).u32();
        match *self {
            Kernel::MatMul { m, k, n, .. } => {
                vec![
                    A::read("a", m * k),
                    A::read("b", k * n),
                    A::write("c", m * n),
                ]
            }
            // The matmul kernels' operand names: a = x, b = the kernel, c = y.
            Kernel::Dense { m, k, n, .. } => vec![
                A::read("a", m * k),
                A::read("b", k * n),
                A::read("bias", n),
                A::write("c", m * n),
                step,
            ],
            Kernel::BiasActBackward {
                rows,
                cols,
                stripes,
                ..
            } => vec![
                A::read("y", rows * cols),
                A::read("dy", rows * cols),
                A::write("dz", rows * cols),
                A::write("db", stripes * cols),
                step,
            ],
            Kernel::BiasAdd { rows, cols } => vec![
                A::read("x", rows * cols),
                A::read("bias", cols),
                A::write("y", rows * cols),
            ],
            Kernel::ColumnSum { rows, cols } => {
                vec![A::read("x", rows * cols), A::write("sums", cols)]
            }
            Kernel::ActForward { n, .. } => vec![A::read("x", n), A::write("y", n), step],
            Kernel::ActBackward { n, .. } => vec![
                A::read("x", n),
                A::read("y", n),
                A::read("dy", n),
                A::write("dx", n),
                step,
            ],
            Kernel::ActBackwardFromOutput { n, .. } => {
                vec![A::read("y", n), A::read("dy", n), A::write("dx", n), step]
            }
            Kernel::PreluForward { rows, cols } => vec![
                A::read("x", rows * cols),
                A::read("alpha", cols),
                A::write("y", rows * cols),
            ],
            Kernel::PreluBackward { rows, cols } => vec![
                A::read("x", rows * cols),
                A::read("alpha", cols),
                A::read("dy", rows * cols),
                A::write("dx", rows * cols),
                A::write("dalpha", cols),
            ],
            Kernel::SoftmaxForward { rows, cols } => {
                vec![A::read("x", rows * cols), A::write("y", rows * cols)]
            }
            Kernel::SoftmaxBackward { rows, cols } => vec![
                A::read("y", rows * cols),
                A::read("dy", rows * cols),
                A::write("dx", rows * cols),
            ],
            Kernel::Add { n } => vec![A::read("a", n), A::read("b", n), A::write("c", n)],
            Kernel::Scale { n, .. } => vec![A::read("x", n), A::write("y", n)],
            Kernel::Loss { rows, cols, .. } => vec![
                A::read("x", rows * cols),
                A::read("labels", rows).u32(),
                A::write("dx", rows * cols),
                A::write("dx_sums", cols),
                A::write("metrics", 3),
            ],
            Kernel::DenseLoss { rows, k, cols, .. } => vec![
                A::read("h", rows * k),
                A::read("w", k * cols),
                A::read("bias", cols),
                A::write("x", rows * cols),
                A::read("labels", rows).u32(),
                A::write("dx", rows * cols),
                A::write("dx_sums", cols),
                A::write("metrics", 3),
                A::write("dh", rows * k),
                A::write("dw", k * cols),
            ],
            Kernel::DenseLossRows { rows, k, cols, .. } => vec![
                A::read("h", rows * k),
                A::read("w", k * cols),
                A::read("bias", cols),
                A::write("x", rows * cols),
                A::read("labels", rows).u32(),
                A::write("dx", rows * cols),
                A::write("row_metrics", 2 * rows),
                A::write("dh", rows * k),
            ],
            Kernel::DenseLossSums { rows, k, cols } => vec![
                A::read("h", rows * k),
                A::read("dx", rows * cols),
                A::read("row_metrics", 2 * rows),
                A::write("dx_sums", cols),
                A::write("metrics", 3),
                A::write("dw", k * cols),
            ],
            Kernel::BnTrain { rows, cols, .. } | Kernel::BnTrainAct { rows, cols, .. } => vec![
                A::read("x", rows * cols),
                A::read("gamma", cols),
                A::read("beta", cols),
                A::write("y", rows * cols),
                A::write("stats", 2 * cols),
                A::write("moving_mean", cols),
                A::write("moving_var", cols),
            ],
            Kernel::BnApply { rows, cols, .. } => vec![
                A::read("x", rows * cols),
                A::read("moving_mean", cols),
                A::read("moving_var", cols),
                A::read("gamma", cols),
                A::read("beta", cols),
                A::write("y", rows * cols),
            ],
            Kernel::BnBackward { rows, cols, .. } => vec![
                A::read("x", rows * cols),
                A::read("stats", 2 * cols),
                A::read("gamma", cols),
                A::read("dy", rows * cols),
                A::write("dx", rows * cols),
                A::write("dgamma", cols),
                A::write("dbeta", cols),
            ],
            Kernel::BnActBackward { rows, cols, .. } => vec![
                A::read("x", rows * cols),
                A::read("stats", 2 * cols),
                A::read("gamma", cols),
                A::read("dy", rows * cols),
                A::write("dz", rows * cols),
                A::write("dgamma", cols),
                A::write("dbeta", cols),
                A::write("db", cols),
                step,
            ],
            Kernel::BnMoments { rows, cols, .. } => {
                vec![A::read("x", rows * cols), A::write("stats", 2 * cols)]
            }
            Kernel::BnNormalize { rows, cols, .. } => vec![
                A::read("x", rows * cols),
                A::read("gamma", cols),
                A::read("beta", cols),
                A::write("y", rows * cols),
                A::read("stats", 2 * cols),
                A::write("moving_mean", cols),
                A::write("moving_var", cols),
            ],
            Kernel::BnBackwardSums { rows, cols, .. } => vec![
                A::read("x", rows * cols),
                A::read("stats", 2 * cols),
                A::write("sums", 2 * cols),
                A::read("dy", rows * cols),
                A::write("dgamma", cols),
                A::write("dbeta", cols),
            ],
            Kernel::BnBackwardDx { rows, cols, .. } => vec![
                A::read("x", rows * cols),
                A::read("stats", 2 * cols),
                A::read("gamma", cols),
                A::read("dy", rows * cols),
                A::write("dx", rows * cols),
                A::read("sums", 2 * cols),
            ],
            Kernel::GradStats {
                ref tensors,
                first_segment,
            } => vec![
                A::read("grads", arena_end(tensors)),
                A::write("partials", 2 * (first_segment + segment_count(tensors))),
            ],
            Kernel::ActStats {
                rows, cols, offset, ..
            } => vec![A::read("y", rows * cols), A::write("health", offset + 4)],
            Kernel::PairNorms { n, offset } => vec![
                A::read("after", n),
                A::read("before", n),
                A::write("health", offset + 2),
            ],
            Kernel::ClipScale { ref tensors, .. } => {
                let slots = tensors.iter().map(|t| t.slot + 1).max().unwrap_or(0);
                vec![
                    A::read("partials", 2 * segment_count(tensors)),
                    A::write("stats", 3 * slots),
                    A::write("scales", slots),
                    step,
                ]
            }
            Kernel::Update {
                rule, ref tensors, ..
            } => {
                let end = arena_end(tensors);
                let slots = tensors.iter().map(|t| t.slot + 1).max().unwrap_or(0);
                let mut v = vec![
                    A::write("w", end),
                    A::read("grad", end),
                    A::read("scales", slots),
                    step,
                ];
                v.extend(rule.slots().iter().map(|name| A::write(name, end)));
                v
            }
            Kernel::Im2col { win } => vec![
                A::read("x", win.input_len()),
                A::write("cols", win.positions() * win.patch()),
            ],
            Kernel::Col2im { win } => vec![
                A::read("cols", win.positions() * win.patch()),
                A::write("dx", win.input_len()),
            ],
            Kernel::ConvDirect { win, filters, .. } => vec![
                A::read("x", win.input_len()),
                A::read("w", win.patch() * filters),
                A::read("bias", filters),
                A::write("y", win.positions() * filters),
                step,
            ],
            Kernel::ConvDirectWeightGrad {
                win,
                filters,
                stripes,
            } => vec![
                A::read("x", win.input_len()),
                A::read("dz", win.positions() * filters),
                A::write("partials", stripes * win.patch() * filters),
            ],
            Kernel::ConvInputGrad { win, filters } => vec![
                A::read("dz", win.positions() * filters),
                A::read("w", win.patch() * filters),
                A::write("dx", win.input_len()),
            ],
            Kernel::ConvInputGradAct {
                win, filters, bias, ..
            } => {
                let mut args = vec![
                    A::read("dz", win.positions() * filters),
                    A::read("w", win.patch() * filters),
                    A::read("y", win.input_len()),
                    A::write("dx", win.input_len()),
                ];
                if bias {
                    let rows = input_grad_partial_rows(&win);
                    args.push(A::write("partials", rows * win.c));
                }
                args.push(step);
                args
            }
            Kernel::MaxPool { win } => vec![
                A::read("x", win.input_len()),
                A::write("y", win.pooled_len()),
                A::write("argmax", win.pooled_len()).u32(),
            ],
            Kernel::MaxPoolBackward { win } => vec![
                A::read("dy", win.pooled_len()),
                A::read("argmax", win.pooled_len()).u32(),
                A::write("dx", win.input_len()),
            ],
            Kernel::MaxPoolActBackward { win, .. } => vec![
                A::read("y", win.input_len()),
                A::read("dy", win.pooled_len()),
                A::read("argmax", win.pooled_len()).u32(),
                A::write("dz", win.input_len()),
                A::write("partials", pool_chunks(&win) * win.c),
                step,
            ],
            Kernel::AvgPool { win } => vec![
                A::read("x", win.input_len()),
                A::write("y", win.pooled_len()),
            ],
            Kernel::AvgPoolBackward { win } => vec![
                A::read("dy", win.pooled_len()),
                A::write("dx", win.input_len()),
            ],
            Kernel::Dropout { ref mask } => {
                vec![A::read("x", mask.len()), A::write("y", mask.len()), step]
            }
            Kernel::DropoutBackward { ref mask } => {
                vec![A::read("dy", mask.len()), A::write("dx", mask.len()), step]
            }
            Kernel::Penalty { ref tensors, first } => {
                let end = tensors
                    .iter()
                    .map(|t| t.tensor.offset + t.tensor.n)
                    .max()
                    .unwrap_or(0);
                let chunks = crate::backend::ops::regularization::penalty_chunks(tensors);
                vec![
                    A::read("w", end),
                    A::write("grad", end),
                    A::write("partials", first + chunks),
                ]
            }
            Kernel::AddPenalty { chunks, .. } => {
                vec![A::read("partials", chunks), A::write("metrics", 3)]
            }
            Kernel::MaxNorm { rows, cols, .. } => vec![A::write("w", rows * cols)],
            Kernel::BnTrainGatherU8 { rows, cols, .. } => vec![
                A::read("data", 0).u32(),
                A::read("labels", 0).u32(),
                A::read("perm", rows).u32(),
                step,
                A::write("x", rows * cols),
                A::write("batch_labels", rows).u32(),
                A::read("gamma", cols),
                A::read("beta", cols),
                A::write("y", rows * cols),
                A::write("stats", 2 * cols),
                A::write("moving_mean", cols),
                A::write("moving_var", cols),
            ],
            Kernel::BnTrainXhat {
                rows,
                cols,
                eps,
                momentum,
            } => {
                // BnTrain's buffers, then x̂.
                let train = Kernel::BnTrain {
                    rows,
                    cols,
                    eps,
                    momentum,
                };
                let mut args = train.args();
                args.push(A::write("xhat", rows * cols));
                args
            }
            Kernel::BnDenseBackward { features, units } => vec![
                A::read("w", features * units),
                A::read("gamma", features),
                A::read("beta", features),
                A::read("dz_sums", units),
                A::write("dw", features * units),
                A::write("dgamma", features),
                A::write("dbeta", features),
                A::write("db", units),
            ],
            Kernel::GatherU8 { rows, features } => vec![
                A::read("data", 0).u32(),
                A::read("labels", 0).u32(),
                A::read("perm", rows).u32(),
                step,
                A::write("x", rows * features),
                A::write("y", rows).u32(),
            ],
            Kernel::GatherF32 { rows, features } => vec![
                A::read("data", 0),
                A::read("labels", 0).u32(),
                A::read("perm", rows).u32(),
                step,
                A::write("x", rows * features),
                A::write("y", rows).u32(),
            ],
        }
    }
}
