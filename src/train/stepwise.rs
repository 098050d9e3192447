//! Training and inference that never block on the device, for drivers that must not wait
//! (a browser tab, where WebGPU hands read-backs to the event loop): a session opened
//! with [`Session::open`], epochs begun with [`Session::begin_epoch`] and stepped with
//! [`Session::train_next`] (one submit each, nothing read back), and the reads —
//! running metrics, evaluation, predictions, weights — as futures. `fit` is the same
//! steps with blocking reads between them; for one seed and data order both give the
//! same weights.

use rand::seq::SliceRandom;

use super::plan::{Mode, PlanKey};
use super::resident;
use super::session::Session;
use crate::backend::{BufId, GpuBackend, GpuOptions};
use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::nn::{Sequential, Weight};

/// An epoch in progress: its sample order and the next batch.
#[derive(Clone, Debug)]
pub struct Epoch {
    order: Vec<usize>,
    batch_size: usize,
    next: usize,
    data: Option<BufId>,
}

impl Epoch {
    /// Batches in the epoch.
    pub fn steps(&self) -> usize {
        self.order.len().div_ceil(self.batch_size)
    }

    /// Batches run so far.
    pub fn done(&self) -> usize {
        self.next
    }

    /// Rows of the batch `train_next` runs next (0 at the end).
    pub fn next_rows(&self) -> usize {
        self.order
            .len()
            .saturating_sub(self.next * self.batch_size)
            .min(self.batch_size)
    }
}

impl Session {
    /// Opens a GPU session without blocking (the only way in a browser).
    pub async fn open(model: Sequential, opts: &GpuOptions) -> Result<Session> {
        let backend = GpuBackend::open(opts).await?;
        Session::with_backend(model, Box::new(backend))
    }

    /// Begins an epoch over `train` in batches of `batch_size`: checks the data, uploads
    /// it once, writes this epoch's order (shuffled by `rng` when given, as `fit` shuffles
    /// with its seeded generator) and zeroes the running metrics.
    pub fn begin_epoch(
        &mut self,
        train: &Dataset,
        batch_size: usize,
        rng: Option<&mut rand::rngs::StdRng>,
    ) -> Result<Epoch> {
        if self.training.is_none() {
            return Err(Error::Config(
                "the session is not compiled: call compile before training".into(),
            ));
        }
        if batch_size == 0 {
            return Err(Error::Config("batch size must be at least 1".into()));
        }
        if self.rank().1 > 1 {
            return Err(Error::Config(
                "step-by-step training runs in one process; several ranks train with fit".into(),
            ));
        }
        self.check_data(train, "training")?;
        let source = self.resident(train)?;
        let mut order: Vec<usize> = (0..train.len()).collect();
        if let Some(rng) = rng {
            order.shuffle(rng);
        }
        if let Some(i) = source {
            resident::write_order(self.backend.as_mut(), self.resident[i].perm, &order)?;
        }
        self.backend.write(self.metrics, 0, &[0.0; 3])?;
        Ok(Epoch {
            order,
            batch_size,
            next: 0,
            data: source.map(|i| self.resident[i].data),
        })
    }

    /// Runs the epoch's next batch: one training step, one submit, nothing read back.
    /// Returns `false` (and runs nothing) once the epoch is done.
    pub fn train_next(&mut self, train: &Dataset, epoch: &mut Epoch) -> Result<bool> {
        let rows = epoch.next_rows();
        if rows == 0 {
            return Ok(false);
        }
        let key = PlanKey {
            mode: Mode::Train,
            rows,
            data: epoch.data,
            total: rows,
        };
        self.plan(key)?;
        let offset = epoch.next * epoch.batch_size;
        self.run_step(key, train, &epoch.order, offset)?;
        self.step += 1;
        epoch.next += 1;
        Ok(true)
    }

    /// The running (loss, accuracy) since the epoch (or evaluation) began.
    pub async fn metrics_async(&mut self) -> Result<(f32, f32)> {
        let m = read_f32(self, self.metrics).await?;
        let n = m[2].max(1.0);
        Ok((m[0] / n, m[1] / n))
    }

