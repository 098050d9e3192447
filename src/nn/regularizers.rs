//! Keras's weight regularizers and constraints (`keras/src/regularizers/`,
//! `keras/src/constraints/`): `L1`, `L2` and `L1L2` penalties (`l1·Σ|w|`, `l2·Σw²` — no ½ —
//! added to the batch's mean loss and to the loss Keras reports; default factor 0.01) and
//! the `MaxNorm` constraint (each norm over `axis` brought to at most `max_value` after
//! every update; default `max_value` 2 and axis 0), read from and written as Keras writes
//! them. Penalties and constraints apply to trainable weights only, as in Keras.

use serde_json::{json, Value};

/// An L1/L2 penalty on a weight (`L1`: `l2 = 0`; `L2`: `l1 = 0`; `L1L2`: both).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Regularizer {
    /// L1 factor.
    pub l1: f32,
    /// L2 factor.
    pub l2: f32,
}

impl Regularizer {
    /// `L2(l2)`.
    pub fn l2(l2: f32) -> Regularizer {
        Regularizer { l1: 0.0, l2 }
    }

    /// `L1(l1)`.
    pub fn l1(l1: f32) -> Regularizer {
        Regularizer { l1, l2: 0.0 }
    }

    /// Checks the factors: finite and ≥ 0.
    pub fn validate(&self) -> Result<(), String> {
        for (name, v) in [("l1", self.l1), ("l2", self.l2)] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(format!("{name} {v} must be a finite number ≥ 0"));
            }
        }
        Ok(())
    }

    /// Keras's serialized form.
    pub fn to_keras(&self) -> Value {
        let (class, config) = match (self.l1 != 0.0, self.l2 != 0.0) {
            (true, false) => ("L1", json!({ "l1": self.l1 })),
            (false, true) => ("L2", json!({ "l2": self.l2 })),
            _ => ("L1L2", json!({ "l1": self.l1, "l2": self.l2 })),
        };
        json!({"module": "keras.regularizers", "class_name": class, "config": config, "registered_name": null})
    }

    /// Reads Keras's forms: `null`, a name (`"l1"`, `"l2"`, `"l1_l2"`: factor 0.01) or
    /// `{"class_name": "L2", "config": {"l2": …}}`. Any other class is an error.
    pub fn from_keras(v: &Value) -> Result<Option<Regularizer>, String> {
        let (class, config) = match v {
            Value::Null => return Ok(None),
            Value::String(s) => (s.as_str(), Value::Null),
            Value::Object(o) => (
                o.get("class_name").and_then(Value::as_str).unwrap_or(""),
                o.get("config").cloned().unwrap_or(Value::Null),
            ),
            other => return Err(format!("{other} is not a regularizer")),
        };
        let factor = |key: &str, default: f32| -> Result<f32, String> {
            match config.get(key) {
                None | Some(Value::Null) => Ok(default),
                Some(x) => x
                    .as_f64()
                    .map(|f| f as f32)
                    .ok_or_else(|| format!("{key} {x} is not a number")),
            }
        };
        let r = match class {
            "L1" | "l1" | "L1Regularizer" => Regularizer::l1(factor("l1", 0.01)?),
            "L2" | "l2" | "L2Regularizer" => Regularizer::l2(factor("l2", 0.01)?),
            "L1L2" | "l1_l2" | "l1l2" => Regularizer {
                // Keras's L1L2 class defaults to 0 for both; the `l1_l2` shortcut to 0.01.
                l1: factor("l1", if class == "L1L2" { 0.0 } else { 0.01 })?,
                l2: factor("l2", if class == "L1L2" { 0.0 } else { 0.01 })?,
            },
            other => {
                return Err(format!(
                    "regularizer {other:?} is not supported (L1, L2 or L1L2)"
                ))
            }
        };
        r.validate()?;
        Ok(Some(r))
    }
}

/// A constraint applied to a weight after every update.
#[derive(Clone, Debug, PartialEq)]
pub enum Constraint {
    /// Keras's `MaxNorm(max_value, axis)`.
    MaxNorm {
        /// The largest norm.
        max_value: f32,
        /// The axes each norm is taken over (negative from the end).
        axis: Vec<i64>,
    },
}

