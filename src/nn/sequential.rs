//! The Sequential container: Keras naming, shape inference, weight creation, surgery for
//! transfer learning, and lowering of the forward pass into a graph. It holds no backend:
//! a `Session` (`src/train/`) takes a model, trains it on a device, and hands it back.

use std::collections::{HashMap, HashSet};

use super::layer::{Layer, Lowered, Lowering};
use super::regularizers::{Constraint, Regularizer};
use crate::backend::pcg;
use crate::error::{Error, Result};
use crate::graph::{Graph, TensorId};

/// Largest tensor (in values) a model may create: 2³⁰ floats (4 GiB).
pub const MAX_TENSOR_VALUES: usize = 1 << 30;
/// Most parameters a model may hold in all: 2³⁰ floats (4 GiB), checked before any is
/// allocated.
pub const MAX_MODEL_VALUES: usize = 1 << 30;

/// One weight tensor with its Keras name (`dense/kernel`) and shape.
#[derive(Clone, Debug, PartialEq)]
pub struct Weight {
    /// `layer/variable`.
    pub name: String,
    /// Keras's shape (kernels are (inputs, units)).
    pub shape: Vec<usize>,
    /// Values, row-major.
    pub data: Vec<f32>,
    /// Index of the owning layer.
    pub layer: usize,
    /// Whether the optimizer may update it (false for BN moving statistics).
    pub optimizable: bool,
}

/// How a forward pass runs (see [`Sequential::lower_pass`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Pass {
    /// Training mode: batch statistics, RReLU's drawn slopes.
    pub training: bool,
    /// Dropout layers drop units.
    pub dropout: bool,
    /// This rank's shard of a global batch, in data-parallel training.
    pub shard: Option<crate::dist::Shard>,
}

/// A linear stack of layers with its weights on the host, as Keras's `Sequential`.
#[derive(Clone, Debug, PartialEq)]
pub struct Sequential {
    input_shape: Vec<usize>,
    layers: Vec<Layer>,
    weights: Vec<Weight>,
    seed: u64,
    /// Weight name → index into `weights` (lookups by name stay O(1) in deep models).
    by_name: HashMap<String, usize>,
}

/// The product of `dims`, or an error when it overflows or exceeds
/// [`MAX_TENSOR_VALUES`].
pub fn checked_numel(dims: &[usize], what: &str) -> Result<usize> {
    let n = dims
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .filter(|&n| n <= MAX_TENSOR_VALUES)
        .ok_or_else(|| {
            Error::Config(format!(
                "{what} of shape {dims:?} is too large (at most {MAX_TENSOR_VALUES} values)"
            ))
        })?;
    Ok(n)
}

impl Sequential {
    /// Builds a model: names its layers as Keras would (`dense`, `dense_1`, …), checks
    /// every layer's configuration, infers shapes, and initializes the weights from `seed`.
    pub fn new(input_shape: &[usize], layers: Vec<Layer>, seed: u64) -> Result<Sequential> {
        if input_shape.is_empty() || input_shape.contains(&0) {
            return Err(Error::Shape(format!(
                "input shape {input_shape:?} is empty"
            )));
        }
        checked_numel(input_shape, "the input")?;
        let mut counts: HashMap<String, usize> = HashMap::new();
        // Sets, not lists: naming stays linear in the layer count.
        let mut taken: HashSet<String> = layers
            .iter()
            .map(|l| l.name.clone())
            .filter(|n| !n.is_empty())
            .collect();
        let mut named = Vec::with_capacity(layers.len());
        for mut l in layers {
            if l.name.is_empty() {
                let stem = l.name_stem();
                loop {
                    let k = counts.entry(stem.clone()).or_insert(0);
                    let candidate = if *k == 0 {
                        stem.clone()
                    } else {
                        format!("{stem}_{k}")
                    };
                    *k += 1;
                    if taken.insert(candidate.clone()) {
                        l.name = candidate;
                        break;
                    }
                }
            }
            named.push(l);
        }
        let mut seen = HashSet::new();
        for l in &named {
            if !seen.insert(l.name.as_str()) {
                return Err(Error::Config(format!("two layers are named {:?}", l.name)));
            }
            l.ops()
                .validate()
                .map_err(|e| Error::Config(format!("{}: {e}", l.name)))?;
        }
        let mut model = Sequential {
            input_shape: input_shape.to_vec(),
            layers: named,
            weights: Vec::new(),
            seed,
            by_name: HashMap::new(),
        };
        model.weights = model.init_weights(seed, 0)?;
        model.reindex();
        Ok(model)
    }

