//! `MaxPooling2D` and `AveragePooling2D` over NHWC images, with Keras's defaults: pool
//! size 2, strides equal to the pool size, `valid` padding. A `same`-padded max pool
//! ignores the padding (TensorFlow pads with −∞); a `same`-padded average pool divides by
//! the values inside the image only.

use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::conv2d::{channels_last, image, positive_pair, Pair};
use super::{typed, FromKeras};
use crate::backend::window::{Padding, Window};
use crate::backend::Kernel;
use crate::error::Result;
use crate::nn::layer::{LayerOps, Lowering};

/// Which statistic a pooling layer takes of each window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoolKind {
    /// The largest value.
    Max,
    /// The mean.
    Average,
}

impl PoolKind {
    /// Keras's class name of the windowed layer.
    pub fn class_name(self) -> &'static str {
        match self {
            PoolKind::Max => "MaxPooling2D",
            PoolKind::Average => "AveragePooling2D",
        }
    }
}

/// Appends the pooling of `x` over `win` (its kernel, and for a max pool the argmax it
/// keeps for the backward pass) and returns the output.
pub(crate) fn lower_pool(
    cx: &mut Lowering,
    kind: PoolKind,
    x: crate::graph::TensorId,
    win: Window,
) -> crate::graph::TensorId {
    let name = cx.layer_name().to_string();
    let y =
        cx.g.temp(format!("{name}/out"), &[cx.rows, win.pooled_len() / win.n]);
    match kind {
        PoolKind::Max => {
            let argmax = cx.g.temp(format!("{name}/argmax"), &[win.pooled_len()]);
            cx.g.push(Kernel::MaxPool { win }, vec![x, y, argmax]);
        }
        PoolKind::Average => cx.g.push(Kernel::AvgPool { win }, vec![x, y]),
    }
    y
}

/// A 2-D pooling layer.
#[derive(Clone, Debug, PartialEq)]
pub struct Pooling2D {
    /// Max or average.
    pub kind: PoolKind,
    /// Window (rows, columns); default (2, 2).
    pub pool_size: (usize, usize),
    /// Steps between windows; default the pool size.
    pub strides: (usize, usize),
    /// `valid` (default) or `same`.
    pub padding: Padding,
}

impl Pooling2D {
    /// A `k × k` pool with strides `k` and `valid` padding.
    pub fn new(kind: PoolKind, k: usize) -> Pooling2D {
        Pooling2D {
            kind,
            pool_size: (k, k),
            strides: (k, k),
            padding: Padding::Valid,
        }
    }

    fn window(&self, n: usize, input: &[usize]) -> std::result::Result<Window, String> {
        let [h, w, c] = image(input, self.kind.class_name())?;
        Window::new(
            n,
            (h, w, c),
            self.pool_size,
            self.strides,
            (1, 1),
            self.padding,
        )
        .map_err(|e| {
            format!(
                "pool_size {:?}, strides {:?}, padding {} on {h}×{w} images: {e}",
                self.pool_size,
                self.strides,
                self.padding.keras_name()
            )
        })
    }
}

impl LayerOps for Pooling2D {
    fn class_name(&self) -> &'static str {
        self.kind.class_name()
    }
    fn validate(&self) -> std::result::Result<(), String> {
        positive_pair("pool_size", self.pool_size)?;
        positive_pair("strides", self.strides)
    }
    fn output_shape(&self, input: &[usize]) -> std::result::Result<Vec<usize>, String> {
        let win = self.window(1, input)?;
        Ok(vec![win.oh, win.ow, win.c])
    }
    fn lower(&self, cx: &mut Lowering) -> Result<()> {
        let x = cx.input();
        let win = self
            .window(cx.rows, cx.shape())
            .map_err(|e| crate::Error::Shape(format!("{}: {e}", cx.layer_name())))?;
        let y = lower_pool(cx, self.kind, x, win);
        cx.set_output(y, vec![win.oh, win.ow, win.c]);
        Ok(())
    }
    fn keras_config(&self) -> Map<String, Value> {
        let pair = |(a, b): (usize, usize)| json!([a, b]);
        let mut c = Map::new();
        c.insert("pool_size".into(), pair(self.pool_size));
        c.insert("padding".into(), json!(self.padding.keras_name()));
        c.insert("strides".into(), pair(self.strides));
        c.insert("data_format".into(), json!("channels_last"));
        c
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PoolingConfig {
    #[serde(default = "two")]
    pool_size: Pair,
    #[serde(default)]
    strides: Option<Pair>,
    #[serde(default = "valid")]
    padding: String,
    #[serde(default)]
    data_format: Option<String>,
}

fn two() -> Pair {
    Pair::One(2)
}
fn valid() -> String {
    "valid".into()
}

impl FromKeras for Pooling2D {
    const CLASSES: &'static [&'static str] =
        &["MaxPooling2D", "MaxPool2D", "AveragePooling2D", "AvgPool2D"];
    fn from_keras(class: &str, config: Map<String, Value>) -> std::result::Result<Self, String> {
        let c: PoolingConfig = typed(config)?;
        channels_last(&c.data_format)?;
        let kind = if class.starts_with("Max") {
            PoolKind::Max
        } else {
            PoolKind::Average
        };
        let pool_size = c.pool_size.get();
        let p = Pooling2D {
            kind,
            pool_size,
            // Keras: strides default to the pool size.
            strides: c.strides.map_or(pool_size, |s| s.get()),
            padding: Padding::parse(&c.padding).map_err(|e| format!("field padding: {e}"))?,
        };
        p.validate()?;
        Ok(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keras_defaults_shapes_and_round_trip() {
        let p = Pooling2D::from_keras("MaxPooling2D", Map::new()).unwrap();
        assert_eq!(p, Pooling2D::new(PoolKind::Max, 2));
        assert_eq!(p.output_shape(&[28, 28, 8]).unwrap(), vec![14, 14, 8]);
        let mut c = Map::new();
        c.insert("pool_size".into(), json!(3));
        c.insert("strides".into(), json!([2, 2]));
        c.insert("padding".into(), json!("same"));
        let a = Pooling2D::from_keras("AveragePooling2D", c).unwrap();
        assert_eq!(a.output_shape(&[6, 6, 12]).unwrap(), vec![3, 3, 12]);
        assert_eq!(
            Pooling2D::from_keras("AveragePooling2D", a.keras_config()).unwrap(),
            a
        );
        let mut c = Map::new();
        c.insert("pool_size".into(), json!(0));
        assert!(Pooling2D::from_keras("MaxPooling2D", c)
            .unwrap_err()
            .contains("pool_size"));
        let e = Pooling2D::new(PoolKind::Max, 5)
            .output_shape(&[4, 4, 1])
            .unwrap_err();
        assert!(e.contains("pool_size"), "{e}");
    }
}
