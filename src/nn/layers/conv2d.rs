//! `Conv2D(filters, kernel_size)` over NHWC images (Keras's `channels_last`), with Keras's
//! defaults: strides 1, `valid` padding, dilation 1, linear activation, a bias,
//! `glorot_uniform` kernel (fans over the receptive field: `kh·kw·in_channels` in,
//! `kh·kw·filters` out) and `zeros` bias. The kernel is stored `(kh, kw, in_channels,
//! filters)` as Keras stores it, which read row-major is the `(kh·kw·in_channels, filters)`
//! matrix the im2col rows are multiplied by: the forward pass is im2col (skipped for a
//! pointwise 1×1 convolution) and the dense layer's matmul with its bias + activation
//! epilogue.

use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::activation::{activation_from_keras, activation_to_keras, validate_activation};
use super::{reject_set, typed, FromKeras};
use crate::backend::ops::conv;
use crate::backend::window::{Padding, Window};
use crate::backend::{ActKind, Kernel};
use crate::error::Result;
use crate::nn::init::Initializer;
use crate::nn::layer::{LayerOps, Lowering, WeightSpec};
use crate::nn::regularizers::KernelRules;
use crate::nn::sequential::MAX_TENSOR_VALUES;

/// A 2-D convolution.
#[derive(Clone, Debug, PartialEq)]
pub struct Conv2D {
    /// Output channels.
    pub filters: usize,
    /// Window (rows, columns).
    pub kernel_size: (usize, usize),
    /// Steps between windows (default 1, 1).
    pub strides: (usize, usize),
    /// `valid` (default) or `same`.
    pub padding: Padding,
    /// Spacing of the window's taps (default 1, 1).
    pub dilation_rate: (usize, usize),
    /// Activation applied to the output (Keras default: linear).
    pub activation: ActKind,
    /// Whether there is a bias (default true).
    pub use_bias: bool,
    /// Kernel initializer (default `glorot_uniform`).
    pub kernel_initializer: Initializer,
    /// Bias initializer (default `zeros`).
    pub bias_initializer: Initializer,
    /// Regularizers and constraints of the kernel and the bias (default none).
    pub rules: KernelRules,
}

impl Conv2D {
    /// `Conv2D(filters, (k, k))` with Keras's defaults.
    pub fn new(filters: usize, k: usize) -> Conv2D {
        Conv2D {
            filters,
            kernel_size: (k, k),
            strides: (1, 1),
            padding: Padding::Valid,
            dilation_rate: (1, 1),
            activation: ActKind::Linear,
            use_bias: true,
            kernel_initializer: Initializer::GLOROT_UNIFORM,
            bias_initializer: Initializer::Zeros,
            rules: KernelRules::default(),
        }
    }

    /// Sets the strides.
    pub fn strides(mut self, s: usize) -> Conv2D {
        self.strides = (s, s);
        self
    }

    /// Sets the padding.
    pub fn padding(mut self, p: Padding) -> Conv2D {
        self.padding = p;
        self
    }

    /// Sets the dilation.
    pub fn dilation(mut self, d: usize) -> Conv2D {
        self.dilation_rate = (d, d);
        self
    }

    /// Sets the activation.
    pub fn activation(mut self, act: ActKind) -> Conv2D {
        self.activation = act;
        self
    }

    /// Sets the kernel initializer.
    pub fn kernel_initializer(mut self, init: Initializer) -> Conv2D {
        self.kernel_initializer = init;
        self
    }

    /// Sets whether there is a bias.
    pub fn use_bias(mut self, on: bool) -> Conv2D {
        self.use_bias = on;
        self
    }

    /// The window over images of `input` (`[h, w, c]`), for `n` images.
    pub fn window(&self, n: usize, input: &[usize]) -> std::result::Result<Window, String> {
        let [h, w, c] = image(input, "Conv2D")?;
        Window::new(
            n,
            (h, w, c),
            self.kernel_size,
            self.strides,
            self.dilation_rate,
            self.padding,
        )
        .map_err(|e| {
            format!(
                "kernel_size {:?}, strides {:?}, dilation_rate {:?}, padding {} on {h}×{w} images: {e}",
                self.kernel_size,
                self.strides,
                self.dilation_rate,
                self.padding.keras_name()
            )
        })
    }
}

