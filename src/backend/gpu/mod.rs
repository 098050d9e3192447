//! The wgpu backend: device selection, a buffer table, pipelines built once per kernel
//! family, launches prepared once (uniform parameters and bind group fixed) and replayed,
//! and every launch recorded between two submits going into one command buffer.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

mod launch;
mod options;
mod read;
mod texture;
mod tune;
pub mod verify;

pub use launch::LLVMPIPE_MAX_COLUMN_ROWS;
pub use options::GpuOptions;

use super::autotune::{kernels_fingerprint, TuneCache, Tuning, CANDIDATES};

use super::contract::Entry;
use super::kernel::Kernel;
use super::ops::TextureReads;
use super::{
    check_view, ops, validate_launch, Backend, BufId, Counters, DeviceInfo, LaunchId, PendingRead,
    ReadFuture, TuneFuture,
};
use crate::error::{Error, Result};

pub use super::variant::MatmulVariant;

/// A pipeline's entry point and launch constants (names and value bits).
type PipelineKey = (Entry, Vec<(&'static str, u64)>);

struct Pipeline {
    pipeline: wgpu::ComputePipeline,
    layout: wgpu::BindGroupLayout,
}

struct Prepared {
    pipeline: wgpu::ComputePipeline,
    bind_group: wgpu::BindGroup,
    workgroups: (u32, u32, u32),
    /// Operand textures and uniform blocks to fill before the dispatch.
    copies: Vec<texture::OperandCopy>,
    /// The root buffers it writes (a texture of them is stale after it).
    writes: Vec<usize>,
    // Kept alive for the bind group.
    _params: wgpu::Buffer,
    _table: Option<wgpu::Buffer>,
}

/// The wgpu backend.
pub struct GpuBackend {
    device: wgpu::Device,
    queue: wgpu::Queue,
    info: DeviceInfo,
    /// A forced variant, or `None` to autotune.
    forced: Option<MatmulVariant>,
    /// The variant of a class not yet timed in a browser, and the classes waiting.
    provisional: MatmulVariant,
    deferred: Vec<tune::Deferred>,
    /// When to time variants, whether to say so, and whether this is a CPU adapter.
    tuning: Tuning,
    announce: bool,
    cpu_adapter: bool,
    /// Which kernels read through textures where they can ([`GpuOptions::texture_reads`]).
    texture_reads: Option<TextureReads>,
    /// [`GpuOptions::field_blocks`], resolved for the adapter.
    field_blocks: bool,
    /// Whether the device was opened with subgroups of exactly 8 lanes
    /// ([`MatmulVariant::Subgroup`]).
    subgroups8: bool,
    /// The adapter and driver the cache is keyed by.
    tune_key: String,
    tune_path: Option<PathBuf>,
    tune: TuneCache,
    /// The variant each matmul launch uses (for `matmul_variant`), last chosen.
    last_matmul: MatmulVariant,
    max_binding_bytes: u64,
    /// Shader modules by name.
    modules: HashMap<&'static str, wgpu::ShaderModule>,
    pipelines: HashMap<PipelineKey, Pipeline>,
    bufs: Vec<Option<(wgpu::Buffer, usize)>>,
    /// `Some((root, offset, words))` for views (their `bufs` entry stays empty).
    views: Vec<Option<(usize, usize, usize)>>,
    launches: Vec<Prepared>,
    /// Operand textures by the buffer view they hold.
    textures: HashMap<texture::TextureKey, (wgpu::Texture, wgpu::TextureView)>,
    /// Uniform operand blocks by binding, shared likewise.
    blocks: HashMap<u32, wgpu::Buffer>,
    pending: Vec<LaunchId>,
    counters: Counters,
    errors: Arc<Mutex<Vec<String>>>,
}

fn parse_backends(api: Option<&str>) -> Result<wgpu::Backends> {
    Ok(match api {
        None => wgpu::Backends::all(),
        Some("vulkan") => wgpu::Backends::VULKAN,
        Some("metal") => wgpu::Backends::METAL,
        Some("dx12") => wgpu::Backends::DX12,
        Some("gl") => wgpu::Backends::GL,
        Some(other) => {
            return Err(Error::Config(format!(
                "STEADYGRAD_BACKEND={other}: expected vulkan, metal, dx12 or gl"
            )))
        }
    })
}

fn type_rank(t: wgpu::DeviceType) -> u32 {
    match t {
        wgpu::DeviceType::DiscreteGpu => 0,
        wgpu::DeviceType::IntegratedGpu => 1,
        wgpu::DeviceType::VirtualGpu => 2,
        wgpu::DeviceType::Cpu => 3,
        wgpu::DeviceType::Other => 4,
    }
}

/// Sorts `items` best rank first, then brings the `ordinal`-th (modulo their count) of
/// those tying for the best rank to the front.
fn best_first<T>(items: &mut [T], rank: impl Fn(&T) -> u32, ordinal: usize) {
    items.sort_by_key(&rank);
    if let Some(best) = items.first().map(&rank) {
        let ties = items.iter().take_while(|a| rank(a) == best).count();
        items[..ties].rotate_left(ordinal % ties);
    }
}

impl GpuBackend {
    /// Opens the best adapter per the options (and the environment variables they mirror):
    /// a discrete GPU before an integrated one before a software rasterizer. In a browser,
    /// where nothing may block, use [`GpuBackend::open`].
    pub fn new(opts: &GpuOptions) -> Result<Self> {
        #[cfg(not(target_arch = "wasm32"))]
        return pollster::block_on(Self::open(opts));
        #[cfg(target_arch = "wasm32")]
        return Err(Error::NoAdapter(format!(
            "in a browser the adapter is opened asynchronously (GpuBackend::open), not with {opts:?}"
        )));
    }

    /// [`GpuBackend::new`] without blocking: in a browser, the page's WebGPU adapter (where
    /// a new matmul shape class takes [`GpuOptions::provisional_matmul`] until
    /// [`GpuBackend::tune_deferred`] times it: nothing may block there).
    pub async fn open(opts: &GpuOptions) -> Result<Self> {
        let backends = parse_backends(opts.api.as_deref())?;
        let mut desc = wgpu::InstanceDescriptor::new_without_display_handle();
        desc.backends = backends;
        let instance = wgpu::Instance::new(desc);
        #[cfg(not(target_arch = "wasm32"))]
        let mut adapters = instance.enumerate_adapters(backends).await;
        #[cfg(target_arch = "wasm32")]
        let mut adapters: Vec<wgpu::Adapter> = instance
            .request_adapter(&wgpu::RequestAdapterOptions {
                power_preference: wgpu::PowerPreference::HighPerformance,
                ..Default::default()
            })
            .await
            .into_iter()
            .collect();
        let seen: Vec<String> = adapters
            .iter()
            .map(|a| {
                let i = a.get_info();
                format!("{} ({:?})", i.name, i.backend)
            })
            .collect();
        if let Some(want) = &opts.adapter {
            let w = want.to_lowercase();
            adapters.retain(|a| a.get_info().name.to_lowercase().contains(&w));
        }
        best_first(
            &mut adapters,
            |a| type_rank(a.get_info().device_type),
            opts.ordinal,
        );
        let adapter = adapters.into_iter().next().ok_or_else(|| {
            if seen.is_empty() {
                Error::NoAdapter(
                    "no WebGPU adapter found (no GPU driver; on Debian, `apt-get install mesa-vulkan-drivers` gives a software Vulkan adapter)"
                        .into(),
                )
            } else {
                Error::NoAdapter(format!(
                    "no adapter matches {:?}; available: {}",
                    opts.adapter.as_deref().unwrap_or(""),
                    seen.join(", ")
                ))
            }
        })?;
        let ainfo = adapter.get_info();
        // Ask for the adapter's own limits: the defaults cap storage bindings at 128 MiB
        // even on GPUs that bind far more.
        let limits = adapter.limits();
        // Subgroups where every one is exactly 8 lanes (the subgroup matmul's workgroup):
        // natively only (the page keeps to WebGPU's core features).
        let subgroups8 = cfg!(not(target_arch = "wasm32"))
            && opts.subgroups != Some(false)
            && adapter.features().contains(wgpu::Features::SUBGROUP)
            && (ainfo.subgroup_min_size, ainfo.subgroup_max_size) == (8, 8);
        if opts.matmul == Some(MatmulVariant::Subgroup) && !subgroups8 {
            return Err(Error::Config(format!(
                "STEADYGRAD_MATMUL=subgroup: {} has no subgroups of exactly 8 lanes, which that kernel needs",
                ainfo.name
            )));
        }
        let (device, queue) = adapter
            .request_device(&wgpu::DeviceDescriptor {
                label: Some("steadygrad"),
                required_limits: limits.clone(),
                required_features: if subgroups8 {
                    wgpu::Features::SUBGROUP
                } else {
                    wgpu::Features::empty()
                },
                ..Default::default()
            })
            .await
            .map_err(|e| Error::NoAdapter(format!("{}: {e}", ainfo.name)))?;
        let errors = Arc::new(Mutex::new(Vec::new()));
        let sink = errors.clone();
        device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| {
            sink.lock().unwrap().push(e.to_string());
        }));
        let tune_path = opts.tune_cache.clone().or_else(TuneCache::default_path);
        let tune = tune_path
            .as_deref()
            .map(TuneCache::load)
            .unwrap_or_default();
        let max_binding_bytes =
            (limits.max_storage_buffer_binding_size as u64).min(limits.max_buffer_size);
        Ok(GpuBackend {
            device,
            queue,
            info: DeviceInfo {
                kind: "gpu",
                // A browser may keep the adapter's description to itself.
                adapter: if ainfo.name.is_empty() {
                    "WebGPU adapter (unnamed by the browser)".into()
                } else {
                    ainfo.name.clone()
                },
                api: format!("{:?}", ainfo.backend).to_lowercase(),
            },
            forced: opts.matmul,
            provisional: opts
                .provisional_matmul
                .unwrap_or(MatmulVariant::RegisterBlocked8),
            deferred: Vec::new(),
            tune_key: format!(
                "{}|{}|{}|kernels {}",
                ainfo.name,
                ainfo.driver,
                ainfo.driver_info,
                kernels_fingerprint()
            ),
            tune_path,
            tune,
            tuning: opts.tuning,
            announce: opts.announce,
            cpu_adapter: ainfo.device_type == wgpu::DeviceType::Cpu,
            texture_reads: match opts.texture_reads {
                Some(true) => Some(TextureReads::All),
                Some(false) => None,
                None if ainfo.name.starts_with("llvmpipe") => Some(TextureReads::BatchNorm),
                None => (ainfo.device_type == wgpu::DeviceType::Cpu).then_some(TextureReads::All),
            },
            field_blocks: opts
                .field_blocks
                .unwrap_or(ainfo.name.starts_with("llvmpipe")),
            subgroups8,
            last_matmul: opts.matmul.unwrap_or(MatmulVariant::RegisterBlocked8),
            max_binding_bytes,
            modules: HashMap::new(),
            pipelines: HashMap::new(),
            bufs: Vec::new(),
            views: Vec::new(),
            launches: Vec::new(),
            textures: HashMap::new(),
            blocks: HashMap::new(),
            pending: Vec::new(),
            counters: Counters::default(),
            errors,
        })
    }

    /// Whether this device runs `variant` ([`MatmulVariant::Subgroup`] needs subgroups of
    /// exactly 8 lanes; the others run everywhere).
    pub fn has_variant(&self, variant: MatmulVariant) -> bool {
        !variant.needs_subgroups() || self.subgroups8
    }

    /// The variants this device runs, in [`CANDIDATES`]' order: what is timed and verified.
    pub fn candidates(&self) -> Vec<MatmulVariant> {
        CANDIDATES
            .into_iter()
            .filter(|&v| self.has_variant(v))
            .collect()
    }

    /// Whether a matmul of a new shape class is timed now ([`Tuning`]), rather than taking
    /// the built-in choice.
    pub fn times_new_classes(&self) -> bool {
        self.forced.is_none()
            && match self.tuning {
                Tuning::Always => true,
                Tuning::Never => false,
                Tuning::Auto => !self.cpu_adapter,
            }
    }

    /// Forgets this adapter's cached choices (in memory and in the cache file), so each
    /// shape class is timed afresh.
    pub fn forget_tuning(&mut self) -> Result<()> {
        self.tune.forget(&self.tune_key);
        if let Some(p) = &self.tune_path {
            self.tune.save(p).map_err(|e| Error::io(p, e))?;
        }
        Ok(())
    }

    /// This adapter's cached choices (shape class → variant) and the cache file.
    pub fn tuned_choices(&self) -> (Vec<(String, String)>, Option<PathBuf>) {
        (self.tune.choices(&self.tune_key), self.tune_path.clone())
    }

    /// The matmul variant forced, or else the one the autotuner chose last.
    pub fn matmul_variant(&self) -> MatmulVariant {
        self.forced.unwrap_or(self.last_matmul)
    }
}

