//! Where one training step's time goes (`steadygrad bench --profile`): every launch of the
//! step timed on its own, with its share of the sum, next to the whole step's measured time.

use serde_json::{json, Value};

use super::{backend, model, train_speed};
use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::train::{LaunchTime, Session};

/// One profile: the step's launches in the order they run.
#[derive(Clone, Debug)]
pub struct Profile {
    /// The GPU adapter.
    pub adapter: String,
    /// The benchmark model ([`super::MODELS`]).
    pub model: String,
    /// Samples per step.
    pub batch: usize,
    /// Each launch and its seconds on its own.
    pub launches: Vec<LaunchTime>,
    /// Seconds of one whole step in steady state (one submit, as training runs it).
    pub step_seconds: f64,
    /// Steps timed for `step_seconds`.
    pub steps: u64,
}

impl Profile {
    /// Sum of the launches' seconds.
    pub fn launch_seconds(&self) -> f64 {
        self.launches.iter().map(|l| l.seconds).sum()
    }

    /// The profile as a Markdown table: one row per launch in step order, then the sums.
    pub fn to_markdown(&self) -> String {
        let total = self.launch_seconds();
        let mut out =
            String::from("| # | launch → tensor written | µs | share |\n|---|---|---|---|\n");
        for (i, l) in self.launches.iter().enumerate() {
            out += &format!(
                "| {} | {}{} | {:.0} | {:.1} % |\n",
                i + 1,
                l.label,
                if l.statistics {
                    " (statistics steps only)"
                } else {
                    ""
                },
                l.seconds * 1e6,
                100.0 * l.seconds / total
            );
        }
        out += &format!(
            "| | **sum of the {} launches** | **{:.0}** | 100 % |\n",
            self.launches.len(),
            total * 1e6
        );
        let skipped = self.launches.iter().filter(|l| l.statistics).count();
        if skipped > 0 {
            out += &format!(
                "\nMost steps leave out the {skipped} statistics launches: {} launches, {:.0} µs summed.\n",
                self.launches.len() - skipped,
                (self.launches.iter().filter(|l| !l.statistics))
                    .map(|l| l.seconds)
                    .sum::<f64>()
                    * 1e6
            );
        }
        out += &format!(
            "\nThe whole step as training runs it (one submit, averaged over {} steps): {:.0} µs, {:.0} samples/s.\n",
            self.steps,
            self.step_seconds * 1e6,
            self.batch as f64 / self.step_seconds
        );
        if let Some(extra) = self.unexplained_seconds() {
            out += &format!(
                "\n**The whole step takes {:.0} µs more than its launches timed alone.** A \
                 launch may be compiled again at each dispatch inside the step (on lavapipe: a \
                 loop bounded by the launch's parameters alone; docs/benchmarks.md, \"Loops \
                 bounded by a launch's parameters alone\").\n",
                extra * 1e6
            );
        }
        out
    }

    /// How much longer the whole step takes than its launches summed (those every step
    /// runs), where that is over half the sum and 2 ms: time no launch timed alone shows
    /// (launch overheads and a noisy machine account for less: up to a quarter measured).
    pub fn unexplained_seconds(&self) -> Option<f64> {
        let every_step: f64 = (self.launches.iter().filter(|l| !l.statistics))
            .map(|l| l.seconds)
            .sum();
        let extra = self.step_seconds - every_step;
        (extra > 0.5 * every_step && extra > 2e-3).then_some(extra)
    }

    /// The launches summed by kernel (largest share first), as a Markdown table.
    pub fn by_kernel_markdown(&self) -> String {
        let total = self.launch_seconds();
        let mut kinds: Vec<(&str, usize, f64)> = Vec::new();
        for l in &self.launches {
            let kind = l.label.split(" → ").next().unwrap_or(&l.label);
            match kinds.iter_mut().find(|k| k.0 == kind) {
                Some(k) => {
                    k.1 += 1;
                    k.2 += l.seconds;
                }
                None => kinds.push((kind, 1, l.seconds)),
            }
        }
        kinds.sort_by(|a, b| b.2.total_cmp(&a.2));
        let mut out = String::from("| kernel | launches | µs | share |\n|---|---|---|---|\n");
        for (kind, n, secs) in kinds {
            out += &format!(
                "| {kind} | {n} | {:.0} | {:.1} % |\n",
                secs * 1e6,
                100.0 * secs / total
            );
        }
        out
    }

    /// The profile as JSON.
    pub fn to_json(&self) -> Value {
        json!({
            "adapter": self.adapter,
            "model": self.model,
            "batch": self.batch,
            "step_seconds": self.step_seconds,
            "launches": self.launches.iter().map(|l| json!({"label": l.label, "seconds": l.seconds, "statistics_only": l.statistics})).collect::<Vec<_>>(),
        })
    }
}

/// Profiles one training step of `model_name` at `batch` on the GPU path (SGD with
/// Nesterov momentum, as the bench trains): each launch run `reps` times back to back on
/// its own (the best of three rounds), and the whole step timed over `steps` steps.
pub fn profile(train: &Dataset, model_name: &str, batch: usize, quick: bool) -> Result<Profile> {
    let model = model(model_name)?;
    if batch == 0 || batch > train.len() {
        return Err(Error::Config(format!(
            "--batch-size {batch}: must be 1 to {} (the training samples)",
            train.len()
        )));
    }
    let be = backend("gpu")?.ok_or_else(|| {
        Error::NoAdapter("bench --profile times the GPU path's launches: no adapter".into())
    })?;
    let adapter = be.info().adapter;
    let mut s = Session::with_backend(model, be)?;
    let steps = if quick { 4 } else { 24 };
    let (samples_per_second, _, _) = train_speed(&mut s, train, batch, steps)?;
    let step_seconds = batch as f64 / samples_per_second;
    let launches = s.profile_step(train, batch, if quick { 3 } else { 10 })?;
    Ok(Profile {
        adapter,
        model: model_name.to_string(),
        batch,
        launches,
        step_seconds,
        steps: steps as u64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(step_us: f64, launches_us: &[(f64, bool)]) -> Profile {
        Profile {
            adapter: "test".into(),
            model: "seed_mlp".into(),
            batch: 32,
            launches: (launches_us.iter())
                .map(|&(us, statistics)| LaunchTime {
                    label: "Add → y".into(),
                    seconds: us * 1e-6,
                    statistics,
                })
                .collect(),
            step_seconds: step_us * 1e-6,
            steps: 24,
        }
    }

    #[test]
    fn a_step_much_longer_than_its_launches_is_pointed_out() {
        // The convnet's step with its head compiled again at each dispatch: 50 ms of 25.
        let slow = profile(
            50_000.0,
            &[(20_000.0, false), (5_000.0, false), (300.0, true)],
        );
        let extra = slow.unexplained_seconds().unwrap();
        assert!((extra - 0.025).abs() < 1e-9, "{extra}");
        assert!(slow
            .to_markdown()
            .contains("25000 µs more than its launches"));
        // Launch overheads or noise (a fifth, then two fifths here) or a gap under 2 ms:
        // nothing said.
        for quiet in [
            profile(30_000.0, &[(25_000.0, false), (1_000.0, true)]),
            profile(14_000.0, &[(10_000.0, false)]),
            profile(1_900.0, &[(100.0, false)]),
            profile(20_000.0, &[(25_000.0, false)]),
        ] {
            assert_eq!(quiet.unexplained_seconds(), None);
            assert!(!quiet.to_markdown().contains("more than its launches"));
        }
    }
}