/// An image sample shape `[h, w, c]`, or an error naming the layer class.
pub(crate) fn image(input: &[usize], class: &str) -> std::result::Result<[usize; 3], String> {
    match *input {
        [h, w, c] => Ok([h, w, c]),
        _ => Err(format!(
            "{class} takes images of shape (height, width, channels), got {input:?}; add a Reshape layer before it"
        )),
    }
}

/// Checks a pair of positive sizes, naming the field.
pub(crate) fn positive_pair(
    field: &str,
    (a, b): (usize, usize),
) -> std::result::Result<(), String> {
    if a == 0 || b == 0 {
        return Err(format!("{field} ({a}, {b}) must be at least 1"));
    }
    Ok(())
}

impl LayerOps for Conv2D {
    fn class_name(&self) -> &'static str {
        "Conv2D"
    }
    fn validate(&self) -> std::result::Result<(), String> {
        if self.filters == 0 {
            return Err("filters must be at least 1".into());
        }
        positive_pair("kernel_size", self.kernel_size)?;
        positive_pair("strides", self.strides)?;
        positive_pair("dilation_rate", self.dilation_rate)?;
        if (self.strides.0 > 1 || self.strides.1 > 1)
            && (self.dilation_rate.0 > 1 || self.dilation_rate.1 > 1)
        {
            return Err(
                "strides > 1 with dilation_rate > 1 is not supported (nor by Keras)".into(),
            );
        }
        validate_activation(self.activation)
    }
    fn output_shape(&self, input: &[usize]) -> std::result::Result<Vec<usize>, String> {
        let win = self.window(1, input)?;
        // The im2col rows of one sample: refused here, before anything is allocated.
        let rows = (win.oh * win.ow).checked_mul(win.patch());
        if rows.is_none_or(|r| r > MAX_TENSOR_VALUES) {
            return Err(format!(
                "kernel_size {:?} over {:?}: the im2col rows of one sample exceed {MAX_TENSOR_VALUES} values",
                self.kernel_size, input
            ));
        }
        Ok(vec![win.oh, win.ow, self.filters])
    }
    fn weight_specs(&self, input: &[usize]) -> Vec<WeightSpec> {
        let c = input.last().copied().unwrap_or(1);
        let (kh, kw) = self.kernel_size;
        let r = &self.rules;
        let shape = vec![kh, kw, c, self.filters];
        let mut v = vec![
            WeightSpec::new("kernel", shape, self.kernel_initializer, true)
                .with(r.kernel_regularizer, r.kernel_constraint.clone()),
        ];
        if self.use_bias {
            let spec = WeightSpec::new("bias", vec![self.filters], self.bias_initializer, true);
            v.push(spec.with(r.bias_regularizer, r.bias_constraint.clone()));
        }
        v
    }
    fn lower(&self, cx: &mut Lowering) -> Result<()> {
        let x = cx.input();
        let win = self
            .window(cx.rows, cx.shape())
            .map_err(|e| crate::Error::Shape(format!("{}: {e}", cx.layer_name())))?;
        let name = cx.layer_name().to_string();
        let gemm = conv::is_gemm(&win, self.filters, cx.g.subgroups8);
        if conv::direct_fits(&win, self.filters) || gemm {
            // A small receptive field: straight from the image, no rows (without a bias,
            // the kernel adds a constant zero one); a larger one the same way on 8-lane
            // subgroups, an implicit matmul over the fields read in place.
            let bias = if self.use_bias {
                cx.weight("bias")?
            } else {
                cx.constant("bias", self.filters, 0.0)
            };
            let y =
                cx.g.temp(format!("{name}/pre"), &[win.positions(), self.filters]);
            let kernel = Kernel::ConvDirect {
                win,
                filters: self.filters,
                act: ActKind::Linear,
                training: false,
                seed: 0,
            };
            let args = vec![x, cx.weight("kernel")?, bias, y, cx.step()];
            cx.g.push(kernel, args);
            cx.set_output(y, vec![win.oh, win.ow, self.filters]);
            cx.activate(self.activation);
            return Ok(());
        }
        // The receptive fields as rows (the input itself for a pointwise convolution),
        // times the kernel read as a (kh·kw·c, filters) matrix.
        let cols = if win.is_pointwise() {
            x
        } else {
            let t =
                cx.g.temp(format!("{name}/cols"), &[win.positions(), win.patch()]);
            cx.g.push(Kernel::Im2col { win }, vec![x, t]);
            t
        };
        let kernel = cx.weight("kernel")?;
        let dims = (win.positions(), win.patch(), self.filters);
        let y = if self.use_bias {
            let args = [cols, kernel, cx.weight("bias")?, cx.step()];
            cx.g.dense(&format!("{name}/pre"), args, dims)
        } else {
            cx.g.matmul(&format!("{name}/conv"), cols, kernel, dims)
        };
        cx.set_output(y, vec![win.oh, win.ow, self.filters]);
        cx.activate(self.activation);
        Ok(())
    }
    fn keras_config(&self) -> Map<String, Value> {
        let pair = |(a, b): (usize, usize)| json!([a, b]);
        let mut c = Map::new();
        c.insert("filters".into(), json!(self.filters));
        c.insert("kernel_size".into(), pair(self.kernel_size));
        c.insert("strides".into(), pair(self.strides));
        c.insert("padding".into(), json!(self.padding.keras_name()));
        c.insert("data_format".into(), json!("channels_last"));
        c.insert("dilation_rate".into(), pair(self.dilation_rate));
        c.insert("groups".into(), json!(1));
        c.insert("activation".into(), activation_to_keras(self.activation));
        c.insert("use_bias".into(), json!(self.use_bias));
        c.insert(
            "kernel_initializer".into(),
            self.kernel_initializer.to_keras(),
        );
        c.insert("bias_initializer".into(), self.bias_initializer.to_keras());
        c.insert("activity_regularizer".into(), Value::Null);
        self.rules.to_keras(&mut c);
        c
    }
    fn activation(&self) -> Option<ActKind> {
        Some(self.activation)
    }
}

