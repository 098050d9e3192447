//! What every layer kind provides ([`LayerOps`]) and the [`Layer`] wrapper a
//! [`super::Sequential`] holds: the kind's config plus the name, trainability and
//! learning-rate multiplier every Keras layer has. The kinds themselves, one file each,
//! live in [`super::layers`].

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::init::Initializer;
use super::layers::LayerKind;
use super::regularizers::{Constraint, Regularizer};
use crate::backend::{ActKind, Kernel};
use crate::error::{Error, Result};
use crate::graph::{Graph, TensorId};

/// A weight a layer creates: its variable name (`kernel`), shape, initializer, whether
/// an optimizer updates it (false for BN's moving statistics), and its regularizer and
/// constraint, if any.
#[derive(Clone, Debug, PartialEq)]
pub struct WeightSpec {
    /// Keras's variable name within the layer.
    pub var: &'static str,
    /// Shape (kernels are (inputs, units), as Keras).
    pub shape: Vec<usize>,
    /// How it is initialized.
    pub init: Initializer,
    /// Whether the optimizer updates it.
    pub optimizable: bool,
    /// Its L1/L2 penalty (Keras's `kernel_regularizer`, …).
    pub regularizer: Option<Regularizer>,
    /// Its constraint after each update (Keras's `kernel_constraint`, …).
    pub constraint: Option<Constraint>,
}

impl WeightSpec {
    /// A weight without regularizer or constraint.
    pub fn new(var: &'static str, shape: Vec<usize>, init: Initializer, optimizable: bool) -> Self {
        WeightSpec {
            var,
            shape,
            init,
            optimizable,
            regularizer: None,
            constraint: None,
        }
    }

    /// With a regularizer and a constraint.
    pub fn with(
        mut self,
        regularizer: Option<Regularizer>,
        constraint: Option<Constraint>,
    ) -> Self {
        self.regularizer = regularizer;
        self.constraint = constraint;
        self
    }
}

/// The behaviour of one layer kind. Implemented by each kind's config struct in
/// [`super::layers`]; adding a layer kind is its file plus one line in that registry.
pub trait LayerOps: std::fmt::Debug {
    /// Keras's class name (`Dense`, `LeakyReLU`, …).
    fn class_name(&self) -> &'static str;
    /// Checks the hyper-parameters; the message names the field.
    fn validate(&self) -> std::result::Result<(), String> {
        Ok(())
    }
    /// The output shape of one sample given the input's (no batch axis).
    fn output_shape(&self, input: &[usize]) -> std::result::Result<Vec<usize>, String>;
    /// The weights the layer creates for an input of this shape.
    fn weight_specs(&self, _input: &[usize]) -> Vec<WeightSpec> {
        Vec::new()
    }
    /// Appends the layer's forward computation to the graph.
    fn lower(&self, cx: &mut Lowering) -> Result<()>;
    /// The layer's own fields of its Keras `config` (name, trainable, dtype are added by
    /// the caller).
    fn keras_config(&self) -> Map<String, Value>;
    /// The activation the layer applies last, if any (Dense's, or an activation layer's).
    fn activation(&self) -> Option<ActKind> {
        None
    }
}

/// A layer of a [`super::Sequential`] model.
#[derive(Clone, Debug, PartialEq)]
pub struct Layer {
    /// What it computes, with its Keras config.
    pub kind: LayerKind,
    /// Name (`dense_1`); assigned Keras-style when the model is built if left empty.
    pub name: String,
    /// Whether its weights are updated (a frozen BatchNormalization runs in inference mode).
    pub trainable: bool,
    /// Multiplies the optimizer's learning rate for this layer's weights.
    pub lr_multiplier: f32,
}

impl<T: Into<LayerKind>> From<T> for Layer {
    fn from(kind: T) -> Layer {
        Layer {
            kind: kind.into(),
            name: String::new(),
            trainable: true,
            lr_multiplier: 1.0,
        }
    }
}

impl Layer {
    /// The kind's behaviour.
    pub fn ops(&self) -> &dyn LayerOps {
        self.kind.ops()
    }

    /// Keras class name.
    pub fn class_name(&self) -> &'static str {
        self.ops().class_name()
    }

    /// Sets the layer's name.
    pub fn named(mut self, name: &str) -> Layer {
        self.name = name.into();
        self
    }

    /// Freezes or unfreezes the layer.
    pub fn trainable(mut self, on: bool) -> Layer {
        self.trainable = on;
        self
    }

    /// Keras's automatic name stem: the class name in snake case (`LeakyReLU` →
    /// `leaky_re_lu`, `PReLU` → `p_re_lu`).
    pub fn name_stem(&self) -> String {
        to_snake_case(self.class_name())
    }
}

