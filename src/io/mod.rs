//! Model files: Sequential architectures in Keras's `model.to_json()` format (also the
//! `--model-config` format) and model folders with safetensors weights and optimizer state.

pub mod config;
pub mod folder;
pub mod model_file;
pub mod safe_file;
pub mod tensor_file;

pub use config::{model_from_json, model_from_json_file, model_to_json};
pub use model_file::{load_model, load_weights, save_model, LoadedModel};
