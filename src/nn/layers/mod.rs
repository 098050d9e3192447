//! The layer kinds, one file each: the config with Keras's defaults, weights, output
//! shape, lowering into graph nodes, Keras JSON in and out, and unit tests. The registry
//! below is the one place that lists them: adding a kind is its file plus one line there.

pub mod activation;
pub mod batch_norm;
pub mod conv2d;
pub mod dense;
pub mod dropout;
pub mod flatten;
pub mod global_pooling;
pub mod input_layer;
pub mod leaky_relu;
pub mod pooling;
pub mod prelu;
pub mod reshape;
pub mod rrelu;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::layer::LayerOps;

pub use activation::{parse_activation, Activation};
pub use batch_norm::BatchNormalization;
pub use conv2d::Conv2D;
pub use dense::Dense;
pub use dropout::Dropout;
pub use flatten::Flatten;
pub use global_pooling::GlobalPooling2D;
pub use leaky_relu::LeakyRelu;
pub use pooling::{PoolKind, Pooling2D};
pub use prelu::Prelu;
pub use reshape::Reshape;
pub use rrelu::Rrelu;

/// A layer kind parsed from Keras JSON: its Keras class names and its config parser.
pub trait FromKeras: Sized {
    /// The Keras class names this kind reads.
    const CLASSES: &'static [&'static str];
    /// Builds the kind from a config (common keys such as name, trainable and dtype
    /// already removed). The error names the field.
    fn from_keras(class: &str, config: Map<String, Value>) -> std::result::Result<Self, String>;
}

macro_rules! registry {
    ($($variant:ident($ty:ty)),* $(,)?) => {
        /// Every layer kind, each wrapping its config struct.
        #[derive(Clone, Debug, PartialEq)]
        pub enum LayerKind {
            $(
                #[doc = concat!("See [`", stringify!($ty), "`].")]
                $variant($ty),
            )*
        }

        impl LayerKind {
            /// The kind's behaviour.
            pub fn ops(&self) -> &dyn LayerOps {
                match self {
                    $(LayerKind::$variant(l) => l,)*
                }
            }

            /// Every Keras class name a layer can be read from.
            pub fn keras_classes() -> Vec<&'static str> {
                let mut v = Vec::new();
                $(v.extend_from_slice(<$ty as FromKeras>::CLASSES);)*
                v
            }

            /// Parses a layer's config by its Keras class name.
            pub fn from_keras(class: &str, config: Map<String, Value>) -> std::result::Result<LayerKind, String> {
                $(
                    if <$ty as FromKeras>::CLASSES.contains(&class) {
                        return <$ty as FromKeras>::from_keras(class, config).map(LayerKind::$variant);
                    }
                )*
                Err(format!(
                    "unknown layer class {class:?} (known: {})",
                    Self::keras_classes().join(", ")
                ))
            }
        }

        $(
            impl From<$ty> for LayerKind {
                fn from(l: $ty) -> LayerKind {
                    LayerKind::$variant(l)
                }
            }
        )*
    };
}

registry! {
    Flatten(Flatten),
    Reshape(Reshape),
    Dense(Dense),
    Dropout(Dropout),
    Conv2D(Conv2D),
    Pooling2D(Pooling2D),
    GlobalPooling2D(GlobalPooling2D),
    BatchNormalization(BatchNormalization),
    Activation(Activation),
    LeakyRelu(LeakyRelu),
    Rrelu(Rrelu),
    Prelu(Prelu),
}

/// Deserializes a typed config, naming the offending field in the error
/// (`use_bias: invalid type: string "false", expected a boolean`).
pub fn typed<T: DeserializeOwned>(config: Map<String, Value>) -> std::result::Result<T, String> {
    serde_path_to_error::deserialize(Value::Object(config)).map_err(|e| {
        let path = e.path().to_string();
        if path == "." {
            e.inner().to_string()
        } else {
            format!("field {path}: {}", e.inner())
        }
    })
}

/// Errors unless every listed option is absent or null (options that would change the
/// math but are not supported: regularizers, constraints, …).
pub fn reject_set(config: &Map<String, Value>, keys: &[&str]) -> std::result::Result<(), String> {
    for k in keys {
        if let Some(v) = config.get(*k) {
            if !v.is_null() {
                return Err(format!("option {k} = {v} is not supported"));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_registered_class_parses_from_an_empty_config_or_names_the_missing_field() {
        for class in LayerKind::keras_classes() {
            match LayerKind::from_keras(class, Map::new()) {
                Ok(k) => assert!(LayerKind::keras_classes().contains(&k.ops().class_name())),
                Err(e) => assert!(e.contains("missing field"), "{class}: {e}"),
            }
        }
    }

    #[test]
    fn unknown_class_is_named() {
        let e = LayerKind::from_keras("Conv3D", Map::new()).unwrap_err();
        assert!(e.contains("Conv3D"), "{e}");
    }
}
