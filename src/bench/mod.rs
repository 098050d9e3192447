//! The standard benchmark set, in one process so ratios compare like with like: matmul
//! GFLOP/s at 256–2048, training samples/s of the seed network and of the small CNN of
//! `examples/cnn.json` (batch 32 and 256) and the seed network's inference, each on the
//! GPU path and the CPU reference, with the per-step counters (dispatches, submits, bytes
//! moved, allocations) that do not depend on timing noise. `steadygrad bench [--json]
//! [--quick]` and `cargo bench` run it; `--sweep` runs the seed network across batch
//! sizes and `--profile` times each launch of one step.

use std::collections::BTreeMap;
use web_time::Instant;

use crate::backend::{Backend, CpuBackend, GpuBackend, GpuOptions, Kernel};
use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::nn::{seed_network, Sequential};
use crate::optim::Sgd;
use crate::train::{FitOptions, LossName, Session, StepCounters};

mod profile;
mod report;
mod sweep;

pub use profile::{profile, Profile};
pub use sweep::{sweep, sweep_json, sweep_markdown, SweepRow, SWEEP_BATCHES};

/// What one run measured.
#[derive(Clone, Debug, Default)]
pub struct BenchReport {
    /// The GPU adapter (or `none`).
    pub adapter: String,
    /// The matmul kernel variant the autotuner chose (or `STEADYGRAD_MATMUL` forced), by size.
    pub matmul_variant: BTreeMap<usize, String>,
    /// Matmul GFLOP/s by size, per device (`gpu`, `cpu`).
    pub matmul_gflops: BTreeMap<&'static str, BTreeMap<usize, f64>>,
    /// Training samples/s per device, model ([`MODELS`]) and batch size.
    pub train_samples_per_second: BTreeMap<&'static str, PerModel<f64>>,
    /// Seed-network inference samples/s (batch 256), per device.
    pub predict_samples_per_second: BTreeMap<&'static str, f64>,
    /// Per-step counters of training per device, model and batch size.
    pub counters: BTreeMap<&'static str, PerModel<StepCounters>>,
    /// Seconds of the first two training steps of a fresh session (plans built, kernels
    /// compiled: a first run's one-time work) per device, model and batch size.
    pub first_steps_seconds: BTreeMap<&'static str, PerModel<f64>>,
}

/// Values by model name, then batch size.
pub type PerModel<T> = BTreeMap<&'static str, BTreeMap<usize, T>>;

/// The models the benchmarks train: the chapter's seed network and the small CNN of
/// `examples/cnn.json` (as Keras wrote it).
pub const MODELS: [&str; 2] = ["seed_mlp", "cnn"];

/// The small CNN of `examples/cnn.json`.
pub const CNN_JSON: &str = include_str!("../../examples/cnn.json");

/// A benchmark model by name ([`MODELS`]), or a Keras model JSON file (a path ending in
/// `.json`, as `train --model-config` takes).
pub fn model(name: &str) -> Result<Sequential> {
    match name {
        "cnn" => crate::io::model_from_json(CNN_JSON, 42),
        "seed_mlp" => seed_network(false),
        path if path.ends_with(".json") => {
            crate::io::model_from_json_file(std::path::Path::new(path), 42)
        }
        other => Err(Error::Config(format!(
            "--model {other}: the benchmark models are {}, or a Keras model JSON file (FILE.json)",
            MODELS.join(", ")
        ))),
    }
}

