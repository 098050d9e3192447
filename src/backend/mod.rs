//! Backends: the CPU reference and the wgpu implementation of the same op set
//! ([`Kernel`]). The graph executor talks to a `dyn Backend` only, which is what makes
//! GPU-vs-CPU parity testable for every op and for a whole training step.
//!
//! - [`kernel`]: the op set (what a launch computes and which buffers it takes);
//! - [`ops`]: per op family, the CPU loop and the GPU launch side by side;
//! - [`contract`]: the typed Rust ↔ WGSL contract (modules, entry points, bindings, params);
//! - [`launch`]: one launch as an op describes it (entry, typed params, grid, constants);
//! - [`cpu`], [`gpu`]: the two backends.

pub mod activation;
pub mod arena;
pub mod autotune;
pub mod contract;
pub mod cpu;
pub mod gpu;
pub mod kernel;
pub mod launch;
pub mod ops;
pub mod signature;
pub mod variant;
pub mod window;

pub use cpu::CpuBackend;
pub use gpu::{GpuBackend, GpuOptions, MatmulVariant};
pub use kernel::{
    ActKind, ArenaTensor, ClipMode, Kernel, KernelKind, LossKind, UpdateRule, CHUNK, STEP_WORDS,
};
pub use ops::elementwise::{pcg, uniform01};

use crate::error::Result;

/// A buffer of 4-byte words owned by a backend.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BufId(pub usize);

/// A kernel launch prepared once (pipeline, parameters and bindings fixed) and replayed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LaunchId(pub usize);

/// Work counters, cumulative since the backend was created. Independent of timing noise,
/// so they can be reported and asserted on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Kernel dispatches recorded.
    pub dispatches: u64,
    /// Queue submissions (command buffers handed to the device).
    pub submits: u64,
    /// Bytes written from the host into device buffers.
    pub upload_bytes: u64,
    /// Bytes read back from device buffers to the host.
    pub readback_bytes: u64,
    /// Bytes copied on the device into operand textures and uniform blocks (on adapters
    /// where kernels read through them).
    pub copy_bytes: u64,
    /// Device objects created: buffers (staging buffers for read-backs included), and on
    /// the GPU each prepared launch's parameter buffer and bind group.
    pub allocations: u64,
}

impl std::ops::Add for Counters {
    type Output = Counters;
    fn add(self, o: Counters) -> Counters {
        Counters {
            dispatches: self.dispatches + o.dispatches,
            submits: self.submits + o.submits,
            upload_bytes: self.upload_bytes + o.upload_bytes,
            readback_bytes: self.readback_bytes + o.readback_bytes,
            copy_bytes: self.copy_bytes + o.copy_bytes,
            allocations: self.allocations + o.allocations,
        }
    }
}

impl std::ops::Sub for Counters {
    type Output = Counters;
    fn sub(self, o: Counters) -> Counters {
        Counters {
            dispatches: self.dispatches - o.dispatches,
            submits: self.submits - o.submits,
            upload_bytes: self.upload_bytes - o.upload_bytes,
            readback_bytes: self.readback_bytes - o.readback_bytes,
            copy_bytes: self.copy_bytes - o.copy_bytes,
            allocations: self.allocations - o.allocations,
        }
    }
}

/// Where the computation runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceInfo {
    /// `"gpu"` or `"cpu"`.
    pub kind: &'static str,
    /// Adapter name (e.g. `llvmpipe (LLVM 15.0.6, 256 bits)`), or `cpu-reference`.
    pub adapter: String,
    /// Graphics API backend (`vulkan`, `metal`, …) or `none`.
    pub api: String,
}

/// What [`Backend::read_words_async`] returns.
pub type ReadFuture<'a> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<Vec<u32>>> + 'a>>;

/// What [`Backend::tune_deferred`] returns.
pub type TuneFuture<'a> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<Vec<TunedClass>>> + 'a>>;

/// One matmul shape class timed by [`Backend::tune_deferred`].
#[derive(Clone, Debug, PartialEq)]
pub struct TunedClass {
    /// The shape class (as `steadygrad tune` lists them).
    pub class: String,
    /// The shape (m, k, n) that first met it.
    pub shape: (usize, usize, usize),
    /// The variant chosen.
    pub variant: &'static str,
    /// The variant it took before it was timed.
    pub provisional: &'static str,
    /// How long checking and timing it took (building pipelines included).
    pub seconds: f64,
}

/// A read started by [`Backend::start_read_words`]: the buffer's words as they were then,
/// handed over by [`Backend::finish_read_words`] while later work runs.
pub struct PendingRead(pub(crate) PendingWords);

/// What a [`PendingRead`] holds: words already read, or a backend's read in flight.
pub(crate) enum PendingWords {
    Ready(Result<Vec<u32>>),
    InFlight(Box<dyn std::any::Any>),
}

