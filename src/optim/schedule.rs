//! Learning-rate schedules with Keras's definitions (`keras/src/optimizers/schedules/`),
//! evaluated in float32 as Keras evaluates them, at the optimizer's iteration count before
//! it is incremented, and handed to the update kernel through the step record (no
//! pipeline changes). Also the chapter's 1cycle policy, which Keras has no class for: the
//! learning rate up and back down, the momentum the other way.

use crate::error::{Error, Result};

/// A learning rate as a function of the step (counting from 0).
#[derive(Clone, Debug, PartialEq)]
pub enum Schedule {
    /// The same rate every step.
    Constant(f32),
    /// `initial · rate^(step / decay_steps)` (floored exponent when `staircase`): Keras's
    /// `ExponentialDecay`.
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
    /// (Keras's `PiecewiseConstantDecay`).
    PiecewiseConstant {
        /// Step boundaries, increasing.
        boundaries: Vec<u64>,
        /// One more value than boundaries.
        values: Vec<f32>,
    },
    /// `initial / (1 + rate · step / decay_steps)` (floored quotient when `staircase`):
    /// Keras's `InverseTimeDecay`, the chapter's power scheduling.
    InverseTimeDecay {
        /// Rate at step 0.
        initial: f32,
        /// Steps per unit of decay.
        decay_steps: u64,
        /// Decay rate.
        decay_rate: f32,
        /// Decay in whole periods.
        staircase: bool,
    },
    /// Keras's `CosineDecay`: with `warmup` `(steps, target)`, linear from `initial` to
    /// `target` over the warm-up steps, then the cosine from `target`; the cosine goes from
    /// its start to `alpha` times it over `decay_steps`, then stays.
    CosineDecay {
        /// Rate at step 0.
        initial: f32,
        /// Steps of the cosine.
        decay_steps: u64,
        /// The floor, as a fraction of the cosine's start.
        alpha: f32,
        /// Warm-up steps and the rate they reach.
        warmup: Option<(u64, f32)>,
    },
    /// The 1cycle policy (the chapter's `OneCycleScheduler`): over the first half of the
    /// cycle up linearly from `max_lr/10` to `max_lr`, over the second half back down,
    /// then over the last iterations (a tenth of them, plus one) down to `max_lr/1000`;
    /// momentum, when the optimizer has some, from 0.95 to 0.85 and back to 0.95, where it
    /// stays.
    OneCycle {
        /// The peak learning rate.
        max_lr: f32,
        /// The iterations of the whole cycle (training's steps).
        total_steps: u64,
    },
}