fn matmul_gflops(be: &mut dyn Backend, n: usize, reps: usize) -> Result<f64> {
    let a = be.upload(&vec![0.5; n * n])?;
    let b = be.upload(&vec![0.25; n * n])?;
    let c = be.alloc(n * n)?;
    let k = Kernel::MatMul {
        m: n,
        k: n,
        n,
        trans_a: false,
        trans_b: false,
        accumulate: false,
    };
    let id = be.prepare(&k, &[a, b, c])?;
    be.launch(id);
    be.submit()?;
    be.read(c)?; // warm: pipelines built, caches hot
                 // The best of three timed rounds: machines are noisy, the best round is the kernel's.
    let mut secs = f64::INFINITY;
    for _ in 0..3 {
        let t = Instant::now();
        for _ in 0..reps {
            be.launch(id);
        }
        be.submit()?;
        be.read(c)?; // waits for completion
        secs = secs.min(t.elapsed().as_secs_f64());
    }
    for buf in [a, b, c] {
        be.free(buf);
    }
    Ok(2.0 * (n * n * n) as f64 * reps as f64 / secs / 1e9)
}

/// The GPU backend the bench times, if this machine has one. A setting that cannot be
/// honoured (an unknown API, a kernel the adapter lacks) or one that names an adapter, API
/// or kernel and fails is the error, not a quiet CPU-only table.
pub(crate) fn bench_gpu(opts: &GpuOptions) -> Result<Option<GpuBackend>> {
    match GpuBackend::new(opts) {
        Ok(g) => Ok(Some(g)),
        Err(e @ Error::Config(_)) => Err(e),
        Err(e) if opts.adapter.is_some() || opts.api.is_some() || opts.matmul.is_some() => Err(e),
        Err(_) => Ok(None),
    }
}

/// A backend for `dev` ("gpu" or "cpu"); `None` where this machine has no GPU.
pub(crate) fn backend(dev: &str) -> Result<Option<Box<dyn Backend>>> {
    Ok(if dev == "gpu" {
        bench_gpu(&GpuOptions::from_env()?)?.map(|g| Box::new(g) as Box<dyn Backend>)
    } else {
        Some(Box::new(CpuBackend::new()))
    })
}

/// Runs the set on `train` (the bundled digits); `quick` uses smaller sizes and fewer steps.
pub fn run(train: &Dataset, quick: bool) -> Result<BenchReport> {
    let mut r = BenchReport::default();
    let sizes: &[usize] = if quick {
        &[256, 512]
    } else {
        &[256, 512, 1024, 2048]
    };
    let reps = |n: usize| if n >= 1024 { 1 } else { 4 };
    let gpu = bench_gpu(&GpuOptions::from_env()?)?;
    match gpu {
        Some(mut g) => {
            r.adapter = g.info().adapter;
            for &n in sizes {
                let gf = matmul_gflops(&mut g, n, reps(n))?;
                r.matmul_gflops.entry("gpu").or_default().insert(n, gf);
                r.matmul_variant
                    .insert(n, g.matmul_variant().name().to_string());
            }
        }
        None => r.adapter = "none".into(),
    }
    let mut cpu = CpuBackend::new();
    for &n in sizes {
        let gf = matmul_gflops(&mut cpu, n, reps(n))?;
        r.matmul_gflops.entry("cpu").or_default().insert(n, gf);
    }
    for dev in ["gpu", "cpu"] {
        for name in MODELS {
            for batch in [32usize, 256] {
                let Some(be) = backend(dev)? else { continue };
                // The CPU reference runs a CNN's convolutions as plain loops: fewer steps.
                let steps = match (quick, batch, dev == "cpu" && name == "cnn") {
                    (true, _, _) | (_, _, true) => 4,
                    (false, 32, _) => 120,
                    (false, _, _) => 24,
                };
                let mut s = Session::with_backend(model(name)?, be)?;
                let (sps, counters, first) = train_speed(&mut s, train, batch, steps)?;
                r.first_steps_seconds
                    .entry(dev)
                    .or_default()
                    .entry(name)
                    .or_default()
                    .insert(batch, first);
                r.train_samples_per_second
                    .entry(dev)
                    .or_default()
                    .entry(name)
                    .or_default()
                    .insert(batch, sps);
                r.counters
                    .entry(dev)
                    .or_default()
                    .entry(name)
                    .or_default()
                    .insert(batch, counters);
                if batch == 256 && name == "seed_mlp" {
                    let n = if quick { 512 } else { 2048 };
                    let x: Vec<f32> = (0..n.min(train.len()))
                        .flat_map(|i| train.sample(i))
                        .collect();
                    s.predict(&x[..train.features() * 256.min(n)], 256)?;
                    let t = Instant::now();
                    s.predict(&x, 256)?;
                    let rows = x.len() / train.features();
                    r.predict_samples_per_second
                        .insert(dev, rows as f64 / t.elapsed().as_secs_f64());
                }
            }
        }
    }
    Ok(r)
}

