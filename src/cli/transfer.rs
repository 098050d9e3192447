//! `steadygrad transfer`: reuse a saved model's lower layers under a new head — freeze,
//! train, then optionally unfreeze the top reused layers at a lower learning rate.

use steadygrad::backend::ActKind;
use steadygrad::io::load_model;
use steadygrad::nn::{parse_activation, Layer};
use steadygrad::{Error, Result};

use super::args::TransferArgs;
use super::commands::{
    compile, load_data, loss_of, open_session, optimizer_of, planned_steps, run_fit, save,
};
use super::outputs::{Failures, Outputs};
use super::report::report;

fn parse_head(spec: &str) -> Result<Layer> {
    let (units, act) = spec.split_once(':').unwrap_or((spec, ""));
    let units: usize = units.parse().ok().filter(|&u| u > 0).ok_or_else(|| {
        Error::Config(format!(
            "--new-head {spec:?}: expected UNITS[:activation] with UNITS ≥ 1"
        ))
    })?;
    let act = if act.is_empty() {
        if units == 1 {
            ActKind::Sigmoid
        } else {
            ActKind::Softmax
        }
    } else {
        parse_activation(act)?
    };
    Ok(Layer::dense(units).activation(act).into())
}

/// `steadygrad transfer`.
pub fn transfer(a: TransferArgs) -> Result<()> {
    Outputs::of_training(&a.train, a.save.as_deref()).check()?;
    let (train_set, test_set) = load_data(&a.data)?;
    let mut model = load_model(&a.from)?.model.without_top(1)?;
    let reused = model.layers().len();
    let freeze = match a.freeze.as_str() {
        "all" => reused,
        n => {
            let k = n.parse::<usize>().map_err(|_| {
                Error::Config(format!("--freeze {n:?}: expected all or a layer count"))
            })?;
            if k > reused {
                return Err(Error::Config(format!(
                    "--freeze {k}: the new model reuses only {reused} layers"
                )));
            }
            k
        }
    };
    model.add(parse_head(&a.new_head)?, a.seed)?;
    for i in 0..freeze {
        model.set_trainable(i, false)?;
    }
    print!("{}", model.summary());
    let weighted: Vec<usize> = model
        .weighted_layers()
        .into_iter()
        .filter(|&i| i < reused)
        .collect();
    let steps = planned_steps(&a.train, train_set.len(), a.train.epochs)?;
    let optimizer = optimizer_of(&a.train, steps)?;
    let lr = optimizer.learning_rate().at(0);
    let mult = match a.lr_unfrozen {
        Some(x) if !(x.is_finite() && x >= 0.0) => {
            return Err(Error::Config(format!(
                "--lr-unfrozen {x}: must be a finite number ≥ 0"
            )))
        }
        Some(x) if lr > 0.0 => x / lr,
        Some(_) => {
            return Err(Error::Config(
                "--lr-unfrozen needs a learning rate above 0".into(),
            ))
        }
        None => 1.0,
    };
    let loss = loss_of(&model, &a.train.loss)?;
    loss.check(&model)?;
    super::commands::check_fit_flags(&a.train, train_set.len(), test_set.is_some())?;
    let mut session = open_session(model, a.train.device)?;
    let info = session.device_info();
    compile(&mut session, optimizer, loss, None)?;
    let first = if a.unfreeze_top > 0 {
        a.unfreeze_after.min(a.train.epochs)
    } else {
        a.train.epochs
    };
    let mut failures = Failures::default();
    let mut samples = Vec::new();
    let data = (&train_set, test_set.as_ref());
    let mut fitted = run_fit(
        &mut session,
        &a.train,
        a.seed,
        data,
        (0, first),
        &mut samples,
    );
    if let (Ok(history), true) = (&mut fitted, a.unfreeze_top > 0 && a.train.epochs > first) {
        let mut names = Vec::new();
        for &i in weighted.iter().rev().take(a.unfreeze_top) {
            session.set_trainable(i, true)?;
            session.set_lr_multiplier(i, mult)?;
            names.push(session.model()?.layers()[i].name.clone());
            // A frozen BatchNormalization right above an unfrozen Dense stays frozen, as in Keras.
        }
        names.reverse();
        let rate = match a.lr_unfrozen {
            Some(x) => format!("learning rate {x} (--lr-unfrozen)"),
            None => "the same learning rate".into(),
        };
        eprintln!(
            "after epoch {first}: unfroze {} ({} reused layer(s) with weights, from the top), {rate}",
            names.join(", "),
            names.len()
        );
        eprint!("{}", session.model()?.summary());
        let more = run_fit(
            &mut session,
            &a.train,
            a.seed + 1,
            data,
            (first, a.train.epochs - first),
            &mut samples,
        );
        fitted = more.map(|more| {
            history.epochs.extend(more.epochs);
            history.counters = more.counters;
            std::mem::take(history)
        });
    }
    failures.record(super::health::finish(&a.train, &samples));
    let history = fitted.map_err(|e| std::mem::take(&mut failures).fail_with(e))?;
    let eval = history
        .epochs
        .last()
        .and_then(|l| l.val_loss.zip(l.val_accuracy));
    if let Some(dir) = &a.save {
        failures.record(save(&mut session, dir));
    }
    let name = session.optimizer().map(|o| o.name()).unwrap_or("none");
    report(&a.train, &info, name, &history, eval, &mut failures)?;
    failures.finish()
}
