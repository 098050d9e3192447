//! One kernel launch as the ops describe it to a backend ([`GpuLaunch`]): its entry
//! point, its typed `Params` ([`ShaderParams`], declared with `shader_params!` beside the
//! op that fills them), its workgroup grid, and the table and pipeline constants a launch
//! may carry; with the grid helpers the ops size their launches by.

use super::contract::Entry;

/// Everything the GPU needs to launch one kernel besides its buffers: entry point, the
/// `Params` bytes, the workgroup grid, and a table and constants where it has them.
#[derive(Clone, Debug, PartialEq)]
pub struct GpuLaunch {
    /// Entry point.
    pub entry: Entry,
    /// The module's `Params` struct as bytes.
    pub params: Vec<u8>,
    /// Workgroups in x, y, z.
    pub grid: (u32, u32, u32),
    /// A read-only table of `vec4<u32>` rows the launch reads at
    /// [`TABLE_BINDING`](super::signature::TABLE_BINDING) (the
    /// arena kernels' per-chunk and per-tensor records); the backend keeps it in a buffer
    /// of the launch's own. Empty: none.
    pub table: Vec<[u32; 4]>,
    /// Pipeline-overridable constants of this launch, beside the entry's own
    /// ([`Entry::constants`]): a pipeline is built per distinct set, so values that would
    /// otherwise be uniforms branched on inside a loop are folded away.
    pub constants: Vec<(&'static str, f64)>,
}

impl GpuLaunch {
    /// A launch with `params` serialized from a typed parameter struct.
    pub fn new<P: ShaderParams>(entry: Entry, params: P, grid: (u32, u32, u32)) -> Self {
        GpuLaunch {
            entry,
            params: bytemuck::bytes_of(&params).to_vec(),
            grid,
            table: Vec::new(),
            constants: Vec::new(),
        }
    }

    /// The launch with its own pipeline constants (see [`GpuLaunch::constants`]).
    pub fn with_constants(mut self, constants: Vec<(&'static str, f64)>) -> Self {
        self.constants = constants;
        self
    }

    /// The launch with a table at [`TABLE_BINDING`](super::signature::TABLE_BINDING) (its
    /// module must read one).
    pub fn with_table(mut self, table: Vec<[u32; 4]>) -> Self {
        self.table = table;
        self
    }
}

/// A `#[repr(C)]` uniform parameter struct, declared to WGSL as `struct Params`.
pub trait ShaderParams: bytemuck::Pod {
    /// Field names and WGSL types, in order.
    const FIELDS: &'static [(&'static str, &'static str)];
}

/// Declares a `#[repr(C)]` parameter struct together with its field list, from which its
/// modules' WGSL `struct Params` is generated.
macro_rules! shader_params {
    ($(#[$meta:meta])* $name:ident { $($(#[$fmeta:meta])* $field:ident : $ty:ident),* $(,)? }) => {
        $(#[$meta])*
        #[repr(C)]
        #[derive(Clone, Copy, Debug, Default, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
        pub struct $name {
            $($(#[$fmeta])* pub $field: $ty),*
        }
        impl $crate::backend::launch::ShaderParams for $name {
            const FIELDS: &'static [(&'static str, &'static str)] =
                &[$((stringify!($field), stringify!($ty))),*];
        }
    };
}
pub(crate) use shader_params;

/// Workgroups one dispatch may have along each dimension (WebGPU's guaranteed
/// `maxComputeWorkgroupsPerDimension`).
pub const MAX_WORKGROUPS: usize = 65_535;

/// `ceil(a / b)` as a workgroup count (at least 1).
pub fn ceil_div(a: usize, b: usize) -> u32 {
    a.div_ceil(b).max(1) as u32
}

/// A 1-D launch of `count` invocations in 256-wide workgroups, folded into 2-D when it
/// exceeds the 65,535 workgroups one dimension allows.
pub fn grid_256(count: usize) -> (u32, u32, u32) {
    grid_of(count, 256)
}

/// [`grid_256`] for workgroups of 64.
pub fn grid_64(count: usize) -> (u32, u32, u32) {
    grid_of(count, 64)
}

fn grid_of(count: usize, size: usize) -> (u32, u32, u32) {
    let groups = ceil_div(count, size);
    let x = groups.min(MAX_WORKGROUPS as u32);
    (x, groups.div_ceil(x), 1)
}
