//! The wgpu backend: device selection, a buffer table, pipelines built once per kernel
//! family, launches prepared once (uniform parameters and bind group fixed) and replayed,
//! and every launch recorded between two submits going into one command buffer.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::kernel::{ClipMode, Kernel};
use super::{validate_launch, Backend, BufId, Counters, DeviceInfo, LaunchId};
use crate::error::{Error, Result};

const MATMUL_WGSL: &str = include_str!("../../shaders/matmul.wgsl");
const ELEMENTWISE_WGSL: &str = include_str!("../../shaders/elementwise.wgsl");
const LOSS_WGSL: &str = include_str!("../../shaders/loss.wgsl");
const BATCH_NORM_WGSL: &str = include_str!("../../shaders/batch_norm.wgsl");
const OPTIMIZER_WGSL: &str = include_str!("../../shaders/optimizer.wgsl");
const GATHER_WGSL: &str = include_str!("../../shaders/gather.wgsl");

/// Which matmul kernel to use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatmulVariant {
    /// Register-blocked 4×4 per invocation, no workgroup barriers: fastest on llvmpipe.
    RegisterBlocked,
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
    /// Force a matmul variant instead of choosing per adapter (`STEADYGRAD_MATMUL`).
    pub matmul: Option<MatmulVariant>,
}

impl GpuOptions {
    /// Options from the `STEADYGRAD_ADAPTER`, `STEADYGRAD_BACKEND` and `STEADYGRAD_MATMUL`
    /// environment variables.
    pub fn from_env() -> Result<Self> {
        let matmul = match std::env::var("STEADYGRAD_MATMUL").ok().as_deref() {
            None | Some("") => None,
            Some("regblock") => Some(MatmulVariant::RegisterBlocked),
            Some("tiled") => Some(MatmulVariant::Tiled),
            Some(other) => {
                return Err(Error::Config(format!(
                    "STEADYGRAD_MATMUL={other}: expected regblock or tiled"
                )))
            }
        };
        Ok(GpuOptions {
            adapter: std::env::var("STEADYGRAD_ADAPTER")
                .ok()
                .filter(|s| !s.is_empty()),
            api: std::env::var("STEADYGRAD_BACKEND")
                .ok()
                .filter(|s| !s.is_empty()),
            matmul,
        })
    }
}

struct Pipeline {
    pipeline: wgpu::ComputePipeline,
    layout: wgpu::BindGroupLayout,
}

struct Prepared {
    pipeline: &'static str,
    bind_group: wgpu::BindGroup,
    workgroups: (u32, u32, u32),
    // Kept alive for the bind group.
    _params: wgpu::Buffer,
}

