//! Step plans: the graph of one training step, evaluation batch or prediction batch,
//! assembled from the model's lowering, the loss, autodiff and the optimizer's update,
//! then prepared once on the backend and replayed.

use std::collections::HashMap;

use super::session::Session;
use super::training_graph::TrainingGraph;
use crate::backend::{Backend, BufId, Kernel};
use crate::dist::Shard;
use crate::error::Result;
use crate::graph::autodiff::Seed;
use crate::graph::{Executor, Graph, TensorId};
use crate::nn::layer::{apply_activation, RecordedActivation};
use crate::nn::sequential::Pass;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Mode {
    Train,
    /// A training step that also computes the health statistics.
    TrainHealth,
    Eval,
    Predict,
    /// Inference with dropout active (MC dropout), batch norm in inference mode.
    PredictMc,
    /// Inference that keeps every hidden activation (for the activation statistics).
    Inspect,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct PlanKey {
    pub mode: Mode,
    pub rows: usize,
    /// Resident data set (its data buffer), or `None` for host-written batches.
    pub data: Option<BufId>,
    /// Rows of the global batch this one is a shard of (`rows` in one process).
    pub total: usize,
}

/// A prepared graph and the buffers it owns.
pub(crate) struct Plan {
    pub exec: Executor,
    pub host_x: Option<BufId>,
    pub host_y: Option<BufId>,
    pub output: TensorId,
    /// Constant buffers and gradient views the plan owns (freed with it).
    pub consts: Vec<BufId>,
    pub activations: Vec<RecordedActivation>,
    /// For health steps: the buffer the statistics land in, and what is where.
    pub health: Option<(BufId, HealthLayout)>,
}

/// Where a health step writes: `acts[i]` at `4·i` (mean, std, dead, saturated), then
/// `kernels[j]` at `4·acts.len() + 2·j` (‖w‖², ‖Δw‖²).
#[derive(Clone, Debug, Default)]
pub(crate) struct HealthLayout {
    /// (layer index, activation name) of every recorded activation.
    pub acts: Vec<(usize, &'static str)>,
    /// (layer index, weight index) of every updated kernel.
    pub kernels: Vec<(usize, usize)>,
}

impl HealthLayout {
    pub fn words(&self) -> usize {
        4 * self.acts.len() + 2 * self.kernels.len()
    }
}

/// The prepared plans of a session, by key.
#[derive(Default)]
pub(crate) struct Plans {
    map: HashMap<PlanKey, Plan>,
}

impl Plans {
    /// The plan of `key` (prepared by [`Session::plan`]).
    pub fn get(&self, key: &PlanKey) -> &Plan {
        &self.map[key]
    }

    /// Adds a prepared plan.
    pub fn insert(&mut self, key: PlanKey, plan: Plan) {
        self.map.insert(key, plan);
    }

    /// Whether `key`'s plan is prepared.
    pub fn contains(&self, key: &PlanKey) -> bool {
        self.map.contains_key(key)
    }

    /// Drops every plan (after freezing, unfreezing, a new loss or optimizer the step
    /// graphs differ).
    pub fn clear(&mut self, backend: &mut dyn Backend) {
        for (_, p) in self.map.drain() {
            p.release(backend);
        }
    }

    /// Drops the plans that gather from the resident data set `data`.
    pub fn drop_data(&mut self, backend: &mut dyn Backend, data: BufId) {
        let stale: Vec<PlanKey> = (self.map.keys())
            .filter(|k| k.data == Some(data))
            .copied()
            .collect();
        for k in stale {
            self.map.remove(&k).expect("a plan").release(backend);
        }
    }
}

impl Plan {
    /// Frees the buffers the plan owns.
    pub fn release(self, backend: &mut dyn Backend) {
        for b in self
            .consts
            .into_iter()
            .chain(self.host_x)
            .chain(self.host_y)
        {
            backend.free(b);
        }
        self.exec.release(backend);
    }
}

impl Session {
    /// Builds and prepares the graph for `key` (once; later calls find it).
    pub(crate) fn plan(&mut self, key: PlanKey) -> Result<()> {
        if self.plans.contains(&key) {
            return Ok(());
        }
        let rows = key.rows;
        let features = self.weights.model.input_features();
        let mut g = Graph {
            storage_limit: Some(self.device.backend.max_storage_buffers()),
            subgroups8: self.device.backend.subgroups8(),
            ..Graph::default()
        };
        let mut bound: HashMap<TensorId, BufId> = HashMap::new();
        let step = g.external("step", &[crate::backend::STEP_WORDS]);
        bound.insert(step, self.device.record);
        let mut by_name = HashMap::new();
        let w: Vec<TensorId> = (self.weights.model.weights().iter())
            .zip(&self.weights.views)
            .map(|(wt, b)| {
                let t = g.external(wt.name.clone(), &wt.shape);
                bound.insert(t, *b);
                by_name.insert(wt.name.clone(), t);
                t
            })
            .collect();
        let (x, y, host_x, host_y) = match key.data {
            Some(data) => {
                let r = self.data.by_data(data);
                let backend = &self.device.backend;
                let n = backend.len(r.labels);
                let dt = g.external("dataset", &[backend.len(r.data)]);
                let lt = g.external("labels", &[n]);
                let pt = g.external("perm", &[n]);
                bound.insert(dt, r.data);
                bound.insert(lt, r.labels);
                bound.insert(pt, r.perm);
                let x = g.temp("x", &[rows, features]);
                let y = g.temp("y", &[rows]);
                let k = if r.bytes {
                    Kernel::GatherU8 { rows, features }
                } else {
                    Kernel::GatherF32 { rows, features }
                };
                g.push(k, vec![dt, lt, pt, step, x, y]);
                (x, y, None, None)
            }
            None => {
                let x = g.external("x", &[rows, features]);
                let y = g.external("y", &[rows]);
                let bx = self.device.backend.alloc(rows * features)?;
                let by = self.device.backend.alloc(rows)?;
                bound.insert(x, bx);
                bound.insert(y, by);
                (x, y, Some(bx), Some(by))
            }
        };
        let training = matches!(key.mode, Mode::Train | Mode::TrainHealth);
        // A training shard of a global batch: its graph gets the all-reduce points.
        let ranks = self.comm.as_ref().map_or(1, |c| c.size());
        let shard = (training && ranks > 1).then_some(Shard {
            total: key.total,
            ranks,
        });
        let pass = Pass {
            training,
            dropout: training || key.mode == Mode::PredictMc,
            shard,
        };
        let fwd = (self.weights.model).lower_pass(&mut g, (x, rows), pass, step, &by_name)?;
        let mut health = None;
        if key.mode == Mode::TrainHealth {
            let mut layout = HealthLayout {
                acts: fwd.activations.iter().map(|a| (a.layer, a.name)).collect(),
                kernels: Vec::new(),
            };
            let model = &self.weights.model;
            for (li, l) in model.layers().iter().enumerate() {
                let kernel = format!("{}/kernel", l.name);
                if let Some(wi) = model.weight_index(&kernel) {
                    if model.is_trainable(wi) {
                        layout.kernels.push((li, wi));
                    }
                }
            }
            let ht = g.external("health", &[layout.words().max(1)]);
            let hb = self.device.backend.alloc(layout.words().max(1))?;
            bound.insert(ht, hb);
            for (i, a) in fwd.activations.iter().enumerate() {
                // Per unit of the last axis (a filter of a convolution), over every
                // sample and position.
                let cols = a.units;
                let rows = g.tensors[a.tensor.0].numel() / cols;
                let saturation = match a.act {
                    crate::backend::ActKind::Tanh => 1,
                    crate::backend::ActKind::Sigmoid => 2,
                    _ => 0,
                };
                g.push(
                    Kernel::ActStats {
                        rows,
                        cols,
                        saturation,
                        offset: 4 * i,
                    },
                    vec![a.tensor, ht],
                );
            }
            health = Some((ht, hb, layout));
        }
        let mut keep = Vec::new();
        // Buffers and views the plan owns (freed with it).
        let mut owned = Vec::new();
        let output;
        if key.mode == Mode::Inspect {
            keep.extend(fwd.activations.iter().map(|a| a.tensor));
        }
        if matches!(key.mode, Mode::Predict | Mode::PredictMc | Mode::Inspect) {
            output = apply_activation(
                &mut g,
                fwd.pre_activation,
                fwd.last_activation,
                false,
                fwd.last_seed,
                step,
                fwd.units,
            );
            keep.push(output);
        } else {
            let (kind, fused) = self.loss().kernel(fwd.last_activation)?;
            let input = if fused {
                fwd.pre_activation
            } else {
                apply_activation(
                    &mut g,
                    fwd.pre_activation,
                    fwd.last_activation,
                    training,
                    fwd.last_seed,
                    step,
                    fwd.units,
                )
            };
            let units = g.dims2(input).1;
            let dinput = g.temp("dloss", &[rows, units]);
            let sums = g.temp("dloss/column_sums", &[units]);
            let metrics = g.external("metrics", &[3]);
            bound.insert(metrics, self.device.metrics);
            g.push(
                Kernel::Loss {
                    kind,
                    rows,
                    cols: units,
                    total: if shard.is_some() { key.total } else { rows },
                },
                vec![input, y, dinput, sums, metrics],
            );
            output = input;
            if training {
                let h = health.as_ref().map(|(t, _, l)| (*t, l));
                let seed = Seed {
                    y: input,
                    dy: dinput,
                    dy_column_sums: Some(sums),
                };
                let sharded = shard.is_some();
                let cx = TrainingGraph {
                    bound: &mut bound,
                    views: &mut owned,
                    w: &w,
                    step,
                    rows,
                    health: h,
                    sharded,
                };
                self.lower_training(&mut g, cx, seed)?;
            }
        }
        let mut const_bufs = owned;
        for (t, value) in &fwd.consts {
            let n = g.tensors[t.0].numel();
            let b = self.device.backend.upload(&vec![*value; n])?;
            bound.insert(*t, b);
            const_bufs.push(b);
        }
        crate::graph::fuse::gather_into_batch_norm(&mut g);
        crate::graph::data_norm::dense_over_data_norm(&mut g, &keep);
        crate::graph::fuse::output_layer_into_loss(&mut g);
        while crate::graph::fuse::batch_norm_into_activation(&mut g, &keep) {}
        while crate::graph::fuse::conv_input_grad(&mut g) {}
        while crate::graph::fuse::conv_input_grad_act(&mut g, &keep) {}
        let exec = Executor::new(&g, self.device.backend.as_mut(), &bound, &keep)?;
        self.plans.insert(
            key,
            Plan {
                exec,
                host_x,
                host_y,
                output,
                consts: const_bufs,
                activations: fwd.activations,
                health: health.map(|(_, b, l)| (b, l)),
            },
        );
        Ok(())
    }
}