    /// Creates the weights of layers `from..` (checked sizes, seeded initializers).
    fn init_weights(&self, seed: u64, from: usize) -> Result<Vec<Weight>> {
        let shapes = self.output_shapes()?;
        // Count first: a model too large is refused before anything is allocated.
        let mut total: usize = self
            .weights
            .iter()
            .filter(|w| w.layer < from)
            .map(|w| w.data.len())
            .sum();
        let mut input = self.input_shape.clone();
        for (li, l) in self.layers.iter().enumerate() {
            if li >= from {
                for spec in l.ops().weight_specs(&input) {
                    let n = checked_numel(&spec.shape, &format!("{}/{}", l.name, spec.var))?;
                    total = total.saturating_add(n);
                }
            }
            input = shapes[li].clone();
        }
        if total > MAX_MODEL_VALUES {
            return Err(Error::Config(format!(
                "the model would hold {total} parameters ({:.1} GiB of float32); the limit is {MAX_MODEL_VALUES}",
                total as f64 * 4.0 / (1u64 << 30) as f64
            )));
        }
        let mut weights = Vec::new();
        let mut input = self.input_shape.clone();
        let mut index = self.weights.iter().filter(|w| w.layer < from).count();
        for (li, l) in self.layers.iter().enumerate() {
            if li >= from {
                for spec in l.ops().weight_specs(&input) {
                    let name = format!("{}/{}", l.name, spec.var);
                    checked_numel(&spec.shape, &name)?;
                    let wseed = pcg(seed as u32 ^ pcg(index as u32 + 1)) as u64 | (seed << 32);
                    index += 1;
                    weights.push(Weight {
                        data: spec.init.sample(&spec.shape, wseed),
                        name,
                        shape: spec.shape,
                        layer: li,
                        optimizable: spec.optimizable,
                    });
                }
            }
            input = shapes[li].clone();
        }
        Ok(weights)
    }

    /// Shape of one input sample, e.g. `[28, 28]`.
    pub fn input_shape(&self) -> &[usize] {
        &self.input_shape
    }

    /// Values per input sample.
    pub fn input_features(&self) -> usize {
        self.input_shape.iter().product()
    }

    /// The layers, named.
    pub fn layers(&self) -> &[Layer] {
        &self.layers
    }

    /// Every weight, in layer order.
    pub fn weights(&self) -> &[Weight] {
        &self.weights
    }

    /// Seed of the initializers and of RReLU's generator.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Output shape of every layer (without the batch axis).
    pub fn output_shapes(&self) -> Result<Vec<Vec<usize>>> {
        let mut shape = self.input_shape.clone();
        let mut out = Vec::new();
        for l in &self.layers {
            shape = l
                .ops()
                .output_shape(&shape)
                .map_err(|e| Error::Shape(format!("{}: {e}", l.name)))?;
            checked_numel(&shape, &l.name)?;
            out.push(shape.clone());
        }
        Ok(out)
    }

    /// Units of the output layer.
    pub fn output_units(&self) -> usize {
        self.output_shapes()
            .ok()
            .and_then(|s| s.last().map(|v| v.iter().product()))
            .unwrap_or_else(|| self.input_features())
    }

    /// The activation the model ends with (linear when none).
    pub fn output_activation(&self) -> crate::backend::ActKind {
        self.layers
            .iter()
            .rev()
            .find_map(|l| l.ops().activation())
            .unwrap_or(crate::backend::ActKind::Linear)
    }

    /// Each weight's regularizer and constraint (from its layer's config), in weight order.
    pub fn weight_rules(&self) -> Vec<(Option<Regularizer>, Option<Constraint>)> {
        let shapes = self.output_shapes().unwrap_or_default();
        let mut input = self.input_shape.clone();
        let mut by_name = HashMap::new();
        for (li, l) in self.layers.iter().enumerate() {
            for spec in l.ops().weight_specs(&input) {
                let name = format!("{}/{}", l.name, spec.var);
                by_name.insert(name, (spec.regularizer, spec.constraint));
            }
            if let Some(s) = shapes.get(li) {
                input = s.clone();
            }
        }
        self.weights
            .iter()
            .map(|w| by_name.remove(&w.name).unwrap_or((None, None)))
            .collect()
    }

