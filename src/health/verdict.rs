//! The verdict in words: vanishing or exploding gradients, dead units, saturation — or a
//! healthy run — naming the layers and the chapter's remedies that fit.

use super::HealthSample;
use std::collections::HashMap;

/// What is wrong (or not).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum VerdictKind {
    /// Nothing to report.
    Healthy,
    /// The lowest layers' gradients are orders of magnitude below the top layer's.
    Vanishing,
    /// Gradients grow by orders of magnitude (over steps, or from the top layer down) or go
    /// non-finite.
    Exploding,
    /// Many units output 0 for whole batches.
    Dead,
    /// Many outputs sit at a saturating activation's bounds.
    Saturated,
}

impl VerdictKind {
    /// The word (`healthy`, `vanishing`, `exploding`, `dead`, `saturated`).
    pub fn word(&self) -> &'static str {
        match self {
            VerdictKind::Healthy => "healthy",
            VerdictKind::Vanishing => "vanishing",
            VerdictKind::Exploding => "exploding",
            VerdictKind::Dead => "dead",
            VerdictKind::Saturated => "saturated",
        }
    }
}

/// One finding.
#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    /// What.
    pub kind: VerdictKind,
    /// The layers concerned, bottom to top.
    pub layers: Vec<String>,
    /// One line: what was seen and what the chapter advises.
    pub text: String,
}

/// A layer's gradient counts as vanished below this fraction of the top layer's.
pub const VANISHING_RATIO: f32 = 1e-3;
/// A layer learns too slowly when its relative update ‖Δw‖/‖w‖ is below this fraction of
/// the top layer's: its weights barely move however large they are.
pub const SLOW_LEARNING_RATIO: f32 = 1e-2;
/// Growth (over steps, or from the top layer down) that counts as exploding.
pub const EXPLODING_RATIO: f32 = 1e3;
/// A layer with more dead units than this is reported.
pub const DEAD_FRACTION: f32 = 0.5;
/// A layer with more saturated outputs than this is reported.
pub const SATURATED_FRACTION: f32 = 0.5;

fn median(mut v: Vec<f32>) -> f32 {
    v.sort_by(f32::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f32::NAN)
}

