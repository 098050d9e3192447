//! Where a training step's time goes: each launch of the step timed on its own
//! (`steadygrad bench --profile`), so a change to a kernel is a measured one.

use super::plan::{Mode, PlanKey};
use super::session::Session;
use crate::data::Dataset;
use crate::error::Result;

/// One launch of a step and the seconds it takes on its own.
#[derive(Clone, Debug, PartialEq)]
pub struct LaunchTime {
    /// The kernel and the tensor it writes.
    pub label: String,
    /// Seconds per run (the best of three rounds of back-to-back runs).
    pub seconds: f64,
    /// Whether the launch only gathers statistics, which most steps leave out (see
    /// [`crate::train::FitOptions::every_step_statistics`]).
    pub statistics: bool,
}

impl Session {
    /// Times every launch of one training step on the first `batch` rows of `train`
    /// (after one whole step, which builds the plan): each run `reps` times back to back
    /// on its own. The step's weights and statistics change as it runs: profile a
    /// session kept for nothing else.
    pub fn profile_step(
        &mut self,
        train: &Dataset,
        batch: usize,
        reps: usize,
    ) -> Result<Vec<LaunchTime>> {
        let mut e = self.begin_epoch(train, batch, None)?;
        let data = e.data();
        let Some(step) = self.train_next(train, &mut e)? else {
            return Ok(Vec::new());
        };
        self.device.backend.finish()?;
        let key = PlanKey {
            mode: Mode::Train,
            rows: step.rows,
            data,
            total: step.rows,
        };
        let launches: Vec<_> = (self.plans.get(&key).exec.launches())
            .map(|(id, label, statistics)| (id, label.to_string(), statistics))
            .collect();
        let mut out = Vec::with_capacity(launches.len());
        for (id, label, statistics) in launches {
            let seconds = self.device.backend.time_launch(id, reps)?;
            out.push(LaunchTime {
                label,
                seconds,
                statistics,
            });
        }
        Ok(out)
    }
}