/// Steady-state training samples/s of `s` (SGD with Nesterov momentum, the CLI's
/// default) at `batch`: two warm-up steps (plans built, kernels tuned), then the best of
/// three rounds of `steps` timed; that round's per-step counters; and the warm-up's
/// seconds.
pub(crate) fn train_speed(
    s: &mut Session,
    train: &Dataset,
    batch: usize,
    steps: usize,
) -> Result<(f64, StepCounters, f64)> {
    s.compile(
        Box::new(Sgd::new(0.01).momentum(0.9).nesterov(true)),
        LossName::SparseCategoricalCrossentropy,
    )?;
    let warm = FitOptions {
        batch_size: batch,
        max_steps: Some(2),
        ..Default::default()
    };
    let t = Instant::now();
    s.fit(train, None, &warm, &mut [])?;
    let first = t.elapsed().as_secs_f64();
    // Enough epochs for `steps` steps at any batch (an epoch of the bundled digits is 8
    // steps at batch 1,024), each epoch ending in a smaller batch where `batch` does not
    // divide the samples. The best of three rounds: machines are noisy (a 2-core VM's
    // single rounds of the sweep varied by a third), the best round is the engine's.
    let per_epoch = train.len().div_ceil(batch);
    let mut seconds = f64::INFINITY;
    let mut counters = StepCounters::default();
    for _ in 0..TIMED_ROUNDS {
        let opts = FitOptions {
            batch_size: batch,
            epochs: steps.div_ceil(per_epoch),
            max_steps: Some(s.steps_done() + steps as u64),
            ..Default::default()
        };
        let t = Instant::now();
        let h = s.fit(train, None, &opts, &mut [])?;
        let round = t.elapsed().as_secs_f64();
        if round < seconds {
            (seconds, counters) = (round, h.counters);
        }
    }
    Ok((
        timed_samples(train.len(), batch, steps) as f64 / seconds,
        counters,
        first,
    ))
}

/// Timed rounds of [`train_speed`] (it reports the best).
const TIMED_ROUNDS: usize = 3;

/// Samples in the first `steps` steps of epochs over `n` samples at `batch` (each epoch's
/// last step takes what is left).
fn timed_samples(n: usize, batch: usize, steps: usize) -> usize {
    let per_epoch = n.div_ceil(batch);
    let last = n - (per_epoch - 1) * batch;
    (0..steps)
        .map(|j| {
            if j % per_epoch == per_epoch - 1 {
                last
            } else {
                batch
            }
        })
        .sum()
}

/// The processor this runs on, for the line under a table of figures: its model name
/// (from `/proc/cpuinfo` on Linux) and logical core count, e.g. `AMD EPYC 7B13, 2 cores`.
pub fn cpu_description() -> String {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let name = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.split_whitespace().collect::<Vec<_>>().join(" "))
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_string());
    format!("{name}, {cores} cores")
}

#[cfg(test)]
mod tests {
    use super::timed_samples;

    #[test]
    fn timed_samples_count_each_epochs_short_last_step() {
        assert_eq!(timed_samples(8000, 32, 120), 120 * 32);
        // 8,000 samples at 1,024: 7 whole steps and one of 832 an epoch.
        assert_eq!(timed_samples(8000, 1024, 8), 8000);
        assert_eq!(timed_samples(8000, 1024, 24), 3 * 8000);
        assert_eq!(timed_samples(8000, 1024, 10), 8000 + 2 * 1024);
        assert_eq!(timed_samples(5, 5, 3), 15);
    }
}
