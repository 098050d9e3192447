//! `Dense(units)`: `activation(x·kernel + bias)`, kernel of shape (inputs, units), with
//! Keras's defaults (linear activation, bias on, `glorot_uniform` kernel, `zeros` bias).

use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::activation::{activation_from_keras, activation_to_keras, validate_activation};
use super::{reject_set, typed, FromKeras};
use crate::backend::ActKind;
use crate::error::Result;
use crate::nn::init::Initializer;
use crate::nn::layer::{LayerOps, Lowering, WeightSpec};
use crate::nn::regularizers::KernelRules;

/// A fully connected layer.
#[derive(Clone, Debug, PartialEq)]
pub struct Dense {
    /// Output units.
    pub units: usize,
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

impl Dense {
    /// `Dense(units)` with Keras's defaults.
    pub fn new(units: usize) -> Dense {
        Dense {
            units,
            activation: ActKind::Linear,
            use_bias: true,
            kernel_initializer: Initializer::GLOROT_UNIFORM,
            bias_initializer: Initializer::Zeros,
            rules: KernelRules::default(),
        }
    }

    /// Sets the activation.
    pub fn activation(mut self, act: ActKind) -> Dense {
        self.activation = act;
        self
    }

    /// Sets the kernel initializer.
    pub fn kernel_initializer(mut self, init: Initializer) -> Dense {
        self.kernel_initializer = init;
        self
    }

    /// Sets whether there is a bias.
    pub fn use_bias(mut self, on: bool) -> Dense {
        self.use_bias = on;
        self
    }

    /// Sets the kernel's penalty (Keras's `kernel_regularizer`).
    pub fn kernel_regularizer(mut self, r: crate::nn::Regularizer) -> Dense {
        self.rules.kernel_regularizer = Some(r);
        self
    }

    /// Sets the kernel's constraint (Keras's `kernel_constraint`).
    pub fn kernel_constraint(mut self, c: crate::nn::Constraint) -> Dense {
        self.rules.kernel_constraint = Some(c);
        self
    }
}

impl LayerOps for Dense {
    fn class_name(&self) -> &'static str {
        "Dense"
    }
    fn validate(&self) -> std::result::Result<(), String> {
        if self.units == 0 {
            return Err("units must be at least 1".into());
        }
        validate_activation(self.activation)
    }
    fn output_shape(&self, input: &[usize]) -> std::result::Result<Vec<usize>, String> {
        if input.len() != 1 {
            return Err(format!(
                "Dense receives samples of shape {input:?}; add a Flatten layer before it"
            ));
        }
        Ok(vec![self.units])
    }
    fn weight_specs(&self, input: &[usize]) -> Vec<WeightSpec> {
        let r = &self.rules;
        let shape = vec![input.iter().product(), self.units];
        let mut v = vec![
            WeightSpec::new("kernel", shape, self.kernel_initializer, true)
                .with(r.kernel_regularizer, r.kernel_constraint.clone()),
        ];
        if self.use_bias {
            let spec = WeightSpec::new("bias", vec![self.units], self.bias_initializer, true);
            v.push(spec.with(r.bias_regularizer, r.bias_constraint.clone()));
        }
        v
    }
    fn lower(&self, cx: &mut Lowering) -> Result<()> {
        let x = cx.input();
        let kernel = cx.weight("kernel")?;
        let name = cx.layer_name().to_string();
        // With a bias, one launch ([`Kernel::Dense`]); the activation joins it when the
        // next layer asks for this output (Lowering::input).
        let dims = (cx.rows, cx.features(), self.units);
        let y = if self.use_bias {
            let args = [x, kernel, cx.weight("bias")?, cx.step()];
            cx.g.dense(&format!("{name}/pre"), args, dims)
        } else {
            cx.g.matmul(&format!("{name}/matmul"), x, kernel, dims)
        };
        cx.set_output(y, vec![self.units]);
        cx.activate(self.activation);
        Ok(())
    }
    fn keras_config(&self) -> Map<String, Value> {
        let mut c = Map::new();
        c.insert("units".into(), json!(self.units));
        c.insert("activation".into(), activation_to_keras(self.activation));
        c.insert("use_bias".into(), json!(self.use_bias));
        c.insert(
            "kernel_initializer".into(),
            self.kernel_initializer.to_keras(),
        );
        c.insert("bias_initializer".into(), self.bias_initializer.to_keras());
        self.rules.to_keras(&mut c);
        c
    }
    fn activation(&self) -> Option<ActKind> {
        Some(self.activation)
    }
}

// Fields Keras writes that do not change the math (or are checked to be null first) are
// listed so unknown fields can be refused; they are read only by serde.
#[allow(dead_code)]
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DenseConfig {
    units: usize,
    #[serde(default)]
    activation: Value,
    #[serde(default = "yes")]
    use_bias: bool,
    #[serde(default)]
    kernel_initializer: Option<Value>,
    #[serde(default)]
    bias_initializer: Option<Value>,
    // Accepted when null (checked by reject_set before deserializing).
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
    #[serde(default)]
    quantization_config: Value,
}

fn yes() -> bool {
    true
}

impl FromKeras for Dense {
    const CLASSES: &'static [&'static str] = &["Dense"];
    fn from_keras(_class: &str, config: Map<String, Value>) -> std::result::Result<Self, String> {
        reject_set(
            &config,
            &["activity_regularizer", "lora_rank", "quantization_config"],
        )?;
        let rules = KernelRules::from_keras(&config)?;
        let c: DenseConfig = typed(config)?;
        let activation = activation_from_keras(&c.activation)
            .map_err(|e| format!("field activation: {e}"))?
            .ok_or("field activation: a PReLU activation inside Dense is not supported; use a PReLU layer")?;
        let d = Dense {
            units: c.units,
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
        d.validate()?;
        Ok(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keras_defaults_and_round_trip() {
        let d = Dense::new(7);
        assert_eq!(d.kernel_initializer, Initializer::GLOROT_UNIFORM);
        assert!(d.use_bias);
        let e = Dense::new(3)
            .activation(ActKind::Elu { alpha: 0.5 })
            .use_bias(false);
        assert_eq!(Dense::from_keras("Dense", e.keras_config()).unwrap(), e);
        assert_eq!(d.weight_specs(&[4])[0].shape, vec![4, 7]);
    }

    #[test]
    fn wrong_types_name_the_field() {
        let mut c = Dense::new(3).keras_config();
        c.insert("use_bias".into(), json!("false"));
        let e = Dense::from_keras("Dense", c).unwrap_err();
        assert!(e.contains("use_bias"), "{e}");
        let mut c = Dense::new(3).keras_config();
        c.insert("units".into(), json!(0));
        assert!(Dense::from_keras("Dense", c).is_err());
        let mut c = Dense::new(3).keras_config();
        c.insert("unitz".into(), json!(3));
        assert!(Dense::from_keras("Dense", c).unwrap_err().contains("unitz"));
    }
}
