//! Activation layers — Keras's `Activation(name)`, `ReLU()`, `ELU(alpha)` and
//! `Softmax()` — plus the activation names and JSON forms Dense's `activation` field uses.

use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::{reject_set, typed, FromKeras, LayerKind};
use crate::backend::ActKind;
use crate::error::{Error, Result};
use crate::nn::layer::{LayerOps, Lowering};

/// Which Keras class an activation layer is (they serialize differently).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ActivationClass {
    /// `Activation(name)`.
    Activation,
    /// `ReLU()`.
    Relu,
    /// `ELU(alpha)`.
    Elu,
    /// `Softmax()`.
    Softmax,
}

/// An activation as its own layer.
#[derive(Clone, Debug, PartialEq)]
pub struct Activation {
    /// The function.
    pub act: ActKind,
    /// The Keras class it reads and writes as.
    pub class: ActivationClass,
}

impl Activation {
    /// `Activation(act)`.
    pub fn new(act: ActKind) -> Activation {
        Activation {
            act,
            class: ActivationClass::Activation,
        }
    }
    /// `ReLU()`.
    pub fn relu() -> Activation {
        Activation {
            act: ActKind::Relu,
            class: ActivationClass::Relu,
        }
    }
    /// `ELU(alpha)` (Keras default alpha 1).
    pub fn elu(alpha: f32) -> Activation {
        Activation {
            act: ActKind::Elu { alpha },
            class: ActivationClass::Elu,
        }
    }
    /// `Softmax()`.
    pub fn softmax() -> Activation {
        Activation {
            act: ActKind::Softmax,
            class: ActivationClass::Softmax,
        }
    }
}

