//! The subcommands `train`, `summary`, `evaluate` and `predict`, and what they share:
//! building the model the flags describe, loading data, building the optimizer, opening a
//! session and running `fit`.

use std::path::Path;

use steadygrad::backend::{ActKind, DeviceInfo, GpuOptions};
use steadygrad::data::idx::load_mnist_dir;
use steadygrad::data::{load_safetensors_dataset, Dataset};
use steadygrad::dist::Communicator;
use steadygrad::io::tensor_file::{load_safetensors_x, write_probabilities};
use steadygrad::io::{load_model, save_model};
use steadygrad::nn::regularizers::KernelRules;
use steadygrad::nn::{parse_activation, Constraint, Initializer, Layer, Regularizer, Sequential};
use steadygrad::optim::{self, Clip, Hyper, Optimizer, OptimizerState, Schedule};
use steadygrad::train::{Device, LossName, Session};
use steadygrad::{Error, Result};

use super::args::{
    BnPlacement, DataArgs, DeviceArg, EvaluateArgs, ModelArgs, PredictArgs, SummaryArgs, TrainArgs,
    TrainOptions,
};
use super::report::{print_activation_stats, report};

pub use super::fit::{check_fit_flags, planned_steps, run_fit};
use super::outputs::{Failures, Kind, Outputs};

/// The model the flags describe, for samples of `input_shape`; `synchronized` makes its
/// batch norm use the whole global batch's statistics in distributed training.
pub fn build_model(a: &ModelArgs, input_shape: &[usize], synchronized: bool) -> Result<Sequential> {
    if let Some(path) = &a.model_config {
        return steadygrad::io::model_from_json_file(path, a.seed);
    }
    let placement = if a.no_batch_norm {
        BnPlacement::None
    } else {
        a.batch_norm
    };
    let init = Initializer::from_name(&a.init)?;
    let prelu = a.activation.trim().eq_ignore_ascii_case("prelu");
    let act = if prelu {
        ActKind::Linear
    } else {
        parse_activation(&a.activation)?
    };
    let hidden_act = || {
        if prelu {
            Layer::prelu()
        } else {
            Layer::activation(act)
        }
    };
    let batch_norm = || -> Layer {
        steadygrad::nn::BatchNormalization {
            synchronized,
            ..Default::default()
        }
        .into()
    };
    let rules = regularization_of(a)?;
    let dropout = match a.dropout {
        None => None,
        Some(r) if r.is_finite() && (0.0..1.0).contains(&r) => Some(r),
        Some(r) => {
            return Err(Error::Config(format!(
                "--dropout {r}: the rate must be in [0, 1)"
            )))
        }
    };
    // Alpha dropout keeps a SELU network's mean and variance (the chapter's advice).
    let drop = |layers: &mut Vec<Layer>| {
        if let Some(rate) = dropout {
            layers.push(if act == ActKind::Selu {
                Layer::alpha_dropout(rate)
            } else {
                Layer::dropout(rate)
            });
        }
    };
    let mut layers = vec![Layer::flatten()];
    if placement == BnPlacement::After {
        layers.push(batch_norm());
    }
    for &units in &a.hidden {
        let mut dense = Layer::dense(units).kernel_initializer(init);
        dense.rules = KernelRules {
            kernel_regularizer: rules.0,
            kernel_constraint: rules.1.clone(),
            ..Default::default()
        };
        match placement {
            BnPlacement::Before => {
                layers.push(dense.use_bias(false).into());
                layers.push(batch_norm());
                layers.push(hidden_act());
            }
            _ => {
                if prelu {
                    layers.push(dense.into());
                    layers.push(Layer::prelu());
                } else {
                    layers.push(dense.activation(act).into());
                }
                if placement == BnPlacement::After {
                    layers.push(batch_norm());
                }
            }
        }
        drop(&mut layers);
    }
    let mut output = Layer::dense(a.classes_out).activation(ActKind::Softmax);
    output.rules.kernel_regularizer = rules.0;
    layers.push(output.into());
    Sequential::new(input_shape, layers, a.seed)
}

