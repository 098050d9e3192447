//! Learning-rate schedules with Keras's definitions, evaluated per step and handed to the
//! update kernel through the step buffer (no pipeline changes).

use crate::error::{Error, Result};

/// A learning rate as a function of the step (counting from 0).
#[derive(Clone, Debug, PartialEq)]
pub enum Schedule {
    /// The same rate every step.
    Constant(f32),
    /// `initial · rate^(step / decay_steps)` (floored exponent when `staircase`).
    ExponentialDecay {
        /// Rate at step 0.
        initial: f32,
        /// Steps per decay period.
        decay_steps: u64,
        /// Factor per period.
        decay_rate: f32,
        /// Decay in whole periods.
        staircase: bool,
    },
    /// `values[0]` while step ≤ `boundaries[0]`, then `values[1]` while ≤ `boundaries[1]`, …
    PiecewiseConstant {
        /// Step boundaries, increasing.
        boundaries: Vec<u64>,
        /// One more value than boundaries.
        values: Vec<f32>,
    },
}

impl Schedule {
    /// The learning rate at `step`.
    pub fn at(&self, step: u64) -> f32 {
        match self {
            Schedule::Constant(v) => *v,
            Schedule::ExponentialDecay {
                initial,
                decay_steps,
                decay_rate,
                staircase,
            } => {
                let mut p = step as f64 / *decay_steps as f64;
                if *staircase {
                    p = p.floor();
                }
                (*initial as f64 * (*decay_rate as f64).powf(p)) as f32
            }
            Schedule::PiecewiseConstant { boundaries, values } => {
                let i = boundaries.iter().take_while(|&&b| step > b).count();
                values[i]
            }
        }
    }

    /// Checks the parameters: every rate finite and ≥ 0, decay steps ≥ 1, a decay rate
    /// finite and > 0, boundaries increasing with one more value than boundaries. The
    /// message names the parameter and the value.
    pub fn validate(&self) -> Result<()> {
        let rate = |what: &str, v: f32| -> Result<()> {
            if v.is_finite() && v >= 0.0 {
                Ok(())
            } else {
                Err(Error::Config(format!(
                    "{what} {v} must be a finite number ≥ 0"
                )))
            }
        };
        match self {
            Schedule::Constant(v) => rate("learning rate", *v),
            Schedule::ExponentialDecay {
                initial,
                decay_steps,
                decay_rate,
                ..
            } => {
                rate("initial learning rate", *initial)?;
                if *decay_steps == 0 {
                    return Err(Error::Config("decay steps must be at least 1".into()));
                }
                if !(decay_rate.is_finite() && *decay_rate > 0.0) {
                    return Err(Error::Config(format!(
                        "decay rate {decay_rate} must be a finite number > 0"
                    )));
                }
                Ok(())
            }
            Schedule::PiecewiseConstant { boundaries, values } => {
                if values.len() != boundaries.len() + 1 {
                    return Err(Error::Config(format!(
                        "{} boundaries need {} values, got {}",
                        boundaries.len(),
                        boundaries.len() + 1,
                        values.len()
                    )));
                }
                if !boundaries.windows(2).all(|w| w[0] < w[1]) {
                    return Err(Error::Config(format!(
                        "boundaries {boundaries:?} must increase"
                    )));
                }
                values.iter().try_for_each(|v| rate("learning rate", *v))
            }
        }
    }

    /// Parses `0.01`, `exponential:LR:DECAY_STEPS:RATE[:staircase]` or
    /// `piecewise:B1,B2:V0,V1,V2`.
    pub fn parse(s: &str, default_lr: f32) -> Result<Schedule> {
        let bad = || {
            Error::Config(format!("--lr-schedule {s:?}: expected constant, exponential:LR:STEPS:RATE[:staircase] or piecewise:B1,B2:V0,V1,V2"))
        };
        let parts: Vec<&str> = s.split(':').collect();
        let sched = match parts[0] {
            "constant" => Schedule::Constant(default_lr),
            "exponential" if (4..=5).contains(&parts.len()) => Schedule::ExponentialDecay {
                initial: parts[1].parse().map_err(|_| bad())?,
                decay_steps: parts[2].parse().map_err(|_| bad())?,
                decay_rate: parts[3].parse().map_err(|_| bad())?,
                staircase: match parts.get(4) {
                    None => false,
                    Some(&"staircase") => true,
                    Some(_) => return Err(bad()),
                },
            },
            "piecewise" if parts.len() == 3 => Schedule::PiecewiseConstant {
                boundaries: parts[1]
                    .split(',')
                    .map(|v| v.parse().map_err(|_| bad()))
                    .collect::<Result<_>>()?,
                values: parts[2]
                    .split(',')
                    .map(|v| v.parse().map_err(|_| bad()))
                    .collect::<Result<_>>()?,
            },
            _ => Schedule::Constant(s.parse().map_err(|_| bad())?),
        };
        sched
            .validate()
            .map_err(|e| Error::Config(format!("--lr-schedule {s:?}: {}", strip(&e))))?;
        Ok(sched)
    }
}

/// The message of a configuration error without its "invalid configuration: " prefix.
fn strip(e: &Error) -> String {
    match e {
        Error::Config(m) => m.clone(),
        other => other.to_string(),
    }
}
