//! The exponentially weighted moving average.

/// An exponentially weighted moving average, `v ← β·v + (1 − β)·x` — the rule Keras's
/// BatchNormalization uses for its moving statistics (β is its momentum), and the one the
/// CLI smooths its displayed loss with. The first value is taken as is.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Ewma {
    beta: f64,
    value: Option<f64>,
}

impl Ewma {
    /// An empty average with weight `beta` on the old value.
    pub fn new(beta: f64) -> Ewma {
        Ewma { beta, value: None }
    }

    /// An average starting at `initial` (as BN's moving statistics start at 0 and 1).
    pub fn starting_at(beta: f64, initial: f64) -> Ewma {
        Ewma {
            beta,
            value: Some(initial),
        }
    }

    /// Folds in one observation and returns the new average.
    pub fn update(&mut self, x: f64) -> f64 {
        let v = match self.value {
            None => x,
            Some(v) => self.beta * v + (1.0 - self.beta) * x,
        };
        self.value = Some(v);
        v
    }

    /// The current average.
    pub fn value(&self) -> Option<f64> {
        self.value
    }
}
