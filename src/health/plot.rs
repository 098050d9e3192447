//! PNG charts of a health history ([`crate::chart`]): every layer's gradient norm over the
//! steps (log scale), the activations' standard deviation, the dead-unit fraction, and
//! the per-step loss under its bias-corrected EWMA. Up to [`MAX_LINES`] layers are lines
//! coloured by depth; deeper networks get a layer × step heat map instead, the lowest
//! layer at the bottom.

use std::path::{Path, PathBuf};

use super::{Ewma, HealthSample, LayerHealth};
use crate::chart::{Colours, HeatMap, Line, LineChart, Panel, Series};
use crate::error::{Error, Result};

/// The most layers drawn as lines; more become a heat map.
pub const MAX_LINES: usize = 8;

/// Per layer (in the order layers first appear: the lowest first), the (step, value)
/// points of one statistic. Linear in the samples and layers.
fn per_layer(samples: &[HealthSample], f: impl Fn(&LayerHealth) -> Option<f32>) -> Vec<Series> {
    let mut index: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    let mut out: Vec<Series> = Vec::new();
    for s in samples {
        for l in &s.layers {
            let Some(v) = f(l) else { continue };
            let i = *index.entry(l.layer.as_str()).or_insert_with(|| {
                out.push((l.layer.clone(), Vec::new()));
                out.len() - 1
            });
            if v.is_finite() {
                out[i].1.push((s.step as f64, f64::from(v)));
            }
        }
    }
    out
}

/// One statistic per layer: lines coloured by depth, or a heat map for deep networks.
fn per_layer_chart(
    path: &Path,
    title: String,
    value_label: &str,
    log: bool,
    series: Vec<Series>,
) -> Result<()> {
    // Fractions keep their whole scale.
    let range = (!log).then_some((0.0, 1.0));
    if series.len() > MAX_LINES {
        return HeatMap {
            title,
            x_label: "step".into(),
            y_label: "layer (lowest at the bottom)".into(),
            value_label: value_label.into(),
            log,
            range,
            rows: series,
        }
        .write(path);
    }
    LineChart {
        title,
        x_label: "step".into(),
        integer_x: true,
        colours: Colours::ByDepth,
        panels: vec![Panel {
            y_label: if log {
                format!("{value_label} (log scale)")
            } else {
                value_label.into()
            },
            log,
            range,
            lines: series.into_iter().map(|(n, p)| Line::new(n, p)).collect(),
        }],
    }
    .write(path)
}

/// Writes `grad_norms.png`, `activation_std.png`, `dead_fraction.png` and `loss.png` into
/// `dir` (created if missing); returns their paths. `title` prefixes the chart titles.
pub fn write_charts(dir: &Path, title: &str, samples: &[HealthSample]) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let prefix = if title.is_empty() {
        String::new()
    } else {
        format!("{title}: ")
    };
    let mut out = Vec::new();
    for (file, what, label, log, stat) in [
        (
            "grad_norms.png",
            "gradient norm per layer",
            "gradient norm",
            true,
            (|l: &LayerHealth| l.grad_norm) as fn(&LayerHealth) -> Option<f32>,
        ),
        (
            "activation_std.png",
            "activation standard deviation per layer",
            "activation std",
            true,
            |l: &LayerHealth| l.act_std,
        ),
        (
            "dead_fraction.png",
            "dead units per layer",
            "fraction dead",
            false,
            |l: &LayerHealth| l.dead_fraction,
        ),
    ] {
        let p = dir.join(file);
        per_layer_chart(
            &p,
            format!("{prefix}{what}"),
            label,
            log,
            per_layer(samples, stat),
        )?;
        out.push(p);
    }
    let raw: Vec<(f64, f64)> = samples
        .iter()
        .filter(|s| s.loss.is_finite())
        .map(|s| (s.step as f64, f64::from(s.loss)))
        .collect();
    // β = 0.9 per training step, whatever the sampling interval.
    let mut ewma = Ewma::new(0.9);
    let mut last = None;
    let smooth: Vec<(f64, f64)> = raw
        .iter()
        .map(|&(x, y)| {
            let gap = last.map_or(1, |l: f64| (x - l).max(1.0) as u64);
            last = Some(x);
            (x, ewma.update_after(y, gap))
        })
        .collect();
    let p = dir.join("loss.png");
    LineChart {
        title: format!("{prefix}training loss and its bias-corrected EWMA"),
        x_label: "step".into(),
        integer_x: true,
        colours: Colours::Distinct,
        panels: vec![Panel {
            y_label: "loss".into(),
            log: false,
            range: None,
            lines: vec![
                Line::new("loss (sampled steps)", raw).faint(),
                Line::new("EWMA (β 0.9 a step)", smooth),
            ],
        }],
    }
    .write(&p)?;
    out.push(p);
    Ok(out)
}