/// The operations a backend provides. Launches are recorded with [`Backend::launch`] and
/// handed to the device together by [`Backend::submit`]: on the GPU, one command buffer
/// and one queue submission.
pub trait Backend {
    /// Which device this is.
    fn info(&self) -> DeviceInfo;
    /// Allocates a zero-filled buffer of `words` 4-byte words.
    fn alloc(&mut self, words: usize) -> Result<BufId>;
    /// A buffer aliasing `words` words of `parent` from `offset` (a multiple of
    /// [`VIEW_ALIGN`]): how the session packs every weight, gradient and optimizer slot
    /// into one arena each, so that one launch can update them all. Freeing a view leaves
    /// its parent; a view must not outlive its parent.
    fn view(&mut self, parent: BufId, offset: usize, words: usize) -> Result<BufId>;
    /// Releases a buffer. Launches that use it must not be replayed afterwards.
    fn free(&mut self, buf: BufId);
    /// The buffer a buffer or view lives in, its offset there and its length, in words.
    fn span(&self, buf: BufId) -> (BufId, usize, usize);
    /// Length of a buffer in words.
    fn len(&self, buf: BufId) -> usize {
        self.span(buf).2
    }
    /// Writes raw words at `offset` (in words). Ordered before the next submit's work.
    fn write_words(&mut self, buf: BufId, offset: usize, data: &[u32]) -> Result<()>;
    /// Reads a whole buffer back (waits for submitted work to finish).
    fn read_words(&mut self, buf: BufId) -> Result<Vec<u32>>;
    /// [`Backend::read_words`] without blocking: in a browser, WebGPU hands the data over
    /// through the event loop. (Backends that read at once return a ready future.)
    fn read_words_async(&mut self, buf: BufId) -> ReadFuture<'_> {
        Box::pin(std::future::ready(self.read_words(buf)))
    }
    /// Starts reading a buffer as it is after the work submitted so far (recorded
    /// launches are submitted first), without waiting: the next steps can be submitted
    /// before [`Backend::finish_read_words`] hands the words over, so the device never
    /// idles on the read. (Backends that read at once read here.)
    fn start_read_words(&mut self, buf: BufId) -> PendingRead {
        PendingRead(PendingWords::Ready(self.read_words(buf)))
    }
    /// The words of a read [`Backend::start_read_words`] started.
    fn finish_read_words(&mut self, read: PendingRead) -> ReadFuture<'_> {
        match read.0 {
            PendingWords::Ready(words) => Box::pin(std::future::ready(words)),
            PendingWords::InFlight(_) => Box::pin(std::future::ready(Err(crate::Error::Config(
                "a read started on another backend".into(),
            )))),
        }
    }
    /// Times the matmul shape classes met since the last call that could not be timed when
    /// they were met (in a browser, where nothing may block) and returns the choices;
    /// launches prepared before keep their variant until prepared again. (Backends that
    /// choose at once, or have nothing to choose, return none.)
    fn tune_deferred(&mut self) -> TuneFuture<'_> {
        Box::pin(std::future::ready(Ok(Vec::new())))
    }
    /// How many shape classes wait for [`Backend::tune_deferred`].
    fn deferred_classes(&self) -> usize {
        0
    }
    /// The autotuner's cached choices as text (JSON), for a driver that keeps them itself
    /// (a page's storage); `None` where nothing is tuned.
    fn tuning_cache(&self) -> Option<String> {
        None
    }
    /// Adds choices from [`Backend::tuning_cache`]'s text; false (nothing added) where the
    /// text is not such a cache.
    fn load_tuning_cache(&mut self, _json: &str) -> bool {
        true
    }
    /// Prepares a launch: validates the buffers against the kernel and fixes its bindings.
    fn prepare(&mut self, kernel: &Kernel, bufs: &[BufId]) -> Result<LaunchId>;
    /// Records a prepared launch for the next submit.
    fn launch(&mut self, id: LaunchId);
    /// Submits every launch recorded since the last submit.
    fn submit(&mut self) -> Result<()>;
    /// Cumulative counters.
    fn counters(&self) -> Counters;
    /// Largest buffer, in words, that one kernel may bind.
    fn max_buffer_words(&self) -> usize;
    /// The most storage buffers one kernel may bind (the adapter's per-stage limit; WebGPU
    /// guarantees 8): the graph fuses two kernels into one only when it stays within it.
    fn max_storage_buffers(&self) -> usize {
        usize::MAX
    }
    /// Whether kernels that need subgroups of exactly 8 lanes run here
    /// ([`Kernel::ConvInputGrad`]; llvmpipe's, at 256 bits).
    fn subgroups8(&self) -> bool {
        false
    }
    /// Buffers allocated and not freed.
    fn live_buffers(&self) -> usize;

    /// Writes f32 values at `offset` (in words).
    fn write(&mut self, buf: BufId, offset: usize, data: &[f32]) -> Result<()> {
        self.write_words(buf, offset, bytemuck::cast_slice(data))
    }
    /// Reads a whole buffer as f32 values.
    fn read(&mut self, buf: BufId) -> Result<Vec<f32>> {
        Ok(self
            .read_words(buf)?
            .into_iter()
            .map(f32::from_bits)
            .collect())
    }
    /// Allocates a buffer holding `data`.
    fn upload(&mut self, data: &[f32]) -> Result<BufId> {
        let b = self.alloc(data.len().max(1))?;
        if !data.is_empty() {
            self.write(b, 0, data)?;
        }
        Ok(b)
    }
    /// Seconds one run of a prepared launch takes on its own: `reps` runs back to back in
    /// one submit, waited for, the best of three such rounds divided by `reps` (for
    /// profiling; the launch's outputs are overwritten as it runs).
    fn time_launch(&mut self, id: LaunchId, reps: usize) -> Result<f64> {
        let reps = reps.max(1);
        let mut best = f64::INFINITY;
        for _ in 0..3 {
            let t = web_time::Instant::now();
            self.run_repeated(id, reps)?;
            best = best.min(t.elapsed().as_secs_f64());
        }
        Ok(best / reps as f64)
    }

    /// Runs a prepared launch `reps` times back to back in one submit and waits for them
    /// ([`Backend::time_launch`]'s round; each run as costly as in a step after its inputs
    /// were written).
    fn run_repeated(&mut self, id: LaunchId, reps: usize) -> Result<()> {
        for _ in 0..reps {
            self.launch(id);
        }
        self.submit()?;
        self.finish()
    }

    /// Waits until everything submitted has run (a no-op where submits run at once).
    fn finish(&mut self) -> Result<()> {
        Ok(())
    }

    /// Prepares, records and submits one kernel at once (for tests and one-off work).
    fn run(&mut self, kernel: &Kernel, bufs: &[BufId]) -> Result<()> {
        let id = self.prepare(kernel, bufs)?;
        self.launch(id);
        self.submit()
    }
}