impl Constraint {
    /// `MaxNorm(max_value)` over axis 0 (per output unit of a Dense kernel).
    pub fn max_norm(max_value: f32) -> Constraint {
        Constraint::MaxNorm {
            max_value,
            axis: vec![0],
        }
    }

    /// Keras's serialized form.
    pub fn to_keras(&self) -> Value {
        match self {
            Constraint::MaxNorm { max_value, axis } => {
                let axis = if axis.len() == 1 {
                    json!(axis[0])
                } else {
                    json!(axis)
                };
                json!({"module": "keras.constraints", "class_name": "MaxNorm", "config": {"max_value": max_value, "axis": axis}, "registered_name": null})
            }
        }
    }

    /// Reads Keras's forms: `null`, `"max_norm"` or `{"class_name": "MaxNorm", "config":
    /// {"max_value": 2, "axis": 0}}`. Any other class is an error.
    pub fn from_keras(v: &Value) -> Result<Option<Constraint>, String> {
        let (class, config) = match v {
            Value::Null => return Ok(None),
            Value::String(s) => (s.as_str(), Value::Null),
            Value::Object(o) => (
                o.get("class_name").and_then(Value::as_str).unwrap_or(""),
                o.get("config").cloned().unwrap_or(Value::Null),
            ),
            other => return Err(format!("{other} is not a constraint")),
        };
        match class {
            "MaxNorm" | "max_norm" | "maxnorm" => {}
            other => {
                return Err(format!(
                    "constraint {other:?} is not supported (only MaxNorm)"
                ))
            }
        }
        let max_value = match config.get("max_value") {
            None | Some(Value::Null) => 2.0,
            Some(x) => {
                x.as_f64()
                    .ok_or_else(|| format!("max_value {x} is not a number"))? as f32
            }
        };
        let axis = match config.get("axis") {
            None | Some(Value::Null) => vec![0],
            Some(Value::Array(a)) => a
                .iter()
                .map(|x| {
                    x.as_i64()
                        .ok_or_else(|| format!("axis {x} is not an integer"))
                })
                .collect::<Result<_, _>>()?,
            Some(x) => vec![x
                .as_i64()
                .ok_or_else(|| format!("axis {x} is not an integer"))?],
        };
        let c = Constraint::MaxNorm { max_value, axis };
        c.validate()?;
        Ok(Some(c))
    }

    /// Checks `max_value`: finite and > 0.
    pub fn validate(&self) -> Result<(), String> {
        let Constraint::MaxNorm { max_value, .. } = self;
        if !(max_value.is_finite() && *max_value > 0.0) {
            return Err(format!("max_value {max_value} must be a finite number > 0"));
        }
        Ok(())
    }

    /// For a weight of `shape`: `(rows, cols, per_row)` of the matrix whose columns
    /// (or, `per_row`, rows) are the norms' vectors — the axes must be the leading ones
    /// (norms of columns) or the trailing ones (norms of rows).
    pub fn layout(&self, shape: &[usize]) -> Result<(usize, usize, bool), String> {
        let Constraint::MaxNorm { axis, .. } = self;
        let rank = shape.len().max(1) as i64;
        let mut axes: Vec<i64> = axis
            .iter()
            .map(|&a| if a < 0 { a + rank } else { a })
            .collect();
        axes.sort_unstable();
        axes.dedup();
        if axes.iter().any(|&a| a < 0 || a >= rank) || axes.is_empty() {
            return Err(format!(
                "axis {axis:?} is out of range for a weight of shape {shape:?}"
            ));
        }
        let k = axes.len();
        let contiguous = axes.windows(2).all(|w| w[1] == w[0] + 1);
        let split = |at: usize| -> (usize, usize) {
            (shape[..at].iter().product(), shape[at..].iter().product())
        };
        if contiguous && axes[0] == 0 {
            let (rows, cols) = split(k);
            Ok((rows, cols, false))
        } else if contiguous && axes[k - 1] == rank - 1 {
            let (rows, cols) = split(axes[0] as usize);
            Ok((rows, cols, true))
        } else {
            Err(format!(
                "axis {axis:?} of a weight of shape {shape:?}: only the leading or the trailing axes are supported"
            ))
        }
    }
}