/// Judges a run from its samples (a few are needed: findings must hold in at least half of
/// them). Returns one verdict per finding, or one `Healthy`.
pub fn verdict(samples: &[HealthSample]) -> Vec<Verdict> {
    let mut out = Vec::new();
    let Some(first) = samples.first() else {
        return vec![Verdict {
            kind: VerdictKind::Healthy,
            layers: vec![],
            text: "no health samples were taken".into(),
        }];
    };
    let names: Vec<String> = first.weighted().map(|l| l.layer.clone()).collect();
    // Each sample's layers by name (the first of a name wins), so that judging stays
    // linear in the layer count.
    let by_name: Vec<HashMap<&str, &super::LayerHealth>> = samples
        .iter()
        .map(|s| {
            let mut m = HashMap::new();
            for l in &s.layers {
                m.entry(l.layer.as_str()).or_insert(l);
            }
            m
        })
        .collect();
    let weighted: Vec<HashMap<&str, &super::LayerHealth>> = samples
        .iter()
        .map(|s| {
            let mut m = HashMap::new();
            for l in s.weighted() {
                m.entry(l.layer.as_str()).or_insert(l);
            }
            m
        })
        .collect();
    let norm = |s: usize, name: &str| {
        weighted[s]
            .get(name)
            .and_then(|l| l.grad_norm)
            .unwrap_or(f32::NAN)
    };
    // Per layer, the median over samples of its gradient norm relative to the top layer's.
    let ratios: Vec<f32> = names
        .iter()
        .map(|n| {
            median(
                (0..samples.len())
                    .map(|s| norm(s, n) / norm(s, names.last().unwrap()).max(f32::MIN_POSITIVE))
                    .collect(),
            )
        })
        .collect();
    let upd = |s: usize, name: &str| {
        weighted[s]
            .get(name)
            .and_then(|l| l.update_ratio)
            .unwrap_or(f32::NAN)
    };
    // Per layer, the median of its relative update over the top layer's.
    let speeds: Vec<f32> = names
        .iter()
        .map(|n| {
            median(
                (0..samples.len())
                    .map(|s| upd(s, n) / upd(s, names.last().unwrap()).max(f32::MIN_POSITIVE))
                    .collect(),
            )
        })
        .collect();
    let nonfinite = samples.iter().any(|s| {
        !s.loss.is_finite()
            || s.weighted()
                .any(|l| !l.grad_norm.unwrap_or(0.0).is_finite())
    });
    let global = |s: &HealthSample| {
        s.weighted()
            .map(|l| l.grad_norm.unwrap_or(0.0).powi(2))
            .sum::<f32>()
            .sqrt()
    };
    let growth = global(samples.last().unwrap()) / global(first).max(f32::MIN_POSITIVE);
    let vanished: Vec<String> = names
        .iter()
        .zip(ratios.iter().zip(&speeds))
        .filter(|(_, (r, v))| **r < VANISHING_RATIO || **v < SLOW_LEARNING_RATIO)
        .map(|(n, _)| n.clone())
        .collect();
    let exploded: Vec<String> = names
        .iter()
        .zip(&ratios)
        .filter(|(_, r)| **r > EXPLODING_RATIO)
        .map(|(n, _)| n.clone())
        .collect();
    if !vanished.is_empty() {
        let lowest = ratios.first().copied().unwrap_or(f32::NAN);
        let speed = speeds.first().copied().unwrap_or(f32::NAN);
        out.push(Verdict {
            kind: VerdictKind::Vanishing,
            text: format!(
                "vanishing gradients: {} barely learn(s) (the lowest layer's gradient is {lowest:.1e} of the top layer's, its weights move {speed:.1e} as fast); remedies: He initialization with a ReLU variant, SELU with LeCun normal on a plain dense stack, batch normalization",
                vanished.join(", ")
            ),
            layers: vanished,
        });
    }
    if nonfinite || growth > EXPLODING_RATIO || !exploded.is_empty() {
        let layers = if exploded.is_empty() {
            names.clone()
        } else {
            exploded
        };
        out.push(Verdict {
            kind: VerdictKind::Exploding,
            text: if nonfinite {
                "exploding gradients: they went non-finite; remedies: gradient clipping (--clipnorm), a lower learning rate, batch normalization".to_string()
            } else {
                format!(
                    "exploding gradients: the gradient norm grew ×{growth:.1e} over the run and reaches {} at ×{:.1e} the top layer's; remedies: gradient clipping (--clipnorm), a lower learning rate, batch normalization",
                    layers.join(", "),
                    ratios.iter().cloned().fold(0.0f32, f32::max)
                )
            },
            layers,
        });
    }
    let share =
        |f: &dyn Fn(&super::LayerHealth) -> Option<f32>, bound: f32| -> Vec<(String, f32)> {
            first
                .layers
                .iter()
                .filter_map(|l| {
                    let vals: Vec<f32> = by_name
                        .iter()
                        .filter_map(|m| m.get(l.layer.as_str()).and_then(|x| f(x)))
                        .collect();
                    if vals.is_empty() {
                        return None;
                    }
                    let m = median(vals);
                    (m > bound).then(|| (l.layer.clone(), m))
                })
                .collect()
        };
    let dead = share(&|l| l.dead_fraction, DEAD_FRACTION);
    if !dead.is_empty() {
        out.push(Verdict {
            kind: VerdictKind::Dead,
            text: format!(
                "dead units: {}; remedies: a leaky ReLU variant (LeakyReLU, RReLU, PReLU, ELU), He initialization, a lower learning rate",
                dead.iter()
                    .map(|(n, f)| format!("{n} {:.0}% dead", 100.0 * f))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            layers: dead.into_iter().map(|d| d.0).collect(),
        });
    }
    let saturated = share(&|l| l.saturated_fraction, SATURATED_FRACTION);
    if !saturated.is_empty() {
        out.push(Verdict {
            kind: VerdictKind::Saturated,
            text: format!(
                "saturation: {}; remedies: Glorot initialization for tanh/sigmoid, a nonsaturating activation (ReLU family, ELU, SELU), batch normalization",
                saturated
                    .iter()
                    .map(|(n, f)| format!("{n} {:.0}% saturated", 100.0 * f))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            layers: saturated.into_iter().map(|d| d.0).collect(),
        });
    }
    if out.is_empty() {
        let lowest = ratios.first().copied().unwrap_or(1.0);
        out.push(Verdict {
            kind: VerdictKind::Healthy,
            layers: vec![],
            text: format!(
                "healthy: gradients reach the lowest layer at {lowest:.1e} of the top layer's, no dead or saturated layers"
            ),
        });
    }
    out
}
