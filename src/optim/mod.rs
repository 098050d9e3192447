//! Optimizers with Keras's formulas and defaults, each in its own file: [`Sgd`] (momentum,
//! Nesterov), [`Adagrad`], [`Rmsprop`] (momentum, centered), [`Adam`] (AMSGrad),
//! [`AdamW`], [`Nadam`] and [`Adamax`]; gradient clipping ([`Clip`]), Keras's decoupled
//! `weight_decay` on every one, and learning-rate schedules ([`Schedule`]).
//!
//! An optimizer describes its per-weight state (Keras's variable names), validates its
//! hyper-parameters, computes the per-step scalars the update needs (bias corrections),
//! and lowers its update into the step graph as one fused kernel per weight tensor
//! ([`crate::backend::Kernel::Update`]), so the update runs on the device inside the
//! step's one submit with no read-back.

pub mod adagrad;
pub mod adam;
pub mod adamax;
pub mod adamw;
pub mod clip;
pub mod nadam;
pub mod rmsprop;
pub mod schedule;
pub mod sgd;
pub mod state;

pub use adagrad::Adagrad;
pub use adam::Adam;
pub use adamax::Adamax;
pub use adamw::AdamW;
pub use clip::Clip;
pub use nadam::Nadam;
pub use rmsprop::Rmsprop;
pub use schedule::Schedule;
pub use sgd::Sgd;
pub use state::{OptimizerState, SlotValues};

use crate::backend::{ArenaTensor, Kernel, UpdateRule};
use crate::error::{Error, Result};
use crate::graph::{Graph, TensorId};

/// What every optimizer provides.
pub trait Optimizer: std::fmt::Debug + OptimizerClone {
    /// The CLI/short name (`sgd`, `adam`, …).
    fn name(&self) -> &'static str;
    /// The learning rate as a function of the step.
    fn learning_rate(&self) -> &Schedule;
    /// Gradient clipping.
    fn clip(&self) -> Clip;
    /// Keras's decoupled weight decay (`w ← w − w·wd·lr` before each step; 0: none).
    fn weight_decay(&self) -> f32;
    /// Replaces the learning rate (a schedule, or a constant as `ReduceLROnPlateau` sets).
    fn set_learning_rate(&mut self, lr: Schedule);
    /// The per-element update rule with this optimizer's hyper-parameters.
    fn rule(&self) -> UpdateRule;
    /// Checks the hyper-parameters; the message names the option and the accepted range.
    fn validate(&self) -> Result<()>;
    /// The initial value of a state slot (Adagrad's accumulator starts at
    /// `initial_accumulator_value`; everything else at 0).
    fn slot_initial(&self, _slot: &str) -> f32 {
        0.0
    }
    /// A scalar state carried from step to step (Nadam's `u_product`): its Keras name and
    /// initial value.
    fn carry(&self) -> Option<(&'static str, f32)> {
        None
    }
    /// The four per-step scalars of the step record for 0-based `iteration` at learning
    /// rate `lr`, advancing the carried scalar if there is one.
    fn step_scalars(&self, _iteration: u64, _lr: f32, _carry: &mut f32) -> [f32; 4] {
        [0.0; 4]
    }

    /// Keras's names of the state tensors kept per weight.
    fn slots(&self) -> Vec<&'static str> {
        self.rule().slots()
    }

    /// Appends the fused update of every tensor of one arena group. `state` holds the
    /// slot arenas in [`Optimizer::slots`] order.
    #[allow(clippy::too_many_arguments)]
    fn lower_update(
        &self,
        g: &mut Graph,
        weights: TensorId,
        grads: TensorId,
        scales: TensorId,
        step: TensorId,
        state: &[TensorId],
        tensors: Vec<ArenaTensor>,
    ) {
        let mut args = vec![weights, grads, scales, step];
        args.extend_from_slice(state);
        g.push(
            Kernel::Update {
                rule: self.rule(),
                tensors,
                clipvalue: self.clip().value(),
                weight_decay: self.weight_decay(),
            },
            args,
        );
    }
}

