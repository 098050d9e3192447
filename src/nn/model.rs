//! The Sequential container: Keras naming, shape inference, weight creation, `summary()`,
//! and lowering of the forward pass into a graph.

use std::collections::HashMap;

use super::init::Initializer;
use super::layers::{Layer, LayerKind};
use super::training::Trainer;
use crate::backend::cpu::pcg;
use crate::backend::{ActKind, Kernel};
use crate::error::{Error, Result};
use crate::graph::{Graph, TensorId};

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

/// A linear stack of layers, as Keras's `Sequential`.
pub struct Sequential {
    /// Shape of one input sample, e.g. `[28, 28]`.
    pub input_shape: Vec<usize>,
    /// The layers, named.
    pub layers: Vec<Layer>,
    /// Every weight, in layer order. While compiled, the device holds the current values;
    /// call [`Sequential::sync_weights`] (or `get_weights`) to bring them back.
    pub weights: Vec<Weight>,
    /// Seed of the initializers and of RReLU's generator.
    pub seed: u64,
    pub(crate) trainer: Option<Trainer>,
}

/// The forward pass lowered into a graph.
pub(crate) struct Forward {
    /// Output before the last activation (the logits when that is a softmax).
    pub pre_activation: TensorId,
    /// The last activation, not yet applied.
    pub last_activation: ActKind,
    /// Seed of that activation (for RReLU).
    pub last_seed: u32,
    /// Output of every hidden activation (and PReLU), with its layer index.
    pub activations: Vec<(usize, TensorId)>,
}

/// Constant tensors a graph needs (BN without center/scale), to be allocated by the caller.
pub(crate) type Constants = Vec<(TensorId, f32)>;

/// The graph tensors a forward pass binds: every weight, the step record, and the
/// constants it asks for.
pub(crate) struct Bound<'a> {
    /// Graph tensor of every weight, in `Sequential::weights` order.
    pub weights: &'a [TensorId],
    /// The step record.
    pub step: TensorId,
    /// Constants requested while lowering.
    pub consts: &'a mut Constants,
}

