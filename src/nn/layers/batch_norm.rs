//! `BatchNormalization()` over the last axis with Keras's defaults (momentum 0.99,
//! epsilon 1e-3, center and scale on): batch statistics while training, moving statistics
//! (an EWMA with weight `momentum` on the old value) at inference and when frozen.

use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::{reject_set, typed, FromKeras};
use crate::backend::Kernel;
use crate::error::Result;
use crate::graph::Reduce;
use crate::nn::init::Initializer;
use crate::nn::layer::{LayerOps, Lowering, WeightSpec};
use crate::nn::regularizers::{Constraint, Regularizer};

/// Batch normalization.
#[derive(Clone, Debug, PartialEq)]
pub struct BatchNormalization {
    /// Weight of the old value in the moving averages.
    pub momentum: f32,
    /// Added to the variance.
    pub epsilon: f32,
    /// Learn a shift (beta).
    pub center: bool,
    /// Learn a scale (gamma).
    pub scale: bool,
    /// In data-parallel training, normalize with the statistics of the whole global
    /// batch (summed across ranks) rather than each rank's shard (Keras's
    /// `synchronized`). Either way the moving statistics stay equal on every rank.
    pub synchronized: bool,
    /// Penalties of gamma and beta (Keras's `gamma_regularizer`, `beta_regularizer`).
    pub gamma_regularizer: Option<Regularizer>,
    /// See `gamma_regularizer`.
    pub beta_regularizer: Option<Regularizer>,
    /// Constraints of gamma and beta (Keras's `gamma_constraint`, `beta_constraint`).
    pub gamma_constraint: Option<Constraint>,
    /// See `gamma_constraint`.
    pub beta_constraint: Option<Constraint>,
}

impl Default for BatchNormalization {
    fn default() -> Self {
        BatchNormalization {
            momentum: 0.99,
            epsilon: 1e-3,
            center: true,
            scale: true,
            synchronized: false,
            gamma_regularizer: None,
            beta_regularizer: None,
            gamma_constraint: None,
            beta_constraint: None,
        }
    }
}

