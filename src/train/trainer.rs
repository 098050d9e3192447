//! What `compile` sets up and training advances: the optimizer, its state on the device
//! (each group's gradient and slot arenas, the per-weight slot views, the gradient
//! statistics' partial sums), the step count (Keras's `iterations`) and the optimizer's
//! carried scalar; reading and restoring that state.

use super::arena::{self, Arena, TrainArena};
use crate::backend::kernel::SEGMENT;
use crate::backend::{Backend, BufId, STEP_WORDS};
use crate::error::{Error, Result};
use crate::nn::Sequential;
use crate::optim::{Optimizer, OptimizerState, SlotValues};

/// The optimizer and its state.
pub(crate) struct Trainer {
    pub optimizer: Box<dyn Optimizer>,
    /// Each group's gradient and slot arenas.
    pub arenas: Vec<TrainArena>,
    /// Each weight's state slots (views; empty for weights no optimizer updates).
    pub slots: Vec<Vec<BufId>>,
    /// Per-segment partial sums of the gradient statistics (2 words a segment, all groups).
    pub partials: BufId,
    /// Steps taken (Keras's `iterations`).
    pub step: u64,
    /// The optimizer's carried scalar (Nadam's `u_product`).
    pub carry: f32,
}

impl Trainer {
    /// Allocates `optimizer`'s state for `model`, whose weights live in `arenas`.
    pub fn new(
        backend: &mut dyn Backend,
        model: &Sequential,
        arenas: &[Arena],
        optimizer: Box<dyn Optimizer>,
    ) -> Result<Trainer> {
        let init: Vec<f32> = optimizer
            .slots()
            .iter()
            .map(|name| optimizer.slot_initial(name))
            .collect();
        let lens: Vec<usize> = model.weights().iter().map(|w| w.data.len()).collect();
        let (train_arenas, slots) = arena::alloc_training(backend, arenas, &lens, &init)?;
        let segments: usize = (lens.iter().zip(model.weights()))
            .filter(|(_, w)| w.optimizable)
            .map(|(n, _)| n.div_ceil(SEGMENT))
            .sum();
        let partials = backend.alloc(2 * segments.max(1))?;
        Ok(Trainer {
            carry: optimizer.carry().map(|c| c.1).unwrap_or(1.0),
            optimizer,
            arenas: train_arenas,
            slots,
            partials,
            step: 0,
        })
    }

    /// Frees the state's buffers.
    pub fn release(self, backend: &mut dyn Backend) {
        for b in self.slots.into_iter().flatten() {
            backend.free(b);
        }
        for a in self.arenas {
            backend.free(a.grads);
            a.slots.into_iter().for_each(|b| backend.free(b));
        }
        backend.free(self.partials);
    }

    /// The step record of the next training step at batch `offset`: the step, the
    /// learning rate and the optimizer's per-step scalars (advancing its carried scalar).
    pub fn next_record(&mut self, offset: usize) -> [u32; STEP_WORDS] {
        let mut record = [0u32; STEP_WORDS];
        record[0] = self.step as u32;
        record[1] = offset as u32;
        let lr = self.optimizer.learning_rate().at(self.step);
        let scalars = self.optimizer.step_scalars(self.step, lr, &mut self.carry);
        record[2] = lr.to_bits();
        for (k, s) in scalars.iter().enumerate() {
            record[4 + k] = s.to_bits();
        }
        record
    }

    /// Reads the state back from the device.
    pub fn state(&self, backend: &mut dyn Backend, model: &Sequential) -> Result<OptimizerState> {
        let names = self.optimizer.slots();
        let mut slots = Vec::new();
        for (w, bufs) in model.weights().iter().zip(&self.slots) {
            for (name, b) in names.iter().zip(bufs) {
                let v = backend.read(*b)?;
                slots.push(SlotValues {
                    weight: w.name.clone(),
                    slot: name.to_string(),
                    data: v[..w.data.len()].to_vec(),
                });
            }
        }
        // One canonical order (by weight name, then slot), as a loaded state has.
        slots.sort_by(|a, b| (&a.weight, &a.slot).cmp(&(&b.weight, &b.slot)));
        Ok(OptimizerState {
            optimizer: self.optimizer.name().to_string(),
            iterations: self.step,
            slots,
            carry: self
                .optimizer
                .carry()
                .map(|(n, _)| (n.to_string(), self.carry)),
        })
    }

    /// Restores a state saved by [`Trainer::state`]: the same optimizer, every slot of
    /// every optimizable weight with the weight's size, nothing else.
    pub fn restore(
        &mut self,
        backend: &mut dyn Backend,
        model: &Sequential,
        s: &OptimizerState,
    ) -> Result<()> {
        s.validate()
            .map_err(|m| Error::Config(format!("the optimizer state: {m}")))?;
        if s.optimizer != self.optimizer.name() {
            return Err(Error::Config(format!(
                "the optimizer state is {}'s, the session uses {}",
                s.optimizer,
                self.optimizer.name()
            )));
        }
        let names = self.optimizer.slots();
        let mut writes = Vec::new();
        let mut used = 0;
        for (w, bufs) in model.weights().iter().zip(&self.slots) {
            for (name, b) in names.iter().zip(bufs) {
                let v = s.slot(&w.name, name).ok_or_else(|| {
                    Error::Config(format!("the optimizer state has no {name} for {}", w.name))
                })?;
                if v.len() != w.data.len() {
                    return Err(Error::Shape(format!(
                        "the optimizer's {name} of {} holds {} values, the weight {}",
                        w.name,
                        v.len(),
                        w.data.len()
                    )));
                }
                used += 1;
                writes.push((*b, v.to_vec()));
            }
        }
        if used != s.slots.len() {
            let extra = s
                .slots
                .iter()
                .find(|x| {
                    model.weight_index(&x.weight).is_none() || !names.contains(&x.slot.as_str())
                })
                .map(|x| format!("{} of {}", x.slot, x.weight))
                .unwrap_or_else(|| "a duplicate slot".into());
            return Err(Error::Config(format!(
                "the optimizer state holds {extra}, which this model and optimizer do not have"
            )));
        }
        let carry = match (self.optimizer.carry(), &s.carry) {
            (Some(_), Some((_, v))) => *v,
            (Some((_, init)), None) => {
                // Recompute the running product from the step count.
                let mut c = init;
                for i in 0..s.iterations {
                    let before = c;
                    self.optimizer.step_scalars(i, 0.0, &mut c);
                    // The factors only grow towards β₁ < 1, so a product that one of them
                    // left unchanged (0, or the smallest subnormal) stays so: the rest of
                    // the loop would change nothing.
                    if c == before {
                        break;
                    }
                }
                c
            }
            (None, _) => 1.0,
        };
        for (b, v) in writes {
            backend.write(b, 0, &v)?;
        }
        self.step = s.iterations;
        self.carry = carry;
        Ok(())
    }
}