impl Sequential {
    /// Builds a model: names its layers as Keras would (`dense`, `dense_1`, …), infers
    /// shapes, and initializes the weights from `seed`.
    pub fn new(input_shape: &[usize], layers: Vec<Layer>, seed: u64) -> Result<Sequential> {
        if input_shape.is_empty() || input_shape.contains(&0) {
            return Err(Error::Shape(format!(
                "input shape {input_shape:?} is empty"
            )));
        }
        let mut counts: HashMap<String, usize> = HashMap::new();
        let mut named = Vec::with_capacity(layers.len());
        let mut taken: Vec<String> = layers
            .iter()
            .map(|l| l.name.clone())
            .filter(|n| !n.is_empty())
            .collect();
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
                    if !taken.contains(&candidate) {
                        l.name = candidate.clone();
                        taken.push(candidate);
                        break;
                    }
                }
            }
            named.push(l);
        }
        for (i, l) in named.iter().enumerate() {
            if named[..i].iter().any(|o| o.name == l.name) {
                return Err(Error::Config(format!("two layers are named {:?}", l.name)));
            }
        }
        let mut model = Sequential {
            input_shape: input_shape.to_vec(),
            layers: named,
            weights: Vec::new(),
            seed,
            trainer: None,
        };
        let shapes = model.output_shapes()?;
        let mut weights = Vec::new();
        let mut features = input_shape.iter().product::<usize>();
        for (li, l) in model.layers.iter().enumerate() {
            let mut add = |var: &str, shape: Vec<usize>, init: Initializer, optimizable: bool| {
                let wseed = pcg(seed as u32 ^ pcg(weights.len() as u32 + 1)) as u64 | (seed << 32);
                weights.push(Weight {
                    name: format!("{}/{var}", l.name),
                    data: init.sample(&shape, wseed),
                    shape,
                    layer: li,
                    optimizable,
                });
            };
            match &l.kind {
                LayerKind::Dense(d) => {
                    add(
                        "kernel",
                        vec![features, d.units],
                        d.kernel_initializer,
                        true,
                    );
                    if d.use_bias {
                        add("bias", vec![d.units], d.bias_initializer, true);
                    }
                }
                LayerKind::BatchNormalization(bn) => {
                    if bn.scale {
                        add("gamma", vec![features], Initializer::Ones, true);
                    }
                    if bn.center {
                        add("beta", vec![features], Initializer::Zeros, true);
                    }
                    add("moving_mean", vec![features], Initializer::Zeros, false);
                    add("moving_variance", vec![features], Initializer::Ones, false);
                }
                LayerKind::PRelu => add("alpha", vec![features], Initializer::Zeros, true),
                LayerKind::Flatten | LayerKind::Activation(_) => {}
            }
            features = shapes[li].iter().product();
        }
        model.weights = weights;
        Ok(model)
    }

    /// Output shape of every layer (without the batch axis).
    pub fn output_shapes(&self) -> Result<Vec<Vec<usize>>> {
        let mut shape = self.input_shape.clone();
        let mut out = Vec::new();
        for l in &self.layers {
            let needs_flat = |what: &str| -> Result<()> {
                if shape.len() != 1 {
                    Err(Error::Shape(format!(
                        "{} ({what}) receives samples of shape {shape:?}; add a Flatten layer before it",
                        l.name
                    )))
                } else {
                    Ok(())
                }
            };
            match &l.kind {
                LayerKind::Flatten => shape = vec![shape.iter().product()],
                LayerKind::Dense(d) => {
                    needs_flat("Dense")?;
                    if d.units == 0 {
                        return Err(Error::Config(format!("{} has 0 units", l.name)));
                    }
                    shape = vec![d.units];
                }
                LayerKind::BatchNormalization(_) => needs_flat("BatchNormalization")?,
                LayerKind::PRelu => needs_flat("PReLU")?,
                LayerKind::Activation(_) => {}
            }
            out.push(shape.clone());
        }
        Ok(out)
    }

    /// Units of the output layer.
    pub fn output_units(&self) -> usize {
        self.output_shapes()
            .ok()
            .and_then(|s| s.last().map(|v| v.iter().product()))
            .unwrap_or_else(|| self.input_shape.iter().product())
    }

    /// Index of a weight by its name.
    pub fn weight_index(&self, name: &str) -> Option<usize> {
        self.weights.iter().position(|w| w.name == name)
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
            let n = w.data.len();
            if self.is_trainable(i) {
                t += n;
            } else {
                nt += n;
            }
        }
        (t + nt, t, nt)
    }

    /// The model summary in Keras's layout (the table `model.summary()` prints): layer
    /// (type), output shape and parameter count per layer, then total, trainable and
    /// non-trainable counts, which follow freezing.
    pub fn summary(&self) -> String {
        const WIDTHS: [usize; 3] = [31, 22, 13];
        let shapes = self.output_shapes().unwrap_or_default();
        let line = |l: char, m: char, r: char, fill: char| {
            let parts: Vec<String> = WIDTHS
                .iter()
                .map(|w| fill.to_string().repeat(w + 2))
                .collect();
            format!("{l}{}{r}\n", parts.join(&m.to_string()))
        };
        // One table row; cells wrap at spaces (or inside a word too long for the column).
        let row = |cells: [String; 3], right: [bool; 3], bar: char| {
            let wrapped: Vec<Vec<String>> = cells
                .iter()
                .zip(WIDTHS)
                .map(|(text, w)| wrap(text, w))
                .collect();
            let height = wrapped.iter().map(|c| c.len()).max().unwrap_or(1);
            let mut out = String::new();
            for i in 0..height {
                out.push(bar);
                for (c, (col, w)) in wrapped.iter().zip(WIDTHS).enumerate() {
                    let t = col.get(i).map(String::as_str).unwrap_or("");
                    if right[c] {
                        out += &format!(" {t:>w$} ");
                    } else {
                        out += &format!(" {t:<w$} ");
                    }
                    out.push(bar);
                }
                out.push('\n');
            }
            out
        };
        let mut out = String::from("Model: \"sequential\"\n");
        out += &line('┏', '┳', '┓', '━');
        out += &row(
            [
                "Layer (type)".into(),
                "Output Shape".into(),
                "Param #".into(),
            ],
            [false, false, true],
            '┃',
        );
        out += &line('┡', '╇', '┩', '━');
        for (li, l) in self.layers.iter().enumerate() {
            if li > 0 {
                out += &line('├', '┼', '┤', '─');
            }
            let params: usize = self
                .weights
                .iter()
                .filter(|w| w.layer == li)
                .map(|w| w.data.len())
                .sum();
            let shape = shapes
                .get(li)
                .map(|s| {
                    let dims: Vec<String> = s.iter().map(|d| d.to_string()).collect();
                    format!("(None, {})", dims.join(", "))
                })
                .unwrap_or_default();
            out += &row(
                [
                    format!("{} ({})", l.name, l.class_name),
                    shape,
                    thousands(params),
                ],
                [false, false, true],
                '│',
            );
        }
        out += &line('└', '┴', '┘', '─');
        let (total, trainable, non) = self.param_counts();
        out += &format!(
            " Total params: {} ({})\n",
            thousands(total),
            param_bytes(total)
        );
        out += &format!(
            " Trainable params: {} ({})\n",
            thousands(trainable),
            param_bytes(trainable)
        );
        out += &format!(
            " Non-trainable params: {} ({})\n",
            thousands(non),
            param_bytes(non)
        );
        out
    }

    /// Seed of layer `li`'s RReLU generator (fits the kernel's 24 bits).
    fn layer_seed(&self, li: usize) -> u32 {
        pcg(self.seed as u32 ^ pcg(li as u32 + 0x5eed)) & 0xff_ffff
    }

    /// Lowers the forward pass for a batch of `rows` into `g`. `w` holds the graph tensor
    /// of every weight. In training mode BN uses batch statistics and updates its moving
    /// averages (unless frozen) and RReLU draws slopes.
    pub(crate) fn forward(
        &self,
        g: &mut Graph,
        x: TensorId,
        rows: usize,
        training: bool,
        bound: &mut Bound,
    ) -> Result<Forward> {
        let (w, step) = (bound.weights, bound.step);
        let mut cur = x;
        let mut features: usize = self.input_shape.iter().product();
        let mut pending: Option<(ActKind, u32, usize)> = None;
        let mut activations = Vec::new();
        let weight = |name: String| -> Result<TensorId> {
            self.weight_index(&name)
                .map(|i| w[i])
                .ok_or_else(|| Error::Config(format!("missing weight {name}")))
        };
        for (li, l) in self.layers.iter().enumerate() {
            if !matches!(l.kind, LayerKind::Flatten) {
                if let Some((act, seed, from)) = pending.take() {
                    cur = apply_activation(g, cur, rows, features, act, training, seed, step);
                    activations.push((from, cur));
                }
            }
            match &l.kind {
                LayerKind::Flatten => {}
                LayerKind::Dense(d) => {
                    let kernel = weight(format!("{}/kernel", l.name))?;
                    cur = g.matmul(&format!("{}/matmul", l.name), cur, kernel);
                    if d.use_bias {
                        let bias = weight(format!("{}/bias", l.name))?;
                        cur = g.bias_add(&format!("{}/pre", l.name), cur, bias);
                    }
                    features = d.units;
                    if d.activation != ActKind::Linear {
                        pending = Some((d.activation, self.layer_seed(li), li));
                    }
                }
                LayerKind::Activation(act) => {
                    if *act != ActKind::Linear {
                        pending = Some((*act, self.layer_seed(li), li));
                    }
                }
                LayerKind::PRelu => {
                    let alpha = weight(format!("{}/alpha", l.name))?;
                    let y = g.temp(format!("{}/out", l.name), &[rows, features]);
                    g.push(
                        Kernel::PreluForward {
                            rows,
                            cols: features,
                        },
                        vec![cur, alpha, y],
                    );
                    cur = y;
                    activations.push((li, y));
                }
                LayerKind::BatchNormalization(bn) => {
                    let cols = features;
                    let mut param = |var: &str, on: bool, value: f32| -> Result<TensorId> {
                        if on {
                            weight(format!("{}/{var}", l.name))
                        } else {
                            let t = g.external(format!("{}/{var}(constant)", l.name), &[cols]);
                            bound.consts.push((t, value));
                            Ok(t)
                        }
                    };
                    let gamma = param("gamma", bn.scale, 1.0)?;
                    let beta = param("beta", bn.center, 0.0)?;
                    let mm = weight(format!("{}/moving_mean", l.name))?;
                    let mv = weight(format!("{}/moving_variance", l.name))?;
                    let y = g.temp(format!("{}/out", l.name), &[rows, cols]);
                    if training && l.trainable {
                        let mean = g.temp(format!("{}/batch_mean", l.name), &[cols]);
                        let var = g.temp(format!("{}/batch_var", l.name), &[cols]);
                        g.push(Kernel::BnStats { rows, cols }, vec![cur, mean, var]);
                        g.push(
                            Kernel::BnApply {
                                rows,
                                cols,
                                eps: bn.epsilon,
                            },
                            vec![cur, mean, var, gamma, beta, y],
                        );
                        g.push(
                            Kernel::BnMovingUpdate {
                                cols,
                                momentum: bn.momentum,
                            },
                            vec![mean, var, mm, mv],
                        );
                    } else {
                        g.push(
                            Kernel::BnApply {
                                rows,
                                cols,
                                eps: bn.epsilon,
                            },
                            vec![cur, mm, mv, gamma, beta, y],
                        );
                    }
                    cur = y;
                }
            }
        }
        let (last_activation, last_seed, _) = pending.unwrap_or((ActKind::Linear, 0, 0));
        Ok(Forward {
            pre_activation: cur,
            last_activation,
            last_seed,
            activations,
        })
    }
}

