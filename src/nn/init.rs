//! Weight initializers with Keras's formulas (see docs/semantics.md): every random one is a
//! `VarianceScaling { scale, mode, distribution }`; the normal ones are truncated at two
//! standard deviations and corrected by 0.87962566103423978 so the realised standard
//! deviation is `sqrt(scale / n)`.

use rand::{Rng, SeedableRng};

use crate::error::{Error, Result};

/// The standard deviation of N(0, 1) truncated to [-2, 2].
pub const TRUNCATION_CORRECTION: f64 = 0.879_625_661_034_239_8;

/// Which fan the variance is scaled by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FanMode {
    /// Inputs of the kernel.
    FanIn,
    /// Outputs of the kernel.
    FanOut,
    /// Their mean.
    FanAvg,
}

/// Sampling distribution of a variance-scaling initializer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Distribution {
    /// U(−L, L) with L = sqrt(3·scale/n).
    Uniform,
    /// Normal truncated at 2σ′, σ′ = sqrt(scale/n)/0.8796…
    TruncatedNormal,
    /// Normal with σ = sqrt(scale/n).
    UntruncatedNormal,
}

/// A weight initializer.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Initializer {
    /// All zeros (Keras's bias default).
    Zeros,
    /// All ones.
    Ones,
    /// One value everywhere.
    Constant(f32),
    /// N(mean, stddev²), untruncated — the "plain normal" init the chapter warns about.
    RandomNormal {
        /// Mean.
        mean: f32,
        /// Standard deviation.
        stddev: f32,
    },
    /// Keras's `VarianceScaling`.
    VarianceScaling {
        /// Variance scale (1 for Glorot/LeCun, 2 for He).
        scale: f64,
        /// Fan used.
        mode: FanMode,
        /// Distribution.
        distribution: Distribution,
    },
}

impl Initializer {
    /// `glorot_uniform`, Keras's kernel default.
    pub const GLOROT_UNIFORM: Initializer = Self::vs(1.0, FanMode::FanAvg, Distribution::Uniform);
    /// `glorot_normal`.
    pub const GLOROT_NORMAL: Initializer =
        Self::vs(1.0, FanMode::FanAvg, Distribution::TruncatedNormal);
    /// `he_uniform`.
    pub const HE_UNIFORM: Initializer = Self::vs(2.0, FanMode::FanIn, Distribution::Uniform);
    /// `he_normal`.
    pub const HE_NORMAL: Initializer = Self::vs(2.0, FanMode::FanIn, Distribution::TruncatedNormal);
    /// `lecun_uniform`.
    pub const LECUN_UNIFORM: Initializer = Self::vs(1.0, FanMode::FanIn, Distribution::Uniform);
    /// `lecun_normal`.
    pub const LECUN_NORMAL: Initializer =
        Self::vs(1.0, FanMode::FanIn, Distribution::TruncatedNormal);

    const fn vs(scale: f64, mode: FanMode, distribution: Distribution) -> Initializer {
        Initializer::VarianceScaling {
            scale,
            mode,
            distribution,
        }
    }

    /// Parses a Keras initializer name (`he_normal`, `zeros`, …).
    pub fn from_name(name: &str) -> Result<Initializer> {
        Ok(match name.to_ascii_lowercase().as_str() {
            "glorot_uniform" | "glorotuniform" | "xavier_uniform" => Self::GLOROT_UNIFORM,
            "glorot_normal" | "glorotnormal" | "xavier_normal" => Self::GLOROT_NORMAL,
            "he_uniform" | "heuniform" => Self::HE_UNIFORM,
            "he_normal" | "henormal" => Self::HE_NORMAL,
            "lecun_uniform" | "lecununiform" => Self::LECUN_UNIFORM,
            "lecun_normal" | "lecunnormal" => Self::LECUN_NORMAL,
            "zeros" | "zero" => Initializer::Zeros,
            "ones" | "one" => Initializer::Ones,
            "random_normal" | "randomnormal" => Initializer::RandomNormal {
                mean: 0.0,
                stddev: 0.05,
            },
            other => {
                return Err(Error::Config(format!(
                    "unknown initializer {other:?}: expected glorot_uniform, glorot_normal, he_uniform, he_normal, lecun_uniform, lecun_normal, zeros, ones or random_normal"
                )))
            }
        })
    }

