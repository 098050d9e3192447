//! Line charts: one or more panels stacked over a shared x axis, a legend beside them.

use std::path::Path;

use plotters::prelude::*;

use super::draw::{extent, legend, linear_axis, log_axis, plot_err, register_font, Colours};
use super::ticks;
use crate::error::Result;

/// One line of a panel.
#[derive(Clone, Debug)]
pub struct Line {
    /// Its name in the legend.
    pub name: String,
    /// Its (x, y) points; non-finite values (and values ≤ 0 on a log axis) are skipped.
    pub points: Vec<(f64, f64)>,
    /// Drawn thin and pale (raw values under their smoothed line).
    pub faint: bool,
}

impl Line {
    /// A line drawn at full strength.
    pub fn new(name: impl Into<String>, points: Vec<(f64, f64)>) -> Line {
        Line {
            name: name.into(),
            points,
            faint: false,
        }
    }

    /// The same line, thin and pale.
    pub fn faint(mut self) -> Line {
        self.faint = true;
        self
    }
}

/// One panel: its y axis and its lines.
#[derive(Clone, Debug)]
pub struct Panel {
    /// The y axis title.
    pub y_label: String,
    /// A logarithmic y axis.
    pub log: bool,
    /// The y axis's ends, else the data's extent (padded).
    pub range: Option<(f64, f64)>,
    /// The lines.
    pub lines: Vec<Line>,
}

/// A chart of stacked panels (the first twice as tall as the others).
#[derive(Clone, Debug)]
pub struct LineChart {
    /// Printed above the panels.
    pub title: String,
    /// The x axis title (under the last panel).
    pub x_label: String,
    /// Whole-number x ticks (epochs).
    pub integer_x: bool,
    /// How lines are coloured (numbered over all panels).
    pub colours: Colours,
    /// The panels, top first.
    pub panels: Vec<Panel>,
}

const WIDTH: u32 = 1000;
const LEGEND: u32 = 230;

impl LineChart {
    /// Draws the chart into a PNG at `path`.
    pub fn write(&self, path: &Path) -> Result<()> {
        register_font();
        let n = self.panels.len().max(1) as u32;
        let height = 560 + 220 * (n - 1);
        let root = BitMapBackend::new(path, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| plot_err(path, e))?;
        let root = root
            .titled(&self.title, ("sans-serif", 22))
            .map_err(|e| plot_err(path, e))?;
        // Lines of one name (the same configuration in two panels) share a colour and
        // a legend entry.
        let mut names: Vec<&str> = Vec::new();
        for l in self.panels.iter().flat_map(|p| &p.lines) {
            if !names.contains(&l.name.as_str()) {
                names.push(&l.name);
            }
        }
        let count = names.len();
        let entries: Vec<(String, RGBColor)> = names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.to_string(), self.colours.of(i, count)))
            .collect();
        let colours: Vec<RGBColor> = self
            .panels
            .iter()
            .flat_map(|p| &p.lines)
            .map(|l| entries[names.iter().position(|n| *n == l.name).unwrap_or(0)].1)
            .collect();
        let (plots, side) = if count > 1 {
            root.split_horizontally(WIDTH - LEGEND)
        } else {
            root.split_horizontally(WIDTH)
        };
        if count > 1 {
            legend(&side, &entries).map_err(|e| plot_err(path, e))?;
        }
        let xs = self
            .panels
            .iter()
            .flat_map(|p| &p.lines)
            .flat_map(|l| l.points.iter().map(|p| p.0));
        let (mut x0, mut x1) = extent(xs, false).unwrap_or((0.0, 1.0));
        if x1 <= x0 {
            (x0, x1) = (x0 - 0.5, x1 + 0.5);
        }
        let x_ticks = ticks::linear(x0, x1, self.integer_x, 10);
        let x_step = ticks::step_of(x1 - x0, self.integer_x, 10);
        // The first panel gets two shares of the height, the others one.
        let unit = plots.dim_in_pixel().1 / (n + 1);
        let mut areas = Vec::new();
        let mut rest = plots;
        for i in 0..n - 1 {
            let (a, b) = rest.split_vertically(if i == 0 { 2 * unit } else { unit });
            areas.push(a);
            rest = b;
        }
        areas.push(rest);
        let mut first = 0;
        for (panel, area) in self.panels.iter().zip(&areas) {
            let cols = &colours[first..first + panel.lines.len()];
            first += panel.lines.len();
            self.draw_panel(path, panel, area, cols, (x0, x1), &x_ticks, x_step)?;
        }
        root.present().map_err(|e| plot_err(path, e))?;
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn draw_panel(
        &self,
        path: &Path,
        panel: &Panel,
        area: &DrawingArea<BitMapBackend<'_>, plotters::coord::Shift>,
        colours: &[RGBColor],
        (x0, x1): (f64, f64),
        x_ticks: &[f64],
        x_step: f64,
    ) -> Result<()> {
        let log = panel.log;
        let ys = panel
            .lines
            .iter()
            .flat_map(|l| l.points.iter().map(|p| p.1));
        let (y0, y1) = y_axis(ys, log, panel.range);
        let y_step = ticks::step_of(y1 - y0, false, 6);
        let y_ticks = if log {
            ticks::log(y0, y1)
        } else {
            ticks::linear(y0, y1, false, 6)
        };
        let x_fmt = |x: &f64| ticks::linear_label(*x, x_step);
        let y_fmt = |y: &f64| {
            if log {
                ticks::log_label(*y)
            } else {
                ticks::linear_label(*y, y_step)
            }
        };
        let mut builder = ChartBuilder::on(area);
        builder
            .margin(12)
            .x_label_area_size(44)
            .y_label_area_size(84);
        macro_rules! draw {
            ($chart:expr) => {{
                let mut chart = $chart.map_err(|e| plot_err(path, e))?;
                chart
                    .configure_mesh()
                    .x_desc(self.x_label.as_str())
                    .y_desc(panel.y_label.as_str())
                    .x_label_formatter(&x_fmt)
                    .y_label_formatter(&y_fmt)
                    .bold_line_style(BLACK.mix(0.12))
                    .light_line_style(TRANSPARENT)
                    .axis_desc_style(("sans-serif", 16))
                    .label_style(("sans-serif", 14))
                    .draw()
                    .map_err(|e| plot_err(path, e))?;
                for (l, c) in panel.lines.iter().zip(colours) {
                    let pts: Vec<(f64, f64)> = l
                        .points
                        .iter()
                        .copied()
                        .filter(|p| p.0.is_finite() && p.1.is_finite() && (!log || p.1 > 0.0))
                        .collect();
                    let style = if l.faint {
                        c.mix(0.55).stroke_width(1)
                    } else {
                        c.stroke_width(2)
                    };
                    if pts.len() == 1 {
                        chart
                            .draw_series(pts.iter().map(|p| Circle::new(*p, 4, c.filled())))
                            .map_err(|e| plot_err(path, e))?;
                    } else {
                        chart
                            .draw_series(LineSeries::new(pts, style))
                            .map_err(|e| plot_err(path, e))?;
                    }
                }
            }};
        }
        let xr = linear_axis(x0, x1, x_ticks.to_vec());
        if log {
            draw!(builder.build_cartesian_2d(xr, log_axis(y0, y1, y_ticks)));
        } else {
            draw!(builder.build_cartesian_2d(xr, linear_axis(y0, y1, y_ticks)));
        }
        Ok(())
    }
}

