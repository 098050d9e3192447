//! Timing matmul variants on one shape class: each candidate checked against the CPU
//! reference first, then timed in turns. Written once, without blocking: natively the
//! autotuner runs it to completion at once ([`GpuBackend::choose_matmul`]); in a browser,
//! where nothing may block, the classes a step met are noted with a provisional variant
//! and timed later by [`GpuBackend::tune_deferred`], awaiting the device between runs.

use super::{GpuBackend, MatmulVariant};
use crate::backend::autotune::tuning_shape;
use crate::backend::kernel::Kernel;
use crate::backend::{ops, Backend, LaunchId, TunedClass};
use crate::error::{Error, Result};

/// A shape class met where timing must wait (a browser; meanwhile it takes the backend's
/// provisional variant).
#[derive(Clone, Debug)]
pub(super) struct Deferred {
    pub class: String,
    pub shape: (usize, usize, usize),
    pub trans: (bool, bool),
}

/// The variants that read their operands through textures: the candidates where the
/// backend reads operands that way (CPU adapters, whose pipelines take long to build, so
/// a browser tab times these four, and the subgroup kernel where the device has it, rather
/// than all of them).
pub const TEXTURE_CANDIDATES: [MatmulVariant; 4] = [
    MatmulVariant::Texture8,
    MatmulVariant::Texture16,
    MatmulVariant::Texture16x20,
    MatmulVariant::NarrowTexture,
];

impl GpuBackend {
    /// Submits prepared launches on their own and waits until the device has run them
    /// (natively by polling; in a browser the queue reports through the event loop).
    pub(super) async fn run_waited(&mut self, ids: &[LaunchId]) -> Result<()> {
        // Every run fills its own operand textures, as a launch does after its inputs
        // were written.
        let (commands, _) = self.encode(ids, "autotune", false);
        self.queue.submit([commands]);
        let (tx, rx) = futures_channel::oneshot::channel();
        self.queue.on_submitted_work_done(move || {
            let _ = tx.send(());
        });
        #[cfg(not(target_arch = "wasm32"))]
        self.wait()?;
        rx.await
            .map_err(|_| Error::Gpu("the device never reported the work done".into()))?;
        self.check_errors()
    }

    /// The fastest of `candidates` on a matmul of shape class `class` (timed on a proxy of
    /// the class for large shapes, so one class takes a fraction of a second once its
    /// pipelines exist). A candidate is timed only after it matched the CPU reference on
    /// this class; one that does not is left out with a warning. The choice is cached.
    pub(super) async fn time_class(
        &mut self,
        class: &str,
        (m, k, n): (usize, usize, usize),
        (ta, tb): (bool, bool),
        candidates: &[MatmulVariant],
    ) -> Result<(MatmulVariant, f64)> {
        let started = web_time::Instant::now();
        let (pm, pk, pn) = tuning_shape(m, k, n);
        let a = self.alloc(pm * pk)?;
        let b = self.alloc(pk * pn)?;
        let c = self.alloc(pm * pn)?;
        let timed = self
            .time_candidates(class, (pm, pk, pn), (ta, tb), candidates, [a, b, c])
            .await;
        for buf in [a, b, c] {
            self.free(buf);
        }
        let chosen = timed?;
        self.remember(class, chosen);
        let seconds = started.elapsed().as_secs_f64();
        if self.announce {
            eprintln!(
                "tuning kernels for {}, once: {class} ({m}×{k}×{n}) → {} ({seconds:.1} s)",
                self.info.adapter,
                chosen.name(),
            );
        }
        Ok((chosen, seconds))
    }