    /// [`Session::evaluate`] without blocking.
    pub async fn evaluate_async(
        &mut self,
        data: &Dataset,
        batch_size: usize,
    ) -> Result<(f32, f32)> {
        if batch_size == 0 {
            return Err(Error::Config("batch size must be at least 1".into()));
        }
        self.check_data(data, "evaluation")?;
        self.record_evaluation(data, batch_size)?;
        self.metrics_async().await
    }

    /// [`Session::predict`] without blocking.
    pub async fn predict_async(&mut self, x: &[f32], batch_size: usize) -> Result<Vec<f32>> {
        let n = self.check_predict(x, batch_size)?;
        let (features, units) = (self.model.input_features(), self.model.output_units());
        let mut out = Vec::with_capacity(n * units);
        for offset in (0..n).step_by(batch_size) {
            let rows = batch_size.min(n - offset);
            let batch = &x[offset * features..(offset + rows) * features];
            let output = self.submit_host_batch(Mode::Predict, batch, rows)?;
            out.extend_from_slice(&read_f32(self, output).await?[..rows * units]);
        }
        Ok(out)
    }

    /// [`Session::get_weights`] without blocking.
    pub async fn weights_async(&mut self) -> Result<Vec<Weight>> {
        if self.host_stale {
            for g in 0..self.arenas.len() {
                for (buf, members) in self.arenas[g].buffers() {
                    let all = read_f32(self, buf).await?;
                    self.absorb(&members, &all)?;
                }
            }
            self.host_stale = false;
        }
        Ok(self.model.weights().to_vec())
    }
}

async fn read_f32(s: &mut Session, buf: BufId) -> Result<Vec<f32>> {
    let words = s.backend.read_words_async(buf).await?;
    Ok(words.into_iter().map(f32::from_bits).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::CpuBackend;
    use crate::data::Samples;
    use crate::optim::Sgd;
    use crate::train::{FitOptions, LossName};
    use rand::SeedableRng;

    fn session() -> Session {
        let m = crate::nn::seed_network(false).unwrap();
        let mut s = Session::with_backend(m, Box::new(CpuBackend::new())).unwrap();
        let opt = Sgd::new(0.01).momentum(0.9).nesterov(true);
        s.compile(Box::new(opt), LossName::SparseCategoricalCrossentropy)
            .unwrap();
        s
    }

    #[test]
    fn steps_equal_fit_for_the_same_seed() {
        let n = 70;
        let x = (0..n * 784).map(|i| ((i * 37) % 256) as u8).collect();
        let y = (0..n).map(|i| (i % 10) as u32).collect();
        let d = Dataset::new(Samples::U8(x), y, vec![28, 28]).unwrap();
        let mut a = session();
        let opts = FitOptions {
            epochs: 2,
            batch_size: 32,
            seed: 9,
            ..Default::default()
        };
        let h = a.fit(&d, None, &opts, &mut []).unwrap();
        let mut b = session();
        let mut rng = rand::rngs::StdRng::seed_from_u64(9);
        let mut last = (0.0, 0.0);
        for _ in 0..2 {
            let mut e = b.begin_epoch(&d, 32, Some(&mut rng)).unwrap();
            assert_eq!(e.steps(), 3);
            while b.train_next(&d, &mut e).unwrap() {}
            assert_eq!(e.done(), 3);
            last = pollster::block_on(b.metrics_async()).unwrap();
        }
        assert_eq!(b.steps_done(), 6);
        assert_eq!(last.0, h.epochs[1].loss);
        let wa = a.get_weights().unwrap();
        let wb = pollster::block_on(b.weights_async()).unwrap();
        assert_eq!(wa, wb);
        let ea = a.evaluate(&d, 16).unwrap();
        assert_eq!(pollster::block_on(b.evaluate_async(&d, 16)).unwrap(), ea);
        let xs: Vec<f32> = (0..2 * 784).map(|i| (i % 7) as f32 / 7.0).collect();
        let pa = a.predict(&xs, 1).unwrap();
        assert_eq!(pollster::block_on(b.predict_async(&xs, 1)).unwrap(), pa);
    }
}
