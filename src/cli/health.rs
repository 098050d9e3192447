//! Gradient health from the command line: `train --health-every/--health/--plot` and
//! `steadygrad plot`.

use steadygrad::health::{csv, plot, verdict, HealthSample};
use steadygrad::{Error, Result};

use super::args::{PlotArgs, TrainOptions};
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
        steadygrad::io::safe_file::write_atomic(path, csv::to_csv(samples).as_bytes()).map_err(
            |e| Error::Io {
                path: path.clone(),
                source: e,
            },
        )?;
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
    let check_out = || {
        super::outputs::Outputs::default()
            .with("--out", Some(&a.out), super::outputs::Kind::ChartFolder)
            .check()
    };
    let text = std::fs::read_to_string(&a.history).map_err(|e| Error::Io {
        path: a.history.clone(),
        source: e,
    })?;
    if history::is_epoch_history(&text) {
        let rows = history::from_csv(&a.history, &text)?;
        check_out()?;
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
    check_out()?;
    for p in plot::write_charts(&a.out, "", &samples)? {
        eprintln!("wrote {}", p.display());
    }
    for v in verdict(&samples) {
        eprintln!("health: {}", v.text);
    }
    Ok(())
}
