//! Gradient health from the command line: `train --health-every/--health/--plot`,
//! `steadygrad plot` and `steadygrad experiment depth`.

use std::io::Write;
use std::path::Path;

use steadygrad::data::idx::load_mnist_dir;
use steadygrad::experiment::{self, DepthOptions, DepthResult};
use steadygrad::health::{csv, plot, verdict, HealthSample};
use steadygrad::train::Device;
use steadygrad::{Error, Result};

use super::args::{DepthArgs, DeviceArg, PlotArgs, TrainOptions};
use super::history;

/// The sampling interval the flags ask for.
pub fn health_every(t: &TrainOptions) -> Result<Option<usize>> {
    match t.health_every {
        Some(0) => Err(Error::Config("--health-every must be at least 1".into())),
        Some(k) => Ok(Some(k)),
        None if t.health.is_some() || t.plot.is_some() => Ok(Some(10)),
        None => Ok(None),
    }
}

/// A compact per-epoch table of the latest sample.
pub fn print_table(s: &HealthSample) {
    eprintln!(
        "    {:<22} {:>10} {:>8} {:>6} {:>6} {:>10} {:>10}",
        "layer", "activation", "act std", "dead", "sat.", "|grad|", "|Δw|/|w|"
    );
    let f = |v: Option<f32>, w: usize, p: usize| match v {
        Some(x) if x.abs() >= 1e4 || (x != 0.0 && x.abs() < 1e-3) => format!("{x:>w$.2e}"),
        Some(x) => format!("{x:>w$.p$}"),
        None => format!("{:>w$}", "–"),
    };
    for l in &s.layers {
        eprintln!(
            "    {:<22} {:>10} {} {} {} {} {}",
            l.layer,
            l.activation.clone().unwrap_or_else(|| "–".into()),
            f(l.act_std, 8, 4),
            f(l.dead_fraction, 6, 2),
            f(l.saturated_fraction, 6, 2),
            f(l.grad_norm, 10, 4),
            f(l.update_ratio, 10, 4)
        );
    }
}

/// Writes `--health` and `--plot`, and prints the verdict of the whole run.
pub fn finish(t: &TrainOptions, samples: &[HealthSample]) -> Result<()> {
    if samples.is_empty() {
        return Ok(());
    }
    if let Some(path) = &t.health {
        std::fs::write(path, csv::to_csv(samples)).map_err(|e| Error::Io {
            path: path.clone(),
            source: e,
        })?;
    }
    if let Some(dir) = &t.plot {
        for p in plot::write_charts(dir, "", samples)? {
            eprintln!("wrote {}", p.display());
        }
    }
    for v in verdict(samples) {
        eprintln!("health: {}", v.text);
    }
    Ok(())
}

/// `steadygrad plot`: the health charts from a `train --health` history, or the loss and
/// accuracy per epoch from a `train --history` one (told apart by the header).
pub fn plot(a: PlotArgs) -> Result<()> {
    let text = std::fs::read_to_string(&a.history).map_err(|e| Error::Io {
        path: a.history.clone(),
        source: e,
    })?;
    if history::is_epoch_history(&text) {
        let rows = history::from_csv(&a.history, &text)?;
        for p in history::write_charts(&a.out, &rows)? {
            eprintln!("wrote {}", p.display());
        }
        return Ok(());
    }
    if text.lines().next().map(str::trim) != Some(csv::HEADER) {
        return Err(Error::Data {
            path: a.history.clone(),
            reason: "line 1: not a history written by `train --health` (header step,loss,…) or \
                     `train --history` (header epoch,loss,…)"
                .into(),
        });
    }
    let samples = csv::from_csv(&a.history, &text)?;
    if samples.is_empty() {
        return Err(Error::Data {
            path: a.history.clone(),
            reason: "no samples".into(),
        });
    }
    for p in plot::write_charts(&a.out, "", &samples)? {
        eprintln!("wrote {}", p.display());
    }
    for v in verdict(&samples) {
        eprintln!("health: {}", v.text);
    }
    Ok(())
}

fn words(r: &DepthResult) -> String {
    let mut w: Vec<&str> = r.verdicts.iter().map(|v| v.kind.word()).collect();
    w.dedup();
    w.join(", ")
}

