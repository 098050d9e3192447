//! PNG charts of a health history (plotters, with the bundled DejaVu Sans font):
//! the gradient norm of every layer over the steps (log scale), the activations' standard
//! deviation, the dead-unit fraction, and the loss with its EWMA-smoothed line.

use std::path::{Path, PathBuf};
use std::sync::Once;

use plotters::prelude::*;

use super::Ewma;
use super::HealthSample;
use crate::error::{Error, Result};

const FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The bundled font is valid; registration cannot fail for it.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
    });
}

fn plot_err(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Data {
        path: path.to_path_buf(),
        reason: format!("drawing the chart: {e}"),
    }
}

/// One series: a name and its (step, value) points.
pub type Series = (String, Vec<(f64, f64)>);

/// Per layer, the (step, value) points of one statistic.
fn per_layer(
    samples: &[HealthSample],
    f: impl Fn(&super::LayerHealth) -> Option<f32>,
) -> Vec<Series> {
    let mut names: Vec<String> = Vec::new();
    for s in samples {
        for l in &s.layers {
            if f(l).is_some() && !names.contains(&l.layer) {
                names.push(l.layer.clone());
            }
        }
    }
    names
        .into_iter()
        .map(|n| {
            let pts = samples
                .iter()
                .filter_map(|s| {
                    let l = s.layers.iter().find(|l| l.layer == n)?;
                    f(l).filter(|v| v.is_finite())
                        .map(|v| (s.step as f64, v as f64))
                })
                .collect();
            (n, pts)
        })
        .collect()
}

/// Draws named series as lines into a PNG (`log`: a logarithmic y axis).
pub fn line_chart(
    path: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series],
    log: bool,
) -> Result<()> {
    register_font();
    let root = BitMapBackend::new(path, (960, 600)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| plot_err(path, e))?;
    let pts = series.iter().flat_map(|s| s.1.iter());
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for &(x, y) in pts {
        if log && y <= 0.0 {
            continue;
        }
        x0 = x0.min(x);
        x1 = x1.max(x);
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    if x0 > x1 {
        (x0, x1, y0, y1) = (0.0, 1.0, if log { 1e-3 } else { 0.0 }, 1.0);
    }
    if x1 <= x0 {
        x1 = x0 + 1.0;
    }
    if y1 <= y0 {
        y1 = if log { y0 * 10.0 } else { y0 + 1.0 };
    }
    let mut builder = ChartBuilder::on(&root);
    builder
        .caption(title, ("sans-serif", 24))
        .margin(16)
        .x_label_area_size(40)
        .y_label_area_size(70);
    let colors = |i: usize| Palette99::pick(i).to_rgba();
    macro_rules! draw {
        ($chart:expr) => {{
            let mut chart = $chart;
            chart
                .configure_mesh()
                .x_desc(x_label)
                .y_desc(y_label)
                .x_label_formatter(&|x| format!("{x:.0}"))
                .y_label_formatter(&|y| {
                    if log || y.abs() >= 1e4 || (*y != 0.0 && y.abs() < 1e-2) {
                        format!("{y:.1e}")
                    } else {
                        format!("{y:.3}")
                    }
                })
                .label_style(("sans-serif", 14))
                .draw()
                .map_err(|e| plot_err(path, e))?;
            for (i, (name, pts)) in series.iter().enumerate() {
                let c = colors(i);
                let pts: Vec<(f64, f64)> =
                    pts.iter().copied().filter(|p| !log || p.1 > 0.0).collect();
                chart
                    .draw_series(LineSeries::new(pts, c.stroke_width(2)))
                    .map_err(|e| plot_err(path, e))?
                    .label(name.clone())
                    .legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 16, y)], c.stroke_width(2))
                    });
            }
            chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.8))
                .border_style(BLACK)
                .label_font(("sans-serif", 13))
                .draw()
                .map_err(|e| plot_err(path, e))?;
        }};
    }
    if log {
        draw!(builder
            .build_cartesian_2d(x0..x1, (y0..y1 * 1.5).log_scale())
            .map_err(|e| plot_err(path, e))?);
    } else {
        let pad = (y1 - y0) * 0.05;
        draw!(builder
            .build_cartesian_2d(x0..x1, (y0 - pad)..(y1 + pad))
            .map_err(|e| plot_err(path, e))?);
    }
    root.present().map_err(|e| plot_err(path, e))?;
    Ok(())
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
    let p = dir.join("grad_norms.png");
    line_chart(
        &p,
        &format!("{prefix}gradient norm per layer"),
        "step",
        "gradient norm (log scale)",
        &per_layer(samples, |l| l.grad_norm),
        true,
    )?;
    out.push(p);
    let p = dir.join("activation_std.png");
    line_chart(
        &p,
        &format!("{prefix}activation standard deviation per layer"),
        "step",
        "std",
        &per_layer(samples, |l| l.act_std),
        false,
    )?;
    out.push(p);
    let p = dir.join("dead_fraction.png");
    line_chart(
        &p,
        &format!("{prefix}dead units per layer"),
        "step",
        "fraction dead",
        &per_layer(samples, |l| l.dead_fraction),
        false,
    )?;
    out.push(p);
    let mut ewma = Ewma::new(0.9);
    let raw: Vec<(f64, f64)> = samples
        .iter()
        .filter(|s| s.loss.is_finite())
        .map(|s| (s.step as f64, s.loss as f64))
        .collect();
    let smooth: Vec<(f64, f64)> = raw.iter().map(|&(x, y)| (x, ewma.update(y))).collect();
    let p = dir.join("loss.png");
    line_chart(
        &p,
        &format!("{prefix}training loss"),
        "step",
        "loss",
        &[("loss".into(), raw), ("EWMA (β = 0.9)".into(), smooth)],
        false,
    )?;
    out.push(p);
    Ok(out)
}