/// The kernel penalty (`--l1`, `--l2`) and hidden kernels' constraint (`--max-norm`) the
/// flags ask for, checked.
fn regularization_of(a: &ModelArgs) -> Result<(Option<Regularizer>, Option<Constraint>)> {
    let factor = |flag: &str, v: Option<f32>| -> Result<f32> {
        match v {
            None => Ok(0.0),
            Some(x) if x.is_finite() && x >= 0.0 => Ok(x),
            Some(x) => Err(Error::Config(format!(
                "{flag} {x}: must be a finite number ≥ 0"
            ))),
        }
    };
    let (l1, l2) = (factor("--l1", a.l1)?, factor("--l2", a.l2)?);
    let regularizer = (l1 > 0.0 || l2 > 0.0).then_some(Regularizer { l1, l2 });
    let constraint = match a.max_norm {
        None => None,
        Some(x) if x.is_finite() && x > 0.0 => Some(Constraint::max_norm(x)),
        Some(x) => {
            return Err(Error::Config(format!(
                "--max-norm {x}: must be a finite number > 0"
            )))
        }
    };
    Ok((regularizer, constraint))
}

/// Train and test sets per the data flags.
pub fn load_data(d: &DataArgs) -> Result<(Dataset, Option<Dataset>)> {
    if !d.data.exists() {
        let bundled = if d.data == Path::new("data") {
            " (the default, the bundled digits, is the checkout's data/ folder: run from the \
             checkout or pass --data DIR)"
        } else {
            ""
        };
        return Err(Error::Config(format!(
            "--data {}: no such folder or file{bundled}",
            d.data.display()
        )));
    }
    let (mut train, mut test) = if d.data.is_dir() {
        if d.test_data.is_some() {
            return Err(Error::Config(
                "--test-data applies to a safetensors --data file; an IDX folder brings its own test split".into(),
            ));
        }
        let (tr, te) = load_mnist_dir(&d.data)?;
        (tr, Some(te))
    } else {
        let te = match &d.test_data {
            Some(p) => Some(load_safetensors_dataset(p)?),
            None => None,
        };
        (load_safetensors_dataset(&d.data)?, te)
    };
    if let Some(c) = &d.classes {
        train = train.filter_classes(c)?;
        test = test.map(|t| t.filter_classes(c)).transpose()?;
    }
    if let Some(n) = d.limit {
        train = train.limit(n);
    }
    if train.is_empty() {
        return Err(Error::InvalidData("the training set is empty".into()));
    }
    Ok((train, test))
}

/// The loss the flags name, or the one the model's output suggests.
pub fn loss_of(model: &Sequential, loss: &Option<String>) -> Result<LossName> {
    match loss {
        Some(l) => LossName::parse(l),
        None => Ok(LossName::for_model(model)),
    }
}