    /// The Keras name of the named initializers (None for other variance scalings).
    pub fn name(&self) -> Option<&'static str> {
        Some(match *self {
            x if x == Self::GLOROT_UNIFORM => "glorot_uniform",
            x if x == Self::GLOROT_NORMAL => "glorot_normal",
            x if x == Self::HE_UNIFORM => "he_uniform",
            x if x == Self::HE_NORMAL => "he_normal",
            x if x == Self::LECUN_UNIFORM => "lecun_uniform",
            x if x == Self::LECUN_NORMAL => "lecun_normal",
            Initializer::Zeros => "zeros",
            Initializer::Ones => "ones",
            Initializer::Constant(_) => "constant",
            Initializer::RandomNormal { .. } => "random_normal",
            _ => return None,
        })
    }

    /// `(fan_in, fan_out)` as Keras computes them: a 2-D kernel is `(inputs, units)`,
    /// a vector counts its length for both.
    pub fn fans(shape: &[usize]) -> (f64, f64) {
        match shape.len() {
            0 => (1.0, 1.0),
            1 => (shape[0] as f64, shape[0] as f64),
            _ => {
                let receptive: usize = shape[..shape.len() - 2].iter().product();
                (
                    (shape[shape.len() - 2] * receptive) as f64,
                    (shape[shape.len() - 1] * receptive) as f64,
                )
            }
        }
    }

    /// The `n` the variance is divided by (floored at 1, as Keras).
    pub fn fan(shape: &[usize], mode: FanMode) -> f64 {
        let (fi, fo) = Self::fans(shape);
        let n = match mode {
            FanMode::FanIn => fi,
            FanMode::FanOut => fo,
            FanMode::FanAvg => (fi + fo) / 2.0,
        };
        n.max(1.0)
    }

    /// The uniform limit, or the (pre-truncation) standard deviation parameter.
    pub fn spread(&self, shape: &[usize]) -> Option<f64> {
        match *self {
            Initializer::VarianceScaling {
                scale,
                mode,
                distribution,
            } => {
                let n = Self::fan(shape, mode);
                Some(match distribution {
                    Distribution::Uniform => (3.0 * scale / n).sqrt(),
                    Distribution::TruncatedNormal => (scale / n).sqrt() / TRUNCATION_CORRECTION,
                    Distribution::UntruncatedNormal => (scale / n).sqrt(),
                })
            }
            Initializer::RandomNormal { stddev, .. } => Some(stddev as f64),
            _ => None,
        }
    }

    /// Draws a tensor of `shape`, reproducibly for a given `seed`.
    pub fn sample(&self, shape: &[usize], seed: u64) -> Vec<f32> {
        let n: usize = shape.iter().product();
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        match *self {
            Initializer::Zeros => vec![0.0; n],
            Initializer::Ones => vec![1.0; n],
            Initializer::Constant(c) => vec![c; n],
            Initializer::RandomNormal { mean, stddev } => (0..n)
                .map(|_| mean + stddev * standard_normal(&mut rng) as f32)
                .collect(),
            Initializer::VarianceScaling { distribution, .. } => {
                let s = self.spread(shape).unwrap();
                (0..n)
                    .map(|_| match distribution {
                        Distribution::Uniform => rng.random_range(-s..s) as f32,
                        Distribution::UntruncatedNormal => (s * standard_normal(&mut rng)) as f32,
                        Distribution::TruncatedNormal => loop {
                            // Redraw beyond two standard deviations, as TensorFlow does.
                            let z = standard_normal(&mut rng);
                            if z.abs() <= 2.0 {
                                break (s * z) as f32;
                            }
                        },
                    })
                    .collect()
            }
        }
    }
}