/// Momentum at the ends and the middle of a 1cycle (the chapter's values).
const ONECYCLE_MOMENTUM: (f32, f32) = (0.95, 0.85);

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
                let mut p = step as f32 / *decay_steps as f32;
                if *staircase {
                    p = p.floor();
                }
                initial * decay_rate.powf(p)
            }
            Schedule::PiecewiseConstant { boundaries, values } => {
                let i = boundaries.iter().take_while(|&&b| step > b).count();
                values[i]
            }
            Schedule::InverseTimeDecay {
                initial,
                decay_steps,
                decay_rate,
                staircase,
            } => {
                let mut p = step as f32 / *decay_steps as f32;
                if *staircase {
                    p = p.floor();
                }
                initial / (1.0 + decay_rate * p)
            }
            Schedule::CosineDecay {
                initial,
                decay_steps,
                alpha,
                warmup,
            } => {
                let decay = |s: f32, from: f32| {
                    let fraction = s / *decay_steps as f32;
                    let cosine = 0.5 * (1.0 + (std::f32::consts::PI * fraction).cos());
                    from * ((1.0 - alpha) * cosine + alpha)
                };
                match *warmup {
                    None => decay((step as f32).min(*decay_steps as f32), *initial),
                    Some((warm, target)) => {
                        let s = (step as f32).min((*decay_steps + warm) as f32);
                        if s < warm as f32 {
                            (target - initial) * (s / warm as f32) + initial
                        } else {
                            decay(s - warm as f32, target)
                        }
                    }
                }
            }
            Schedule::OneCycle {
                max_lr,
                total_steps,
            } => {
                let (start, last) = (max_lr / 10.0, max_lr / 1000.0);
                onecycle(*total_steps, step, (start, *max_lr, start, last))
            }
        }
    }

    /// The momentum at `step` of an optimizer whose momentum is `base`: the 1cycle's when
    /// the optimizer has momentum, else `base`.
    pub fn momentum_at(&self, step: u64, base: f32) -> f32 {
        match self {
            Schedule::OneCycle { total_steps, .. } if base > 0.0 => {
                let (high, low) = ONECYCLE_MOMENTUM;
                onecycle(*total_steps, step, (high, low, high, high))
            }
            _ => base,
        }
    }

    /// The schedule with its length set, for schedules whose length is training's (1cycle
    /// as the CLI parses it); others as they are.
    pub fn with_total_steps(self, steps: u64) -> Schedule {
        match self {
            Schedule::OneCycle { max_lr, .. } => Schedule::OneCycle {
                max_lr,
                total_steps: steps,
            },
            other => other,
        }
    }

    /// Checks the parameters: every rate finite and ≥ 0, step counts ≥ 1, decay rates
    /// finite (and > 0 for the exponential), alpha in [0, 1], boundaries increasing with
    /// one more value than boundaries. The message names the parameter and the value.
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
        let steps = |what: &str, n: u64| -> Result<()> {
            if n == 0 {
                Err(Error::Config(format!("{what} must be at least 1")))
            } else {
                Ok(())
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
                steps("decay steps", *decay_steps)?;
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
            Schedule::InverseTimeDecay {
                initial,
                decay_steps,
                decay_rate,
                ..
            } => {
                rate("initial learning rate", *initial)?;
                steps("decay steps", *decay_steps)?;
                rate("decay rate", *decay_rate)
            }
            Schedule::CosineDecay {
                initial,
                decay_steps,
                alpha,
                warmup,
            } => {
                rate("initial learning rate", *initial)?;
                steps("decay steps", *decay_steps)?;
                if !(0.0..=1.0).contains(alpha) {
                    return Err(Error::Config(format!("alpha {alpha} must be in [0, 1]")));
                }
                if let Some((warm, target)) = warmup {
                    steps("warm-up steps", *warm)?;
                    rate("warm-up target", *target)?;
                }
                Ok(())
            }
            Schedule::OneCycle {
                max_lr,
                total_steps,
            } => {
                rate("maximum learning rate", *max_lr)?;
                steps("the 1cycle's total steps", *total_steps)
            }
        }
    }

    /// Parses `--lr-schedule`: `constant[:LR]`, `exponential:LR:STEPS:RATE[:staircase]`,
    /// `piecewise:B1,B2:V0,V1,V2`, `inverse_time:LR:STEPS:RATE[:staircase]`,
    /// `cosine:LR:STEPS[:ALPHA[:WARMUP_STEPS:WARMUP_TARGET]]` or `onecycle:MAX_LR` (its
    /// length is set from training's steps: [`Schedule::with_total_steps`]). `constant`
    /// alone is the optimizer's default rate, `default_lr`.
    pub fn parse(s: &str, default_lr: f32) -> Result<Schedule> {
        let bad = |why: &str| {
            Error::Config(format!(
                "--lr-schedule {s:?}: {why} (expected constant[:LR], exponential:LR:STEPS:RATE[:staircase], \
                 piecewise:B1,B2:V0,V1,V2, inverse_time:LR:STEPS:RATE[:staircase], \
                 cosine:LR:STEPS[:ALPHA[:WARMUP_STEPS:WARMUP_TARGET]] or onecycle:MAX_LR)"
            ))
        };
        let parts: Vec<&str> = s.split(':').collect();
        let num = |i: usize, what: &str| -> Result<f32> {
            let v = parts[i];
            v.parse::<f32>()
                .map_err(|_| bad(&format!("{what} {v:?} is not a number")))
        };
        let count = |i: usize, what: &str| -> Result<u64> {
            let v = parts[i];
            v.parse::<u64>()
                .map_err(|_| bad(&format!("{what} {v:?} is not a whole number of steps")))
        };
        let staircase = |i: usize| -> Result<bool> {
            match parts.get(i) {
                None => Ok(false),
                Some(&"staircase") => Ok(true),
                Some(other) => Err(bad(&format!("{other:?} is not \"staircase\""))),
            }
        };
        let arity = |lo: usize, hi: usize| -> Result<()> {
            if (lo..=hi).contains(&parts.len()) {
                Ok(())
            } else {
                Err(bad(&format!(
                    "{} takes {} to {} fields",
                    parts[0],
                    lo - 1,
                    hi - 1
                )))
            }
        };
        let sched = match parts[0] {
            "constant" => {
                arity(1, 2)?;
                Schedule::Constant(if parts.len() == 2 {
                    num(1, "the learning rate")?
                } else {
                    default_lr
                })
            }
            "exponential" => {
                arity(4, 5)?;
                Schedule::ExponentialDecay {
                    initial: num(1, "the learning rate")?,
                    decay_steps: count(2, "decay steps")?,
                    decay_rate: num(3, "the decay rate")?,
                    staircase: staircase(4)?,
                }
            }
            "inverse_time" => {
                arity(4, 5)?;
                Schedule::InverseTimeDecay {
                    initial: num(1, "the learning rate")?,
                    decay_steps: count(2, "decay steps")?,
                    decay_rate: num(3, "the decay rate")?,
                    staircase: staircase(4)?,
                }
            }
            "cosine" => {
                if parts.len() == 5 {
                    return Err(bad("a warm-up needs both WARMUP_STEPS and WARMUP_TARGET"));
                }
                arity(3, 6)?;
                Schedule::CosineDecay {
                    initial: num(1, "the learning rate")?,
                    decay_steps: count(2, "decay steps")?,
                    alpha: if parts.len() > 3 {
                        num(3, "alpha")?
                    } else {
                        0.0
                    },
                    warmup: if parts.len() == 6 {
                        Some((count(4, "warm-up steps")?, num(5, "the warm-up target")?))
                    } else {
                        None
                    },
                }
            }
            "onecycle" => {
                arity(2, 2)?;
                Schedule::OneCycle {
                    max_lr: num(1, "the maximum learning rate")?,
                    total_steps: 0,
                }
            }
            "piecewise" => {
                arity(3, 3)?;
                let list = |i: usize, what: &str| -> Result<Vec<&str>> {
                    Ok(parts[i].split(',').collect::<Vec<_>>()).and_then(|v| {
                        if v.iter().any(|x| x.is_empty()) {
                            Err(bad(&format!("an empty {what}")))
                        } else {
                            Ok(v)
                        }
                    })
                };
                Schedule::PiecewiseConstant {
                    boundaries: list(1, "boundary")?
                        .iter()
                        .map(|v| {
                            v.parse()
                                .map_err(|_| bad(&format!("boundary {v:?} is not a whole number")))
                        })
                        .collect::<Result<_>>()?,
                    values: list(2, "value")?
                        .iter()
                        .map(|v| {
                            v.parse()
                                .map_err(|_| bad(&format!("value {v:?} is not a number")))
                        })
                        .collect::<Result<_>>()?,
                }
            }
            other => match other.parse::<f32>() {
                Ok(v) if parts.len() == 1 => Schedule::Constant(v),
                _ => return Err(bad(&format!("unknown schedule kind {other:?}"))),
            },
        };
        // A 1cycle's length comes from training later.
        let check = sched.clone().with_total_steps(1);
        check
            .validate()
            .map_err(|e| Error::Config(format!("--lr-schedule {s:?}: {}", strip(&e))))?;
        Ok(sched)
    }
}

