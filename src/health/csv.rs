//! The health history as CSV: one row per sample per layer, read back by `steadygrad plot`.

use std::path::Path;

use super::{HealthSample, LayerHealth};
use crate::error::{Error, Result};

/// The header line.
pub const HEADER: &str =
    "step,loss,layer,activation,act_mean,act_std,dead_fraction,saturated_fraction,grad_norm,update_ratio";

fn opt(v: Option<f32>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
}

/// The samples as CSV text.
pub fn to_csv(samples: &[HealthSample]) -> String {
    let mut out = format!("{HEADER}\n");
    for s in samples {
        for l in &s.layers {
            out += &format!(
                "{},{},{},{},{},{},{},{},{},{}\n",
                s.step,
                s.loss,
                l.layer,
                l.activation.clone().unwrap_or_default(),
                opt(l.act_mean),
                opt(l.act_std),
                opt(l.dead_fraction),
                opt(l.saturated_fraction),
                opt(l.grad_norm),
                opt(l.update_ratio)
            );
        }
    }
    out
}

/// Reads samples back from CSV text (`path` names the file in errors).
pub fn from_csv(path: &Path, text: &str) -> Result<Vec<HealthSample>> {
    let bad = |line: usize, what: String| Error::Data {
        path: path.to_path_buf(),
        reason: format!("line {line}: {what}"),
    };
    let mut lines = text.lines();
    if lines.next().map(str::trim) != Some(HEADER) {
        return Err(bad(1, format!("expected the header {HEADER}")));
    }
    let mut out: Vec<HealthSample> = Vec::new();
    for (i, line) in lines.enumerate() {
        let n = i + 2;
        if line.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split(',').collect();
        if f.len() != 10 {
            return Err(bad(n, format!("{} fields, expected 10", f.len())));
        }
        let num = |k: usize| -> Result<Option<f32>> {
            if f[k].is_empty() {
                Ok(None)
            } else {
                f[k].parse::<f32>()
                    .map(Some)
                    .map_err(|_| bad(n, format!("field {k}: {:?} is not a number", f[k])))
            }
        };
        let step: u64 = f[0]
            .parse()
            .map_err(|_| bad(n, format!("step {:?} is not a whole number", f[0])))?;
        let loss = num(1)?.ok_or_else(|| bad(n, "no loss".into()))?;
        // Fractions are in [0, 1]; norms and spreads are never negative.
        let fraction = |k: usize, what: &str| -> Result<Option<f32>> {
            match num(k)? {
                Some(v) if !(0.0..=1.0).contains(&v) => {
                    Err(bad(n, format!("{what} {v} is not a fraction in [0, 1]")))
                }
                v => Ok(v),
            }
        };
        let non_negative = |k: usize, what: &str| -> Result<Option<f32>> {
            match num(k)? {
                Some(v) if v < 0.0 => Err(bad(n, format!("{what} {v} is negative"))),
                v => Ok(v),
            }
        };
        let layer = LayerHealth {
            layer: f[2].to_string(),
            activation: (!f[3].is_empty()).then(|| f[3].to_string()),
            act_mean: num(4)?,
            act_std: non_negative(5, "act_std")?,
            dead_fraction: fraction(6, "dead_fraction")?,
            saturated_fraction: fraction(7, "saturated_fraction")?,
            grad_norm: non_negative(8, "grad_norm")?,
            update_ratio: non_negative(9, "update_ratio")?,
        };
        match out.last_mut() {
            Some(s) if s.step == step => s.layers.push(layer),
            _ => out.push(HealthSample {
                step,
                loss,
                layers: vec![layer],
            }),
        }
    }
    Ok(out)
}