    async fn time_candidates(
        &mut self,
        class: &str,
        (m, k, n): (usize, usize, usize),
        (ta, tb): (bool, bool),
        candidates: &[MatmulVariant],
        bufs: [crate::backend::BufId; 3],
    ) -> Result<MatmulVariant> {
        let kernel = Kernel::MatMul {
            m,
            k,
            n,
            trans_a: ta,
            trans_b: tb,
            accumulate: false,
        };
        let mut ids = Vec::new();
        let mut admitted = Vec::new();
        let mut first = f64::INFINITY;
        for &v in candidates {
            let checked = self
                .check_matmul_variant_async(v, (m, k, n), (ta, tb))
                .await;
            if !matches!(checked, Ok(e) if e <= 1.0) {
                let why = match checked {
                    Ok(e) => format!("{e:.1}× the CPU reference's tolerance"),
                    Err(e) => e.to_string(),
                };
                eprintln!(
                    "warning: matmul variant {} left out for {class} on {}: {why}",
                    v.name(),
                    self.info.adapter
                );
                continue;
            }
            admitted.push(v);
            let id = self.prepare_launch(&kernel, &bufs, ops::gpu_launch(&kernel, v))?;
            // Once to build the pipeline, once to see how long a launch takes.
            self.run_waited(&[id]).await?;
            let t0 = web_time::Instant::now();
            self.run_waited(&[id]).await?;
            first = first.min(t0.elapsed().as_secs_f64());
            ids.push(id);
        }
        // Timed in turns (so a burst of load on a shared machine hits every candidate),
        // launches back to back in one submit (as a step runs them), enough of them for
        // about 5 ms of the fastest so one timing is not one scheduler tick: the fastest of
        // five turns each. A candidate over twice the best time after a turn is not run
        // again.
        let reps = ((5e-3 / first.max(1e-6)).ceil() as usize).clamp(2, 32);
        let mut times = vec![f64::INFINITY; ids.len()];
        for _ in 0..5 {
            let best = times.iter().copied().fold(f64::INFINITY, f64::min);
            for (t, &id) in times.iter_mut().zip(&ids) {
                if *t > 2.0 * best {
                    continue;
                }
                let t0 = web_time::Instant::now();
                self.run_waited(&vec![id; reps]).await?;
                *t = t.min(t0.elapsed().as_secs_f64());
            }
        }
        let best = times
            .iter()
            .zip(&admitted)
            .min_by(|x, y| x.0.total_cmp(y.0));
        best.map(|(_, &v)| v).ok_or_else(|| {
            Error::Gpu(format!(
                "no matmul variant matches the CPU reference on {} for shape class {class}",
                self.info.adapter
            ))
        })
    }

    /// Notes a class met where timing must wait, once, with the variant it takes meanwhile.
    pub(super) fn defer(
        &mut self,
        class: String,
        shape: (usize, usize, usize),
        trans: (bool, bool),
    ) {
        if !self.deferred.iter().any(|d| d.class == class) {
            self.deferred.push(Deferred {
                class,
                shape,
                trans,
            });
        }
    }

    /// Times every shape class met since the last call that could not be timed then (in a
    /// browser: all of them, the first time a shape is seen), caches the choices and
    /// returns them; launches prepared before keep their provisional variant until they
    /// are prepared again ([`crate::Session::tune_async`] does that). Where operands are
    /// read through textures (CPU adapters) the candidates are `TEXTURE_CANDIDATES`,
    /// else all of them.
    pub async fn tune_deferred(&mut self) -> Result<Vec<TunedClass>> {
        let candidates: Vec<MatmulVariant> = if self.texture_reads.is_some() {
            let subgroup = Some(MatmulVariant::Subgroup).filter(|&v| self.has_variant(v));
            TEXTURE_CANDIDATES.into_iter().chain(subgroup).collect()
        } else {
            self.candidates()
        };
        let mut tuned = Vec::new();
        for d in std::mem::take(&mut self.deferred) {
            let (variant, seconds) = self
                .time_class(&d.class, d.shape, d.trans, &candidates)
                .await?;
            tuned.push(TunedClass {
                class: d.class,
                shape: d.shape,
                variant: variant.name(),
                provisional: self.provisional.name(),
                seconds,
            });
        }
        Ok(tuned)
    }
}