/// Appends an activation node (softmax row-wise, the rest element-wise).
#[allow(clippy::too_many_arguments)]
pub(crate) fn apply_activation(
    g: &mut Graph,
    x: TensorId,
    rows: usize,
    cols: usize,
    act: ActKind,
    training: bool,
    seed: u32,
    step: TensorId,
) -> TensorId {
    if act == ActKind::Linear {
        return x;
    }
    let name = format!("{}/{}", g.tensors[x.0].name, act.keras_name());
    let y = g.temp(name, &[rows, cols]);
    if act == ActKind::Softmax {
        g.push(Kernel::SoftmaxForward { rows, cols }, vec![x, y]);
    } else {
        g.push(
            Kernel::ActForward {
                act,
                n: rows * cols,
                training,
                seed,
            },
            vec![x, y, step],
        );
    }
    y
}

impl std::fmt::Debug for Sequential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sequential")
            .field("input_shape", &self.input_shape)
            .field("layers", &self.layers)
            .field("compiled", &self.trainer.is_some())
            .finish()
    }
}

/// Surgery for transfer learning: clone, drop the head, add layers, freeze and unfreeze.
impl Sequential {
    /// A copy of the architecture and the current weights (synced from the device), not
    /// compiled — Keras's `clone_model` followed by `set_weights`. The original is untouched.
    pub fn clone_model(&mut self) -> crate::Result<Sequential> {
        self.sync_weights()?;
        Ok(Sequential {
            input_shape: self.input_shape.clone(),
            layers: self.layers.clone(),
            weights: self.weights.clone(),
            seed: self.seed,
            trainer: None,
        })
    }

