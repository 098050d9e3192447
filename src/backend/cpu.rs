//! The CPU reference backend: buffers in host memory, launches executed in order at submit
//! time by the op families' plain loops ([`super::ops::run_cpu`]), written to be obviously
//! correct rather than fast. GPU kernels are tested against these.

use super::kernel::Kernel;
use super::{check_view, ops, validate_launch, Backend, BufId, Counters, DeviceInfo, LaunchId};
use crate::error::{Error, Result};

/// The CPU reference backend. Launches execute at submit time, in order.
#[derive(Default)]
pub struct CpuBackend {
    /// Owned buffers (views own nothing: their entry stays empty).
    bufs: Vec<Vec<f32>>,
    /// `Some((root, offset, len))` for views.
    views: Vec<Option<(usize, usize, usize)>>,
    launches: Vec<(Kernel, Vec<BufId>)>,
    pending: Vec<LaunchId>,
    /// The largest binding it admits, when limited ([`CpuBackend::with_binding_limit`]).
    binding_limit: Option<usize>,
    counters: Counters,
    live: usize,
    freed: Vec<usize>,
}

impl CpuBackend {
    /// A new, empty CPU backend.
    pub fn new() -> Self {
        Self::default()
    }

    /// A CPU backend that reports `words` as the largest buffer one kernel may bind, as a
    /// small adapter would: models larger than that are split into several arena groups
    /// (for tests of that path).
    pub fn with_binding_limit(words: usize) -> Self {
        CpuBackend {
            binding_limit: Some(words),
            ..Self::default()
        }
    }

    /// The words of a buffer or view.
    fn words(&self, buf: BufId) -> &[f32] {
        let (root, offset, len) = self.span(buf);
        &self.bufs[root.0][offset..offset + len]
    }

    fn words_mut(&mut self, buf: BufId) -> &mut [f32] {
        let (root, offset, len) = self.span(buf);
        &mut self.bufs[root.0][offset..offset + len]
    }

    fn push(&mut self, v: Vec<f32>, view: Option<(usize, usize, usize)>) -> BufId {
        self.bufs.push(v);
        if view.is_none() {
            self.live += 1;
        }
        self.views.push(view);
        BufId(self.bufs.len() - 1)
    }
}

/// Runs one launch: takes the root buffers out, cuts every argument's slice from them
/// (views of one root are disjoint: `validate_launch` checked), runs the loop, puts the
/// roots back.
fn run_launch(bufs: &mut [Vec<f32>], spans: &[(BufId, usize, usize)], kernel: &Kernel) {
    let mut roots: Vec<usize> = spans.iter().map(|s| s.0 .0).collect();
    roots.sort_unstable();
    roots.dedup();
    let mut taken: Vec<Vec<f32>> = roots
        .iter()
        .map(|&r| std::mem::take(&mut bufs[r]))
        .collect();
    {
        let mut slices: Vec<Option<&mut [f32]>> = spans.iter().map(|_| None).collect();
        for (root, whole) in roots.iter().zip(taken.iter_mut()) {
            let mut args: Vec<usize> = (0..spans.len())
                .filter(|&i| spans[i].0 .0 == *root)
                .collect();
            args.sort_by_key(|&i| spans[i].1);
            let mut rest: &mut [f32] = whole;
            let mut at = 0;
            for i in args {
                let (_, offset, len) = spans[i];
                let (_, tail) = std::mem::take(&mut rest).split_at_mut(offset - at);
                let (mine, tail) = tail.split_at_mut(len);
                slices[i] = Some(mine);
                rest = tail;
                at = offset + len;
            }
        }
        let mut args: Vec<&mut [f32]> = slices.into_iter().map(|s| s.unwrap()).collect();
        ops::run_cpu(kernel, &mut args);
    }
    for (r, v) in roots.into_iter().zip(taken) {
        bufs[r] = v;
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
        self.counters.allocations += 1;
        Ok(self.push(v, None))
    }

    fn view(&mut self, parent: BufId, offset: usize, words: usize) -> Result<BufId> {
        let (root, at, len) = self.span(parent);
        check_view(offset, words, len)?;
        Ok(self.push(Vec::new(), Some((root.0, at + offset, words))))
    }

    fn free(&mut self, buf: BufId) {
        if !self.freed.contains(&buf.0) {
            self.freed.push(buf.0);
            if self.views[buf.0].is_none() {
                self.live -= 1;
            }
        }
        self.bufs[buf.0] = Vec::new();
        self.views[buf.0] = Some((buf.0, 0, 0));
    }

    fn span(&self, buf: BufId) -> (BufId, usize, usize) {
        match self.views[buf.0] {
            Some((root, offset, len)) => (BufId(root), offset, len),
            None => (buf, 0, self.bufs[buf.0].len()),
        }
    }

    fn write_words(&mut self, buf: BufId, offset: usize, data: &[u32]) -> Result<()> {
        let dst = self.words_mut(buf);
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
        let out: Vec<u32> = self.words(buf).iter().map(|v| v.to_bits()).collect();
        self.counters.readback_bytes += 4 * out.len() as u64;
        Ok(out)
    }

    fn prepare(&mut self, kernel: &Kernel, bufs: &[BufId]) -> Result<LaunchId> {
        validate_launch(kernel, bufs, |b| self.span(b))?;
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
            let spans: Vec<_> = ids.iter().map(|b| self.span(*b)).collect();
            run_launch(&mut self.bufs, &spans, kernel);
            self.counters.dispatches += 1;
        }
        self.counters.submits += 1;
        Ok(())
    }

    fn counters(&self) -> Counters {
        self.counters
    }

    fn max_buffer_words(&self) -> usize {
        self.binding_limit.unwrap_or(usize::MAX / 8)
    }

    fn live_buffers(&self) -> usize {
        self.live
    }
}