/// The regularizers and constraints of a layer with a kernel and a bias (Dense, Conv2D):
/// Keras's `kernel_regularizer`, `bias_regularizer`, `kernel_constraint` and
/// `bias_constraint`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct KernelRules {
    /// The kernel's penalty.
    pub kernel_regularizer: Option<Regularizer>,
    /// The bias's penalty.
    pub bias_regularizer: Option<Regularizer>,
    /// The kernel's constraint.
    pub kernel_constraint: Option<Constraint>,
    /// The bias's constraint.
    pub bias_constraint: Option<Constraint>,
}

impl KernelRules {
    /// Reads the four fields of a Keras layer config; errors name the field.
    pub fn from_keras(config: &serde_json::Map<String, Value>) -> Result<KernelRules, String> {
        let get = |k: &str| config.get(k).cloned().unwrap_or(Value::Null);
        let reg = |k: &str| Regularizer::from_keras(&get(k)).map_err(|e| format!("field {k}: {e}"));
        let con = |k: &str| Constraint::from_keras(&get(k)).map_err(|e| format!("field {k}: {e}"));
        Ok(KernelRules {
            kernel_regularizer: reg("kernel_regularizer")?,
            bias_regularizer: reg("bias_regularizer")?,
            kernel_constraint: con("kernel_constraint")?,
            bias_constraint: con("bias_constraint")?,
        })
    }

    /// Writes the four fields (null when unset) into a Keras layer config.
    pub fn to_keras(&self, c: &mut serde_json::Map<String, Value>) {
        let r = |r: &Option<Regularizer>| r.map_or(Value::Null, |r| r.to_keras());
        let k = |c: &Option<Constraint>| c.as_ref().map_or(Value::Null, Constraint::to_keras);
        c.insert("kernel_regularizer".into(), r(&self.kernel_regularizer));
        c.insert("bias_regularizer".into(), r(&self.bias_regularizer));
        c.insert("kernel_constraint".into(), k(&self.kernel_constraint));
        c.insert("bias_constraint".into(), k(&self.bias_constraint));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keras_forms_round_trip() {
        for r in [
            Regularizer::l1(0.1),
            Regularizer::l2(0.02),
            Regularizer { l1: 0.1, l2: 0.2 },
        ] {
            assert_eq!(Regularizer::from_keras(&r.to_keras()).unwrap(), Some(r));
        }
        assert_eq!(
            Regularizer::from_keras(&json!("l2")).unwrap(),
            Some(Regularizer::l2(0.01))
        );
        assert!(Regularizer::from_keras(&json!({"class_name": "Orthogonal"})).is_err());
        assert!(
            Regularizer::from_keras(&json!({"class_name": "L2", "config": {"l2": -1}})).is_err()
        );
        let c = Constraint::MaxNorm {
            max_value: 1.5,
            axis: vec![0, 1, 2],
        };
        assert_eq!(Constraint::from_keras(&c.to_keras()).unwrap(), Some(c));
        assert!(Constraint::from_keras(&json!({"class_name": "NonNeg"})).is_err());
    }

    #[test]
    fn norms_of_leading_or_trailing_axes() {
        let m = |axis: Vec<i64>| Constraint::MaxNorm {
            max_value: 1.0,
            axis,
        };
        assert_eq!(m(vec![0]).layout(&[784, 300]), Ok((784, 300, false)));
        assert_eq!(m(vec![0, 1, 2]).layout(&[3, 3, 8, 16]), Ok((72, 16, false)));
        assert_eq!(m(vec![-1]).layout(&[784, 300]), Ok((784, 300, true)));
        assert_eq!(m(vec![0]).layout(&[10]), Ok((10, 1, false)));
        assert!(m(vec![1]).layout(&[3, 3, 8, 16]).is_err());
    }
}