/// Keras's `to_snake_case`: split before a capitalised word, then between a lower-case
/// letter and a capital, then lower-case everything.
pub fn to_snake_case(name: &str) -> String {
    let c: Vec<char> = name
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    let mut pass1: Vec<char> = Vec::new();
    for i in 0..c.len() {
        let starts_word = i > 0
            && c[i].is_ascii_uppercase()
            && c.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
        if starts_word {
            pass1.push('_');
        }
        pass1.push(c[i]);
    }
    let mut out = String::new();
    for i in 0..pass1.len() {
        if i > 0 && pass1[i].is_ascii_uppercase() && pass1[i - 1].is_ascii_lowercase() {
            out.push('_');
        }
        out.extend(pass1[i].to_lowercase());
    }
    out
}

/// A hidden activation output recorded while lowering (for the dead-unit and saturation
/// diagnostics).
#[derive(Clone, Debug)]
pub struct RecordedActivation {
    /// Index of the layer that applied it.
    pub layer: usize,
    /// The activation's name (`relu`, `prelu`, …).
    pub name: &'static str,
    /// Which function (PReLU counts as linear here: it has no dead or saturated region).
    pub act: ActKind,
    /// Its output tensor.
    pub tensor: TensorId,
    /// Units along its last axis (a dense layer's units, a convolution's filters): a unit
    /// is dead when it outputs 0 everywhere, at every position of every sample.
    pub units: usize,
}

/// The state threaded through lowering a model's layers into a graph. Activations are
/// applied lazily, so the model's last activation can be fused into the loss.
pub struct Lowering<'a> {
    /// The graph being built.
    pub g: &'a mut Graph,
    /// Batch rows.
    pub rows: usize,
    /// Training mode (BN batch statistics, RReLU draws).
    pub training: bool,
    /// Dropout layers drop units: while training, and for MC dropout's stochastic
    /// predictions (with batch norm still in inference mode).
    pub dropout: bool,
    /// The step record tensor.
    pub step: TensorId,
    weights: &'a HashMap<String, TensorId>,
    cur: TensorId,
    /// The current tensor's sample shape (its graph tensor is `[rows, product]`).
    shape: Vec<usize>,
    pending: Option<(ActKind, u32, usize)>,
    /// Constant tensors requested (e.g. BN without center/scale), with their value.
    pub consts: Vec<(TensorId, f32)>,
    /// Hidden activation outputs, in order.
    pub activations: Vec<RecordedActivation>,
    layer: usize,
    layer_name: String,
    layer_trainable: bool,
    layer_seed: u32,
    /// When this batch is one rank's shard of a global batch (data-parallel training).
    pub shard: Option<crate::dist::Shard>,
}

impl<'a> Lowering<'a> {
    /// Starts lowering with input `x`, samples of `shape`.
    pub fn new(
        g: &'a mut Graph,
        x: TensorId,
        rows: usize,
        shape: &[usize],
        training: bool,
        step: TensorId,
        weights: &'a HashMap<String, TensorId>,
    ) -> Self {
        Lowering {
            g,
            rows,
            training,
            dropout: training,
            step,
            weights,
            cur: x,
            shape: shape.to_vec(),
            pending: None,
            consts: Vec::new(),
            activations: Vec::new(),
            layer: 0,
            layer_name: String::new(),
            layer_trainable: true,
            layer_seed: 0,
            shard: None,
        }
    }

    /// Sets the layer being lowered.
    pub fn begin_layer(&mut self, index: usize, name: &str, trainable: bool, seed: u32) {
        self.layer = index;
        self.layer_name = name.to_string();
        self.layer_trainable = trainable;
        self.layer_seed = seed;
    }

    /// The current layer's generator seed (RReLU's slopes, dropout's masks).
    pub fn layer_seed(&self) -> u32 {
        self.layer_seed
    }

    /// The current layer's name.
    pub fn layer_name(&self) -> &str {
        &self.layer_name
    }

    /// Whether the current layer is trainable.
    pub fn layer_trainable(&self) -> bool {
        self.layer_trainable
    }

    /// Values per row of the current tensor.
    pub fn features(&self) -> usize {
        self.shape.iter().product()
    }

    /// The current tensor's sample shape.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// Units along the current tensor's last axis (what batch norm normalizes and softmax
    /// runs over).
    pub fn units(&self) -> usize {
        self.shape.last().copied().unwrap_or(1)
    }

    /// The layer's input, with any deferred activation applied.
    pub fn input(&mut self) -> TensorId {
        if let Some((act, seed, layer)) = self.pending.take() {
            self.cur = self.apply(self.cur, act, seed, self.training);
            self.activations.push(RecordedActivation {
                layer,
                name: act.keras_name(),
                act,
                tensor: self.cur,
                units: self.units(),
            });
        }
        self.cur
    }

