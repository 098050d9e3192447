//! Training and inference that never block on the device, for drivers that must not wait
//! (a browser tab, where WebGPU hands read-backs to the event loop): a session opened
//! with [`Session::open`], epochs run through the one loop ([`Session::begin_epoch`],
//! [`Session::train_next`], [`Session::end_epoch_async`]), and the reads — running
//! metrics, evaluation, predictions, weights — as futures. For one seed and data order
//! they give the same weights as `fit`.

use super::plan::Mode;
use super::session::Session;
use crate::backend::{BufId, GpuBackend, GpuOptions};
use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::nn::{Sequential, Weight};

impl Session {
    /// Opens a GPU session without blocking (the only way in a browser).
    pub async fn open(model: Sequential, opts: &GpuOptions) -> Result<Session> {
        let backend = GpuBackend::open(opts).await?;
        Session::with_backend(model, Box::new(backend))
    }

    /// The running (loss, accuracy) since the epoch (or evaluation) began.
    pub async fn metrics_async(&mut self) -> Result<(f32, f32)> {
        let m = read_f32(self, self.device.metrics).await?;
        let n = m[2].max(1.0);
        Ok((m[0] / n, m[1] / n))
    }

    /// Starts reading the running metrics as they are after the steps run so far, without
    /// waiting: run the next steps, then [`Session::finish_metrics`] — the device keeps
    /// working while the values travel back (double-buffered reads).
    pub fn start_metrics(&mut self) -> MetricsRead {
        MetricsRead(self.device.backend.start_read_words(self.device.metrics))
    }

    /// The running loss and accuracy a [`Session::start_metrics`] read saw.
    pub async fn finish_metrics(&mut self, read: MetricsRead) -> Result<(f32, f32)> {
        let m = self.device.backend.finish_read_words(read.0).await?;
        let (sum, correct, rows) = (
            f32::from_bits(m[0]),
            f32::from_bits(m[1]),
            f32::from_bits(m[2]).max(1.0),
        );
        Ok((sum / rows, correct / rows))
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
        let model = &self.weights.model;
        let (features, units) = (model.input_features(), model.output_units());
        let mut out = Vec::with_capacity(n * units);
        for offset in (0..n).step_by(batch_size) {
            let rows = batch_size.min(n - offset);
            let batch = &x[offset * features..(offset + rows) * features];
            let output = self.submit_host_batch(Mode::Predict, batch, rows)?;
            out.extend_from_slice(&read_f32(self, output).await?[..rows * units]);
        }
        Ok(out)
    }

    /// Times the matmul shape classes the steps so far met but could not time then (in a
    /// browser the kernels are chosen per shape this way: each class takes a provisional
    /// variant until this is awaited), and prepares the step plans again where a choice
    /// changed, so the next steps run the chosen kernels. Returns the classes timed (none
    /// natively, where classes are timed as they are met). Await it between steps, e.g.
    /// after an epoch's first steps.
    pub async fn tune_async(&mut self) -> Result<Vec<crate::backend::TunedClass>> {
        let tuned = self.device.backend.tune_deferred().await?;
        if tuned.iter().any(|t| t.variant != t.provisional) {
            self.invalidate_plans();
        }
        Ok(tuned)
    }

    /// How many matmul shape classes wait for [`Session::tune_async`].
    pub fn untuned_classes(&self) -> usize {
        self.device.backend.deferred_classes()
    }

    /// The autotuner's choices as text, to keep where the driver keeps things (a page's
    /// storage) and hand back to [`Session::load_tuning`] next time; `None` on backends
    /// that choose nothing.
    pub fn tuning(&self) -> Option<String> {
        self.device.backend.tuning_cache()
    }

    /// Adds choices [`Session::tuning`] returned earlier; false (nothing added) where the
    /// text is not such a cache.
    pub fn load_tuning(&mut self, text: &str) -> bool {
        self.device.backend.load_tuning_cache(text)
    }

    /// [`Session::get_weights`] without blocking.
    pub async fn weights_async(&mut self) -> Result<Vec<Weight>> {
        if self.weights.host_stale {
            for g in 0..self.weights.arenas.len() {
                for (buf, members) in self.weights.arenas[g].buffers() {
                    let all = read_f32(self, buf).await?;
                    self.weights.absorb(&members, &all)?;
                }
            }
            self.weights.host_stale = false;
        }
        Ok(self.weights.model.weights().to_vec())
    }
}

/// The running metrics, read in flight ([`Session::start_metrics`]).
pub struct MetricsRead(crate::backend::PendingRead);

async fn read_f32(s: &mut Session, buf: BufId) -> Result<Vec<f32>> {
    let words = s.device.backend.read_words_async(buf).await?;
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
            while b.train_next(&d, &mut e).unwrap().is_some() {}
            assert_eq!(e.done(), 3);
            last = pollster::block_on(b.metrics_async()).unwrap();
            let logs = pollster::block_on(b.end_epoch_async(e)).unwrap();
            assert_eq!((logs.loss, logs.accuracy), last);
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