/// Alignment of a view's offset, in words: 256 bytes, the largest storage-buffer offset
/// alignment WebGPU lets an adapter ask for.
pub const VIEW_ALIGN: usize = 64;

/// Checks a view's placement inside a parent of `len` words.
pub(crate) fn check_view(offset: usize, words: usize, len: usize) -> Result<()> {
    if !offset.is_multiple_of(VIEW_ALIGN)
        || words == 0
        || offset.checked_add(words).is_none_or(|e| e > len)
    {
        return Err(crate::error::Error::Shape(format!(
            "a view of {words} values at {offset} does not fit a buffer of {len} \
             (offsets are multiples of {VIEW_ALIGN})"
        )));
    }
    Ok(())
}

/// Checks a launch's buffers against its kernel's declared ones ([`Kernel::args`]):
/// their number, each one's least length, aliasing (two buffers alias when they share
/// words of one allocation: the same buffer, or overlapping views), and that views of one
/// allocation are all read or all written.
pub(crate) fn validate_launch(
    kernel: &Kernel,
    bufs: &[BufId],
    span: impl Fn(BufId) -> (BufId, usize, usize),
) -> Result<()> {
    use crate::error::Error;
    let args = kernel.args();
    if bufs.len() != args.len() {
        return Err(Error::Shape(format!(
            "{kernel:?} takes {} buffers, got {}",
            args.len(),
            bufs.len()
        )));
    }
    for (b, arg) in bufs.iter().zip(&args) {
        let len = span(*b).2;
        if len < arg.min_len {
            return Err(Error::Shape(format!(
                "{kernel:?}: buffer {} holds {len} values, needs {}",
                arg.name, arg.min_len
            )));
        }
    }
    for i in 0..bufs.len() {
        for j in i + 1..bufs.len() {
            let (ri, oi, li) = span(bufs[i]);
            let (rj, oj, lj) = span(bufs[j]);
            if ri != rj {
                continue;
            }
            if oi < oj + lj && oj < oi + li {
                return Err(Error::Shape(format!(
                    "{kernel:?}: buffers {} and {} alias; kernels never run in place",
                    args[i].name, args[j].name
                )));
            }
            // WebGPU's rule for one dispatch: a buffer is bound read-only or read-write,
            // not both, even through disjoint views.
            if args[i].access != args[j].access {
                return Err(Error::Shape(format!(
                    "{kernel:?}: buffers {} and {} are views of one buffer, one read and one \
                     written; a launch binds a buffer one way",
                    args[i].name, args[j].name
                )));
            }
        }
    }
    Ok(())
}