    /// A clone of every layer but the last `k` (the head), with their weights.
    pub fn without_top(&mut self, k: usize) -> crate::Result<Sequential> {
        if k >= self.layers.len() {
            return Err(Error::Config(format!(
                "cannot remove {k} layers from a model of {}",
                self.layers.len()
            )));
        }
        let mut m = self.clone_model()?;
        let keep = m.layers.len() - k;
        m.layers.truncate(keep);
        m.weights.retain(|w| w.layer < keep);
        Ok(m)
    }

    /// Appends a layer (named as Keras would if its name is empty) and initializes its
    /// weights from `seed`. A compiled model must be compiled again afterwards.
    pub fn add(&mut self, layer: Layer, seed: u64) -> crate::Result<()> {
        self.sync_weights()?;
        let mut layers = self.layers.clone();
        layers.push(layer);
        let fresh = Sequential::new(&self.input_shape, layers, seed)?;
        let li = fresh.layers.len() - 1;
        self.layers = fresh.layers;
        self.weights
            .extend(fresh.weights.into_iter().filter(|w| w.layer == li));
        self.trainer = None;
        Ok(())
    }

    /// Freezes or unfreezes layer `index`. Frozen layers get no gradient and no update; a
    /// frozen BatchNormalization runs in inference mode (its moving statistics stay put).
    pub fn set_trainable(&mut self, index: usize, on: bool) -> crate::Result<()> {
        let n = self.layers.len();
        let l = self
            .layers
            .get_mut(index)
            .ok_or_else(|| Error::Config(format!("no layer {index} (the model has {n})")))?;
        if l.trainable != on {
            l.trainable = on;
            if let Some(t) = self.trainer.as_mut() {
                t.invalidate_plans();
            }
        }
        Ok(())
    }

