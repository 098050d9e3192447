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

    /// The values of `weight`'s `slot`.
    pub fn slot(&self, weight: &str, slot: &str) -> Option<&[f32]> {
        self.slots
            .iter()
            .find(|s| s.weight == weight && s.slot == slot)
            .map(|s| s.data.as_slice())
    }
}
