//! The seed network's training speed across batch sizes (`steadygrad bench --sweep`).

use serde_json::{json, Value};

use super::{bench_gpu, train_speed};
use crate::backend::{Backend, CpuBackend, GpuOptions};
use crate::data::Dataset;
use crate::error::Result;
use crate::nn::seed_network;
use crate::train::Session;

/// The batch sizes of [`sweep`].
pub const SWEEP_BATCHES: [usize; 6] = [32, 64, 128, 256, 512, 1024];

/// One row of the batch sweep: the seed network's steady-state training samples/s at a
/// batch size on the GPU path (when there is an adapter) and on the CPU reference.
#[derive(Clone, Debug)]
pub struct SweepRow {
    /// The GPU adapter (or `none`).
    pub adapter: String,
    /// Samples per step.
    pub batch: usize,
    /// GPU path samples/s (`None` without an adapter).
    pub gpu: Option<f64>,
    /// CPU reference samples/s.
    pub cpu: f64,
}

/// The seed network's training speed from batch 32 to 1,024 on both paths (each the best
/// of three rounds of about 4,096 samples after two warm-up steps; `quick`: about 1,024):
/// how cost grows with the work, one command.
pub fn sweep(train: &Dataset, quick: bool) -> Result<Vec<SweepRow>> {
    let opts = GpuOptions::from_env()?;
    let mut rows = Vec::new();
    for batch in SWEEP_BATCHES {
        let steps = ((if quick { 1024 } else { 4096 }) / batch).max(2);
        let mut adapter = "none".to_string();
        let gpu = match bench_gpu(&opts)? {
            Some(g) => {
                adapter = g.info().adapter;
                let mut s = Session::with_backend(seed_network(false)?, Box::new(g))?;
                Some(train_speed(&mut s, train, batch, steps)?.0)
            }
            None => None,
        };
        let mut s = Session::with_backend(seed_network(false)?, Box::new(CpuBackend::new()))?;
        let cpu = train_speed(&mut s, train, batch, steps)?.0;
        rows.push(SweepRow {
            adapter,
            batch,
            gpu,
            cpu,
        });
    }
    Ok(rows)
}

/// The sweep as a Markdown table.
pub fn sweep_markdown(rows: &[SweepRow]) -> String {
    let mut out = String::from(
        "| batch | GPU path, samples/s | CPU reference, samples/s | GPU / CPU |\n|---|---|---|---|\n",
    );
    for r in rows {
        let (g, ratio) = match r.gpu {
            Some(g) => (format!("{g:.0}"), format!("{:.2}", g / r.cpu)),
            None => ("–".into(), "–".into()),
        };
        out += &format!("| {} | {g} | {:.0} | {ratio} |\n", r.batch, r.cpu);
    }
    out
}

/// The sweep as JSON: batch → {gpu, cpu}.
pub fn sweep_json(rows: &[SweepRow]) -> Value {
    let m: serde_json::Map<String, Value> = rows
        .iter()
        .map(|r| (r.batch.to_string(), json!({"gpu": r.gpu, "cpu": r.cpu})))
        .collect();
    Value::Object(m)
}
