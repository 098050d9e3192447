//! A launch's bindings, as its kernel's buffers ([`Arg`]s) and its entry point's declared
//! views give them: the one derivation the pipeline layout, the bind group and the
//! storage-buffer limit checks all use.

use super::{Access, Arg, Entry, View, TABLE_BINDING};

/// One binding of a launch, derived from its kernel's [`Arg`]s and its entry's views.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Binding {
    /// `@binding(N)` in group 0 (0 is always the `Params` uniform).
    pub index: u32,
    /// The kernel's buffer it views (none for the launch's table).
    pub arg: Option<usize>,
    /// Declared `read` (true) or `read_write`; textures are read-only.
    pub read_only: bool,
    /// An rgba32float texture the backend fills from the buffer before the launch.
    pub texture: bool,
    /// A uniform block the backend fills from the buffer before the launch.
    pub uniform: bool,
}

impl Entry {
    /// How the entry sees buffer `name`: its declared views (a buffer may have several,
    /// e.g. a texture to read and a vec4 view to write), or plain scalars.
    pub fn views_of(&self, name: &str) -> Vec<View> {
        let v: Vec<View> = self
            .views()
            .iter()
            .filter(|(n, _)| *n == name)
            .map(|(_, v)| *v)
            .collect();
        if v.is_empty() {
            vec![View::Scalar]
        } else {
            v
        }
    }

    /// Storage buffers a launch of this entry over buffers `args` binds (its bindings other
    /// than textures and uniform blocks): what `max_storage_buffers_per_shader_stage`
    /// limits.
    pub fn storage_buffers(&self, args: &[Arg]) -> usize {
        let bindings = self.bindings(args);
        bindings.iter().filter(|b| !b.texture && !b.uniform).count()
    }

    /// The bindings of a launch of this entry over buffers `args` (each buffer's views, in
    /// order), then the table's when the module reads one.
    pub fn bindings(&self, args: &[Arg]) -> Vec<Binding> {
        let mut out: Vec<Binding> = Vec::new();
        for (i, a) in args.iter().enumerate() {
            for view in self.views_of(a.name) {
                out.push(Binding {
                    index: view.binding(i),
                    arg: Some(i),
                    read_only: a.access == Access::Read
                        || matches!(view, View::Texture | View::Uniform),
                    texture: view == View::Texture,
                    uniform: view == View::Uniform,
                });
            }
        }
        if let Some(view) = self.module().table() {
            out.push(Binding {
                index: TABLE_BINDING,
                arg: None,
                read_only: true,
                texture: false,
                uniform: view == View::Uniform,
            });
        }
        out
    }
}
