//! Model files: Sequential architectures in Keras's `model.to_json()` format (also the
//! `--model-config` format) and model folders with safetensors weights.

pub mod config;
pub mod model_file;

pub use config::{model_from_json, model_from_json_file};
pub use model_file::{load_model, load_weights, model_to_json, save_model, LoadedModel};
