//! Launches on the wgpu backend: the matmul variant a shape gets (timed once and cached),
//! preparing a launch (parameters, table, bind group, pipeline built once per entry point),
//! and encoding launches into one compute pass.

use super::texture::{encode_copy, plan_copies, CopyDst, OperandCopy};
use super::{GpuBackend, MatmulVariant, Pipeline, Prepared};
use crate::backend::autotune::{builtin_choice, shape_class, tuning_shape};
use crate::backend::contract::{Binding, Entry, TABLE_BINDING, TEXTURE_MAX_ROWS, TEXTURE_ROW};
use crate::backend::kernel::Kernel;
use crate::backend::launch::{GpuLaunch, MAX_WORKGROUPS};
use crate::backend::signature::{Arg, View, UNIFORM_VEC4S};
use crate::backend::{Backend, BufId, LaunchId};
use crate::error::{Error, Result};

impl GpuBackend {
    /// The variant for a matmul shape: forced, cached, or timed now (each candidate run on
    /// this shape; the fastest is cached) — in a browser, the provisional variant until
    /// [`GpuBackend::tune_deferred`] times the class.
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
        if cfg!(target_arch = "wasm32") {
            // A browser cannot wait for the device here: a provisional variant now, the
            // class timed when the page awaits [`GpuBackend::tune_deferred`].
            if self.times_new_classes() {
                self.defer(class, (m, k, n), (ta, tb));
            }
            self.last_matmul = self.provisional;
            return Ok(self.provisional);
        }
        if !self.times_new_classes() {
            let first = builtin_choice(&class, self.has_variant(MatmulVariant::Subgroup));
            if self.info.adapter.starts_with("llvmpipe") {
                // CI checks every variant against the CPU reference on llvmpipe
                // (tests/parity, `steadygrad verify`): taken as it is there, since a check
                // would compile a pipeline more per class.
                self.last_matmul = first;
                return Ok(first);
            }
            // Elsewhere the built-in choice once it matched the CPU reference here (else
            // the first variant that does); the checked choice is cached.
            let (pm, pk, pn) = tuning_shape(m, k, n);
            let rest = self.candidates().into_iter().filter(|&v| v != first);
            let order = std::iter::once(first).chain(rest);
            for v in order {
                match self.check_matmul_variant(v, (pm, pk, pn), (ta, tb)) {
                    Ok(e) if e <= 1.0 => {
                        self.remember(&class, v);
                        return Ok(v);
                    }
                    Ok(e) => eprintln!(
                        "warning: matmul variant {} left out for {class} on {}: {e:.1}× the CPU reference's tolerance",
                        v.name(),
                        self.info.adapter
                    ),
                    Err(e) => eprintln!(
                        "warning: matmul variant {} left out for {class} on {}: {e}",
                        v.name(),
                        self.info.adapter
                    ),
                }
            }
            return Err(Error::Gpu(format!(
                "no matmul variant matches the CPU reference on {} for shape class {class}",
                self.info.adapter
            )));
        }
        #[cfg(not(target_arch = "wasm32"))]
        return pollster::block_on(self.time_class(
            &class,
            (m, k, n),
            (ta, tb),
            &self.candidates(),
        ))
        .map(|(v, _)| v);
        #[cfg(target_arch = "wasm32")]
        Ok(self.provisional)
    }

    /// Records the choice for a shape class, in memory and in the cache file.
    pub(super) fn remember(&mut self, class: &str, v: MatmulVariant) {
        self.tune.set(&self.tune_key, class, v);
        if let Some(p) = &self.tune_path {
            // The cache is an optimization: failing to write it only means choosing again.
            let _ = self.tune.save(p);
        }
        self.last_matmul = v;
    }

    /// Prepares a launch already lowered (parameters and grid fixed): its bindings follow
    /// from the kernel's buffers and the entry's views of them.
    pub(super) fn prepare_launch(
        &mut self,
        kernel: &Kernel,
        bufs: &[BufId],
        launch: GpuLaunch,
    ) -> Result<LaunchId> {
        let workgroups = launch.grid;
        let (x, y, z) = workgroups;
        if [x, y, z].iter().any(|&w| w as usize > MAX_WORKGROUPS) {
            return Err(Error::Shape(format!(
                "{kernel:?} is too large for one dispatch"
            )));
        }
        let entry = launch.entry;
        let args = kernel.args();
        let bindings = entry.bindings(&args);
        let storage = entry.storage_buffers(&args);
        let limit = self.device.limits().max_storage_buffers_per_shader_stage as usize;
        if storage > limit {
            return Err(Error::Config(format!(
                "{} binds {storage} storage buffers; {} allows {limit} a kernel",
                entry.name(),
                self.info.adapter
            )));
        }
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
        let (pipeline, layout) = {
            let p = self.pipeline(entry, &args, &bindings, &launch.constants);
            (p.pipeline.clone(), p.layout.clone())
        };
        let table = if launch.table.is_empty() {
            None
        } else {
            let mut words: Vec<u32> = launch.table.iter().flatten().copied().collect();
            // A uniform table is a whole block, as the WGSL declares it.
            let uniform = entry.module().table() == Some(View::Uniform);
            if uniform {
                if launch.table.len() > UNIFORM_VEC4S {
                    return Err(Error::Shape(format!(
                        "{} reads a table of {} rows from a uniform block of {UNIFORM_VEC4S}",
                        entry.name(),
                        launch.table.len()
                    )));
                }
                words.resize(UNIFORM_VEC4S * 4, 0);
            }
            let t = self.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("arena table"),
                size: (words.len() * 4) as u64,
                usage: if uniform {
                    wgpu::BufferUsages::UNIFORM
                } else {
                    wgpu::BufferUsages::STORAGE
                },
                mapped_at_creation: true,
            });
            t.slice(..)
                .get_mapped_range_mut()
                .map_err(|e| Error::Gpu(format!("writing a launch table: {e}")))?
                .copy_from_slice(bytemuck::cast_slice(&words));
            t.unmap();
            Some(t)
        };
        // Operand textures and uniform blocks first (they borrow the backend mutably), then
        // the entries.
        let mut copies = Vec::new();
        for binding in &bindings {
            let (true, Some(arg)) = (binding.texture || binding.uniform, binding.arg) else {
                continue;
            };
            let (root, offset, words) = self.span(bufs[arg]);
            // What the kernel reads (its least length): a tensor placed in a larger buffer
            // (the step's temporaries share buffers) is copied alone.
            let words = words.min(args[arg].min_len);
            let buffer = self.buffer(root).clone();
            let offset = (offset * 4) as u64;
            if binding.uniform {
                // The kernel reads at most what its launch let fit a block; the buffer
                // is allocated in whole vec4s.
                let texels = words.div_ceil(4).min(UNIFORM_VEC4S);
                let block = self.operand_block(binding.index);
                copies.push(OperandCopy {
                    buffer,
                    offset,
                    texels,
                    key: None,
                    dst: CopyDst::Uniform(block),
                });
            } else {
                // The kernel reads at most what shape() let fit a texture; a larger
                // buffer's tail is not copied.
                let texels = words.div_ceil(4).min(TEXTURE_ROW * TEXTURE_MAX_ROWS);
                let key = (root.0, offset, texels);
                let (texture, view) = self.operand_texture(key);
                copies.push(OperandCopy {
                    buffer,
                    offset,
                    texels,
                    key: Some(key),
                    dst: CopyDst::Texture(texture, view),
                });
            }
        }
        let mut entries = vec![wgpu::BindGroupEntry {
            binding: 0,
            resource: params_buf.as_entire_binding(),
        }];
        let mut copied = copies.iter();
        for binding in &bindings {
            let Some(arg) = binding.arg else { continue };
            if binding.texture || binding.uniform {
                entries.push(wgpu::BindGroupEntry {
                    binding: binding.index,
                    resource: copied.next().unwrap().dst.resource(),
                });
                continue;
            }
            let (root, offset, words) = self.span(bufs[arg]);
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
                binding: TABLE_BINDING,
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
        let writes = (args.iter().zip(bufs))
            .filter(|(a, _)| a.writes())
            .map(|(_, &b)| self.span(b).0 .0)
            .collect();
        self.launches.push(Prepared {
            pipeline,
            bind_group,
            workgroups,
            copies,
            writes,
            _params: params_buf,
            _table: table,
        });
        Ok(LaunchId(self.launches.len() - 1))
    }

    /// One command buffer dispatching `ids` in order, and the bytes it copies into operand
    /// textures and blocks: one compute pass, ended before each launch that needs copies so
    /// that they go in between ([`plan_copies`]; `share`: a texture filled once serves
    /// every later launch reading it until its buffer is written).
    pub(super) fn encode(
        &self,
        ids: &[LaunchId],
        label: &str,
        share: bool,
    ) -> (wgpu::CommandBuffer, u64) {
        let mut enc = self
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some(label) });
        let launches: Vec<(Vec<_>, &[usize])> = ids
            .iter()
            .map(|id| {
                let l = &self.launches[id.0];
                (l.copies.iter().map(|c| c.key).collect(), &l.writes[..])
            })
            .collect();
        let needed: Vec<Vec<&OperandCopy>> = (plan_copies(&launches, share).into_iter())
            .zip(ids)
            .map(|(n, id)| {
                n.into_iter()
                    .map(|i| &self.launches[id.0].copies[i])
                    .collect()
            })
            .collect();
        let mut bytes = 0;
        let mut at = 0;
        while at < ids.len() {
            // This pass: the first launch (after its copies) and those up to the next one
            // that needs copies of its own.
            let end = (at + 1..ids.len())
                .find(|&i| !needed[i].is_empty())
                .unwrap_or(ids.len());
            for copy in &needed[at] {
                encode_copy(&mut enc, copy);
                bytes += (copy.texels * 16) as u64;
            }
            let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some(label),
                timestamp_writes: None,
            });
            for id in &ids[at..end] {
                let l = &self.launches[id.0];
                pass.set_pipeline(&l.pipeline);
                pass.set_bind_group(0, &l.bind_group, &[]);
                let (x, y, z) = l.workgroups;
                pass.dispatch_workgroups(x, y, z);
            }
            at = end;
        }
        (enc.finish(), bytes)
    }

    pub(super) fn check_errors(&self) -> Result<()> {
        let mut errs = self.errors.lock().unwrap();
        if errs.is_empty() {
            Ok(())
        } else {
            let msg = errs.join("; ");
            errs.clear();
            Err(Error::Gpu(msg))
        }
    }

    pub(super) fn buffer(&self, b: BufId) -> &wgpu::Buffer {
        &self.bufs[b.0].as_ref().expect("buffer used after free").0
    }

    /// The pipeline of an entry point with the launch's own constants (beside the entry's),
    /// built the first time that combination is asked for; its module's declarations come
    /// from the kernel's buffers `args`, its layout from `bindings`.
    pub(super) fn pipeline(
        &mut self,
        entry: Entry,
        args: &[Arg],
        bindings: &[Binding],
        constants: &[(&'static str, f64)],
    ) -> &Pipeline {
        let key = (
            entry,
            constants
                .iter()
                .map(|(name, v)| (*name, v.to_bits()))
                .collect::<Vec<_>>(),
        );
        if !self.pipelines.contains_key(&key) {
            let all: Vec<(&str, f64)> =
                entry.constants().iter().chain(constants).copied().collect();
            let module = entry.module();
            let device = &self.device;
            let shader = self.modules.entry(module.name).or_insert_with(|| {
                device.create_shader_module(wgpu::ShaderModuleDescriptor {
                    label: Some(module.name),
                    source: wgpu::ShaderSource::Wgsl(module.source(args).into()),
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
                let ty = if b.uniform {
                    wgpu::BindingType::Buffer {
                        ty: wgpu::BufferBindingType::Uniform,
                        has_dynamic_offset: false,
                        min_binding_size: None,
                    }
                } else if b.texture {
                    // rgba32float is not filterable without a feature; textureLoad needs none.
                    wgpu::BindingType::Texture {
                        sample_type: wgpu::TextureSampleType::Float { filterable: false },
                        view_dimension: wgpu::TextureViewDimension::D2,
                        multisampled: false,
                    }
                } else {
                    wgpu::BindingType::Buffer {
                        // llvmpipe compiles loads from read-write storage far more
                        // conservatively: the matmul ran ~10× slower with read-write inputs.
                        ty: wgpu::BufferBindingType::Storage {
                            read_only: b.read_only,
                        },
                        has_dynamic_offset: false,
                        min_binding_size: None,
                    }
                };
                entries.push(wgpu::BindGroupLayoutEntry {
                    binding: b.index,
                    visibility: wgpu::ShaderStages::COMPUTE,
                    ty,
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
                        constants: &all,
                        // Every kernel writes its workgroup memory before reading it.
                        zero_initialize_workgroup_memory: false,
                    },
                    cache: None,
                });
            self.pipelines
                .insert(key.clone(), Pipeline { pipeline, layout });
        }
        &self.pipelines[&key]
    }
}

/// Rows one invocation of a column kernel can walk on llvmpipe: its loops stop after
/// 65,535 iterations in all, and the walks take `ROW_UNROLL` (8) rows an iteration
/// (`shaders/loops.wgsl`), three walks at most (batch normalization's training pass).
pub const LLVMPIPE_MAX_COLUMN_ROWS: usize = 65_535 * 8 / 3;

/// On llvmpipe, a column kernel whose walk would be cut short is refused (it would
/// compute garbage, silently): a convolution's activations of more than
/// [`LLVMPIPE_MAX_COLUMN_ROWS`] positions in a batch (batch × height × width).
pub(super) fn check_column_walk(kernel: &Kernel) -> Result<()> {
    let rows = match *kernel {
        Kernel::BnTrain { rows, .. }
        | Kernel::BnTrainGatherU8 { rows, .. }
        | Kernel::BnTrainXhat { rows, .. }
        | Kernel::BnBackward { rows, .. }
        | Kernel::BnActBackward { rows, .. }
        | Kernel::BnMoments { rows, .. }
        | Kernel::BnNormalize { rows, .. }
        | Kernel::BnBackwardSums { rows, .. }
        | Kernel::BnBackwardDx { rows, .. }
        | Kernel::ColumnSum { rows, .. } => rows,
        Kernel::BiasActBackward { rows, stripes, .. } => rows.div_ceil(stripes),
        _ => return Ok(()),
    };
    if rows > LLVMPIPE_MAX_COLUMN_ROWS {
        return Err(Error::Config(format!(
            "{:?} over {rows} rows (batch × positions): llvmpipe runs at most {LLVMPIPE_MAX_COLUMN_ROWS} \
             in one column; use a smaller batch size or the CPU reference (--device cpu)",
            crate::backend::KernelKind::from(kernel)
        )));
    }
    Ok(())
}