/// Cloning boxed optimizers.
pub trait OptimizerClone {
    /// A boxed copy.
    fn clone_box(&self) -> Box<dyn Optimizer>;
}

impl<T: Optimizer + Clone + 'static> OptimizerClone for T {
    fn clone_box(&self) -> Box<dyn Optimizer> {
        Box::new(self.clone())
    }
}

impl Clone for Box<dyn Optimizer> {
    fn clone(&self) -> Self {
        self.clone_box()
    }
}

/// The optimizer names [`by_name`] knows.
pub const NAMES: [&str; 7] = [
    "sgd", "adagrad", "rmsprop", "adam", "adamw", "nadam", "adamax",
];

/// Hyper-parameters given by name (the CLI's flags); `None` means the optimizer's Keras
/// default.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Hyper {
    /// Learning-rate schedule (default: the optimizer's Keras default rate, constant).
    pub learning_rate: Option<Schedule>,
    /// SGD / RMSprop momentum.
    pub momentum: Option<f32>,
    /// SGD's Nesterov.
    pub nesterov: Option<bool>,
    /// Adam / Nadam beta_1.
    pub beta_1: Option<f32>,
    /// Adam / Nadam beta_2.
    pub beta_2: Option<f32>,
    /// Epsilon.
    pub epsilon: Option<f32>,
    /// RMSprop rho.
    pub rho: Option<f32>,
    /// RMSprop centered.
    pub centered: Option<bool>,
    /// Adam amsgrad.
    pub amsgrad: Option<bool>,
    /// Adagrad's initial accumulator value.
    pub initial_accumulator_value: Option<f32>,
    /// Clipping.
    pub clip: Clip,
    /// Decoupled weight decay (default 0; AdamW's 0.004).
    pub weight_decay: Option<f32>,
}