/// The optimizer the flags describe. With sgd, momentum defaults to 0.9 with Nesterov
/// (the seed network); everything else takes Keras's defaults.
pub fn optimizer_of(t: &TrainOptions, total_steps: u64) -> Result<Box<dyn Optimizer>> {
    let name = t.optimizer.to_ascii_lowercase();
    let sgd = name == "sgd";
    let default_lr = if sgd { 0.01 } else { 0.001 };
    let lr = t.lr.unwrap_or(default_lr);
    let schedule = match &t.lr_schedule {
        Some(s) => {
            // A 1cycle spans the whole run.
            let parsed = Schedule::parse(s, lr)?.with_total_steps(total_steps.max(1));
            if t.lr.is_some() && !matches!(parsed, Schedule::Constant(_)) {
                return Err(Error::Config(format!(
                    "--lr and --lr-schedule {s} both set the learning rate; give one of them"
                )));
            }
            parsed
        }
        None => Schedule::Constant(lr),
    };
    if t.lr_schedule.is_none() && !(lr.is_finite() && lr >= 0.0) {
        return Err(Error::Config(format!(
            "--lr {lr}: the learning rate must be a finite number ≥ 0"
        )));
    }
    let nesterov_flag = t.nesterov || t.no_nesterov;
    let h = Hyper {
        learning_rate: Some(schedule),
        momentum: if sgd {
            Some(t.momentum.unwrap_or(0.9))
        } else {
            t.momentum
        },
        nesterov: if sgd {
            Some(!t.no_nesterov)
        } else {
            nesterov_flag.then_some(true)
        },
        beta_1: t.beta_1,
        beta_2: t.beta_2,
        epsilon: t.epsilon,
        rho: t.rho,
        centered: t.centered.then_some(true),
        amsgrad: t.amsgrad.then_some(true),
        initial_accumulator_value: t.initial_accumulator,
        clip: Clip::from_options(t.clipvalue, t.clipnorm, t.global_clipnorm)?,
        weight_decay: t.weight_decay,
    };
    if let Some(wd) = t.weight_decay {
        if !(wd.is_finite() && wd >= 0.0) {
            return Err(Error::Config(format!(
                "--weight-decay {wd}: must be a finite number ≥ 0"
            )));
        }
    }
    optim::by_name(&name, &h).map_err(|e| match e {
        Error::Config(m) if optim::NAMES.contains(&name.as_str()) => {
            Error::Config(format!("--optimizer {name}: {m}"))
        }
        other => other,
    })
}

pub fn device_of(d: DeviceArg) -> Device {
    match d {
        DeviceArg::Auto => Device::Auto,
        DeviceArg::Gpu => Device::Gpu,
        DeviceArg::Cpu => Device::Cpu,
    }
}

/// Opens a session on the flags' device and prints which device it is.
pub fn open_session(model: Sequential, device: DeviceArg) -> Result<Session> {
    open_session_with(model, device, &GpuOptions::from_env()?)
}

/// [`open_session`] with given GPU options.
pub fn open_session_with(
    model: Sequential,
    device: DeviceArg,
    gpu: &GpuOptions,
) -> Result<Session> {
    // New shape classes are timed with a line each on stderr.
    let gpu = GpuOptions {
        announce: true,
        ..gpu.clone()
    };
    let session = Session::new_with(model, device_of(device), &gpu)?;
    if let Some(n) = session.fallback_notice() {
        eprintln!("note: {n}");
    }
    let info = session.device_info();
    eprintln!("device: {} ({}, {})", info.kind, info.adapter, info.api);
    Ok(session)
}

/// Compiles `session` with the flags' optimizer and loss, restoring `state` when it is the
/// same optimizer's.
pub fn compile(
    session: &mut Session,
    optimizer: Box<dyn Optimizer>,
    loss: LossName,
    state: Option<(&OptimizerState, &Path)>,
) -> Result<()> {
    for w in session.model()?.init_warnings() {
        eprintln!("{w}");
    }
    let name = optimizer.name();
    session.compile(optimizer, loss)?;
    if let Some((s, dir)) = state {
        if s.optimizer == name {
            session
                .set_optimizer_state(s)
                .map_err(|e| Error::ModelFile {
                    path: dir.join(steadygrad::io::model_file::OPTIMIZER),
                    reason: e.to_string(),
                })?;
        } else {
            eprintln!(
                "note: {} holds {} state; starting {name} afresh",
                dir.display(),
                s.optimizer
            );
        }
    }
    Ok(())
}

/// Saves the session's model and optimizer state.
pub fn save(session: &mut Session, dir: &Path) -> Result<()> {
    let state = session.optimizer_state().ok();
    save_model(session.model()?, state.as_ref(), dir)?;
    eprintln!("saved to {}", dir.display());
    Ok(())
}

