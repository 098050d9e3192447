//! The wgpu backend: device selection, a buffer table, pipelines built once per kernel
//! family, launches prepared once (uniform parameters and bind group fixed) and replayed,
//! and every launch recorded between two submits going into one command buffer.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use super::autotune::{kernels_fingerprint, shape_class, TuneCache, CANDIDATES};

use super::contract::{Binding, Entry, Module};
use super::kernel::Kernel;
use super::{check_view, ops, validate_launch, Backend, BufId, Counters, DeviceInfo, LaunchId};
use crate::error::{Error, Result};

/// Which matmul kernel to use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatmulVariant {
    /// Register-blocked 4×4 per invocation, no workgroup barriers.
    RegisterBlocked,
    /// Register-blocked 8×8 per invocation (vec4 loads; 4×4 scalar when unaligned).
    RegisterBlocked8,
    /// Workgroup-memory tiling (64×64 tiles): fastest on discrete GPUs.
    Tiled,
}

/// How to choose and configure the GPU.
#[derive(Clone, Debug, Default)]
pub struct GpuOptions {
    /// Substring of the adapter name to pick (`STEADYGRAD_ADAPTER`).
    pub adapter: Option<String>,
    /// Graphics API: `vulkan`, `metal`, `dx12` or `gl` (`STEADYGRAD_BACKEND`).
    pub api: Option<String>,
    /// Force a matmul variant instead of autotuning (`STEADYGRAD_MATMUL`).
    pub matmul: Option<MatmulVariant>,
    /// Where the autotuner keeps its choices (default: [`TuneCache::default_path`]).
    pub tune_cache: Option<PathBuf>,
}

impl GpuOptions {
    /// Options from the `STEADYGRAD_ADAPTER`, `STEADYGRAD_BACKEND` and `STEADYGRAD_MATMUL`
    /// environment variables.
    pub fn from_env() -> Result<Self> {
        let matmul = match std::env::var("STEADYGRAD_MATMUL").ok().as_deref() {
            None | Some("") | Some("auto") => None,
            Some(name) => Some(MatmulVariant::from_name(name).ok_or_else(|| {
                Error::Config(format!(
                    "STEADYGRAD_MATMUL={name}: expected auto, regblock, regblock8 or tiled"
                ))
            })?),
        };
        Ok(GpuOptions {
            adapter: std::env::var("STEADYGRAD_ADAPTER")
                .ok()
                .filter(|s| !s.is_empty()),
            api: std::env::var("STEADYGRAD_BACKEND")
                .ok()
                .filter(|s| !s.is_empty()),
            matmul,
            tune_cache: None,
        })
    }
}

struct Pipeline {
    pipeline: wgpu::ComputePipeline,
    layout: wgpu::BindGroupLayout,
}

