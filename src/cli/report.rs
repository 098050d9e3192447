//! What the CLI prints: the progress bar with the EWMA-smoothed loss, the per-epoch
//! lines, `--stats`, `--history`, `--json` and the activation statistics.

use std::io::Write;

use indicatif::{ProgressBar, ProgressStyle};
use steadygrad::backend::DeviceInfo;
use steadygrad::data::Dataset;
use steadygrad::train::{Callback, Control, EpochLogs, Ewma, History, Session};
use steadygrad::{Error, Result};

use super::args::TrainOptions;

/// The progress display, as a `fit` callback.
pub struct Progress {
    /// The epochs validate on a split of the training data (printed as val_loss).
    validation_split: bool,
    bar: Option<ProgressBar>,
    smoothed: Ewma,
    quiet: bool,
    /// Print nothing at all (ranks other than 0 of distributed training).
    silent: bool,
    grad_stats: bool,
    has_test: bool,
    rows: usize,
    start: std::time::Instant,
    /// Health samples taken so far.
    pub health: Vec<steadygrad::health::HealthSample>,
    /// Epochs done before this fit (printed numbers continue from there).
    first_epoch: usize,
}

impl Progress {
    /// A display; `quiet` hides the bar (for `--json`).
    pub fn new(quiet: bool, grad_stats: bool, has_test: bool) -> Progress {
        Progress {
            validation_split: false,
            bar: None,
            smoothed: Ewma::new(0.9),
            quiet,
            silent: false,
            grad_stats,
            has_test,
            rows: 0,
            start: std::time::Instant::now(),
            health: Vec::new(),
            first_epoch: 0,
        }
    }

    /// Numbers the epochs from `first` + 1 (a second stage of `transfer`).
    pub fn first_epoch(mut self, first: usize) -> Progress {
        self.first_epoch = first;
        self
    }

    /// Prints nothing when `on` (the progress of a rank other than 0).
    pub fn silent(mut self, on: bool) -> Progress {
        self.silent = on;
        self.quiet |= on;
        self
    }

    /// The epochs validate on a split of the training data: printed as val_loss.
    pub fn validation_split(mut self, on: bool) -> Progress {
        self.validation_split = on;
        self
    }
}

impl Callback for Progress {
    fn on_health(&mut self, s: &steadygrad::health::HealthSample) {
        self.health.push(s.clone());
    }
    fn on_epoch_begin(&mut self, epoch: usize, steps: usize) {
        self.rows = 0;
        self.start = std::time::Instant::now();
        if self.quiet {
            return;
        }
        let bar = ProgressBar::new(steps as u64);
        bar.set_style(
            ProgressStyle::with_template("epoch {prefix} [{bar:30}] {pos}/{len} {msg}")
                .expect("template")
                .progress_chars("=> "),
        );
        bar.set_prefix(format!("{}", self.first_epoch + epoch + 1));
        self.bar = Some(bar);
    }
    fn on_batch_end(&mut self, _step: usize, rows: usize, loss: Option<f32>) {
        self.rows += rows;
        if let Some(l) = loss {
            self.smoothed.update(l as f64);
        }
        if let Some(bar) = &self.bar {
            bar.inc(1);
            if loss.is_some() {
                let sps = self.rows as f64 / self.start.elapsed().as_secs_f64().max(1e-9);
                bar.set_message(format!(
                    "loss {:.4} (EWMA) {:.0} samples/s",
                    self.smoothed.value().unwrap_or(0.0),
                    sps
                ));
            }
        }
    }
    fn on_epoch_end(&mut self, _s: &mut Session, l: &EpochLogs) -> Result<Control> {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        if self.silent {
            return Ok(Control::Continue);
        }
        let test = match (l.val_loss, l.val_accuracy) {
            (Some(vl), Some(va)) if self.validation_split => {
                format!(" val_loss {vl:.4} val_accuracy {va:.4}")
            }
            (Some(tl), Some(ta)) => format!(" test_loss {tl:.4} test_accuracy {ta:.4}"),
            _ if self.has_test => String::new(),
            _ => " (no test set)".to_string(),
        };
        eprintln!(
            "epoch {}: loss {:.4} accuracy {:.4}{test} {:.0} samples/s",
            self.first_epoch + l.epoch + 1,
            l.loss,
            l.accuracy,
            l.samples_per_second
        );
        for w in &l.warnings {
            eprintln!("{w}");
        }
        if let Some(last) = self.health.last() {
            super::health::print_table(last);
            for v in steadygrad::health::verdict(&self.health) {
                eprintln!("    health: {}", v.text);
            }
        }
        if self.grad_stats {
            for (name, norm) in &l.grad_norms {
                eprintln!("    mean |grad| {name:<36} {norm:.3e}");
            }
        }
        Ok(Control::Continue)
    }
}

