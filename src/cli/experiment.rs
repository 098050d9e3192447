//! The chapter's experiments from the command line: `steadygrad experiment depth` and
//! `steadygrad experiment regularization`, each a table (Markdown, with the machine it ran
//! on under `--markdown`), `--json` and charts under `--plot DIR`.

use std::io::Write;
use std::path::Path;

use steadygrad::chart::{Colours, Line, LineChart, Panel};
use steadygrad::experiment::regularization::{self, RegularizationOptions, RegularizationResult};
use steadygrad::experiment::{self, DepthOptions, DepthResult};
use steadygrad::health::plot;
use steadygrad::{Error, Result};

use super::outputs::{Kind, Outputs};

use super::args::{DepthArgs, RegularizationArgs};
use super::commands::device_of;

/// The most parameters an experiment's network may have (the flags multiply up fast).
const MAX_PARAMETERS: f64 = 1e8;

/// Refuses a deep MLP too large to be what the user meant.
fn check_size(layers: usize, units: usize) -> Result<()> {
    let params = 784.0 * units as f64 + (layers.saturating_sub(1)) as f64 * (units as f64).powi(2);
    if params > MAX_PARAMETERS {
        return Err(Error::Config(format!(
            "--layers {layers} --units {units}: {params:.1e} parameters, more than the {MAX_PARAMETERS:.0e} an experiment allows"
        )));
    }
    Ok(())
}