struct Prepared {
    pipeline: Entry,
    bind_group: wgpu::BindGroup,
    workgroups: (u32, u32, u32),
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
    /// The adapter and driver the cache is keyed by.
    tune_key: String,
    tune_path: Option<PathBuf>,
    tune: TuneCache,
    /// The variant each matmul launch uses (for `matmul_variant`), last chosen.
    last_matmul: MatmulVariant,
    max_binding_bytes: u64,
    modules: HashMap<Module, wgpu::ShaderModule>,
    pipelines: HashMap<Entry, Pipeline>,
    bufs: Vec<Option<(wgpu::Buffer, usize)>>,
    /// `Some((root, offset, words))` for views (their `bufs` entry stays empty).
    views: Vec<Option<(usize, usize, usize)>>,
    launches: Vec<Prepared>,
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
                "unknown graphics API {other:?}: expected vulkan, metal, dx12 or gl"
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

impl GpuBackend {
    /// Opens the best adapter per the options (and the environment variables they mirror):
    /// a discrete GPU before an integrated one before a software rasterizer.
    pub fn new(opts: &GpuOptions) -> Result<Self> {
        let backends = parse_backends(opts.api.as_deref())?;
        let mut desc = wgpu::InstanceDescriptor::new_without_display_handle();
        desc.backends = backends;
        let instance = wgpu::Instance::new(desc);
        let mut adapters = pollster::block_on(instance.enumerate_adapters(backends));
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
        adapters.sort_by_key(|a| type_rank(a.get_info().device_type));
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
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("steadygrad"),
            required_limits: limits.clone(),
            ..Default::default()
        }))
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
                adapter: ainfo.name.clone(),
                api: format!("{:?}", ainfo.backend).to_lowercase(),
            },
            forced: opts.matmul,
            tune_key: format!(
                "{}|{}|{}|kernels {}",
                ainfo.name,
                ainfo.driver,
                ainfo.driver_info,
                kernels_fingerprint()
            ),
            tune_path,
            tune,
            last_matmul: opts.matmul.unwrap_or(MatmulVariant::RegisterBlocked8),
            max_binding_bytes,
            modules: HashMap::new(),
            pipelines: HashMap::new(),
            bufs: Vec::new(),
            views: Vec::new(),
            launches: Vec::new(),
            pending: Vec::new(),
            counters: Counters::default(),
            errors,
        })
    }

    /// The matmul variant forced, or else the one the autotuner chose last.
    pub fn matmul_variant(&self) -> MatmulVariant {
        self.forced.unwrap_or(self.last_matmul)
    }

    /// The variant for a matmul shape: forced, cached, or timed now (each candidate run on
    /// this shape; the fastest is cached).
    pub fn choose_matmul(
        &mut self,
        m: usize,
        k: usize,
        n: usize,
        ta: bool,
        tb: bool,
    ) -> Result<MatmulVariant> {
        if let Some(v) = self.forced {
            return Ok(v);
        }
        let class = shape_class(m, k, n, ta, tb);
        if let Some(v) = self.tune.get(&self.tune_key, &class) {
            self.last_matmul = v;
            return Ok(v);
        }
        // Large shapes are timed on a 256-capped proxy of the same class traits, so tuning
        // stays within milliseconds.
        let (pm, pk, pn) = (m.min(256), k.min(256), n.min(256));
        let a = self.alloc(pm * pk)?;
        let b = self.alloc(pk * pn)?;
        let c = self.alloc(pm * pn)?;
        let mut best = (f64::INFINITY, MatmulVariant::RegisterBlocked);
        for v in CANDIDATES {
            let kernel = Kernel::MatMul {
                m: pm,
                k: pk,
                n: pn,
                trans_a: ta,
                trans_b: tb,
                accumulate: false,
            };
            let launch = ops::gpu_launch(&kernel, v);
            let id = self.prepare_launch(&kernel, &[a, b, c], launch)?;
            // Once to build the pipeline, then timed: the fastest of three runs.
            self.run_now(id)?;
            let mut t = f64::INFINITY;
            for _ in 0..3 {
                let t0 = std::time::Instant::now();
                self.run_now(id)?;
                t = t.min(t0.elapsed().as_secs_f64());
            }
            if t < best.0 {
                best = (t, v);
            }
        }
        for buf in [a, b, c] {
            self.free(buf);
        }
        self.tune.set(&self.tune_key, &class, best.1);
        if let Some(p) = &self.tune_path {
            // The cache is an optimization: failing to write it only means tuning again.
            let _ = self.tune.save(p);
        }
        self.last_matmul = best.1;
        Ok(best.1)
    }

    /// Prepares a launch already lowered (parameters, bindings and grid fixed).
    fn prepare_launch(
        &mut self,
        kernel: &Kernel,
        bufs: &[BufId],
        launch: super::contract::GpuLaunch,
    ) -> Result<LaunchId> {
        let workgroups = launch.grid;
        if workgroups.1 > 65_535 {
            return Err(Error::Shape(format!(
                "{kernel:?} is too large for one dispatch"
            )));
        }
        let entry = launch.entry;
        // Uniform structs are sized in whole 16-byte blocks.
        let mut params = launch.params.clone();
        params.resize(params.len().div_ceil(16) * 16, 0);
        let params_buf = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(entry.name()),
            size: params.len() as u64,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: true,
        });
        params_buf
            .slice(..)
            .get_mapped_range_mut()
            .map_err(|e| Error::Gpu(format!("writing kernel parameters: {e}")))?
            .copy_from_slice(&params);
        params_buf.unmap();
        let layout = self.pipeline(entry, &launch.bindings).layout.clone();
        let table = if launch.table.is_empty() {
            None
        } else {
            let words: Vec<u32> = launch.table.iter().flatten().copied().collect();
            let t = self.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("arena table"),
                size: (words.len() * 4) as u64,
                usage: wgpu::BufferUsages::STORAGE,
                mapped_at_creation: true,
            });
            t.slice(..)
                .get_mapped_range_mut()
                .map_err(|e| Error::Gpu(format!("writing a launch table: {e}")))?
                .copy_from_slice(bytemuck::cast_slice(&words));
            t.unmap();
            Some(t)
        };
        let mut entries = vec![wgpu::BindGroupEntry {
            binding: 0,
            resource: params_buf.as_entire_binding(),
        }];
        for (binding, b) in launch.bindings.iter().zip(bufs) {
            let (root, offset, words) = self.span(*b);
            // Whole vec4s: views start 256-byte aligned and end before the next one.
            let size = wgpu::BufferSize::new((words.div_ceil(4) * 16) as u64);
            entries.push(wgpu::BindGroupEntry {
                binding: binding.index,
                resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                    buffer: self.buffer(root),
                    offset: (offset * 4) as u64,
                    size,
                }),
            });
        }
        if let Some(t) = &table {
            entries.push(wgpu::BindGroupEntry {
                binding: super::contract::TABLE_BINDING,
                resource: t.as_entire_binding(),
            });
        }
        let bind_group = self.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some(entry.name()),
            layout: &layout,
            entries: &entries,
        });
        self.check_errors()?;
        self.counters.allocations += 2 + u64::from(table.is_some());
        self.launches.push(Prepared {
            pipeline: entry,
            bind_group,
            workgroups,
            _params: params_buf,
            _table: table,
        });
        Ok(LaunchId(self.launches.len() - 1))
    }

    /// One command buffer with one compute pass dispatching `ids` in order.
    fn encode(&self, ids: &[LaunchId], label: &str) -> wgpu::CommandBuffer {
        let mut enc = self
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some(label) });
        {
            let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some(label),
                timestamp_writes: None,
            });
            for id in ids {
                let l = &self.launches[id.0];
                pass.set_pipeline(&self.pipelines[&l.pipeline].pipeline);
                pass.set_bind_group(0, &l.bind_group, &[]);
                let (x, y, z) = l.workgroups;
                pass.dispatch_workgroups(x, y, z);
            }
        }
        enc.finish()
    }

    /// Submits one prepared launch on its own and waits for it (for timing).
    fn run_now(&mut self, id: LaunchId) -> Result<()> {
        let commands = self.encode(&[id], "autotune");
        self.queue.submit([commands]);
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| Error::Gpu(format!("waiting for the device: {e}")))?;
        self.check_errors()
    }

    fn check_errors(&self) -> Result<()> {
        let mut errs = self.errors.lock().unwrap();
        if errs.is_empty() {
            Ok(())
        } else {
            let msg = errs.join("; ");
            errs.clear();
            Err(Error::Gpu(msg))
        }
    }

    fn buffer(&self, b: BufId) -> &wgpu::Buffer {
        &self.bufs[b.0].as_ref().expect("buffer used after free").0
    }

    fn pipeline(&mut self, entry: Entry, bindings: &[Binding]) -> &Pipeline {
        if !self.pipelines.contains_key(&entry) {
            let module = entry.module();
            let device = &self.device;
            let shader = self.modules.entry(module).or_insert_with(|| {
                device.create_shader_module(wgpu::ShaderModuleDescriptor {
                    label: Some(module.files().last().copied().unwrap_or("shader")),
                    source: wgpu::ShaderSource::Wgsl(module.source().into()),
                })
            });
            let mut entries = vec![wgpu::BindGroupLayoutEntry {
                binding: 0,
                visibility: wgpu::ShaderStages::COMPUTE,
                ty: wgpu::BindingType::Buffer {
                    ty: wgpu::BufferBindingType::Uniform,
                    has_dynamic_offset: false,
                    min_binding_size: None,
                },
                count: None,
            }];
            for b in bindings {
                entries.push(wgpu::BindGroupLayoutEntry {
                    binding: b.index,
                    visibility: wgpu::ShaderStages::COMPUTE,
                    ty: wgpu::BindingType::Buffer {
                        // llvmpipe compiles loads from read-write storage far more
                        // conservatively: the matmul ran ~10× slower with read-write inputs.
                        ty: wgpu::BufferBindingType::Storage {
                            read_only: b.read_only,
                        },
                        has_dynamic_offset: false,
                        min_binding_size: None,
                    },
                    count: None,
                });
            }
            let layout = self
                .device
                .create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
                    label: Some(entry.name()),
                    entries: &entries,
                });
            let pl = self
                .device
                .create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
                    label: Some(entry.name()),
                    bind_group_layouts: &[Some(&layout)],
                    immediate_size: 0,
                });
            let pipeline = self
                .device
                .create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                    label: Some(entry.name()),
                    layout: Some(&pl),
                    module: shader,
                    entry_point: Some(entry.name()),
                    compilation_options: wgpu::PipelineCompilationOptions {
                        constants: entry.constants(),
                        // Every kernel writes its workgroup memory before reading it.
                        zero_initialize_workgroup_memory: false,
                    },
                    cache: None,
                });
            self.pipelines.insert(entry, Pipeline { pipeline, layout });
        }
        &self.pipelines[&entry]
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
        if !self.pending.is_empty() {
            self.submit()?;
        }
        let words = self.len(buf);
        let bytes = (words.max(1) * 4) as u64;
        self.counters.allocations += 1;
        let staging = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("readback"),
            size: bytes,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let mut enc = self
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None });
        let (root, at, _) = self.span(buf);
        enc.copy_buffer_to_buffer(self.buffer(root), (at * 4) as u64, &staging, 0, bytes);
        self.queue.submit([enc.finish()]);
        let slot = Arc::new(Mutex::new(None));
        let s2 = slot.clone();
        staging
            .slice(..)
            .map_async(wgpu::MapMode::Read, move |r| *s2.lock().unwrap() = Some(r));
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| Error::Gpu(format!("waiting for the device: {e}")))?;
        self.check_errors()?;
        match slot.lock().unwrap().take() {
            Some(Ok(())) => {}
            Some(Err(e)) => return Err(Error::Gpu(format!("reading a buffer back: {e}"))),
            None => return Err(Error::Gpu("buffer map did not complete".into())),
        }
        let view = staging
            .slice(..)
            .get_mapped_range()
            .map_err(|e| Error::Gpu(format!("reading a buffer back: {e}")))?;
        let out: Vec<u32> = bytemuck::cast_slice(&view[..])[..words].to_vec();
        drop(view);
        staging.unmap();
        self.counters.readback_bytes += 4 * words as u64;
        Ok(out)
    }

    fn prepare(&mut self, kernel: &Kernel, bufs: &[BufId]) -> Result<LaunchId> {
        validate_launch(kernel, bufs, |b| self.span(b))?;
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
            _ => MatmulVariant::RegisterBlocked,
        };
        let launch = ops::gpu_launch(kernel, variant);
        self.prepare_launch(kernel, bufs, launch)
    }

    fn launch(&mut self, id: LaunchId) {
        self.pending.push(id);
    }

    fn submit(&mut self) -> Result<()> {
        let pending = std::mem::take(&mut self.pending);
        let commands = self.encode(&pending, "step");
        self.queue.submit([commands]);
        self.counters.dispatches += pending.len() as u64;
        self.counters.submits += 1;
        self.check_errors()
    }

    fn counters(&self) -> Counters {
        self.counters
    }

    fn max_buffer_words(&self) -> usize {
        (self.max_binding_bytes / 4) as usize
    }

    fn live_buffers(&self) -> usize {
        self.bufs.iter().filter(|b| b.is_some()).count()
    }
}