/// A Keras size: one integer for both axes, or a pair.
#[derive(Deserialize)]
#[serde(untagged)]
pub(crate) enum Pair {
    One(usize),
    Two([usize; 2]),
}

impl Pair {
    pub fn get(&self) -> (usize, usize) {
        match *self {
            Pair::One(a) => (a, a),
            Pair::Two([a, b]) => (a, b),
        }
    }
}

/// Checks Keras's `data_format`: only `channels_last` (NHWC).
pub(crate) fn channels_last(data_format: &Option<String>) -> std::result::Result<(), String> {
    match data_format.as_deref() {
        None | Some("channels_last") => Ok(()),
        Some(other) => Err(format!(
            "field data_format: {other:?} is not supported (only channels_last)"
        )),
    }
}

// Fields Keras writes that do not change the math (or are checked to be null first) are
// listed so unknown fields can be refused; they are read only by serde.
#[allow(dead_code)]
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Conv2DConfig {
    filters: usize,
    kernel_size: Pair,
    #[serde(default = "one")]
    strides: Pair,
    #[serde(default = "valid")]
    padding: String,
    #[serde(default)]
    data_format: Option<String>,
    #[serde(default = "one")]
    dilation_rate: Pair,
    #[serde(default = "groups_one")]
    groups: usize,
    #[serde(default)]
    activation: Value,
    #[serde(default = "yes")]
    use_bias: bool,
    #[serde(default)]
    kernel_initializer: Option<Value>,
    #[serde(default)]
    bias_initializer: Option<Value>,
    #[serde(default)]
    kernel_regularizer: Value,
    #[serde(default)]
    bias_regularizer: Value,
    #[serde(default)]
    activity_regularizer: Value,
    #[serde(default)]
    kernel_constraint: Value,
    #[serde(default)]
    bias_constraint: Value,
    #[serde(default)]
    lora_rank: Value,
    #[serde(default)]
    lora_alpha: Value,
}