/// The y axis's ends for `ys`: `range` (padded 2 %) when given, else the data's extent
/// padded — a constant series by half its size either way, and never below 0 for data
/// that is not negative.
fn y_axis(ys: impl Iterator<Item = f64>, log: bool, range: Option<(f64, f64)>) -> (f64, f64) {
    let (mut y0, mut y1) = extent(ys, log).unwrap_or(if log { (0.1, 1.0) } else { (0.0, 1.0) });
    if let Some(r) = range {
        let pad = (r.1 - r.0) * 0.02;
        (y0, y1) = (r.0 - pad, r.1 + pad);
    } else if log {
        if y1 <= y0 {
            (y0, y1) = (y0 / 2.0, y1 * 2.0);
        }
        (y0, y1) = (y0 / 1.25, y1 * 1.25);
    } else {
        let nonnegative = y0 >= 0.0;
        if y1 <= y0 {
            // A constant series (one epoch, a fixed learning rate): half its size either
            // way, so 0.01 reads 0.005–0.015 rather than −0.49–0.51.
            let h = if y0 == 0.0 { 0.5 } else { y0.abs() * 0.5 };
            (y0, y1) = (y0 - h, y1 + h);
        }
        let pad = (y1 - y0) * 0.06;
        (y0, y1) = (y0 - pad, y1 + pad);
        // Data that cannot be negative gets no negative ticks.
        if nonnegative {
            y0 = y0.max(0.0);
        }
    }
    (y0, y1)
}

#[cfg(test)]
mod y_axis_tests {
    use super::y_axis;

    #[test]
    fn a_constant_positive_series_gets_a_positive_axis_around_it() {
        let (lo, hi) = y_axis([0.01, 0.01].into_iter(), false, None);
        assert!(lo > 0.0 && lo < 0.01 && hi > 0.01 && hi < 0.02, "{lo} {hi}");
        let (lo, hi) = y_axis([0.0].into_iter(), false, None);
        assert!(lo == 0.0 && hi > 0.0, "{lo} {hi}");
        let (lo, _) = y_axis([0.05, 1.0].into_iter(), false, None);
        assert_eq!(lo, 0.0);
        let (lo, hi) = y_axis([-1.0, 1.0].into_iter(), false, None);
        assert!(lo < -1.0 && hi > 1.0);
    }
}
