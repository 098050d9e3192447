//! Fitting from the command line: the validation split, the planned steps, the callbacks
//! the flags ask for, and the loop over epochs with its progress display.

use steadygrad::data::Dataset;
use steadygrad::health::HealthSample;
use steadygrad::train::{
    Callback, Divergence, EarlyStopping, FitOptions, History, ModelCheckpoint, ReduceLrOnPlateau,
    Session,
};
use steadygrad::{Error, Result};

use super::args::{OnDivergence, TrainOptions};
use super::report::Progress;

/// The validation split the flags ask for, checked: in (0, 1), leaving training rows
/// and holding some (Keras: the last fraction of the data, before shuffling).
pub fn validation_split(t: &TrainOptions, rows: usize) -> Result<Option<f64>> {
    let Some(f) = t.validation_split else {
        return Ok(None);
    };
    if !(f > 0.0 && f < 1.0) {
        return Err(Error::Config(format!(
            "--validation-split {f}: must be in (0, 1)"
        )));
    }
    let held = steadygrad::data::held_out(rows, f);
    if held == 0 || held >= rows {
        return Err(Error::Config(format!(
            "--validation-split {f}: of {rows} training samples it holds out {held}, leaving {}",
            rows - held.min(rows)
        )));
    }
    Ok(Some(f))
}

/// The training steps the flags plan: `--steps`, or the epochs' batches (after any
/// validation split).
pub fn planned_steps(t: &TrainOptions, rows: usize, epochs: usize) -> Result<u64> {
    let held = validation_split(t, rows)?.map_or(0, |f| steadygrad::data::held_out(rows, f));
    let per_epoch = (rows - held).div_ceil(t.batch_size.max(1)) as u64;
    Ok(t.steps.unwrap_or(per_epoch.saturating_mul(epochs as u64)))
}

/// The Keras callbacks the flags ask for: `--early-stopping`, `--reduce-lr-on-plateau`,
/// `--checkpoint` (all monitoring val_loss: they need validation data).
fn callbacks_of(t: &TrainOptions, has_validation: bool) -> Result<Vec<Box<dyn Callback>>> {
    let mut v: Vec<Box<dyn Callback>> = Vec::new();
    let need_validation = |flag: &str| -> Result<()> {
        if has_validation {
            Ok(())
        } else {
            Err(Error::Config(format!(
                "{flag} monitors val_loss: give --validation-split F (or data with a test split)"
            )))
        }
    };
    if let Some(p) = t.early_stopping {
        need_validation("--early-stopping")?;
        let patience = usize::try_from(p).map_err(|_| {
            Error::Config(format!("--early-stopping {p}: the patience must be ≥ 0"))
        })?;
        v.push(Box::new(EarlyStopping::new(patience)));
    }
    if let Some(spec) = &t.reduce_lr_on_plateau {
        need_validation("--reduce-lr-on-plateau")?;
        let bad = |why: &str| {
            Error::Config(format!(
                "--reduce-lr-on-plateau {spec:?}: {why} (expected FACTOR:PATIENCE, e.g. 0.5:5)"
            ))
        };
        let (f, p) = spec.split_once(':').ok_or_else(|| bad("no ':'"))?;
        let factor: f32 = f.parse().map_err(|_| bad("FACTOR is not a number"))?;
        if !(factor > 0.0 && factor < 1.0) {
            return Err(bad("FACTOR must be in (0, 1)"));
        }
        let patience: usize = p
            .parse()
            .map_err(|_| bad("PATIENCE is not a whole number ≥ 0"))?;
        if t.lr_schedule
            .as_deref()
            .is_some_and(|s| !s.starts_with("constant"))
        {
            return Err(bad(
                "it sets the learning rate, which --lr-schedule already sets",
            ));
        }
        v.push(Box::new(ReduceLrOnPlateau::new(factor, patience)));
    }
    if let Some(dir) = &t.checkpoint {
        need_validation("--checkpoint")?;
        v.push(Box::new(ModelCheckpoint::best_only(dir)));
    }
    Ok(v)
}

/// Checks the fitting flags (`--check-every`, `--steps`, `--validation-split`, the
/// callbacks) before a device is opened, so that a bad value is the only line printed.
pub fn check_fit_flags(t: &TrainOptions, rows: usize, has_test: bool) -> Result<()> {
    if t.check_every == Some(0) {
        return Err(Error::Config("--check-every must be at least 1".into()));
    }
    if t.steps == Some(0) {
        return Err(Error::Config("--steps must be at least 1".into()));
    }
    let split = validation_split(t, rows)?;
    callbacks_of(t, split.is_some() || has_test).map(drop)
}

/// Runs `epochs` epochs (or `--steps` steps) after `first` done ones (printed numbers
/// and the history's epochs continue from there) and returns the history; the health
/// samples taken are appended to `health` (also when training stops with an error).
pub fn run_fit(
    session: &mut Session,
    t: &TrainOptions,
    seed: u64,
    (train, test): (&Dataset, Option<&Dataset>),
    (first, epochs): (usize, usize),
    health: &mut Vec<HealthSample>,
) -> Result<History> {
    if t.check_every == Some(0) {
        return Err(Error::Config("--check-every must be at least 1".into()));
    }
    let lead = session.rank().0 == 0;
    let split = validation_split(t, train.len())?;
    // With a validation split the test set waits for the end; else it is the validation
    // data (printed as test_loss).
    let validation = if split.is_some() { None } else { test };
    let mut progress = Progress::new(t.json, t.grad_stats, test.is_some())
        .silent(!lead)
        .validation_split(split.is_some())
        .first_epoch(first);
    let mut callbacks = callbacks_of(t, split.is_some() || validation.is_some())?;
    let held = split.map_or(0, |f| steadygrad::data::held_out(train.len(), f));
    let steps_per_epoch = (train.len() - held).div_ceil(t.batch_size.max(1)).max(1);
    let (epochs, max_steps) = match t.steps {
        Some(0) => return Err(Error::Config("--steps must be at least 1".into())),
        Some(n) => {
            let epochs = usize::try_from(n.div_ceil(steps_per_epoch as u64))
                .map_err(|_| Error::Config(format!("--steps {n} is too large")))?;
            let end = session
                .steps_done()
                .checked_add(n)
                .ok_or_else(|| Error::Config(format!("--steps {n} is too large")))?;
            (epochs.max(1), Some(end))
        }
        None => (epochs, None),
    };
    let opts = FitOptions {
        epochs,
        batch_size: t.batch_size,
        shuffle: !t.no_shuffle,
        seed,
        // The progress bar reads the running loss ~20 times an epoch; without it (--json)
        // metrics are read once per epoch.
        metrics_every: (!t.json).then_some((steps_per_epoch / 20).max(1)),
        check_every: t.check_every,
        max_steps,
        divergence: Divergence {
            warn_only: t.on_divergence == OnDivergence::Warn,
            ..Default::default()
        },
        health_every: super::health::health_every(t)?,
        validation_split: split.unwrap_or(0.0),
        // The mean norms --grad-stats prints are over every step.
        every_step_statistics: t.grad_stats,
    };
    let mut all: Vec<&mut dyn Callback> = vec![&mut progress];
    all.extend(
        callbacks
            .iter_mut()
            .map(|c| c.as_mut() as &mut dyn Callback),
    );
    let r = session.fit(train, validation, &opts, &mut all);
    health.append(&mut progress.health);
    let mut history = r?;
    for e in &mut history.epochs {
        e.epoch += first;
    }
    Ok(history)
}