    /// Index of a weight by its name.
    pub fn weight_index(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).copied()
    }

    /// Rebuilds the name index after the weights changed.
    fn reindex(&mut self) {
        self.by_name = (self.weights.iter().enumerate())
            .map(|(i, w)| (w.name.clone(), i))
            .collect();
    }

    /// Whether weight `i` is updated by training (optimizable and its layer trainable).
    pub fn is_trainable(&self, i: usize) -> bool {
        self.weights[i].optimizable && self.layers[self.weights[i].layer].trainable
    }

    /// `(total, trainable, non-trainable)` parameter counts.
    pub fn param_counts(&self) -> (usize, usize, usize) {
        let mut t = 0;
        let mut nt = 0;
        for (i, w) in self.weights.iter().enumerate() {
            if self.is_trainable(i) {
                t += w.data.len();
            } else {
                nt += w.data.len();
            }
        }
        (t + nt, t, nt)
    }

    /// Replaces weight `name`'s values.
    pub fn set_weight(&mut self, name: &str, data: &[f32]) -> Result<()> {
        let i = self
            .weight_index(name)
            .ok_or_else(|| Error::Config(format!("no weight named {name}")))?;
        if data.len() != self.weights[i].data.len() {
            return Err(Error::Shape(format!(
                "{name} holds {} values ({:?}), got {}",
                self.weights[i].data.len(),
                self.weights[i].shape,
                data.len()
            )));
        }
        self.weights[i].data.copy_from_slice(data);
        Ok(())
    }

    /// Seed of layer `li`'s RReLU generator (fits the kernel's 24 bits).
    fn layer_seed(&self, li: usize) -> u32 {
        pcg(self.seed as u32 ^ pcg(li as u32 + 0x5eed)) & 0xff_ffff
    }

    /// Lowers the forward pass for a batch of `rows` into `g`. `weights` maps every weight
    /// name to its graph tensor. In training mode BN uses batch statistics and updates its
    /// moving averages (unless frozen) and RReLU draws slopes. The last activation is left
    /// unapplied (see [`Lowered`]).
    pub fn lower(
        &self,
        g: &mut Graph,
        x: TensorId,
        rows: usize,
        training: bool,
        step: TensorId,
        weights: &HashMap<String, TensorId>,
    ) -> Result<Lowered> {
        let pass = Pass {
            training,
            dropout: training,
            shard: None,
        };
        self.lower_pass(g, (x, rows), pass, step, weights)
    }

    /// [`Sequential::lower`] for one pass: `training` or not, dropout active or not (MC
    /// dropout: active in inference), and on several ranks this rank's shard of the global
    /// batch (synchronized batch norm sums its statistics across ranks, the others average
    /// their moving statistics).
    pub fn lower_pass(
        &self,
        g: &mut Graph,
        (x, rows): (TensorId, usize),
        pass: Pass,
        step: TensorId,
        weights: &HashMap<String, TensorId>,
    ) -> Result<Lowered> {
        let mut cx = Lowering::new(g, x, rows, &self.input_shape, pass.training, step, weights);
        cx.dropout = pass.dropout;
        cx.shard = pass.shard;
        for (li, l) in self.layers.iter().enumerate() {
            cx.begin_layer(li, &l.name, l.trainable, self.layer_seed(li));
            l.ops().lower(&mut cx)?;
        }
        Ok(cx.finish())
    }
}

/// Surgery for transfer learning: drop the head, add layers, freeze and unfreeze.
impl Sequential {
    /// A copy of every layer but the last `k` (the head), with their weights.
    pub fn without_top(&self, k: usize) -> Result<Sequential> {
        if k >= self.layers.len() {
            return Err(Error::Config(format!(
                "cannot remove {k} layers from a model of {}",
                self.layers.len()
            )));
        }
        let mut m = self.clone();
        let keep = m.layers.len() - k;
        m.layers.truncate(keep);
        m.weights.retain(|w| w.layer < keep);
        m.reindex();
        Ok(m)
    }

    /// Appends a layer (named as Keras would if its name is empty) and initializes its
    /// weights from `seed`.
    pub fn add(&mut self, layer: impl Into<Layer>, seed: u64) -> Result<()> {
        let mut layers = self.layers.clone();
        layers.push(layer.into());
        // Name and validate the new layer as part of the whole stack.
        let li = layers.len() - 1;
        let mut named = self.clone();
        named.layers = layers;
        let probe = Sequential::new(&self.input_shape, named.layers.clone(), seed)?;
        named.layers = probe.layers;
        named.weights.extend(named.init_weights(seed, li)?);
        named.reindex();
        *self = named;
        Ok(())
    }

    /// Freezes or unfreezes layer `index`. Frozen layers get no gradient and no update; a
    /// frozen BatchNormalization runs in inference mode (its moving statistics stay put).
    pub fn set_trainable(&mut self, index: usize, on: bool) -> Result<()> {
        self.layer_mut(index)?.trainable = on;
        Ok(())
    }

    /// Sets the learning-rate multiplier of layer `index` (e.g. lower for unfrozen layers).
    pub fn set_lr_multiplier(&mut self, index: usize, m: f32) -> Result<()> {
        if !(m >= 0.0 && m.is_finite()) {
            return Err(Error::Config(format!(
                "learning-rate multiplier {m} must be a finite number ≥ 0"
            )));
        }
        self.layer_mut(index)?.lr_multiplier = m;
        Ok(())
    }

    fn layer_mut(&mut self, index: usize) -> Result<&mut Layer> {
        let n = self.layers.len();
        self.layers
            .get_mut(index)
            .ok_or_else(|| Error::Config(format!("no layer {index} (the model has {n})")))
    }

    /// Indices of the layers that hold weights, bottom to top.
    pub fn weighted_layers(&self) -> Vec<usize> {
        let mut v: Vec<usize> = self.weights.iter().map(|w| w.layer).collect();
        v.dedup();
        v
    }
}