impl LayerOps for BatchNormalization {
    fn class_name(&self) -> &'static str {
        "BatchNormalization"
    }
    fn validate(&self) -> std::result::Result<(), String> {
        if !(0.0..=1.0).contains(&self.momentum) {
            return Err(format!("momentum {} must be in [0, 1]", self.momentum));
        }
        if !(self.epsilon > 0.0 && self.epsilon.is_finite()) {
            return Err(format!("epsilon {} must be positive", self.epsilon));
        }
        Ok(())
    }
    fn output_shape(&self, input: &[usize]) -> std::result::Result<Vec<usize>, String> {
        Ok(input.to_vec())
    }
    fn weight_specs(&self, input: &[usize]) -> Vec<WeightSpec> {
        // One of each per feature of the last axis (Keras's axis -1).
        let f = vec![input.last().copied().unwrap_or(1)];
        let spec = |var, init, optimizable| WeightSpec::new(var, f.clone(), init, optimizable);
        let mut v = Vec::new();
        if self.scale {
            let gamma = spec("gamma", Initializer::Ones, true);
            v.push(gamma.with(self.gamma_regularizer, self.gamma_constraint.clone()));
        }
        if self.center {
            let beta = spec("beta", Initializer::Zeros, true);
            v.push(beta.with(self.beta_regularizer, self.beta_constraint.clone()));
        }
        v.push(spec("moving_mean", Initializer::Zeros, false));
        v.push(spec("moving_variance", Initializer::Ones, false));
        v
    }
    fn lower(&self, cx: &mut Lowering) -> Result<()> {
        let x = cx.input();
        // Statistics over every axis but the last: the batch, and for images their
        // positions (a convolution's channels are normalized over N, H and W).
        let cols = cx.units();
        let rows = cx.rows * (cx.features() / cols);
        let gamma = if self.scale {
            cx.weight("gamma")?
        } else {
            cx.constant("gamma", cols, 1.0)
        };
        let beta = if self.center {
            cx.weight("beta")?
        } else {
            cx.constant("beta", cols, 0.0)
        };
        let mm = cx.weight("moving_mean")?;
        let mv = cx.weight("moving_variance")?;
        let name = cx.layer_name().to_string();
        let y = cx.g.temp(format!("{name}/out"), &[rows, cols]);
        let eps = self.epsilon;
        let shard = cx.shard.filter(|s| s.ranks > 1);
        if cx.training && cx.layer_trainable() && self.synchronized && shard.is_some() {
            // The whole batch's mean, then its variance about that mean, each a sum of
            // the ranks' shares; then the output from them.
            let positions = cx.features() / cols;
            let total = shard.map_or(rows, |s| s.total * positions);
            let stats = cx.g.temp(format!("{name}/batch_stats"), &[2 * cols]);
            for centered in [false, true] {
                let k = Kernel::BnMoments {
                    rows,
                    cols,
                    total,
                    centered,
                };
                cx.g.push(k, vec![x, stats]);
                let at = if centered { cols } else { 0 };
                cx.g.all_reduce(stats, at, cols, Reduce::Sum);
            }
            let k = Kernel::BnNormalize {
                rows,
                cols,
                total,
                eps,
                momentum: self.momentum,
            };
            cx.g.push(k, vec![x, gamma, beta, y, stats, mm, mv]);
        } else if cx.training && cx.layer_trainable() {
            let stats = cx.g.temp(format!("{name}/batch_stats"), &[2 * cols]);
            let train = Kernel::BnTrain {
                rows,
                cols,
                eps,
                momentum: self.momentum,
            };
            cx.g.push(train, vec![x, gamma, beta, y, stats, mm, mv]);
            if shard.is_some() {
                // Each rank normalized with its shard's statistics; the moving ones are
                // averaged so that every rank keeps the same.
                cx.g.all_reduce(mm, 0, cols, Reduce::Mean);
                cx.g.all_reduce(mv, 0, cols, Reduce::Mean);
            }
        } else {
            cx.g.push(
                Kernel::BnApply { rows, cols, eps },
                vec![x, mm, mv, gamma, beta, y],
            );
        }
        let shape = cx.shape().to_vec();
        cx.set_output(y, shape);
        Ok(())
    }
    fn keras_config(&self) -> Map<String, Value> {
        let mut c = Map::new();
        c.insert("axis".into(), json!(-1));
        c.insert("momentum".into(), json!(self.momentum));
        c.insert("epsilon".into(), json!(self.epsilon));
        c.insert("center".into(), json!(self.center));
        c.insert("scale".into(), json!(self.scale));
        c.insert("synchronized".into(), json!(self.synchronized));
        let r = |r: &Option<Regularizer>| r.map_or(Value::Null, |r| r.to_keras());
        let k = |c: &Option<Constraint>| c.as_ref().map_or(Value::Null, Constraint::to_keras);
        c.insert("gamma_regularizer".into(), r(&self.gamma_regularizer));
        c.insert("beta_regularizer".into(), r(&self.beta_regularizer));
        c.insert("gamma_constraint".into(), k(&self.gamma_constraint));
        c.insert("beta_constraint".into(), k(&self.beta_constraint));
        c
    }
}

// Fields Keras writes that do not change the math (or are checked to be null first) are
// listed so unknown fields can be refused; they are read only by serde.
#[allow(dead_code)]
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BatchNormConfig {
    #[serde(default = "minus_one")]
    axis: Value,
    #[serde(default = "default_momentum")]
    momentum: f32,
    #[serde(default = "default_epsilon")]
    epsilon: f32,
    #[serde(default = "yes")]
    center: bool,
    #[serde(default = "yes")]
    scale: bool,
    #[serde(default)]
    beta_initializer: Option<Value>,
    #[serde(default)]
    gamma_initializer: Option<Value>,
    #[serde(default)]
    moving_mean_initializer: Option<Value>,
    #[serde(default)]
    moving_variance_initializer: Option<Value>,
    #[serde(default)]
    beta_regularizer: Value,
    #[serde(default)]
    gamma_regularizer: Value,
    #[serde(default)]
    beta_constraint: Value,
    #[serde(default)]
    gamma_constraint: Value,
    #[serde(default)]
    synchronized: bool,
    #[serde(default)]
    renorm: bool,
    #[serde(default)]
    renorm_clipping: Value,
    #[serde(default)]
    renorm_momentum: Option<f32>,
}

