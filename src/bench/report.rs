//! The standard set's report as JSON and as the README's Markdown table.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::{BenchReport, PerModel};

impl BenchReport {
    fn ratio(
        &self,
        what: &BTreeMap<&'static str, BTreeMap<usize, f64>>,
        key: usize,
    ) -> Option<f64> {
        Some(what.get("gpu")?.get(&key)? / what.get("cpu")?.get(&key)?)
    }

    /// Training samples/s of `model` at `batch` on `dev`.
    pub fn train_speed(&self, dev: &str, model: &str, batch: usize) -> Option<f64> {
        self.train_samples_per_second
            .get(dev)?
            .get(model)?
            .get(&batch)
            .copied()
    }

    /// The report as one JSON object.
    pub fn to_json(&self) -> Value {
        let by_key = |m: &BTreeMap<&'static str, BTreeMap<usize, f64>>| -> Value {
            m.iter()
                .map(|(dev, v)| {
                    let inner: serde_json::Map<String, Value> =
                        v.iter().map(|(k, x)| (k.to_string(), json!(x))).collect();
                    (dev.to_string(), Value::Object(inner))
                })
                .collect::<serde_json::Map<String, Value>>()
                .into()
        };
        let per_model = |m: &BTreeMap<&'static str, PerModel<Value>>| -> Value {
            m.iter()
                .map(|(dev, models)| {
                    let inner: serde_json::Map<String, Value> = (models.iter())
                        .map(|(name, v)| {
                            let b: serde_json::Map<String, Value> =
                                v.iter().map(|(k, x)| (k.to_string(), x.clone())).collect();
                            (name.to_string(), Value::Object(b))
                        })
                        .collect();
                    (dev.to_string(), Value::Object(inner))
                })
                .collect::<serde_json::Map<String, Value>>()
                .into()
        };
        let map = |m: &BTreeMap<&'static str, PerModel<f64>>| {
            (m.iter())
                .map(|(d, models)| {
                    let models = (models.iter())
                        .map(|(n, v)| (*n, v.iter().map(|(b, x)| (*b, json!(x))).collect()))
                        .collect();
                    (*d, models)
                })
                .collect::<BTreeMap<&'static str, PerModel<Value>>>()
        };
        let counters = (self.counters.iter())
            .map(|(d, models)| {
                let models = (models.iter())
                    .map(|(n, v)| {
                        let per_batch = (v.iter())
                            .map(|(b, c)| {
                                let j = json!({
                                    "dispatches_per_step": c.dispatches_per_step,
                                    "submits_per_step": c.submits_per_step,
                                    "upload_bytes_per_step": c.upload_bytes_per_step,
                                    "readback_bytes_per_step": c.readback_bytes_per_step,
                                    "copy_bytes_per_step": c.copy_bytes_per_step,
                                    "allocations_per_step": c.allocations_per_step,
                                });
                                (*b, j)
                            })
                            .collect();
                        (*n, per_batch)
                    })
                    .collect();
                (*d, models)
            })
            .collect::<BTreeMap<&'static str, PerModel<Value>>>();
        json!({
            "adapter": self.adapter,
            "matmul_variant": self.matmul_variant.iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<serde_json::Map<String, Value>>(),
            "matmul_gflops": by_key(&self.matmul_gflops),
            "train_samples_per_second": per_model(&map(&self.train_samples_per_second)),
            "predict_samples_per_second": self.predict_samples_per_second,
            "per_step": per_model(&counters),
            "first_steps_seconds": per_model(&map(&self.first_steps_seconds)),
        })
    }

    /// The report as the README's Markdown table.
    pub fn to_markdown(&self) -> String {
        let mut out =
            String::from("| | GPU path | CPU reference | GPU / CPU |\n|---|---|---|---|\n");
        let cell = |m: &BTreeMap<&'static str, BTreeMap<usize, f64>>, dev: &str, k: usize| {
            m.get(dev)
                .and_then(|v| v.get(&k))
                .map(|x| format!("{x:.2}"))
                .unwrap_or_else(|| "–".into())
        };
        let sizes: Vec<usize> = self
            .matmul_gflops
            .values()
            .flat_map(|v| v.keys().copied())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        for n in sizes {
            let variant = self
                .matmul_variant
                .get(&n)
                .map(|v| format!(" ({v})"))
                .unwrap_or_default();
            out += &format!(
                "| matmul {n}³, GFLOP/s | {}{variant} | {} | {} |\n",
                cell(&self.matmul_gflops, "gpu", n),
                cell(&self.matmul_gflops, "cpu", n),
                self.ratio(&self.matmul_gflops, n)
                    .map(|r| format!("{r:.2}"))
                    .unwrap_or("–".into())
            );
        }
        for (name, label) in [("seed_mlp", "seed network"), ("cnn", "small CNN")] {
            for b in [32usize, 256] {
                let f = |dev: &str| {
                    self.train_speed(dev, name, b)
                        .map(|x| format!("{x:.0}"))
                        .unwrap_or_else(|| "–".into())
                };
                let ratio = match (
                    self.train_speed("gpu", name, b),
                    self.train_speed("cpu", name, b),
                ) {
                    (Some(g), Some(c)) => format!("{:.2}", g / c),
                    _ => "–".into(),
                };
                out += &format!(
                    "| {label} training, batch {b}, samples/s | {} | {} | {ratio} |\n",
                    f("gpu"),
                    f("cpu"),
                );
            }
        }
        let p = |dev: &str| {
            self.predict_samples_per_second
                .get(dev)
                .map(|x| format!("{x:.0}"))
                .unwrap_or_else(|| "–".into())
        };
        let pr = match (
            self.predict_samples_per_second.get("gpu"),
            self.predict_samples_per_second.get("cpu"),
        ) {
            (Some(g), Some(c)) => format!("{:.2}", g / c),
            _ => "–".into(),
        };
        out += &format!(
            "| seed network inference, batch 256, samples/s | {} | {} | {pr} |\n",
            p("gpu"),
            p("cpu")
        );
        let first = |dev: &str, name: &str, b: usize| {
            self.first_steps_seconds
                .get(dev)
                .and_then(|m| m.get(name)?.get(&b))
                .map(|x| format!("{x:.1} s"))
        };
        let firsts: Vec<String> = [("seed_mlp", "seed network"), ("cnn", "small CNN")]
            .iter()
            .flat_map(|(name, label)| {
                [32usize, 256].into_iter().filter_map(move |b| {
                    Some(format!("{label} batch {b}: {}", first("gpu", name, b)?))
                })
            })
            .collect();
        if !firsts.is_empty() {
            out += &format!(
                "\nFirst two training steps of a fresh GPU session (plans built, kernels compiled: a first run's one-time work): {}.\n",
                firsts.join("; ")
            );
        }
        for (name, label) in [("seed_mlp", "the seed network"), ("cnn", "the small CNN")] {
            let c = self.counters.get("gpu").and_then(|m| m.get(name)?.get(&32));
            if let Some(c) = c {
                out += &format!(
                    "\nPer training step of {label} (GPU path, batch 32): {:.0} dispatches, {:.0} submit, {:.0} bytes uploaded, {:.0} bytes read back, {:.0} allocations, {:.0} bytes copied into operand textures.\n",
                    c.dispatches_per_step, c.submits_per_step, c.upload_bytes_per_step, c.readback_bytes_per_step, c.allocations_per_step, c.copy_bytes_per_step
                );
            }
        }
        out
    }
}
