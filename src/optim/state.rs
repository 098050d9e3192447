//! An optimizer's state on the host: which optimizer, the step count, every per-weight
//! slot tensor and the carried scalar — what `optimizer.safetensors` holds, so training
//! resumes exactly where it stopped.

/// The values of one state slot of one weight.
#[derive(Clone, Debug, PartialEq)]
pub struct SlotValues {
    /// The weight (`dense/kernel`).
    pub weight: String,
    /// Keras's slot name (`momentum`, `velocity`, …).
    pub slot: String,
    /// Values, like the weight's.
    pub data: Vec<f32>,
}

/// A whole optimizer state.
#[derive(Clone, Debug, PartialEq)]
pub struct OptimizerState {
    /// The optimizer's name (`sgd`, `adam`, …).
    pub optimizer: String,
    /// Steps taken (Keras's `iterations`).
    pub iterations: u64,
    /// Every slot of every weight.
    pub slots: Vec<SlotValues>,
    /// The carried scalar (Nadam's `u_product`), with its Keras name.
    pub carry: Option<(String, f32)>,
}

impl OptimizerState {
    /// Keras's name of an optimizer variable: the weight's path in the Sequential model
    /// with `/` → `_`, then the slot (`dense/kernel` + `momentum` →
    /// `sequential_dense_kernel_momentum`).
    pub fn keras_name(weight: &str, slot: &str) -> String {
        format!("sequential_{}_{slot}", weight.replace('/', "_"))
    }

    /// The largest step count a state may carry: the step is a 32-bit count on the device.
    pub const MAX_ITERATIONS: u64 = u32::MAX as u64;

    /// Checks every value a resumed optimizer would trust: a known optimizer, a step count
    /// in range, every slot finite, running squares (`velocity`, `velocity_hat`,
    /// `accumulator`) never negative, Nadam's `u_product` finite and in [0, 1]. The error
    /// names the slot (by its Keras name) and the first bad value.
    pub fn validate(&self) -> Result<(), String> {
        if !super::NAMES.contains(&self.optimizer.as_str()) {
            return Err(format!(
                "optimizer {:?} in the metadata: expected one of {}",
                self.optimizer,
                super::NAMES.join(", ")
            ));
        }
        if self.iterations > Self::MAX_ITERATIONS {
            return Err(format!(
                "iteration {} is out of range (at most {})",
                self.iterations,
                Self::MAX_ITERATIONS
            ));
        }
        for v in &self.slots {
            let name = Self::keras_name(&v.weight, &v.slot);
            let squares = matches!(v.slot.as_str(), "velocity" | "velocity_hat" | "accumulator");
            for (i, &x) in v.data.iter().enumerate() {
                if !x.is_finite() {
                    return Err(format!("{name}: value {i} is {x}, not a finite number"));
                }
                if squares && x < 0.0 {
                    return Err(format!(
                        "{name}: value {i} is {x}; a running square is never negative"
                    ));
                }
            }
        }
        if let Some((name, x)) = &self.carry {
            if !(x.is_finite() && (0.0..=1.0).contains(x)) {
                return Err(format!("{name} = {x}: must be a number in [0, 1]"));
            }
        }
        Ok(())
    }

    /// The values of `weight`'s `slot`.
    pub fn slot(&self, weight: &str, slot: &str) -> Option<&[f32]> {
        self.slots
            .iter()
            .find(|s| s.weight == weight && s.slot == slot)
            .map(|s| s.data.as_slice())
    }
}