/// The line under a Markdown table: the command that printed it and the machine.
fn provenance(device: Option<&steadygrad::backend::DeviceInfo>) -> String {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let on = match device {
        Some(d) if d.kind == "gpu" => format!("adapter {} ({})", d.adapter, d.api),
        _ => "the CPU reference".to_string(),
    };
    format!(
        "\nPrinted by `steadygrad {}` on {}, {on}.\n",
        args.join(" "),
        steadygrad::bench::cpu_description()
    )
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
    check_size(a.layers, a.units)?;
    Outputs::default()
        .with("--plot", a.plot.as_deref(), Kind::ChartFolder)
        .check()?;
    let (mut train, test) = digits(&a.data)?;
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
        device: device_of(a.device),
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
        if a.markdown {
            let _ = write!(out, "{}", provenance(results.first().map(|r| &r.device)));
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
    LineChart {
        title: "lowest hidden layer's gradient norm / output layer's".into(),
        x_label: "step".into(),
        integer_x: true,
        colours: Colours::Distinct,
        panels: vec![Panel {
            y_label: "ratio (log scale)".into(),
            log: true,
            range: None,
            lines: series.into_iter().map(|(n, p)| Line::new(n, p)).collect(),
        }],
    }
    .write(&dir.join("gradient_ratio.png"))?;
    Ok(())
}

/// `steadygrad experiment regularization`.
pub fn regularization(a: RegularizationArgs) -> Result<()> {
    if a.layers == 0 || a.units == 0 || a.epochs == 0 || a.batch_size == 0 {
        return Err(Error::Config(
            "--layers, --units, --epochs and --batch-size must be at least 1".into(),
        ));
    }
    if a.limit == 0 {
        return Err(Error::Config("--limit must be at least 1".into()));
    }
    Outputs::default()
        .with("--plot", a.plot.as_deref(), Kind::ChartFolder)
        .check()?;
    if !(a.lr.is_finite() && a.lr > 0.0) {
        return Err(Error::Config(format!(
            "--lr {}: must be a finite number > 0",
            a.lr
        )));
    }
    if a.mc_samples == 0 {
        return Err(Error::Config("--mc-samples must be at least 1".into()));
    }
    check_size(a.layers, a.units)?;
    let (train, test) = digits(&a.data)?;
    let train = train.limit(a.limit);
    let o = RegularizationOptions {
        layers: a.layers,
        units: a.units,
        epochs: a.epochs,
        batch_size: a.batch_size,
        lr: a.lr,
        device: device_of(a.device),
        seed: a.seed,
    };
    let configs: Vec<_> = regularization::configs()
        .into_iter()
        .map(|c| match c {
            regularization::Regularization::McDropout(r, _) => {
                regularization::Regularization::McDropout(r, a.mc_samples)
            }
            c => c,
        })
        .collect();
    eprintln!(
        "{} training digits, {} hidden layers of {} units (ELU, He), Adam lr {}, {} epochs of batch {}",
        train.len(),
        o.layers,
        o.units,
        o.lr,
        o.epochs,
        o.batch_size
    );
    let results = regularization::run(&configs, &o, &train, &test, |r| {
        eprintln!(
            "  {:<22} train accuracy {:.4}  test accuracy {:.4}  gap {:+.4}  ({:.1} s)",
            r.config.name(),
            r.train_accuracy,
            r.test_accuracy,
            r.gap(),
            r.seconds
        );
    })?;
    if let Some(dir) = &a.plot {
        write_regularization_chart(dir, train.len(), &results)?;
    }
    let mut out = std::io::stdout().lock();
    if a.json {
        let rows: Vec<serde_json::Value> = results
            .iter()
            .map(|r| {
                serde_json::json!({
                    "name": r.config.name(),
                    "train_accuracy": r.train_accuracy,
                    "test_accuracy": r.test_accuracy,
                    "gap": r.gap(),
                    "train_loss": r.train_loss,
                    "test_loss": r.test_loss,
                    "test_loss_per_epoch": r.epochs.iter().map(|e| e.1).collect::<Vec<_>>(),
                })
            })
            .collect();
        let _ = writeln!(out, "{}", serde_json::json!({ "configs": rows }));
        return Ok(());
    }
    let _ = writeln!(
        out,
        "| configuration | train accuracy | test accuracy | gap | train loss | test loss |\n|---|---|---|---|---|---|"
    );
    for r in &results {
        let _ = writeln!(
            out,
            "| {} | {:.4} | {:.4} | {:+.4} | {:.4} | {:.4} |",
            r.config.name(),
            r.train_accuracy,
            r.test_accuracy,
            r.gap(),
            r.train_loss,
            r.test_loss
        );
    }
    if a.markdown {
        let _ = write!(out, "{}", provenance(results.first().map(|r| &r.device)));
    }
    Ok(())
}

/// DIR/regularization.png: each trained configuration's test loss per epoch over its
/// training loss as Keras reports it (dropout active, penalties included).
fn write_regularization_chart(
    dir: &Path,
    rows: usize,
    results: &[RegularizationResult],
) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::Io {
        path: dir.to_path_buf(),
        source: e,
    })?;
    let trained = || {
        results
            .iter()
            .filter(|r| !matches!(r.config, regularization::Regularization::McDropout(..)))
    };
    let lines = |f: fn(&(f32, f32)) -> f32| -> Vec<Line> {
        trained()
            .map(|r| {
                Line::new(
                    r.config.name(),
                    r.epochs
                        .iter()
                        .enumerate()
                        .map(|(i, e)| ((i + 1) as f64, f64::from(f(e))))
                        .collect(),
                )
            })
            .collect()
    };
    let p = dir.join("regularization.png");
    LineChart {
        title: format!("overfitting {rows} digits: test loss (top) and training loss (bottom)"),
        x_label: "epoch".into(),
        integer_x: true,
        colours: Colours::Distinct,
        panels: vec![
            Panel {
                y_label: "test loss".into(),
                log: false,
                range: None,
                lines: lines(|e| e.1),
            },
            Panel {
                y_label: "training loss (log scale)".into(),
                log: true,
                range: None,
                lines: lines(|e| e.0),
            },
        ],
    }
    .write(&p)?;
    eprintln!("wrote {}", p.display());
    Ok(())
}

/// The experiments' digits: a folder of IDX files (`--data`, the bundled digits by default).
fn digits(dir: &Path) -> Result<(steadygrad::Dataset, steadygrad::Dataset)> {
    if !dir.is_dir() {
        super::commands::load_data(&super::args::DataArgs {
            data: dir.to_path_buf(),
            test_data: None,
            classes: None,
            limit: None,
        })?;
        return Err(steadygrad::Error::Config(format!(
            "--data {}: the experiments take a folder of IDX files",
            dir.display()
        )));
    }
    steadygrad::data::idx::load_mnist_dir(dir)
}
