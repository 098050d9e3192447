//! The CPU reference backend: buffers in host memory, launches executed in order at submit
//! time by the op families' plain loops ([`super::ops::run_cpu`]), written to be obviously
//! correct rather than fast. GPU kernels are tested against these.

use super::kernel::Kernel;
use super::{ops, validate_launch, Backend, BufId, Counters, DeviceInfo, LaunchId};
use crate::error::{Error, Result};

/// The CPU reference backend. Launches execute at submit time, in order.
#[derive(Default)]
pub struct CpuBackend {
    bufs: Vec<Vec<f32>>,
    launches: Vec<(Kernel, Vec<BufId>)>,
    pending: Vec<LaunchId>,
    counters: Counters,
    live: usize,
    freed: Vec<usize>,
}

impl CpuBackend {
    /// A new, empty CPU backend.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Backend for CpuBackend {
    fn info(&self) -> DeviceInfo {
        DeviceInfo {
            kind: "cpu",
            adapter: "cpu-reference".into(),
            api: "none".into(),
        }
    }

    fn alloc(&mut self, words: usize) -> Result<BufId> {
        // An allocation the machine cannot make is an error, not an abort.
        let mut v = Vec::new();
        v.try_reserve_exact(words).map_err(|_| {
            Error::Shape(format!(
                "cannot allocate a buffer of {words} values ({} bytes) on the CPU",
                words.saturating_mul(4)
            ))
        })?;
        v.resize(words, 0.0);
        self.bufs.push(v);
        self.live += 1;
        self.counters.allocations += 1;
        Ok(BufId(self.bufs.len() - 1))
    }

    fn free(&mut self, buf: BufId) {
        if !self.freed.contains(&buf.0) {
            self.freed.push(buf.0);
            self.live -= 1;
        }
        self.bufs[buf.0] = Vec::new();
    }

    fn len(&self, buf: BufId) -> usize {
        self.bufs[buf.0].len()
    }

    fn write_words(&mut self, buf: BufId, offset: usize, data: &[u32]) -> Result<()> {
        let dst = &mut self.bufs[buf.0];
        if offset + data.len() > dst.len() {
            return Err(Error::Shape(format!(
                "write of {} values at {offset} into a buffer of {}",
                data.len(),
                dst.len()
            )));
        }
        for (d, s) in dst[offset..].iter_mut().zip(data) {
            *d = f32::from_bits(*s);
        }
        self.counters.upload_bytes += 4 * data.len() as u64;
        Ok(())
    }

    fn read_words(&mut self, buf: BufId) -> Result<Vec<u32>> {
        self.counters.readback_bytes += 4 * self.bufs[buf.0].len() as u64;
        Ok(self.bufs[buf.0].iter().map(|v| v.to_bits()).collect())
    }

    fn prepare(&mut self, kernel: &Kernel, bufs: &[BufId]) -> Result<LaunchId> {
        validate_launch(kernel, bufs, |b| self.bufs[b.0].len())?;
        self.launches.push((kernel.clone(), bufs.to_vec()));
        Ok(LaunchId(self.launches.len() - 1))
    }

    fn launch(&mut self, id: LaunchId) {
        self.pending.push(id);
    }

    fn submit(&mut self) -> Result<()> {
        let pending = std::mem::take(&mut self.pending);
        for id in pending {
            let (kernel, ids) = &self.launches[id.0];
            // Move the buffers out so the kernel can borrow them all mutably at once.
            let mut taken: Vec<Vec<f32>> = ids
                .iter()
                .map(|b| std::mem::take(&mut self.bufs[b.0]))
                .collect();
            ops::run_cpu(kernel, &mut taken);
            for (b, v) in ids.iter().zip(taken) {
                self.bufs[b.0] = v;
            }
            self.counters.dispatches += 1;
        }
        self.counters.submits += 1;
        Ok(())
    }

    fn counters(&self) -> Counters {
        self.counters
    }

    fn max_buffer_words(&self) -> usize {
        usize::MAX / 8
    }

    fn live_buffers(&self) -> usize {
        self.live
    }
}