/// Builds an optimizer by name with Keras's defaults for everything `h` leaves unset.
/// An option the optimizer does not take is an error naming it.
pub fn by_name(name: &str, h: &Hyper) -> Result<Box<dyn Optimizer>> {
    let reject = |opts: &[(&str, bool)]| -> Result<()> {
        for (flag, set) in opts {
            if *set {
                return Err(Error::Config(format!(
                    "--{flag} does not apply to the {name} optimizer"
                )));
            }
        }
        Ok(())
    };
    let lr = |d: f32| h.learning_rate.clone().unwrap_or(Schedule::Constant(d));
    let wd = h.weight_decay.unwrap_or(0.0);
    let opt: Box<dyn Optimizer> = match name {
        "sgd" => {
            reject(&[
                ("beta-1", h.beta_1.is_some()),
                ("beta-2", h.beta_2.is_some()),
                ("epsilon", h.epsilon.is_some()),
                ("rho", h.rho.is_some()),
                ("centered", h.centered.is_some()),
                ("amsgrad", h.amsgrad.is_some()),
                ("initial-accumulator", h.initial_accumulator_value.is_some()),
            ])?;
            Box::new(Sgd {
                learning_rate: lr(0.01),
                momentum: h.momentum.unwrap_or(0.0),
                nesterov: h.nesterov.unwrap_or(false),
                clip: h.clip,
                weight_decay: wd,
            })
        }
        "adagrad" => {
            reject(&[
                ("momentum", h.momentum.is_some()),
                ("nesterov", h.nesterov.is_some()),
                ("beta-1", h.beta_1.is_some()),
                ("beta-2", h.beta_2.is_some()),
                ("rho", h.rho.is_some()),
                ("centered", h.centered.is_some()),
                ("amsgrad", h.amsgrad.is_some()),
            ])?;
            let d = Adagrad::default();
            Box::new(Adagrad {
                learning_rate: lr(0.001),
                initial_accumulator_value: h
                    .initial_accumulator_value
                    .unwrap_or(d.initial_accumulator_value),
                epsilon: h.epsilon.unwrap_or(d.epsilon),
                clip: h.clip,
                weight_decay: wd,
            })
        }
        "rmsprop" => {
            reject(&[
                ("nesterov", h.nesterov.is_some()),
                ("beta-1", h.beta_1.is_some()),
                ("beta-2", h.beta_2.is_some()),
                ("amsgrad", h.amsgrad.is_some()),
                ("initial-accumulator", h.initial_accumulator_value.is_some()),
            ])?;
            let d = Rmsprop::default();
            Box::new(Rmsprop {
                learning_rate: lr(0.001),
                rho: h.rho.unwrap_or(d.rho),
                momentum: h.momentum.unwrap_or(d.momentum),
                epsilon: h.epsilon.unwrap_or(d.epsilon),
                centered: h.centered.unwrap_or(d.centered),
                clip: h.clip,
                weight_decay: wd,
            })
        }
        "adam" | "adamw" | "nadam" | "adamax" => {
            reject(&[
                ("momentum", h.momentum.is_some()),
                ("nesterov", h.nesterov.is_some()),
                ("rho", h.rho.is_some()),
                ("centered", h.centered.is_some()),
                ("initial-accumulator", h.initial_accumulator_value.is_some()),
            ])?;
            if !name.starts_with("adam") || name == "adamax" {
                reject(&[("amsgrad", h.amsgrad.is_some())])?;
            }
            let d = Adam::default();
            let (beta_1, beta_2, epsilon) = (
                h.beta_1.unwrap_or(d.beta_1),
                h.beta_2.unwrap_or(d.beta_2),
                h.epsilon.unwrap_or(d.epsilon),
            );
            let adam = Adam {
                learning_rate: lr(0.001),
                beta_1,
                beta_2,
                epsilon,
                amsgrad: h.amsgrad.unwrap_or(false),
                clip: h.clip,
                weight_decay: wd,
            };
            match name {
                "adam" => Box::new(adam),
                // Keras's AdamW: weight decay 0.004 unless given.
                "adamw" => Box::new(AdamW(Adam {
                    weight_decay: h.weight_decay.unwrap_or(0.004),
                    ..adam
                })),
                "nadam" => Box::new(Nadam {
                    learning_rate: adam.learning_rate,
                    beta_1,
                    beta_2,
                    epsilon,
                    clip: h.clip,
                    weight_decay: wd,
                }),
                _ => Box::new(Adamax {
                    learning_rate: adam.learning_rate,
                    beta_1,
                    beta_2,
                    epsilon,
                    clip: h.clip,
                    weight_decay: wd,
                }),
            }
        }
        other => {
            return Err(Error::Config(format!(
                "unknown optimizer {other:?}: expected one of {}",
                NAMES.join(", ")
            )))
        }
    };
    opt.validate()?;
    Ok(opt)
}

/// Checks that `value` lies in `[lo, hi)` (or `[lo, hi]` with `inclusive`), naming the option.
pub(crate) fn check_range(
    option: &str,
    value: f32,
    lo: f32,
    hi: f32,
    inclusive: bool,
) -> Result<()> {
    let ok = value.is_finite() && value >= lo && (value < hi || (inclusive && value <= hi));
    if ok {
        Ok(())
    } else {
        let close = if inclusive { ']' } else { ')' };
        Err(Error::Config(format!(
            "{option} = {value} is out of range: expected [{lo}, {hi}{close}"
        )))
    }
}

/// Checks that an epsilon is finite and ≥ 0.
pub(crate) fn check_epsilon(value: f32) -> Result<()> {
    check_non_negative("epsilon", value)
}

/// Checks an epsilon that keeps a division by √v + ε finite where v starts at 0 (Adam,
/// Nadam, Adamax, RMSprop): finite and > 0.
pub(crate) fn check_divisor_epsilon(value: f32) -> Result<()> {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        Err(Error::Config(format!(
            "epsilon = {value}: must be a finite number > 0 (it keeps the update finite where \
             a gradient's running square is still 0)"
        )))
    }
}

/// Checks that `value` is finite and ≥ 0, naming the option.
pub(crate) fn check_non_negative(option: &str, value: f32) -> Result<()> {
    if value.is_finite() && value >= 0.0 {
        Ok(())
    } else {
        Err(Error::Config(format!(
            "{option} = {value} must be a finite number ≥ 0"
        )))
    }
}