impl LayerOps for Activation {
    fn class_name(&self) -> &'static str {
        match self.class {
            ActivationClass::Activation => "Activation",
            ActivationClass::Relu => "ReLU",
            ActivationClass::Elu => "ELU",
            ActivationClass::Softmax => "Softmax",
        }
    }
    fn validate(&self) -> std::result::Result<(), String> {
        validate_activation(self.act)
    }
    fn output_shape(&self, input: &[usize]) -> std::result::Result<Vec<usize>, String> {
        Ok(input.to_vec())
    }
    fn lower(&self, cx: &mut Lowering) -> Result<()> {
        cx.activate(self.act);
        Ok(())
    }
    fn keras_config(&self) -> Map<String, Value> {
        let mut c = Map::new();
        match (self.class, self.act) {
            (ActivationClass::Elu, ActKind::Elu { alpha }) => {
                c.insert("alpha".into(), json!(alpha));
            }
            (ActivationClass::Relu, _) => {
                c.insert("max_value".into(), Value::Null);
                c.insert("negative_slope".into(), json!(0.0));
                c.insert("threshold".into(), json!(0.0));
            }
            (ActivationClass::Softmax, _) => {
                c.insert("axis".into(), json!(-1));
            }
            _ => {
                c.insert("activation".into(), activation_to_keras(self.act));
            }
        }
        c
    }
    fn activation(&self) -> Option<ActKind> {
        Some(self.act)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ActivationConfig {
    activation: Value,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EluConfig {
    #[serde(default = "one")]
    alpha: f32,
}

fn one() -> f32 {
    1.0
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SoftmaxConfig {
    #[serde(default = "minus_one")]
    axis: i64,
}

fn minus_one() -> i64 {
    -1
}

impl FromKeras for Activation {
    const CLASSES: &'static [&'static str] = &["Activation", "ReLU", "ELU", "Softmax"];
    fn from_keras(class: &str, config: Map<String, Value>) -> std::result::Result<Self, String> {
        Ok(match class {
            "ReLU" => {
                let num = |k: &str| config.get(k).and_then(Value::as_f64).unwrap_or(0.0);
                reject_set(&config, &["max_value"])?;
                if num("negative_slope") != 0.0 || num("threshold") != 0.0 {
                    return Err("ReLU with negative_slope or threshold is not supported".into());
                }
                for k in config.keys() {
                    if !["max_value", "negative_slope", "threshold"].contains(&k.as_str()) {
                        return Err(format!("unknown field {k}"));
                    }
                }
                Activation::relu()
            }
            "ELU" => Activation::elu(typed::<EluConfig>(config)?.alpha),
            "Softmax" => {
                let axis = typed::<SoftmaxConfig>(config)?.axis;
                if axis != -1 {
                    return Err(format!("Softmax axis {axis} is not supported (only -1)"));
                }
                Activation::softmax()
            }
            _ => {
                let cfg: ActivationConfig = typed(config)?;
                match activation_from_keras(&cfg.activation)? {
                    Some(act) => Activation::new(act),
                    None => {
                        return Err("field activation: PReLU is a layer, not an activation".into())
                    }
                }
            }
        })
    }
}

/// Checks an activation's parameters.
pub fn validate_activation(act: ActKind) -> std::result::Result<(), String> {
    match act {
        ActKind::LeakyRelu { alpha } | ActKind::Elu { alpha } if !alpha.is_finite() => Err(
            format!("{}: parameter {alpha} must be finite", act.keras_name()),
        ),
        ActKind::Rrelu { lower, upper }
            if !(lower.is_finite() && upper.is_finite() && lower <= upper) =>
        {
            Err(format!(
                "rrelu: lower {lower} and upper {upper} must be finite with lower ≤ upper"
            ))
        }
        _ => Ok(()),
    }
}

/// An activation as Keras writes it: a name, or a nested layer when it has a parameter a
/// name cannot carry.
pub fn activation_to_keras(a: ActKind) -> Value {
    match a {
        ActKind::LeakyRelu { alpha } if alpha != 0.2 => {
            json!({"module": "keras.layers", "class_name": "LeakyReLU", "config": {"negative_slope": alpha}})
        }
        ActKind::Elu { alpha } if alpha != 1.0 => {
            json!({"module": "keras.layers", "class_name": "ELU", "config": {"alpha": alpha}})
        }
        ActKind::Rrelu { lower, upper } => {
            json!({"class_name": "RReLU", "config": {"lower": lower, "upper": upper}})
        }
        other => json!(other.keras_name()),
    }
}

/// Reads Dense's (or Activation's) `activation` field: a name, null, or a nested
/// activation layer. `None` means a PReLU layer, which has weights and cannot be one.
pub fn activation_from_keras(v: &Value) -> std::result::Result<Option<ActKind>, String> {
    match v {
        Value::Null => Ok(Some(ActKind::Linear)),
        Value::String(s) => parse_activation(s).map(Some).map_err(|e| e.to_string()),
        Value::Object(o) => {
            let class = o
                .get("class_name")
                .and_then(Value::as_str)
                .ok_or("activation object without class_name")?;
            let mut cfg = o
                .get("config")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            for k in ["name", "trainable", "dtype"] {
                cfg.remove(k);
            }
            match LayerKind::from_keras(class, cfg)? {
                LayerKind::Prelu(_) => Ok(None),
                kind => kind
                    .ops()
                    .activation()
                    .map(Some)
                    .ok_or_else(|| format!("{class} cannot be used as an activation")),
            }
        }
        other => Err(format!("unsupported activation {other}")),
    }
}

/// Parses an activation as Keras names it, with an optional parameter after a colon:
/// `relu`, `leaky_relu[:alpha]` (0.2), `rrelu[:lower:upper]` (1/8, 1/3), `elu[:alpha]` (1),
/// `selu`, `tanh`, `sigmoid`, `softmax`, `linear`. A parameter the activation does not
/// take is an error.
pub fn parse_activation(spec: &str) -> Result<ActKind> {
    let mut parts = spec.split(':');
    let name = parts.next().unwrap_or("").trim().to_ascii_lowercase();
    let nums: Vec<f32> = parts
        .map(|p| {
            p.trim()
                .parse::<f32>()
                .map_err(|_| Error::Config(format!("bad number {p:?} in activation {spec:?}")))
        })
        .collect::<Result<_>>()?;
    let canonical = match name.as_str() {
        "none" => "linear",
        "leakyrelu" => "leaky_relu",
        "logistic" => "sigmoid",
        other => other,
    };
    let base = ActKind::all()
        .into_iter()
        .find(|a| a.keras_name() == canonical)
        .ok_or_else(|| {
            let names: Vec<&str> = ActKind::all().iter().map(|a| a.keras_name()).collect();
            Error::Config(format!(
                "unknown activation {name:?}: expected one of {}, or prelu (a layer)",
                names.join(", ")
            ))
        })?;
    let takes = match base {
        ActKind::LeakyRelu { .. } | ActKind::Elu { .. } => 1,
        ActKind::Rrelu { .. } => 2,
        _ => 0,
    };
    if nums.len() > takes {
        return Err(Error::Config(format!(
            "activation {spec:?}: {canonical} takes {takes} parameter(s), got {}",
            nums.len()
        )));
    }
    let arg = |i: usize, d: f32| nums.get(i).copied().unwrap_or(d);
    // Keras's defaults come from ActKind::all(); parameters given after colons replace them.
    let act = match base {
        ActKind::LeakyRelu { alpha } => ActKind::LeakyRelu {
            alpha: arg(0, alpha),
        },
        ActKind::Elu { alpha } => ActKind::Elu {
            alpha: arg(0, alpha),
        },
        ActKind::Rrelu { lower, upper } => ActKind::Rrelu {
            lower: arg(0, lower),
            upper: arg(1, upper),
        },
        other => other,
    };
    validate_activation(act).map_err(|e| Error::Config(format!("activation {spec:?}: {e}")))?;
    Ok(act)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_parameters() {
        assert_eq!(
            parse_activation("elu:0.5").unwrap(),
            ActKind::Elu { alpha: 0.5 }
        );
        assert!(
            parse_activation("relu:0.5").is_err(),
            "relu takes no parameter"
        );
        assert!(parse_activation("leaky_relu:nan").is_err());
        assert!(parse_activation("rrelu:0.5:0.1").is_err(), "lower > upper");
    }

    #[test]
    fn every_activation_parses_by_its_keras_name() {
        for act in ActKind::all() {
            assert_eq!(parse_activation(act.keras_name()).unwrap(), act, "{act:?}");
        }
    }

    #[test]
    fn keras_json_round_trip() {
        for a in [
            Activation::relu(),
            Activation::elu(0.5),
            Activation::softmax(),
            Activation::new(ActKind::Tanh),
        ] {
            let back = Activation::from_keras(a.class_name(), a.keras_config()).unwrap();
            assert_eq!(back, a);
        }
    }

    #[test]
    fn wrong_type_names_the_field() {
        let mut c = Map::new();
        c.insert("alpha".into(), json!("big"));
        let e = Activation::from_keras("ELU", c).unwrap_err();
        assert!(e.contains("alpha"), "{e}");
    }
}