impl Backend for GpuBackend {
    fn info(&self) -> DeviceInfo {
        self.info.clone()
    }

    fn alloc(&mut self, words: usize) -> Result<BufId> {
        // Whole vec4s, so any buffer can be bound as array<vec4<f32>>.
        let bytes = (words.max(1).div_ceil(4) * 16) as u64;
        if bytes > self.max_binding_bytes {
            return Err(Error::Gpu(format!(
                "a buffer of {bytes} bytes exceeds what {} can bind ({} bytes)",
                self.info.adapter, self.max_binding_bytes
            )));
        }
        let buffer = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: None,
            size: bytes,
            usage: wgpu::BufferUsages::STORAGE
                | wgpu::BufferUsages::COPY_DST
                | wgpu::BufferUsages::COPY_SRC,
            mapped_at_creation: false,
        });
        self.bufs.push(Some((buffer, words)));
        self.views.push(None);
        self.counters.allocations += 1;
        Ok(BufId(self.bufs.len() - 1))
    }

    fn view(&mut self, parent: BufId, offset: usize, words: usize) -> Result<BufId> {
        let (root, at, len) = self.span(parent);
        check_view(offset, words, len)?;
        self.bufs.push(None);
        self.views.push(Some((root.0, at + offset, words)));
        Ok(BufId(self.bufs.len() - 1))
    }

    fn free(&mut self, buf: BufId) {
        if let Some((b, _)) = self.bufs[buf.0].take() {
            b.destroy();
            // Its operand textures go with it (launches reading them are not replayed).
            self.textures.retain(|k, _| k.0 != buf.0);
        }
        self.views[buf.0] = None;
    }

    fn span(&self, buf: BufId) -> (BufId, usize, usize) {
        match self.views[buf.0] {
            Some((root, offset, words)) => (BufId(root), offset, words),
            None => (buf, 0, self.bufs[buf.0].as_ref().map(|b| b.1).unwrap_or(0)),
        }
    }

    fn write_words(&mut self, buf: BufId, offset: usize, data: &[u32]) -> Result<()> {
        let len = self.len(buf);
        if offset + data.len() > len {
            return Err(Error::Shape(format!(
                "write of {} values at {offset} into a buffer of {len}",
                data.len()
            )));
        }
        if data.is_empty() {
            return Ok(());
        }
        let (root, at, _) = self.span(buf);
        self.queue.write_buffer(
            self.buffer(root),
            ((at + offset) * 4) as u64,
            bytemuck::cast_slice(data),
        );
        self.counters.upload_bytes += 4 * data.len() as u64;
        Ok(())
    }

    fn read_words(&mut self, buf: BufId) -> Result<Vec<u32>> {
        self.read_blocking(buf)
    }

    fn start_read_words(&mut self, buf: BufId) -> PendingRead {
        self.start_read_in_flight(buf)
    }

    fn finish_read_words(&mut self, read: PendingRead) -> ReadFuture<'_> {
        Box::pin(self.finish_read_in_flight(read))
    }

    fn read_words_async(&mut self, buf: BufId) -> ReadFuture<'_> {
        Box::pin(self.read_async(buf))
    }

    fn tune_deferred(&mut self) -> TuneFuture<'_> {
        Box::pin(GpuBackend::tune_deferred(self))
    }

    fn deferred_classes(&self) -> usize {
        self.deferred.len()
    }

    fn tuning_cache(&self) -> Option<String> {
        Some(self.tune.to_json())
    }

    fn load_tuning_cache(&mut self, json: &str) -> bool {
        TuneCache::parse(json).map(|c| self.tune.merge(c)).is_some()
    }

    fn prepare(&mut self, kernel: &Kernel, bufs: &[BufId]) -> Result<LaunchId> {
        validate_launch(kernel, bufs, |b| self.span(b))?;
        if let Kernel::ConvDirect {
            ref win, filters, ..
        } = *kernel
        {
            if !ops::conv::is_gemm(win, filters, self.subgroups8)
                && !ops::conv::direct_weights_fit(win, filters)
            {
                return Err(Error::Gpu(format!(
                    "{kernel:?}: its {} weights pass the direct kernel's uniform block",
                    win.patch() * filters
                )));
            }
        }
        if let Kernel::ConvInputGradAct {
            ref win, filters, ..
        } = *kernel
        {
            if !ops::conv_input_grad::input_grad_act_runs(win, filters, self.subgroups8) {
                return Err(Error::Gpu(format!(
                    "{kernel:?}: {} has no subgroups of exactly 8 lanes for this shape",
                    self.info.adapter
                )));
            }
        }
        if let Kernel::ConvInputGrad { ref win, filters } = *kernel {
            if !ops::conv_input_grad::input_grad_runs(win, filters, self.subgroups8) {
                return Err(Error::Gpu(format!(
                    "{kernel:?}: {} has no subgroups of exactly 8 lanes, which that kernel needs past the direct one's shapes",
                    self.info.adapter
                )));
            }
        }
        if self.info.adapter.starts_with("llvmpipe") {
            launch::check_column_walk(kernel)?;
        }
        let variant = match *kernel {
            Kernel::MatMul {
                m,
                k,
                n,
                trans_a,
                trans_b,
                ..
            } => self.choose_matmul(m, k, n, trans_a, trans_b)?,
            Kernel::Dense { m, k, n, .. } => self.choose_matmul(m, k, n, false, false)?,
            // A convolution on 8-lane subgroups (the implicit matmul past the direct
            // kernel's field, or the entries sharing values through the subgroup).
            _ if ops::conv::runs_on_subgroups(kernel, self.subgroups8) => MatmulVariant::Subgroup,
            _ => MatmulVariant::RegisterBlocked,
        };
        let mut launch = ops::gpu_launch(kernel, variant);
        if let Some(which) = self.texture_reads {
            launch = ops::through_textures(kernel, launch, which);
        }
        if self.field_blocks {
            launch = ops::conv::with_field_blocks(kernel, launch);
        }
        self.prepare_launch(kernel, bufs, launch)
    }

    fn launch(&mut self, id: LaunchId) {
        self.pending.push(id);
    }

    fn submit(&mut self) -> Result<()> {
        let pending = std::mem::take(&mut self.pending);
        let (commands, copied) = self.encode(&pending, "step", true);
        self.queue.submit([commands]);
        self.counters.copy_bytes += copied;
        self.counters.dispatches += pending.len() as u64;
        self.counters.submits += 1;
        self.check_errors()
    }

    fn counters(&self) -> Counters {
        self.counters
    }

    /// Each run fills its own operand textures (as a launch does after its inputs were
    /// written), so a launch's copies count in its time.
    fn run_repeated(&mut self, id: LaunchId, reps: usize) -> Result<()> {
        let ids = vec![id; reps];
        #[cfg(not(target_arch = "wasm32"))]
        return pollster::block_on(self.run_waited(&ids));
        #[cfg(target_arch = "wasm32")]
        {
            let (commands, _) = self.encode(&ids, "profile", false);
            self.queue.submit([commands]);
            self.check_errors()
        }
    }

    fn finish(&mut self) -> Result<()> {
        #[cfg(not(target_arch = "wasm32"))]
        self.wait()?;
        self.check_errors()
    }

    fn max_buffer_words(&self) -> usize {
        (self.max_binding_bytes / 4) as usize
    }

    fn max_storage_buffers(&self) -> usize {
        self.device.limits().max_storage_buffers_per_shader_stage as usize
    }

    fn subgroups8(&self) -> bool {
        self.subgroups8
    }

    fn live_buffers(&self) -> usize {
        self.bufs.iter().filter(|b| b.is_some()).count()
    }
}

#[cfg(test)]
mod adapter_choice_tests {
    use super::best_first;

    #[test]
    fn ordinals_spread_over_the_best_adapters_only() {
        // (name, kind rank): two discrete GPUs, an integrated one, a software one.
        let adapters = [("soft", 3), ("gpu0", 0), ("igpu", 1), ("gpu1", 0)];
        let pick = |ordinal| {
            let mut v = adapters.to_vec();
            best_first(&mut v, |a| a.1, ordinal);
            v[0].0
        };
        assert_eq!(
            [pick(0), pick(1), pick(2), pick(3)],
            ["gpu0", "gpu1", "gpu0", "gpu1"]
        );
    }
}
