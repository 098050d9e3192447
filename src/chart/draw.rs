//! What line charts and heat maps share: the font, colours, axes, extents and the legend.

use std::path::Path;
use std::sync::Once;

use plotters::prelude::*;

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};

use crate::error::Error;

const FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

/// One named series of (x, y) points.
pub type Series = (String, Vec<(f64, f64)>);

/// How lines are coloured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Colours {
    /// Ten distinct colours, strong enough on white (Tableau 10).
    Distinct,
    /// A ramp by position: the first line (the lowest layer) dark blue, the last orange.
    ByDepth,
}

const DISTINCT: [(u8, u8, u8); 10] = [
    (31, 119, 180),
    (255, 127, 14),
    (44, 160, 44),
    (214, 39, 40),
    (148, 103, 189),
    (140, 86, 75),
    (227, 119, 194),
    (127, 127, 127),
    (188, 189, 34),
    (23, 190, 207),
];

/// Stops of matplotlib's "plasma", cut before its pale yellow end.
const DEPTH: [(u8, u8, u8); 5] = [
    (13, 8, 135),
    (106, 0, 168),
    (177, 42, 144),
    (225, 100, 98),
    (248, 149, 64),
];

/// Stops of "viridis" (dark purple for low values, yellow for high), for heat maps.
pub(super) const VIRIDIS: [(u8, u8, u8); 5] = [
    (68, 1, 84),
    (59, 82, 139),
    (33, 145, 140),
    (94, 201, 98),
    (253, 231, 37),
];

/// The colour at `t` ∈ [0, 1] along `stops`.
pub(super) fn ramp(stops: &[(u8, u8, u8)], t: f64) -> RGBColor {
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let x = t * (stops.len() - 1) as f64;
    let i = (x.floor() as usize).min(stops.len() - 2);
    let f = x - i as f64;
    let mix = |a: u8, b: u8| (a as f64 + (b as f64 - a as f64) * f).round() as u8;
    let (a, b) = (stops[i], stops[i + 1]);
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

impl Colours {
    /// The colour of line `i` of `n`.
    pub fn of(self, i: usize, n: usize) -> RGBColor {
        match self {
            Colours::Distinct => {
                let c = DISTINCT[i % DISTINCT.len()];
                RGBColor(c.0, c.1, c.2)
            }
            Colours::ByDepth => ramp(&DEPTH, i as f64 / (n.max(2) - 1) as f64),
        }
    }
}

pub(super) fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The bundled font is valid; registration cannot fail for it.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
    });
}

pub(super) fn plot_err(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Data {
        path: path.to_path_buf(),
        reason: format!("drawing the chart: {e}"),
    }
}

/// An axis (linear or log) whose ticks are exactly the given values, and no minor lines.
pub(super) struct Ticked<R> {
    inner: R,
    ticks: Vec<f64>,
}

impl<R: Ranged<ValueType = f64>> Ranged for Ticked<R> {
    type ValueType = f64;
    type FormatOption = DefaultFormatting;

    fn range(&self) -> std::ops::Range<f64> {
        self.inner.range()
    }

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.inner.map(value, limit)
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn axis_pixel_range(&self, limit: (i32, i32)) -> std::ops::Range<i32> {
        self.inner.axis_pixel_range(limit)
    }
}

/// A linear axis over `lo..hi` ticked at `ticks`.
pub(super) fn linear_axis(
    lo: f64,
    hi: f64,
    ticks: Vec<f64>,
) -> Ticked<plotters::coord::types::RangedCoordf64> {
    Ticked {
        inner: (lo..hi).into(),
        ticks,
    }
}

/// A log axis over `lo..hi` (both > 0) ticked at `ticks`.
pub(super) fn log_axis(
    lo: f64,
    hi: f64,
    ticks: Vec<f64>,
) -> Ticked<plotters::coord::combinators::LogCoord<f64>> {
    Ticked {
        inner: (lo..hi).log_scale().into(),
        ticks,
    }
}

/// The (min, max) of the finite values (positive ones on a log axis), or `None`.
pub(super) fn extent(values: impl Iterator<Item = f64>, log: bool) -> Option<(f64, f64)> {
    values
        .filter(|v| v.is_finite() && (!log || *v > 0.0))
        .fold(None, |acc, v| match acc {
            None => Some((v, v)),
            Some((a, b)) => Some((a.min(v), b.max(v))),
        })
}

/// Draws a legend of (name, colour) entries into `area`, one row each; entries that do
/// not fit end in "… and N more".
pub(super) fn legend(
    area: &DrawingArea<BitMapBackend<'_>, plotters::coord::Shift>,
    entries: &[(String, RGBColor)],
) -> std::result::Result<(), String> {
    let (_, h) = area.dim_in_pixel();
    let row = 20;
    let fits = ((h as usize).saturating_sub(40) / row).max(1);
    let shown = if entries.len() > fits {
        fits - 1
    } else {
        entries.len()
    };
    let style = ("sans-serif", 14).into_font().color(&BLACK);
    for (k, (name, c)) in entries.iter().take(shown).enumerate() {
        let y = 40 + (k * row) as i32;
        area.draw(&PathElement::new(vec![(8, y), (32, y)], c.stroke_width(3)))
            .map_err(|e| e.to_string())?;
        let name: String = name.chars().take(28).collect();
        area.draw_text(&name, &style, (40, y - 8))
            .map_err(|e| e.to_string())?;
    }
    if shown < entries.len() {
        let y = 40 + (shown * row) as i32;
        area.draw_text(
            &format!("… and {} more", entries.len() - shown),
            &style,
            (40, y - 8),
        )
        .map_err(|e| e.to_string())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_colours_run_from_dark_blue_to_orange() {
        assert_eq!(Colours::ByDepth.of(0, 5), RGBColor(13, 8, 135));
        assert_eq!(Colours::ByDepth.of(4, 5), RGBColor(248, 149, 64));
        assert_eq!(Colours::ByDepth.of(0, 1), RGBColor(13, 8, 135));
        assert_ne!(Colours::Distinct.of(0, 3), Colours::Distinct.of(1, 3));
        assert_eq!(ramp(&VIRIDIS, f64::NAN), RGBColor(68, 1, 84));
    }

    #[test]
    fn extents_skip_what_an_axis_cannot_show() {
        let v = [0.0, -1.0, 2.0, f64::NAN, 0.5];
        assert_eq!(extent(v.into_iter(), false), Some((-1.0, 2.0)));
        assert_eq!(extent(v.into_iter(), true), Some((0.5, 2.0)));
        assert_eq!(extent([f64::NAN].into_iter(), false), None);
    }
}