/// `steadygrad train`.
pub fn train(a: TrainArgs) -> Result<()> {
    train_on(a, None)
}

/// `steadygrad train`, as one rank of data-parallel training when `comm` is given (rank 0
/// alone prints and writes files).
pub fn train_on(a: TrainArgs, comm: Option<Box<dyn Communicator>>) -> Result<()> {
    let (rank, ranks) = comm.as_ref().map_or((0, 1), |c| (c.rank(), c.size()));
    let lead = rank == 0;
    if lead {
        Outputs::of_training(&a.train, a.save.as_deref()).check()?;
    }
    steadygrad::dist::check_batch(a.train.batch_size, ranks).map_err(|e| match e {
        Error::Config(m) => Error::Config(format!("--batch-size: {m}")),
        other => other,
    })?;
    let (train_set, test_set) = load_data(&a.data)?;
    let (model, state) = match &a.model_dir {
        Some(dir) => {
            let l = load_model(dir)?;
            (l.model, l.optimizer)
        }
        None => (
            build_model(&a.model, &train_set.sample_shape, comm.is_some())?,
            None,
        ),
    };
    // Everything the flags decide is checked before a device is opened.
    let steps = planned_steps(&a.train, train_set.len(), a.train.epochs)?;
    let optimizer = optimizer_of(&a.train, steps)?;
    let loss = loss_of(&model, &a.train.loss)?;
    loss.check(&model)?;
    check_fit_flags(&a.train, train_set.len(), test_set.is_some())?;
    // Each rank of a host takes an adapter of its own when there are several.
    let gpu = GpuOptions {
        ordinal: comm.as_ref().map_or(0, |c| c.local_rank()),
        ..GpuOptions::from_env()?
    };
    let mut session = if lead {
        open_session_with(model, a.train.device, &gpu)?
    } else {
        Session::new_with(model, device_of(a.train.device), &gpu)?
    };
    if let Some(c) = comm {
        session.set_communicator(c)?;
        if lead {
            eprintln!(
                "distributed: {ranks} ranks, {} rows each per step",
                a.train.batch_size / ranks
            );
        }
    }
    let info: DeviceInfo = session.device_info();
    if lead {
        compile(
            &mut session,
            optimizer,
            loss,
            state.as_ref().zip(a.model_dir.as_deref()),
        )?;
    } else {
        compile_quietly(&mut session, optimizer, loss, state.as_ref())?;
    }
    let mut failures = Failures::default();
    let mut samples = Vec::new();
    let fitted = run_fit(
        &mut session,
        &a.train,
        a.model.seed,
        (&train_set, test_set.as_ref()),
        (0, a.train.epochs),
        &mut samples,
    );
    // The health history is written even when training stopped: it shows what led there.
    if lead {
        failures.record(super::health::finish(&a.train, &samples));
    }
    let history = fitted.map_err(|e| std::mem::take(&mut failures).fail_with(e))?;
    let eval = match (&a.train.validation_split, &test_set) {
        // The epochs validated on the split: the test set now, once.
        (Some(_), Some(test)) => Some(session.evaluate(test, 256)?),
        (Some(_), None) => None,
        (None, _) => history
            .epochs
            .last()
            .and_then(|l| l.val_loss.zip(l.val_accuracy)),
    };
    if !lead {
        return Ok(());
    }
    if a.train.activation_stats {
        print_activation_stats(&mut session, test_set.as_ref().unwrap_or(&train_set))?;
    }
    if let Some(dir) = &a.save {
        failures.record(save(&mut session, dir));
    }
    let name = session.optimizer().map(|o| o.name()).unwrap_or("none");
    report(&a.train, &info, name, &history, eval, &mut failures)?;
    failures.finish()
}