/// The wgpu backend.
pub struct GpuBackend {
    device: wgpu::Device,
    queue: wgpu::Queue,
    info: DeviceInfo,
    matmul: MatmulVariant,
    max_binding_bytes: u64,
    modules: HashMap<&'static str, wgpu::ShaderModule>,
    pipelines: HashMap<&'static str, Pipeline>,
    bufs: Vec<Option<(wgpu::Buffer, usize)>>,
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
        let matmul = opts
            .matmul
            .unwrap_or(if ainfo.device_type == wgpu::DeviceType::Cpu {
                MatmulVariant::RegisterBlocked
            } else {
                MatmulVariant::Tiled
            });
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
            matmul,
            max_binding_bytes,
            modules: HashMap::new(),
            pipelines: HashMap::new(),
            bufs: Vec::new(),
            launches: Vec::new(),
            pending: Vec::new(),
            counters: Counters::default(),
            errors,
        })
    }

    /// The matmul variant in use.
    pub fn matmul_variant(&self) -> MatmulVariant {
        self.matmul
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

    fn pipeline(&mut self, entry: &'static str, bindings: &[u32]) -> &Pipeline {
        if !self.pipelines.contains_key(entry) {
            let (file, src) = module_of(entry);
            let device = &self.device;
            let module = self.modules.entry(file).or_insert_with(|| {
                device.create_shader_module(wgpu::ShaderModuleDescriptor {
                    label: Some(file),
                    source: wgpu::ShaderSource::Wgsl(src.into()),
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
            for &b in bindings {
                entries.push(wgpu::BindGroupLayoutEntry {
                    binding: b,
                    visibility: wgpu::ShaderStages::COMPUTE,
                    ty: wgpu::BindingType::Buffer {
                        ty: wgpu::BufferBindingType::Storage {
                            read_only: read_only_binding(entry, b),
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
                    label: Some(entry),
                    entries: &entries,
                });
            let pl = self
                .device
                .create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
                    label: Some(entry),
                    bind_group_layouts: &[Some(&layout)],
                    immediate_size: 0,
                });
            let constants: &[(&str, f64)] = if entry == "matmul_regblock" || entry == "matmul_vec4"
            {
                &[("WG_X", 8.0), ("WG_Y", 8.0)]
            } else {
                &[]
            };
            let pipeline = self
                .device
                .create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                    label: Some(entry),
                    layout: Some(&pl),
                    module,
                    entry_point: Some(entry),
                    compilation_options: wgpu::PipelineCompilationOptions {
                        constants,
                        // Every kernel writes its workgroup memory before reading it.
                        zero_initialize_workgroup_memory: false,
                    },
                    cache: None,
                });
            self.pipelines.insert(entry, Pipeline { pipeline, layout });
        }
        &self.pipelines[entry]
    }
}

fn module_of(entry: &str) -> (&'static str, &'static str) {
    match entry {
        "matmul_regblock" | "matmul_vec4" | "matmul_tiled" => ("matmul.wgsl", MATMUL_WGSL),
        "loss_forward_backward" | "accumulate_metrics" => ("loss.wgsl", LOSS_WGSL),
        "bn_stats" | "bn_apply" | "bn_moving_update" | "bn_backward" => {
            ("batch_norm.wgsl", BATCH_NORM_WGSL)
        }
        "grad_stats" | "clip_scale" | "sgd_update" => ("optimizer.wgsl", OPTIMIZER_WGSL),
        "gather_u8" | "gather_f32" => ("gather.wgsl", GATHER_WGSL),
        _ => ("elementwise.wgsl", ELEMENTWISE_WGSL),
    }
}

/// Bindings a kernel declares `var<storage, read>`. The layout must say so too, and the
/// distinction matters: llvmpipe compiles loads from read-write storage far more
/// conservatively (the matmul ran ~10× slower with its inputs declared read-write).
fn read_only_binding(entry: &str, binding: u32) -> bool {
    matches!(entry, "matmul_regblock" | "matmul_vec4" | "matmul_tiled")
        && matches!(binding, 1 | 2 | 4 | 5)
}

fn ceil_div(a: usize, b: usize) -> u32 {
    a.div_ceil(b).max(1) as u32
}

/// A 1-D launch of `count` invocations in 256-wide workgroups, folded into 2-D when it
/// exceeds the 65,535 workgroups one dimension allows.
fn grid_256(count: usize) -> (u32, u32, u32) {
    let groups = ceil_div(count, 256);
    let x = groups.min(65_535);
    (x, groups.div_ceil(x), 1)
}

/// Entry point, binding numbers, uniform parameters and grid for a kernel.
fn lower(
    kernel: &Kernel,
    matmul: MatmulVariant,
) -> (&'static str, Vec<u32>, [u32; 8], (u32, u32, u32)) {
    let seq = |n: u32| (1..=n).collect::<Vec<u32>>();
    let f = f32::to_bits;
    let u = |v: usize| v as u32;
    match *kernel {
        Kernel::MatMul {
            m,
            k,
            n,
            trans_a,
            trans_b,
            accumulate,
        } => {
            let flags =
                u32::from(trans_a) | (u32::from(trans_b) << 1) | (u32::from(accumulate) << 2);
            let params = [u(m), u(k), u(n), flags, 0, 0, 0, 0];
            // The vec4 kernel needs k in whole vec4s and aligned vec4 rows.
            let vec4_ok = k % 4 == 0 && (!trans_a || m % 4 == 0) && (trans_b || n % 4 == 0);
            match matmul {
                MatmulVariant::RegisterBlocked if vec4_ok => (
                    "matmul_vec4",
                    vec![4, 5, 3],
                    params,
                    (ceil_div(n.div_ceil(4), 8), ceil_div(m.div_ceil(4), 8), 1),
                ),
                MatmulVariant::RegisterBlocked => (
                    "matmul_regblock",
                    seq(3),
                    params,
                    (ceil_div(n.div_ceil(4), 8), ceil_div(m.div_ceil(4), 8), 1),
                ),
                MatmulVariant::Tiled => (
                    "matmul_tiled",
                    seq(3),
                    params,
                    (ceil_div(n, 64), ceil_div(m, 64), 1),
                ),
            }
        }
        Kernel::BiasAdd { rows, cols } => (
            "bias_add",
            seq(3),
            [u(rows * cols), u(cols), 0, 0, 0, 0, 0, 0],
            grid_256(rows * cols),
        ),
        Kernel::ColumnSum { rows, cols } => (
            "column_sum",
            seq(2),
            [u(rows), u(cols), 0, 0, 0, 0, 0, 0],
            (ceil_div(cols, 256), 1, 1),
        ),
        Kernel::ActForward {
            act,
            n,
            training,
            seed,
        }
        | Kernel::ActBackward {
            act,
            n,
            training,
            seed,
        } => {
            let (code, a, b) = act.code();
            let flags = u32::from(training) | (seed << 8);
            let fwd = matches!(kernel, Kernel::ActForward { .. });
            (
                if fwd { "act_forward" } else { "act_backward" },
                seq(if fwd { 3 } else { 5 }),
                [u(n), 0, code, flags, f(a), f(b), 0, 0],
                grid_256(n),
            )
        }
        Kernel::PreluForward { rows, cols } => (
            "prelu_forward",
            seq(3),
            [u(rows * cols), u(cols), 0, 0, 0, 0, 0, 0],
            grid_256(rows * cols),
        ),
        Kernel::PreluBackward { rows, cols } => (
            "prelu_backward",
            seq(5),
            [u(rows), u(cols), 0, 0, 0, 0, 0, 0],
            (ceil_div(cols, 256), 1, 1),
        ),
        Kernel::SoftmaxForward { rows, cols } => (
            "softmax_forward",
            seq(2),
            [u(rows), u(cols), 0, 0, 0, 0, 0, 0],
            (ceil_div(rows, 256), 1, 1),
        ),
        Kernel::SoftmaxBackward { rows, cols } => (
            "softmax_backward",
            seq(3),
            [u(rows), u(cols), 0, 0, 0, 0, 0, 0],
            (ceil_div(rows, 256), 1, 1),
        ),
        Kernel::Add { n } => ("add", seq(3), [u(n), 0, 0, 0, 0, 0, 0, 0], grid_256(n)),
        Kernel::Scale { n, factor } => (
            "scale",
            seq(2),
            [u(n), 0, 0, 0, f(factor), 0, 0, 0],
            grid_256(n),
        ),
        Kernel::Loss { kind, rows, cols } => (
            "loss_forward_backward",
            seq(4),
            [u(rows), u(cols), kind.code(), 0, 0, 0, 0, 0],
            (ceil_div(rows, 64), 1, 1),
        ),
        Kernel::AccumulateMetrics { rows } => (
            "accumulate_metrics",
            seq(2),
            [u(rows), 0, 0, 0, 0, 0, 0, 0],
            (1, 1, 1),
        ),
        Kernel::BnStats { rows, cols } => (
            "bn_stats",
            seq(3),
            [u(rows), u(cols), 0, 0, 0, 0, 0, 0],
            (ceil_div(cols, 64), 1, 1),
        ),
        Kernel::BnApply { rows, cols, eps } => (
            "bn_apply",
            seq(6),
            [u(rows), u(cols), 0, 0, f(eps), 0, 0, 0],
            grid_256(rows * cols),
        ),
        Kernel::BnMovingUpdate { cols, momentum } => (
            "bn_moving_update",
            seq(4),
            [0, u(cols), 0, 0, 0, f(momentum), 0, 0],
            (ceil_div(cols, 64), 1, 1),
        ),
        Kernel::BnBackward { rows, cols, eps } => (
            "bn_backward",
            seq(8),
            [u(rows), u(cols), 0, 0, f(eps), 0, 0, 0],
            (ceil_div(cols, 64), 1, 1),
        ),
        Kernel::GradStats { n, slot } => (
            "grad_stats",
            seq(3),
            [u(n), u(slot), 0, 0, 0, 0, 0, 0],
            (1, 1, 1),
        ),
        Kernel::ClipScale { count, mode } => {
            let (m, c) = match mode {
                ClipMode::None => (0, 0.0),
                ClipMode::PerTensorNorm(c) => (1, c),
                ClipMode::GlobalNorm(c) => (2, c),
            };
            (
                "clip_scale",
                seq(2),
                [u(count), 0, m, 0, f(c), 0, 0, 0],
                (1, 1, 1),
            )
        }
        Kernel::SgdUpdate {
            n,
            slot,
            momentum,
            nesterov,
            clipvalue,
            lr_mult,
        } => (
            "sgd_update",
            seq(5),
            [
                u(n),
                u(slot),
                0,
                u32::from(nesterov),
                f(momentum),
                f(clipvalue),
                f(lr_mult),
                0,
            ],
            grid_256(n),
        ),
        Kernel::GatherU8 { rows, features } => (
            "gather_u8",
            vec![1, 3, 4, 5, 6, 7],
            [u(rows), u(features), 0, 0, 0, 0, 0, 0],
            grid_256(rows * features),
        ),
        Kernel::GatherF32 { rows, features } => (
            "gather_f32",
            vec![2, 3, 4, 5, 6, 7],
            [u(rows), u(features), 0, 0, 0, 0, 0, 0],
            grid_256(rows * features),
        ),
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
        Ok(BufId(self.bufs.len() - 1))
    }

    fn free(&mut self, buf: BufId) {
        if let Some((b, _)) = self.bufs[buf.0].take() {
            b.destroy();
        }
    }

    fn len(&self, buf: BufId) -> usize {
        self.bufs[buf.0].as_ref().map(|b| b.1).unwrap_or(0)
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
        self.queue.write_buffer(
            self.buffer(buf),
            (offset * 4) as u64,
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
        let staging = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("readback"),
            size: bytes,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let mut enc = self
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None });
        enc.copy_buffer_to_buffer(self.buffer(buf), 0, &staging, 0, bytes);
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
        validate_launch(kernel, bufs, |b| self.len(b))?;
        let (entry, bindings, params, workgroups) = lower(kernel, self.matmul);
        if workgroups.1 > 65_535 {
            return Err(Error::Shape(format!(
                "{kernel:?} is too large for one dispatch"
            )));
        }
        let params_buf = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(entry),
            size: 32,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: true,
        });
        params_buf
            .slice(..)
            .get_mapped_range_mut()
            .map_err(|e| Error::Gpu(format!("writing kernel parameters: {e}")))?
            .copy_from_slice(bytemuck::cast_slice(&params));
        params_buf.unmap();
        let layout = self.pipeline(entry, &bindings).layout.clone();
        let mut entries = vec![wgpu::BindGroupEntry {
            binding: 0,
            resource: params_buf.as_entire_binding(),
        }];
        for (&binding, b) in bindings.iter().zip(bufs) {
            entries.push(wgpu::BindGroupEntry {
                binding,
                resource: self.buffer(*b).as_entire_binding(),
            });
        }
        let bind_group = self.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some(entry),
            layout: &layout,
            entries: &entries,
        });
        self.check_errors()?;
        self.launches.push(Prepared {
            pipeline: entry,
            bind_group,
            workgroups,
            _params: params_buf,
        });
        Ok(LaunchId(self.launches.len() - 1))
    }

    fn launch(&mut self, id: LaunchId) {
        self.pending.push(id);
    }

    fn submit(&mut self) -> Result<()> {
        let pending = std::mem::take(&mut self.pending);
        let mut enc = self
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("step"),
            });
        {
            let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("step"),
                timestamp_writes: None,
            });
            for id in &pending {
                let l = &self.launches[id.0];
                pass.set_pipeline(&self.pipelines[l.pipeline].pipeline);
                pass.set_bind_group(0, &l.bind_group, &[]);
                let (x, y, z) = l.workgroups;
                pass.dispatch_workgroups(x, y, z);
            }
        }
        self.queue.submit([enc.finish()]);
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
}
