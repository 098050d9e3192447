//! How to choose and configure the GPU ([`GpuOptions`]), from the environment or by hand.

use std::path::PathBuf;

use super::MatmulVariant;
use crate::backend::autotune::{Tuning, CANDIDATES};
use crate::error::{Error, Result};

/// How to choose and configure the GPU.
#[derive(Clone, Debug, Default)]
pub struct GpuOptions {
    /// Substring of the adapter name to pick (`STEADYGRAD_ADAPTER`).
    pub adapter: Option<String>,
    /// Graphics API: `vulkan`, `metal`, `dx12` or `gl` (`STEADYGRAD_BACKEND`).
    pub api: Option<String>,
    /// Force a matmul variant instead of autotuning (`STEADYGRAD_MATMUL`).
    pub matmul: Option<MatmulVariant>,
    /// Where the autotuner keeps its choices (default: [`TuneCache::default_path`](crate::backend::autotune::TuneCache::default_path)).
    pub tune_cache: Option<PathBuf>,
    /// When matmul variants are timed (`STEADYGRAD_TUNE`).
    pub tuning: Tuning,
    /// In a browser, the variant a matmul shape class takes until
    /// [`GpuBackend::tune_deferred`](super::GpuBackend::tune_deferred) has timed it (None: the register-blocked 8×8 kernel).
    pub provisional_matmul: Option<MatmulVariant>,
    /// Whether the kernels that can (the optimizer update, the window kernels, batch norm)
    /// read their large inputs through textures. None: on CPU adapters, where a texel load
    /// is a gather and a storage load a loop over the lanes — but on llvmpipe only batch
    /// norm, since the copies into textures run on lavapipe's one queue thread while its
    /// workers wait, and the update and window kernels ran faster from storage there (see
    /// `docs/benchmarks.md`).
    pub texture_reads: Option<bool>,
    /// Whether the direct convolution's kernel gradient sums up to three blocks of four
    /// field values an invocation ([`crate::backend::ops::conv::with_field_blocks`]). None: on llvmpipe,
    /// where it ran the example CNN's 1.5× faster; elsewhere one block (SwiftShader's shader
    /// compiler ran out of memory on the larger body).
    pub field_blocks: Option<bool>,
    /// Whether to use the adapter's subgroups of exactly 8 lanes where it has them (None:
    /// yes). `Some(false)` runs it as an adapter without them — the kernels every other
    /// adapter takes, which the parity tests check on llvmpipe this way.
    pub subgroups: Option<bool>,
    /// Print a line on stderr for each shape class timed (the command line sets it).
    pub announce: bool,
    /// Which of the adapters that tie for the best kind to take, modulo their count: the
    /// ranks of data-parallel training on one host pass their local rank, so each takes a
    /// GPU of its own (0: the first).
    pub ordinal: usize,
}

impl GpuOptions {
    /// Options from the `STEADYGRAD_ADAPTER`, `STEADYGRAD_BACKEND` and `STEADYGRAD_MATMUL`
    /// environment variables.
    pub fn from_env() -> Result<Self> {
        let matmul = match std::env::var("STEADYGRAD_MATMUL").ok().as_deref() {
            None | Some("") | Some("auto") => None,
            Some(name) => Some(MatmulVariant::from_name(name).ok_or_else(|| {
                let names: Vec<&str> = CANDIDATES.iter().map(|v| v.name()).collect();
                Error::Config(format!(
                    "STEADYGRAD_MATMUL={name}: expected auto or one of {}",
                    names.join(", ")
                ))
            })?),
        };
        let tune = std::env::var("STEADYGRAD_TUNE").unwrap_or_default();
        let tuning = Tuning::parse(&tune).ok_or_else(|| {
            Error::Config(format!(
                "STEADYGRAD_TUNE={tune}: expected auto, always or never"
            ))
        })?;
        Ok(GpuOptions {
            tuning,
            announce: false,
            adapter: std::env::var("STEADYGRAD_ADAPTER")
                .ok()
                .filter(|s| !s.is_empty()),
            api: std::env::var("STEADYGRAD_BACKEND")
                .ok()
                .filter(|s| !s.is_empty()),
            matmul,
            tune_cache: None,
            provisional_matmul: None,
            ordinal: 0,
            texture_reads: None,
            field_blocks: None,
            subgroups: None,
        })
    }
}
