//! `GlobalAveragePooling2D` and `GlobalMaxPooling2D`: one value per channel of each image
//! (Keras's default `keepdims=False` gives `(channels,)`; `keepdims=True` `(1, 1,
//! channels)`) — the pooling kernels with the window the whole image.

use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::conv2d::{channels_last, image};
use super::pooling::{lower_pool, PoolKind};
use super::{typed, FromKeras};
use crate::backend::window::{Padding, Window};
use crate::error::Result;
use crate::nn::layer::{LayerOps, Lowering};

/// A global pooling layer.
#[derive(Clone, Debug, PartialEq)]
pub struct GlobalPooling2D {
    /// Max or average.
    pub kind: PoolKind,
    /// Keep the spatial axes as 1 × 1.
    pub keepdims: bool,
}

impl LayerOps for GlobalPooling2D {
    fn class_name(&self) -> &'static str {
        match self.kind {
            PoolKind::Max => "GlobalMaxPooling2D",
            PoolKind::Average => "GlobalAveragePooling2D",
        }
    }
    fn output_shape(&self, input: &[usize]) -> std::result::Result<Vec<usize>, String> {
        let [_, _, c] = image(input, self.class_name())?;
        Ok(if self.keepdims {
            vec![1, 1, c]
        } else {
            vec![c]
        })
    }
    fn lower(&self, cx: &mut Lowering) -> Result<()> {
        let x = cx.input();
        let [h, w, c] = image(cx.shape(), self.class_name())
            .map_err(|e| crate::Error::Shape(format!("{}: {e}", cx.layer_name())))?;
        let win = Window::new(cx.rows, (h, w, c), (h, w), (h, w), (1, 1), Padding::Valid)
            .map_err(crate::Error::Shape)?;
        let y = lower_pool(cx, self.kind, x, win);
        let shape = self.output_shape(&[h, w, c]).map_err(crate::Error::Shape)?;
        cx.set_output(y, shape);
        Ok(())
    }
    fn keras_config(&self) -> Map<String, Value> {
        let mut c = Map::new();
        c.insert("data_format".into(), json!("channels_last"));
        c.insert("keepdims".into(), json!(self.keepdims));
        c
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GlobalPoolingConfig {
    #[serde(default)]
    data_format: Option<String>,
    #[serde(default)]
    keepdims: bool,
}

impl FromKeras for GlobalPooling2D {
    const CLASSES: &'static [&'static str] = &[
        "GlobalAveragePooling2D",
        "GlobalAvgPool2D",
        "GlobalMaxPooling2D",
        "GlobalMaxPool2D",
    ];
    fn from_keras(class: &str, config: Map<String, Value>) -> std::result::Result<Self, String> {
        let c: GlobalPoolingConfig = typed(config)?;
        channels_last(&c.data_format)?;
        let kind = if class.starts_with("GlobalMax") {
            PoolKind::Max
        } else {
            PoolKind::Average
        };
        Ok(GlobalPooling2D {
            kind,
            keepdims: c.keepdims,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_and_round_trip() {
        let g = GlobalPooling2D::from_keras("GlobalAveragePooling2D", Map::new()).unwrap();
        assert_eq!(g.output_shape(&[5, 5, 10]).unwrap(), vec![10]);
        let k = GlobalPooling2D {
            kind: PoolKind::Max,
            keepdims: true,
        };
        assert_eq!(k.output_shape(&[3, 4, 2]).unwrap(), vec![1, 1, 2]);
        assert_eq!(
            GlobalPooling2D::from_keras("GlobalMaxPooling2D", k.keras_config()).unwrap(),
            k
        );
        assert!(g.output_shape(&[10]).is_err());
    }
}
