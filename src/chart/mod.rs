//! PNG charts (plotters, with the bundled DejaVu Sans font), native only: line charts of
//! one or more stacked panels sharing an x axis, and heat maps of a statistic per layer
//! over the steps. Axes carry titles, ticks come from [`ticks`] (whole epochs, labelled
//! powers of ten), legends sit beside the data, never on it, and colours are either
//! distinct (configurations) or ordered from the lowest layer to the top one. The tick
//! arithmetic ([`ticks`]) is also what the web page's canvas chart uses.

pub mod ticks;

#[cfg(not(target_arch = "wasm32"))]
mod draw;
#[cfg(not(target_arch = "wasm32"))]
mod heat;
#[cfg(not(target_arch = "wasm32"))]
mod line;

#[cfg(not(target_arch = "wasm32"))]
pub use draw::{Colours, Series};
#[cfg(not(target_arch = "wasm32"))]
pub use heat::HeatMap;
#[cfg(not(target_arch = "wasm32"))]
pub use line::{Line, LineChart, Panel};