/// [`compile`] without its notes (ranks other than 0).
fn compile_quietly(
    session: &mut Session,
    optimizer: Box<dyn Optimizer>,
    loss: LossName,
    state: Option<&OptimizerState>,
) -> Result<()> {
    let name = optimizer.name();
    session.compile(optimizer, loss)?;
    match state {
        Some(s) if s.optimizer == name => session.set_optimizer_state(s),
        _ => Ok(()),
    }
}

/// `steadygrad summary`.
pub fn summary(s: SummaryArgs) -> Result<()> {
    let model = match &s.model_dir {
        Some(d) => load_model(d)?.model,
        None => build_model(&s.model, &[28, 28], false)?,
    };
    print!("{}", model.summary());
    for w in model.init_warnings() {
        eprintln!("{w}");
    }
    Ok(())
}

/// `steadygrad evaluate`: inference only, no optimizer.
pub fn evaluate(a: EvaluateArgs) -> Result<()> {
    if !a.train_split && a.data.limit.is_some() {
        return Err(Error::Config(
            "--limit applies to the training split: give --train-split, or leave --limit out"
                .into(),
        ));
    }
    let (train, test) = load_data(&a.data)?;
    let data = if a.train_split { Some(train) } else { test };
    let data =
        data.ok_or_else(|| Error::Config("no test set: give --test-data or --train-split".into()))?;
    let model = load_model(&a.model_dir)?.model;
    let loss = loss_of(&model, &a.loss)?;
    let mut session = Session::new(model, device_of(a.device))?;
    if let Some(n) = session.fallback_notice() {
        eprintln!("note: {n}");
    }
    let info = session.device_info();
    session.set_loss(loss)?;
    let (l, acc) = session.evaluate(&data, a.batch_size)?;
    if a.json {
        println!(
            "{}",
            serde_json::json!({"device": info.kind, "adapter": info.adapter, "loss": l, "accuracy": acc, "samples": data.len()})
        );
    } else {
        println!(
            "loss {l:.4} accuracy {acc:.4} ({} samples, {})",
            data.len(),
            info.adapter
        );
    }
    Ok(())
}

/// `steadygrad predict`: inference only.
pub fn predict(a: PredictArgs) -> Result<()> {
    match (a.mc_samples, &a.mc_std) {
        (Some(0), _) => return Err(Error::Config("--mc-samples must be at least 1".into())),
        (None, Some(_)) => {
            return Err(Error::Config(
                "--mc-std needs --mc-samples N (the spread of N dropout samples)".into(),
            ))
        }
        _ => {}
    }
    Outputs::default()
        .with("--output", Some(&a.output), Kind::File)
        .with("--mc-std", a.mc_std.as_deref(), Kind::File)
        .check()?;
    let (x, shape) = load_safetensors_x(&a.input)?;
    let model = load_model(&a.model_dir)?.model;
    if shape.iter().product::<usize>() != model.input_features() {
        return Err(Error::Shape(format!(
            "--input {}: samples of shape {shape:?}, the model takes {:?}",
            a.input.display(),
            model.input_shape()
        )));
    }
    let mut session = Session::new(model, device_of(a.device))?;
    if let Some(n) = session.fallback_notice() {
        eprintln!("note: {n}");
    }
    let units = session.model()?.output_units();
    let probs = match a.mc_samples {
        None => session.predict(&x, a.batch_size)?,
        Some(n) => {
            let (mean, std) = session.predict_mc(&x, a.batch_size, n)?;
            if let Some(path) = &a.mc_std {
                steadygrad::io::tensor_file::write_matrix(path, "std", &std, units)?;
                eprintln!("wrote the MC standard deviations to {}", path.display());
            }
            mean
        }
    };
    write_probabilities(&a.output, &probs, units)?;
    let what = match a.mc_samples {
        Some(n) => format!("MC dropout probabilities (mean of {n} samples)"),
        None => "probabilities".into(),
    };
    eprintln!(
        "wrote {} × {units} {what} to {}",
        probs.len() / units.max(1),
        a.output.display()
    );
    Ok(())
}