fn minus_one() -> Value {
    json!(-1)
}
fn default_momentum() -> f32 {
    0.99
}
fn default_epsilon() -> f32 {
    1e-3
}
fn yes() -> bool {
    true
}

impl FromKeras for BatchNormalization {
    const CLASSES: &'static [&'static str] = &["BatchNormalization"];
    fn from_keras(_class: &str, config: Map<String, Value>) -> std::result::Result<Self, String> {
        reject_set(&config, &["renorm_clipping"])?;
        let get = |k: &str| config.get(k).cloned().unwrap_or(Value::Null);
        let reg = |k: &str| Regularizer::from_keras(&get(k)).map_err(|e| format!("field {k}: {e}"));
        let con = |k: &str| Constraint::from_keras(&get(k)).map_err(|e| format!("field {k}: {e}"));
        let (gamma_regularizer, beta_regularizer) =
            (reg("gamma_regularizer")?, reg("beta_regularizer")?);
        let (gamma_constraint, beta_constraint) =
            (con("gamma_constraint")?, con("beta_constraint")?);
        let c: BatchNormConfig = typed(config)?;
        let axis_ok = c.axis == json!(-1) || c.axis == json!([-1]);
        if !axis_ok {
            return Err(format!("field axis: {} is not supported (only -1)", c.axis));
        }
        if c.renorm {
            return Err("field renorm: batch renormalization is not supported".into());
        }
        for (field, init, want) in [
            ("beta_initializer", &c.beta_initializer, Initializer::Zeros),
            ("gamma_initializer", &c.gamma_initializer, Initializer::Ones),
            (
                "moving_mean_initializer",
                &c.moving_mean_initializer,
                Initializer::Zeros,
            ),
            (
                "moving_variance_initializer",
                &c.moving_variance_initializer,
                Initializer::Ones,
            ),
        ] {
            let got = Initializer::from_keras(init.as_ref(), want)
                .map_err(|e| format!("field {field}: {e}"))?;
            if got != want {
                return Err(format!(
                    "field {field}: only the Keras default is supported"
                ));
            }
        }
        let bn = BatchNormalization {
            momentum: c.momentum,
            epsilon: c.epsilon,
            center: c.center,
            scale: c.scale,
            synchronized: c.synchronized,
            gamma_regularizer,
            beta_regularizer,
            gamma_constraint,
            beta_constraint,
        };
        bn.validate()?;
        Ok(bn)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synchronized_is_read_and_written() {
        let mut c = BatchNormalization::default().keras_config();
        assert_eq!(c["synchronized"], json!(false));
        c.insert("synchronized".into(), json!(true));
        let bn = BatchNormalization::from_keras("BatchNormalization", c).unwrap();
        assert!(bn.synchronized);
        assert_eq!(bn.keras_config()["synchronized"], json!(true));
    }

    #[test]
    fn defaults_round_trip_and_typed_errors() {
        let bn = BatchNormalization::default();
        assert_eq!((bn.momentum, bn.epsilon), (0.99, 1e-3));
        let back = BatchNormalization::from_keras("BatchNormalization", bn.keras_config()).unwrap();
        assert_eq!(back, bn);
        let mut c = bn.keras_config();
        c.insert("momentum".into(), json!("fast"));
        let e = BatchNormalization::from_keras("BatchNormalization", c).unwrap_err();
        assert!(e.contains("momentum"), "{e}");
        assert_eq!(bn.weight_specs(&[5]).len(), 4);
    }
}