    /// Sets the layer's output, samples of `shape` (its graph tensor becomes
    /// `[rows, product]`: the same row-major values).
    pub fn set_output(&mut self, t: TensorId, shape: Vec<usize>) {
        self.cur = t;
        self.g.reshape(t, &[self.rows, shape.iter().product()]);
        self.shape = shape;
    }

    /// Gives the current values another sample shape of as many values (Flatten,
    /// Reshape). A deferred activation stays deferred, unless it is a softmax, which runs
    /// over the old last axis first.
    pub fn reshape(&mut self, shape: Vec<usize>) {
        if matches!(self.pending, Some((ActKind::Softmax, _, _))) {
            self.input();
        }
        let t = self.cur;
        self.set_output(t, shape);
    }

    /// Records `t` (the current layer's output) as a hidden activation named `name`.
    pub fn record(&mut self, name: &'static str, t: TensorId) {
        self.activations.push(RecordedActivation {
            layer: self.layer,
            name,
            act: ActKind::Linear,
            tensor: t,
            units: self.units(),
        });
    }

    /// Applies `act` to the current output, deferred until the next layer needs it.
    pub fn activate(&mut self, act: ActKind) {
        self.input();
        if act != ActKind::Linear {
            self.pending = Some((act, self.layer_seed, self.layer));
        }
    }

    /// The graph tensor of this layer's weight `var`.
    pub fn weight(&self, var: &str) -> Result<TensorId> {
        let name = format!("{}/{var}", self.layer_name);
        self.weights
            .get(&name)
            .copied()
            .ok_or_else(|| Error::Config(format!("missing weight {name}")))
    }

    /// A constant tensor of `n` values, allocated by the caller.
    pub fn constant(&mut self, var: &str, n: usize, value: f32) -> TensorId {
        let t = self
            .g
            .external(format!("{}/{var}(constant)", self.layer_name), &[n]);
        self.consts.push((t, value));
        t
    }

    /// Appends an activation node (softmax row-wise, the rest element-wise).
    pub fn apply(&mut self, x: TensorId, act: ActKind, seed: u32, training: bool) -> TensorId {
        // Into the dense launch that produced x, when it can take it (one launch fewer).
        if self.g.fuse_activation(x, act, training, seed) {
            let name = format!("{}/{}", self.g.tensors[x.0].name, act.keras_name());
            self.g.tensors[x.0].name = name;
            return x;
        }
        let units = self.units();
        apply_activation(self.g, x, act, training, seed, self.step, units)
    }

    /// The step record (for kernels that read the step, as RReLU's generator does).
    pub fn step(&self) -> TensorId {
        self.step
    }

    /// Ends lowering: the output before its deferred last activation, and that
    /// activation with its seed.
    pub fn finish(self) -> Lowered {
        let (last_activation, last_seed) = self
            .pending
            .map(|(a, s, _)| (a, s))
            .unwrap_or((ActKind::Linear, 0));
        Lowered {
            pre_activation: self.cur,
            units: self.units(),
            last_activation,
            last_seed,
            consts: self.consts,
            activations: self.activations,
        }
    }
}

/// The forward pass lowered into a graph.
pub struct Lowered {
    /// Output before the last activation (the logits when that is a softmax).
    pub pre_activation: TensorId,
    /// Units along the output's last axis.
    pub units: usize,
    /// The last activation, not yet applied.
    pub last_activation: ActKind,
    /// Seed of that activation (for RReLU).
    pub last_seed: u32,
    /// Constant tensors to allocate, with their value.
    pub consts: Vec<(TensorId, f32)>,
    /// Hidden activations, in order.
    pub activations: Vec<RecordedActivation>,
}

/// Appends an activation node to `g` (softmax over the last axis of `units`, the rest
/// element-wise); the output has `x`'s graph shape.
pub fn apply_activation(
    g: &mut Graph,
    x: TensorId,
    act: ActKind,
    training: bool,
    seed: u32,
    step: TensorId,
    units: usize,
) -> TensorId {
    if act == ActKind::Linear {
        return x;
    }
    let shape = g.shape(x).to_vec();
    let n = g.tensors[x.0].numel();
    let name = format!("{}/{}", g.tensors[x.0].name, act.keras_name());
    let y = g.temp(name, &shape);
    if act == ActKind::Softmax {
        let cols = units.max(1);
        let rows = n / cols;
        g.push(Kernel::SoftmaxForward { rows, cols }, vec![x, y]);
    } else {
        g.push(
            Kernel::ActForward {
                act,
                n,
                training,
                seed,
            },
            vec![x, y, step],
        );
    }
    y
}