/// Writes `--history`, prints `--stats` and the `--json` object.
pub fn report(
    t: &TrainOptions,
    info: &DeviceInfo,
    optimizer: &str,
    history: &History,
    eval: Option<(f32, f32)>,
    failures: &mut super::outputs::Failures,
) -> Result<()> {
    let last = history.epochs.last();
    if let Some(path) = &t.history {
        let out = super::history::to_csv(history);
        failures.record(
            steadygrad::io::safe_file::write_atomic(path, out.as_bytes())
                .map_err(|e| Error::io(path, e)),
        );
    }
    let c = history.counters;
    if t.stats {
        eprintln!(
            "per step: {:.1} dispatches, {:.2} submits, {:.0} bytes uploaded, {:.0} bytes read back, {:.0} allocations, {:.0} bytes copied into operand textures; per epoch: {:.0} bytes read back (metrics and guard)",
            c.dispatches_per_step, c.submits_per_step, c.upload_bytes_per_step, c.readback_bytes_per_step, c.allocations_per_step, c.copy_bytes_per_step, c.readback_bytes_per_epoch
        );
        if c.allreduce_rounds_per_step > 0.0 {
            eprintln!(
                "all-reduce per step: {:.1} rounds, {:.0} bytes from each rank, {:.3} ms in them (waits for other ranks included)",
                c.allreduce_rounds_per_step,
                c.allreduce_bytes_per_step,
                1e3 * c.allreduce_seconds_per_step
            );
        }
    }
    if t.json {
        let sps: f64 = if history.epochs.is_empty() {
            0.0
        } else {
            history
                .epochs
                .iter()
                .map(|e| e.samples_per_second)
                .sum::<f64>()
                / history.epochs.len() as f64
        };
        let v = serde_json::json!({
            "device": info.kind,
            "adapter": info.adapter,
            "api": info.api,
            "optimizer": optimizer,
            "epochs": history.epochs.len(),
            "batch_size": t.batch_size,
            "train_loss": last.map(|l| l.loss),
            "train_accuracy": last.map(|l| l.accuracy),
            "test_loss": eval.map(|e| e.0),
            "test_accuracy": eval.map(|e| e.1),
            "samples_per_second": sps,
            "learning_rate": last.map(|l| l.learning_rate),
            "learning_rates": history.epochs.iter().map(|e| e.learning_rate).collect::<Vec<_>>(),
            "steps": c.steps,
            "dispatches_per_step": c.dispatches_per_step,
            "submits_per_step": c.submits_per_step,
            "upload_bytes_per_step": c.upload_bytes_per_step,
            "readback_bytes_per_step": c.readback_bytes_per_step,
            "readback_bytes_per_epoch": c.readback_bytes_per_epoch,
            "copy_bytes_per_step": c.copy_bytes_per_step,
            "allocations_per_step": c.allocations_per_step,
            "allreduce_rounds_per_step": c.allreduce_rounds_per_step,
            "allreduce_bytes_per_step": c.allreduce_bytes_per_step,
            "allreduce_seconds_per_step": c.allreduce_seconds_per_step,
        });
        let mut so = std::io::stdout().lock();
        let _ = writeln!(so, "{v}");
    }
    Ok(())
}

/// Prints dead ReLU units and saturation of each hidden activation.
pub fn print_activation_stats(session: &mut Session, data: &Dataset) -> Result<()> {
    eprintln!("activations on {} samples:", data.len().min(512));
    for s in session.activation_stats(data, 512)? {
        eprintln!(
            "    {:<24} {:<10} mean {:>8.4} std {:>8.4}  dead {:>4}/{:<4} saturated {:>5.1}%",
            s.layer,
            s.activation,
            s.mean,
            s.std,
            s.dead_units,
            s.units,
            100.0 * s.saturated_fraction
        );
    }
    Ok(())
}
