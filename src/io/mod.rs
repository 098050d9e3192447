//! Model files: reading a Sequential architecture from Keras's `model.to_json()` format
//! (also steadygrad's own `--model-config` format).

pub mod config;

pub use config::{model_from_json, model_from_json_file};