/// `steadygrad experiment depth`.
pub fn depth(a: DepthArgs) -> Result<()> {
    if a.layers == 0 || a.units == 0 || a.epochs == 0 || a.health_every == 0 {
        return Err(Error::Config(
            "--layers, --units, --epochs and --health-every must be at least 1".into(),
        ));
    }
    if !(a.lr.is_finite() && a.lr > 0.0) {
        return Err(Error::Config(format!(
            "--lr {}: must be a finite number > 0",
            a.lr
        )));
    }
    let (mut train, test) = load_mnist_dir(&a.data)?;
    if let Some(n) = a.limit {
        train = train.limit(n);
    }
    let mut configs = experiment::configs();
    if let Some(only) = &a.only {
        for name in only {
            if !configs.iter().any(|c| c.name == name) {
                let names: Vec<&str> = configs.iter().map(|c| c.name).collect();
                return Err(Error::Config(format!(
                    "--only {name}: no such configuration (known: {})",
                    names.join(", ")
                )));
            }
        }
        configs.retain(|c| only.iter().any(|o| o == c.name));
    }
    let o = DepthOptions {
        layers: a.layers,
        units: a.units,
        epochs: a.epochs,
        lr: a.lr,
        health_every: a.health_every,
        device: match a.device {
            DeviceArg::Auto => Device::Auto,
            DeviceArg::Gpu => Device::Gpu,
            DeviceArg::Cpu => Device::Cpu,
        },
        seed: a.seed,
        ..Default::default()
    };
    eprintln!(
        "{} hidden layers of {} units, {} epoch(s), SGD lr {}, health every {} steps",
        o.layers, o.units, o.epochs, o.lr, o.health_every
    );
    let mut results = Vec::new();
    for c in &configs {
        let t0 = std::time::Instant::now();
        let r = experiment::run_one(c, &o, &train, &test)?;
        eprintln!(
            "  {:<18} test accuracy {:.4}  lowest/top gradient {:.1e}  {} ({:.1} s)",
            c.name,
            r.test_accuracy,
            r.grad_norm_ratio,
            words(&r),
            t0.elapsed().as_secs_f64()
        );
        if let Some(dir) = &a.plot {
            plot::write_charts(&dir.join(c.name), c.name, &r.samples)?;
        }
        results.push(r);
    }
    if let Some(dir) = &a.plot {
        write_comparison(dir, &results)?;
        eprintln!("charts in {}", dir.display());
    }
    let mut out = std::io::stdout().lock();
    if a.json {
        let configs: Vec<serde_json::Value> = results
            .iter()
            .map(|r| {
                serde_json::json!({
                    "name": r.config.name,
                    "activation": r.config.activation.keras_name(),
                    "init": r.config.init_name,
                    "batch_norm": r.config.batch_norm,
                    "optimizer": match (r.config.momentum, r.config.nesterov) {
                        (0.0, _) => "sgd".to_string(),
                        (m, false) => format!("sgd momentum {m}"),
                        (m, true) => format!("sgd nesterov {m}"),
                    },
                    "test_accuracy": r.test_accuracy,
                    "grad_norm_ratio": r.grad_norm_ratio,
                    "dead_fraction": r.dead_fraction,
                    "verdict": words(r),
                    "verdict_text": r.verdicts.iter().map(|v| v.text.clone()).collect::<Vec<_>>(),
                })
            })
            .collect();
        let _ = writeln!(out, "{}", serde_json::json!({ "configs": configs }));
    } else {
        let _ = writeln!(
            out,
            "| configuration | test accuracy | lowest / top layer gradient | most dead units | verdict |\n|---|---|---|---|---|"
        );
        for r in &results {
            let _ = writeln!(
                out,
                "| {} | {:.4} | {:.1e} | {:.0}% | {} |",
                r.config.name,
                r.test_accuracy,
                r.grad_norm_ratio,
                100.0 * r.dead_fraction,
                words(r)
            );
        }
    }
    Ok(())
}

/// DIR/gradient_ratio.png: every configuration's lowest/top gradient ratio over the steps.
fn write_comparison(dir: &Path, results: &[DepthResult]) -> Result<()> {
    let series: Vec<(String, Vec<(f64, f64)>)> = results
        .iter()
        .map(|r| {
            let pts = r
                .samples
                .iter()
                .filter_map(|s| {
                    let w: Vec<f32> = s.weighted().filter_map(|l| l.grad_norm).collect();
                    let (lo, hi) = (w.first()?, w.last()?);
                    let v = (lo / hi.max(f32::MIN_POSITIVE)) as f64;
                    (v.is_finite() && v > 0.0).then_some((s.step as f64, v))
                })
                .collect();
            (r.config.name.to_string(), pts)
        })
        .collect();
    plot::line_chart(
        &dir.join("gradient_ratio.png"),
        "lowest hidden layer's gradient norm / output layer's",
        "step",
        "ratio (log scale)",
        &series,
        true,
    )?;
    Ok(())
}
