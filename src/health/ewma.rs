//! The exponentially weighted moving average.

/// An exponentially weighted moving average, `v ← β·v + (1 − β)·x`.
///
/// Two starts: [`Ewma::starting_at`] is Keras's BatchNormalization rule for its moving
/// statistics (β is its momentum, the average starts at 0 or 1); [`Ewma::new`] is the
/// chapter's bias-corrected average for smoothing a displayed loss — it starts at 0 and
/// reports `v / (1 − βᵗ)` after t observations, so the first values are not dragged
/// towards the start (nor towards the first, largest loss).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Ewma {
    beta: f64,
    value: Option<f64>,
    /// Bias correction: the observations so far, when the average started at 0.
    corrected: Option<u64>,
}

impl Ewma {
    /// A bias-corrected average with weight `beta` on the old value.
    pub fn new(beta: f64) -> Ewma {
        Ewma {
            beta,
            value: None,
            corrected: Some(0),
        }
    }

    /// An uncorrected average starting at `initial` (as BN's moving statistics start at
    /// 0 and 1).
    pub fn starting_at(beta: f64, initial: f64) -> Ewma {
        Ewma {
            beta,
            value: Some(initial),
            corrected: None,
        }
    }

    /// Folds in one observation and returns the new average.
    pub fn update(&mut self, x: f64) -> f64 {
        self.update_after(x, 1)
    }

    /// Folds in an observation made `steps` steps after the previous one (a sampled
    /// series: the old average then weighs β^steps, as if the unseen steps had repeated
    /// this value), and returns the new average.
    pub fn update_after(&mut self, x: f64, steps: u64) -> f64 {
        let k = i32::try_from(steps.max(1)).unwrap_or(i32::MAX);
        let b = self.beta.powi(k);
        let v = b * self.value.unwrap_or(0.0) + (1.0 - b) * x;
        self.value = Some(v);
        if let Some(t) = &mut self.corrected {
            *t = t.saturating_add(k as u64);
        }
        self.value().unwrap_or(v)
    }

    /// The current average (bias-corrected when started by [`Ewma::new`]); `None` before
    /// the first observation of a corrected average.
    pub fn value(&self) -> Option<f64> {
        match self.corrected {
            None => self.value,
            Some(0) => None,
            Some(t) => {
                let t = i32::try_from(t).unwrap_or(i32::MAX);
                self.value.map(|v| v / (1.0 - self.beta.powi(t)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Ewma;

    #[test]
    fn the_corrected_average_of_a_constant_is_that_constant() {
        let mut e = Ewma::new(0.9);
        assert_eq!(e.value(), None);
        for _ in 0..50 {
            approx::assert_relative_eq!(e.update(2.5), 2.5, epsilon = 1e-12);
        }
    }

    #[test]
    fn the_corrected_average_weights_as_the_chapter_writes() {
        // v1 = 0.1·4 = 0.4 → 4; v2 = 0.9·0.4 + 0.1·2 = 0.56, / (1 − 0.81) = 2.947…
        let mut e = Ewma::new(0.9);
        approx::assert_relative_eq!(e.update(4.0), 4.0, epsilon = 1e-12);
        approx::assert_relative_eq!(e.update(2.0), 0.56 / 0.19, epsilon = 1e-12);
        // Uncorrected, as batch norm's moving mean: from 0, no correction.
        // Sampled every 10 steps: the same as 10 equal observations.
        let (mut a, mut b) = (Ewma::new(0.9), Ewma::new(0.9));
        a.update(3.0);
        b.update(3.0);
        for _ in 0..10 {
            a.update(1.0);
        }
        approx::assert_relative_eq!(b.update_after(1.0, 10), a.value().unwrap(), epsilon = 1e-12);
        let mut m = Ewma::starting_at(0.99, 0.0);
        approx::assert_relative_eq!(m.update(1.0), 0.01, epsilon = 1e-12);
    }
}