/// One N(0, 1) draw (Box–Muller).
fn standard_normal(rng: &mut impl Rng) -> f64 {
    let u1: f64 = 1.0 - rng.random::<f64>(); // (0, 1]
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

impl Initializer {
    /// The initializer as Keras serializes it (`{"class_name": "HeNormal", …}`).
    pub fn to_keras(&self) -> serde_json::Value {
        use serde_json::json;
        let named = |c: &str| json!({"module": "keras.initializers", "class_name": c, "config": {"seed": null}});
        match *self {
            x if x == Initializer::GLOROT_UNIFORM => named("GlorotUniform"),
            x if x == Initializer::GLOROT_NORMAL => named("GlorotNormal"),
            x if x == Initializer::HE_UNIFORM => named("HeUniform"),
            x if x == Initializer::HE_NORMAL => named("HeNormal"),
            x if x == Initializer::LECUN_UNIFORM => named("LecunUniform"),
            x if x == Initializer::LECUN_NORMAL => named("LecunNormal"),
            Initializer::Zeros => {
                json!({"module": "keras.initializers", "class_name": "Zeros", "config": {}})
            }
            Initializer::Ones => {
                json!({"module": "keras.initializers", "class_name": "Ones", "config": {}})
            }
            Initializer::Constant(v) => {
                json!({"module": "keras.initializers", "class_name": "Constant", "config": {"value": v}})
            }
            Initializer::RandomNormal { mean, stddev } => {
                json!({"module": "keras.initializers", "class_name": "RandomNormal", "config": {"mean": mean, "stddev": stddev, "seed": null}})
            }
            Initializer::VarianceScaling {
                scale,
                mode,
                distribution,
            } => json!({
                "module": "keras.initializers", "class_name": "VarianceScaling",
                "config": {
                    "scale": scale,
                    "mode": match mode { FanMode::FanIn => "fan_in", FanMode::FanOut => "fan_out", FanMode::FanAvg => "fan_avg" },
                    "distribution": match distribution { Distribution::Uniform => "uniform", Distribution::TruncatedNormal => "truncated_normal", Distribution::UntruncatedNormal => "untruncated_normal" },
                    "seed": null
                }
            }),
        }
    }

    /// Reads an initializer as Keras serializes it: a name (`"he_normal"`), or a
    /// `{"class_name", "config"}` object. `None`/null gives `default`.
    pub fn from_keras(
        v: Option<&serde_json::Value>,
        default: Initializer,
    ) -> std::result::Result<Initializer, String> {
        use serde_json::Value;
        let num = |cfg: &Value, key: &str, d: f64| -> std::result::Result<f64, String> {
            match cfg.get(key) {
                None | Some(Value::Null) => Ok(d),
                Some(x) => x
                    .as_f64()
                    .ok_or_else(|| format!("initializer field {key}: expected a number, got {x}")),
            }
        };
        let text =
            |cfg: &Value, key: &str, d: &'static str| -> std::result::Result<String, String> {
                match cfg.get(key) {
                    None | Some(Value::Null) => Ok(d.to_string()),
                    Some(Value::String(s)) => Ok(s.clone()),
                    Some(x) => Err(format!(
                        "initializer field {key}: expected a string, got {x}"
                    )),
                }
            };
        match v {
            None | Some(Value::Null) => Ok(default),
            Some(Value::String(s)) => Initializer::from_name(s).map_err(|e| e.to_string()),
            Some(obj @ Value::Object(_)) => {
                let class = obj["class_name"]
                    .as_str()
                    .ok_or("initializer without class_name")?;
                let cfg = &obj["config"];
                match class {
                    "Constant" => Ok(Initializer::Constant(num(cfg, "value", 0.0)? as f32)),
                    "RandomNormal" => Ok(Initializer::RandomNormal {
                        mean: num(cfg, "mean", 0.0)? as f32,
                        stddev: num(cfg, "stddev", 0.05)? as f32,
                    }),
                    "VarianceScaling" => {
                        let mode = match text(cfg, "mode", "fan_in")?.as_str() {
                            "fan_in" => FanMode::FanIn,
                            "fan_out" => FanMode::FanOut,
                            "fan_avg" => FanMode::FanAvg,
                            m => return Err(format!("unknown VarianceScaling mode {m:?}")),
                        };
                        let distribution = match text(cfg, "distribution", "truncated_normal")?
                            .as_str()
                        {
                            "uniform" => Distribution::Uniform,
                            "truncated_normal" | "normal" => Distribution::TruncatedNormal,
                            "untruncated_normal" => Distribution::UntruncatedNormal,
                            d => return Err(format!("unknown VarianceScaling distribution {d:?}")),
                        };
                        Ok(Initializer::VarianceScaling {
                            scale: num(cfg, "scale", 1.0)?,
                            mode,
                            distribution,
                        })
                    }
                    other => Initializer::from_name(&crate::nn::layer::to_snake_case(other))
                        .map_err(|_| format!("unknown initializer class {other:?}")),
                }
            }
            Some(other) => Err(format!("unsupported initializer {other}")),
        }
    }
}