/// The 1cycle curve at `step` of `total` iterations through `(start, peak, back, last)`:
/// up over the first half, back down over the second half, then to `last` over the last
/// iterations (a tenth, plus one), and `last` after the cycle.
fn onecycle(total: u64, step: u64, (start, peak, back, last): (f32, f32, f32, f32)) -> f32 {
    let last_iterations = total / 10 + 1;
    let half = total.saturating_sub(last_iterations) / 2;
    let lerp = |from: u64, to: u64, a: f32, b: f32| {
        if to <= from {
            return b;
        }
        (b - a) * (step - from) as f32 / (to - from) as f32 + a
    };
    if step < half {
        lerp(0, half, start, peak)
    } else if step < 2 * half {
        lerp(half, 2 * half, peak, back)
    } else if step < total {
        lerp(2 * half, total, back, last)
    } else {
        last
    }
}

/// The message of a configuration error without its "invalid configuration: " prefix.
fn strip(e: &Error) -> String {
    match e {
        Error::Config(m) => m.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn onecycle_goes_up_down_and_lower_with_momentum_the_other_way() {
        let s = Schedule::OneCycle {
            max_lr: 0.1,
            total_steps: 100,
        };
        // 11 last iterations, halves of 44.
        assert!((s.at(0) - 0.01).abs() < 1e-7);
        assert!((s.at(44) - 0.1).abs() < 1e-7);
        assert!((s.at(88) - 0.01).abs() < 1e-7);
        assert!(s.at(99) < 0.01 && s.at(99) > 1e-4);
        assert_eq!(s.at(100), 0.1 / 1000.0);
        assert_eq!(s.momentum_at(0, 0.9), 0.95);
        assert!((s.momentum_at(44, 0.9) - 0.85).abs() < 1e-7);
        assert_eq!(s.momentum_at(95, 0.9), 0.95);
        assert_eq!(s.momentum_at(44, 0.0), 0.0, "no momentum, none added");
    }

    #[test]
    fn parse_errors_name_what_is_wrong() {
        assert_eq!(
            Schedule::parse("constant:0.5", 0.01).unwrap(),
            Schedule::Constant(0.5)
        );
        assert_eq!(
            Schedule::parse("constant", 0.01).unwrap(),
            Schedule::Constant(0.01)
        );
        for bad in [
            "constant:abc",
            "cosine:0.1:0",
            "inverse_time:0.1:-5:0.5",
            "exponential:0.1:10",
            "onecycle",
            "warmup:0.1",
            "cosine:0.1:10:0.1:5",
            "piecewise:10,:0.1,0.2,0.3",
        ] {
            let e = Schedule::parse(bad, 0.01).unwrap_err().to_string();
            assert!(e.contains("--lr-schedule"), "{bad}: {e}");
        }
    }
}
