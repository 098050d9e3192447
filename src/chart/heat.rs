//! Heat maps: one row per layer (the lowest at the bottom), one column per sampled step,
//! the colour a statistic's value (log₁₀ for norms), with a colour bar beside it.

use std::path::Path;

use plotters::prelude::*;

use super::draw::{extent, linear_axis, log_axis, plot_err, ramp, register_font, Series, VIRIDIS};
use super::ticks;
use crate::error::Result;

/// A heat map of one statistic per row over x.
#[derive(Clone, Debug)]
pub struct HeatMap {
    /// Printed above the map.
    pub title: String,
    /// The x axis title.
    pub x_label: String,
    /// The y axis title (what the rows are).
    pub y_label: String,
    /// The colour bar's title.
    pub value_label: String,
    /// Colour by log₁₀ of the value (values ≤ 0 are drawn grey).
    pub log: bool,
    /// The colour scale's ends (in values), else the data's extent.
    pub range: Option<(f64, f64)>,
    /// The rows, bottom first: a name and its (x, value) points.
    pub rows: Vec<Series>,
}

const WIDTH: u32 = 1000;
const BAR: u32 = 150;
const MISSING: RGBColor = RGBColor(220, 220, 220);

impl HeatMap {
    /// Draws the map into a PNG at `path`.
    pub fn write(&self, path: &Path) -> Result<()> {
        register_font();
        let root = BitMapBackend::new(path, (WIDTH, 620)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| plot_err(path, e))?;
        let root = root
            .titled(&self.title, ("sans-serif", 22))
            .map_err(|e| plot_err(path, e))?;
        let (map, bar) = root.split_horizontally(WIDTH - BAR);
        let log = self.log;
        let value = |v: f64| if log { v.log10() } else { v };
        let values = self
            .rows
            .iter()
            .flat_map(|r| r.1.iter().map(|p| p.1))
            .filter(|v| !log || *v > 0.0)
            .map(value);
        let fixed = self.range.map(|(a, b)| (value(a), value(b)));
        let (mut v0, mut v1) = fixed.or(extent(values, false)).unwrap_or((0.0, 1.0));
        if v1 <= v0 {
            (v0, v1) = (v0 - 0.5, v1 + 0.5);
        }
        let mut xs: Vec<f64> = self
            .rows
            .iter()
            .flat_map(|r| r.1.iter().map(|p| p.0))
            .filter(|x| x.is_finite())
            .collect();
        xs.sort_by(f64::total_cmp);
        xs.dedup();
        // Each column reaches to the next sampled x; the last as wide as the one before.
        let gap = match xs.len() {
            0 | 1 => 1.0,
            n => xs[n - 1] - xs[n - 2],
        };
        let (x0, x1) = (
            xs.first().copied().unwrap_or(0.0),
            xs.last().copied().unwrap_or(0.0) + gap,
        );
        let n = self.rows.len().max(1);
        let x_step = ticks::step_of(x1 - x0, true, 10);
        let every = n.div_ceil(24);
        let y_ticks: Vec<f64> = (0..n)
            .filter(|i| i % every == 0 || i + 1 == n)
            .map(|i| i as f64 + 0.5)
            .collect();
        let names: Vec<String> = self.rows.iter().map(|r| r.0.clone()).collect();
        let y_fmt = |y: &f64| {
            names
                .get(y.floor() as usize)
                .map(|s| s.chars().take(20).collect())
                .unwrap_or_default()
        };
        let x_fmt = |x: &f64| ticks::linear_label(*x, x_step);
        let mut chart = ChartBuilder::on(&map)
            .margin(12)
            .x_label_area_size(44)
            .y_label_area_size(150)
            .build_cartesian_2d(
                linear_axis(x0, x1, ticks::linear(x0, x1, true, 10)),
                linear_axis(0.0, n as f64, y_ticks),
            )
            .map_err(|e| plot_err(path, e))?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc(self.x_label.as_str())
            .y_desc(self.y_label.as_str())
            .x_label_formatter(&x_fmt)
            .y_label_formatter(&y_fmt)
            .axis_desc_style(("sans-serif", 16))
            .label_style(("sans-serif", 13))
            .draw()
            .map_err(|e| plot_err(path, e))?;
        for (row, (_, pts)) in self.rows.iter().enumerate() {
            let mut pts = pts.clone();
            pts.sort_by(|a, b| a.0.total_cmp(&b.0));
            for (k, &(x, v)) in pts.iter().enumerate() {
                let right = pts.get(k + 1).map_or(x + gap, |p| p.0);
                let colour = if v.is_finite() && (!log || v > 0.0) {
                    ramp(&VIRIDIS, (value(v) - v0) / (v1 - v0))
                } else {
                    MISSING
                };
                chart
                    .draw_series(std::iter::once(Rectangle::new(
                        [(x, row as f64), (right, row as f64 + 1.0)],
                        colour.filled(),
                    )))
                    .map_err(|e| plot_err(path, e))?;
            }
        }
        self.draw_bar(path, &bar, (v0, v1))?;
        root.present().map_err(|e| plot_err(path, e))?;
        Ok(())
    }

    /// The colour bar: the ramp from v0 (bottom) to v1 (top) with labelled ticks.
    fn draw_bar(
        &self,
        path: &Path,
        area: &DrawingArea<BitMapBackend<'_>, plotters::coord::Shift>,
        (v0, v1): (f64, f64),
    ) -> Result<()> {
        let log = self.log;
        let (lo, hi) = if log {
            (10f64.powf(v0), 10f64.powf(v1))
        } else {
            (v0, v1)
        };
        let step = ticks::step_of(hi - lo, false, 6);
        let fmt = |v: &f64| {
            if log {
                ticks::log_label(*v)
            } else {
                ticks::linear_label(*v, step)
            }
        };
        let mut builder = ChartBuilder::on(area);
        builder
            .margin_top(12)
            .margin_bottom(56)
            .margin_right(12)
            .y_label_area_size(0)
            .right_y_label_area_size(60)
            .caption(self.value_label.as_str(), ("sans-serif", 14));
        macro_rules! bar {
            ($chart:expr, $to_unit:expr) => {{
                let mut chart = $chart.map_err(|e| plot_err(path, e))?;
                chart
                    .configure_mesh()
                    .disable_mesh()
                    .disable_x_axis()
                    .y_label_formatter(&fmt)
                    .label_style(("sans-serif", 13))
                    .draw()
                    .map_err(|e| plot_err(path, e))?;
                let steps = 100;
                chart
                    .draw_series((0..steps).map(|i| {
                        let (a, b) = (i as f64 / steps as f64, (i + 1) as f64 / steps as f64);
                        let at = |t: f64| $to_unit(t);
                        Rectangle::new(
                            [(0.0, at(a)), (1.0, at(b))],
                            ramp(&VIRIDIS, (a + b) / 2.0).filled(),
                        )
                    }))
                    .map_err(|e| plot_err(path, e))?;
            }};
        }
        if log {
            let ticks = ticks::log(lo, hi);
            bar!(
                builder.build_cartesian_2d(0.0..1.0, log_axis(lo, hi, ticks)),
                |t: f64| 10f64.powf(v0 + t * (v1 - v0))
            );
        } else {
            let ticks = ticks::linear(lo, hi, false, 6);
            bar!(
                builder.build_cartesian_2d(0.0..1.0, linear_axis(lo, hi, ticks)),
                |t: f64| lo + t * (hi - lo)
            );
        }
        Ok(())
    }
}