fn one() -> Pair {
    Pair::One(1)
}
fn valid() -> String {
    "valid".into()
}
fn groups_one() -> usize {
    1
}
fn yes() -> bool {
    true
}

impl FromKeras for Conv2D {
    const CLASSES: &'static [&'static str] = &["Conv2D", "Convolution2D"];
    fn from_keras(_class: &str, config: Map<String, Value>) -> std::result::Result<Self, String> {
        reject_set(&config, &["activity_regularizer", "lora_rank"])?;
        let rules = KernelRules::from_keras(&config)?;
        let c: Conv2DConfig = typed(config)?;
        channels_last(&c.data_format)?;
        if c.groups != 1 {
            return Err(format!(
                "field groups: {} is not supported (only 1)",
                c.groups
            ));
        }
        let activation = activation_from_keras(&c.activation)
            .map_err(|e| format!("field activation: {e}"))?
            .ok_or("field activation: a PReLU activation inside Conv2D is not supported; use a PReLU layer")?;
        let conv = Conv2D {
            filters: c.filters,
            kernel_size: c.kernel_size.get(),
            strides: c.strides.get(),
            padding: Padding::parse(&c.padding).map_err(|e| format!("field padding: {e}"))?,
            dilation_rate: c.dilation_rate.get(),
            activation,
            use_bias: c.use_bias,
            kernel_initializer: Initializer::from_keras(
                c.kernel_initializer.as_ref(),
                Initializer::GLOROT_UNIFORM,
            )
            .map_err(|e| format!("field kernel_initializer: {e}"))?,
            bias_initializer: Initializer::from_keras(
                c.bias_initializer.as_ref(),
                Initializer::Zeros,
            )
            .map_err(|e| format!("field bias_initializer: {e}"))?,
            rules,
        };
        conv.validate()?;
        Ok(conv)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keras_shapes_and_round_trip() {
        let c = Conv2D::new(8, 3).padding(Padding::Same);
        assert_eq!(c.output_shape(&[28, 28, 1]).unwrap(), vec![28, 28, 8]);
        assert_eq!(c.weight_specs(&[28, 28, 1])[0].shape, vec![3, 3, 1, 8]);
        let s = Conv2D::new(12, 3).strides(2).use_bias(false);
        assert_eq!(s.output_shape(&[14, 14, 8]).unwrap(), vec![6, 6, 12]);
        assert_eq!(s.weight_specs(&[14, 14, 8]).len(), 1);
        let d = Conv2D::new(4, 3).dilation(2).activation(ActKind::Relu);
        assert_eq!(d.output_shape(&[14, 14, 6]).unwrap(), vec![10, 10, 4]);
        assert_eq!(Conv2D::from_keras("Conv2D", d.keras_config()).unwrap(), d);
    }

    #[test]
    fn bad_configs_name_the_field() {
        let mut c = Conv2D::new(8, 3).keras_config();
        c.insert("data_format".into(), json!("channels_first"));
        assert!(Conv2D::from_keras("Conv2D", c)
            .unwrap_err()
            .contains("data_format"));
        let mut c = Conv2D::new(8, 3).keras_config();
        c.insert("groups".into(), json!(2));
        assert!(Conv2D::from_keras("Conv2D", c)
            .unwrap_err()
            .contains("groups"));
        let mut c = Conv2D::new(8, 3).keras_config();
        c.insert("padding".into(), json!("causal"));
        assert!(Conv2D::from_keras("Conv2D", c)
            .unwrap_err()
            .contains("padding"));
        let mut c = Conv2D::new(8, 3).keras_config();
        c.insert("strides".into(), json!([0, 1]));
        assert!(Conv2D::from_keras("Conv2D", c)
            .unwrap_err()
            .contains("strides"));
        let e = Conv2D::new(8, 5).output_shape(&[4, 4, 1]).unwrap_err();
        assert!(e.contains("kernel_size") && e.contains("valid"), "{e}");
        assert!(Conv2D::new(8, 3)
            .output_shape(&[28, 28])
            .unwrap_err()
            .contains("Reshape"));
        let e = Conv2D::new(0, 3).validate().unwrap_err();
        assert!(e.contains("filters"), "{e}");
    }
}