    /// Sets the learning-rate multiplier of layer `index` (e.g. lower for unfrozen layers).
    pub fn set_lr_multiplier(&mut self, index: usize, m: f32) -> crate::Result<()> {
        if !(m >= 0.0 && m.is_finite()) {
            return Err(Error::Config(format!(
                "learning-rate multiplier {m} must be ≥ 0"
            )));
        }
        let n = self.layers.len();
        let l = self
            .layers
            .get_mut(index)
            .ok_or_else(|| Error::Config(format!("no layer {index} (the model has {n})")))?;
        if l.lr_multiplier != m {
            l.lr_multiplier = m;
            if let Some(t) = self.trainer.as_mut() {
                t.invalidate_plans();
            }
        }
        Ok(())
    }

    /// Indices of the layers that hold weights, bottom to top.
    pub fn weighted_layers(&self) -> Vec<usize> {
        let mut v: Vec<usize> = self.weights.iter().map(|w| w.layer).collect();
        v.dedup();
        v
    }
}

/// `1234567` → `1,234,567`.
fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// Size of `n` float32 parameters as Keras prints it (`1.03 MB`, `9.25 KB`, `0.00 B`).
fn param_bytes(n: usize) -> String {
    let b = n as f64 * 4.0;
    if b >= 1024.0 * 1024.0 {
        format!("{:.2} MB", b / 1024.0 / 1024.0)
    } else if b >= 1024.0 {
        format!("{:.2} KB", b / 1024.0)
    } else {
        format!("{b:.2} B")
    }
}

/// Greedy word wrap to `width` columns, breaking words longer than the width.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut cur = String::new();
    for word in text.split(' ') {
        let mut word = word.to_string();
        while word.chars().count() > width {
            if !cur.is_empty() {
                lines.push(std::mem::take(&mut cur));
            }
            let head: String = word.chars().take(width).collect();
            word = word.chars().skip(width).collect();
            lines.push(head);
        }
        let need = if cur.is_empty() {
            word.chars().count()
        } else {
            cur.chars().count() + 1 + word.chars().count()
        };
        if need > width && !cur.is_empty() {
            lines.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur += &word;
    }
    if !cur.is_empty() || lines.is_empty() {
        lines.push(cur);
    }
    lines
}
