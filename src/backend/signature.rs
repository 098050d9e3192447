//! A kernel's buffers, declared once ([`Kernel::args`](super::Kernel::args)): each one's
//! name, access, element type and least length. Everything else follows from that list:
//! the arity, aliasing and size checks before a launch is prepared
//! (`super::validate_launch`), which buffers a node writes (for the planner and
//! autodiff), the WGSL declarations of the buffers ([`wgsl_header`], prepended to every
//! shader module, so a kernel's WGSL names its buffers as Rust does and cannot bind them
//! differently), and the bind-group layout and bind group of every launch.
//!
//! An entry point sees each buffer through one [`View`]: its scalars (`x`), its vec4s
//! (`x4`) or, for a read-only buffer the backend copies into an rgba32float texture
//! before the launch, that texture (`x_tex`). The binding number follows from the
//! buffer's position and the view ([`View::binding`]).

use std::fmt::Write;

/// How a kernel uses one of its buffers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Access {
    /// Only reads it (`var<storage, read>`).
    Read,
    /// Writes it, and may read it too (`var<storage, read_write>`).
    ReadWrite,
}

/// The element type of a buffer's scalar view. Buffers are untyped 4-byte words; this
/// is how the kernel reads them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Elem {
    /// `f32`.
    F32,
    /// `u32` (labels, indices, the step record).
    U32,
}

impl Elem {
    /// The WGSL scalar type.
    pub fn wgsl(self) -> &'static str {
        match self {
            Elem::F32 => "f32",
            Elem::U32 => "u32",
        }
    }
}

/// One buffer of a kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Arg {
    /// Its name, which is also the WGSL variable's.
    pub name: &'static str,
    /// Read, or read and written.
    pub access: Access,
    /// Element type.
    pub elem: Elem,
    /// The least length in 4-byte words (checked before a launch is prepared, so a size
    /// bug is a typed error rather than an out-of-bounds access on the device).
    pub min_len: usize,
}

impl Arg {
    /// An f32 buffer the kernel only reads.
    pub const fn read(name: &'static str, min_len: usize) -> Arg {
        Arg {
            name,
            access: Access::Read,
            elem: Elem::F32,
            min_len,
        }
    }

    /// An f32 buffer the kernel writes (and may read).
    pub const fn write(name: &'static str, min_len: usize) -> Arg {
        Arg {
            name,
            access: Access::ReadWrite,
            elem: Elem::F32,
            min_len,
        }
    }

    /// The same buffer holding u32 values.
    pub const fn u32(self) -> Arg {
        Arg {
            elem: Elem::U32,
            ..self
        }
    }

    /// Whether the kernel writes it.
    pub fn writes(&self) -> bool {
        self.access == Access::ReadWrite
    }
}

/// How an entry point sees a buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum View {
    /// As scalars: `name: array<elem>`.
    Scalar,
    /// As vec4s: `name4: array<vec4<elem>>` (the buffer is allocated in whole vec4s).
    Vec4,
    /// As an rgba32float texture, `name_tex: texture_2d<f32>`, texel `i` holding vec4
    /// number `i` at `(i % TEXTURE_ROW, i / TEXTURE_ROW)`; the backend copies the buffer
    /// in right before the launch. Read-only buffers only.
    Texture,
    /// As a uniform block, `name_u: array<vec4<f32>, UNIFORM_VEC4S>`: the buffer's first
    /// [`UNIFORM_VEC4S`] vec4s, copied in right before the launch. Read-only f32 buffers
    /// only. On CPU adapters a load from a uniform block at an index every lane shares is
    /// one scalar load, where a storage or texture load is one per lane.
    Uniform,
}

/// The vec4s of a [`View::Uniform`] block: 64 KiB, the uniform binding size every
/// WebGPU adapter allows.
pub const UNIFORM_VEC4S: usize = 4096;

/// Whether `words` elements fit a uniform block ([`UNIFORM_VEC4S`] vec4s).
pub fn fits_uniform(words: usize) -> bool {
    words.div_ceil(4) <= UNIFORM_VEC4S
}

/// Bindings a view of buffer position `i` takes: `1 + i + VIEW_STRIDE·view`.
pub const VIEW_STRIDE: u32 = 16;

/// The most buffers a kernel may take (the bindings of one view stay below the next).
pub const MAX_ARGS: usize = 14;

/// Where a launch's table of `vec4<u32>` rows sits (see
/// [`GpuLaunch::table`](super::launch::GpuLaunch::table)).
pub const TABLE_BINDING: u32 = 15;

impl View {
    /// The `@binding` of buffer position `i` seen this way (0 is the `Params` uniform).
    pub fn binding(self, i: usize) -> u32 {
        let k = match self {
            View::Scalar => 0,
            View::Vec4 => 1,
            View::Texture => 2,
            View::Uniform => 3,
        };
        1 + i as u32 + VIEW_STRIDE * k
    }

    /// The WGSL variable of buffer `name` seen this way.
    pub fn var(self, name: &str) -> String {
        match self {
            View::Scalar => name.to_string(),
            View::Vec4 => format!("{name}4"),
            View::Texture => format!("{name}_tex"),
            View::Uniform => format!("{name}_u"),
        }
    }
}

/// The WGSL declarations every module of a kernel begins with: its `Params` uniform
/// (`fields`: name and WGSL type, in order), its buffers in their scalar view plus the
/// other views in `views` (by buffer name; the views any entry point of the module uses),
/// with `table` the table binding (a storage buffer, or with [`View::Uniform`] a uniform
/// block), and with `readers` a `read_<name>(i)` function for each buffer with a vec4,
/// texture or uniform view (its vec4 number i, through the texture or block if it has
/// one) and a `read1_<name>(i)` for each buffer (element i, likewise).
pub fn wgsl_header(
    fields: &[(&str, &str)],
    args: &[Arg],
    views: &[(&str, View)],
    table: Option<View>,
    readers: bool,
) -> String {
    let mut s = String::from("// Generated from the kernel's declared buffers (Kernel::args).\n");
    s.push_str("struct Params {\n");
    for (name, ty) in fields {
        let _ = writeln!(s, "    {name}: {ty},");
    }
    s.push_str("}\n@group(0) @binding(0) var<uniform> p: Params;\n");
    for (i, a) in args.iter().enumerate() {
        let access = match a.access {
            Access::Read => "read",
            Access::ReadWrite => "read_write",
        };
        let elem = a.elem.wgsl();
        let _ = writeln!(
            s,
            "@group(0) @binding({}) var<storage, {access}> {}: array<{elem}>;",
            View::Scalar.binding(i),
            a.name
        );
        for &(name, view) in views {
            if name != a.name {
                continue;
            }
            let var = view.var(a.name);
            let b = view.binding(i);
            match view {
                View::Scalar => {}
                View::Vec4 => {
                    let _ = writeln!(
                        s,
                        "@group(0) @binding({b}) var<storage, {access}> {var}: array<vec4<{elem}>>;"
                    );
                }
                View::Texture => {
                    let _ = writeln!(s, "@group(0) @binding({b}) var {var}: texture_2d<f32>;");
                }
                View::Uniform => {
                    let _ = writeln!(
                        s,
                        "@group(0) @binding({b}) var<uniform> {var}: array<vec4<{elem}>, {UNIFORM_VEC4S}>;"
                    );
                }
            }
        }
    }
    match table {
        Some(View::Uniform) => {
            let _ = writeln!(
                s,
                "@group(0) @binding({TABLE_BINDING}) var<uniform> table: array<vec4<u32>, {UNIFORM_VEC4S}>;"
            );
        }
        Some(_) => {
            let _ = writeln!(
                s,
                "@group(0) @binding({TABLE_BINDING}) var<storage, read> table: array<vec4<u32>>;"
            );
        }
        None => {}
    }
    // `read_<name>(i)`: vec4 number i of each buffer with a vec4 or texture view, through
    // the texture when the module has one (shared code reads the same either way).
    for a in args.iter().filter(|_| readers) {
        let has = |v: View| views.contains(&(a.name, v));
        let row = super::contract::TEXTURE_ROW;
        let body = if has(View::Uniform) {
            format!("{}[i]", View::Uniform.var(a.name))
        } else if has(View::Texture) {
            format!(
                "textureLoad({}, vec2<u32>(i % {row}u, i / {row}u), 0)",
                View::Texture.var(a.name)
            )
        } else if has(View::Vec4) {
            format!("{}[i]", View::Vec4.var(a.name))
        } else {
            continue;
        };
        let _ = writeln!(
            s,
            "fn read_{}(i: u32) -> vec4<{}> {{ return {body}; }}",
            a.name,
            a.elem.wgsl()
        );
    }
    // `read1_<name>(i)`: element i of each buffer, component i % 4 of texel (or uniform
    // vec4) i / 4 when the module reads it through a texture (f32 buffers only) or a
    // uniform block.
    for a in args.iter().filter(|_| readers) {
        let row = super::contract::TEXTURE_ROW;
        let body = if views.contains(&(a.name, View::Uniform)) {
            format!("return {}[i / 4u][i % 4u];", View::Uniform.var(a.name))
        } else if views.contains(&(a.name, View::Texture)) {
            format!(
                "let t = i / 4u; return textureLoad({}, vec2<u32>(t % {row}u, t / {row}u), 0)[i % 4u];",
                View::Texture.var(a.name)
            )
        } else {
            format!("return {}[i];", a.name)
        };
        let _ = writeln!(
            s,
            "fn read1_{}(i: u32) -> {} {{ {body} }}",
            a.name,
            a.elem.wgsl()
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_declares_each_buffer_and_its_views() {
        let args = [
            Arg::read("a", 4),
            Arg::read("step", 8).u32(),
            Arg::write("c", 4),
        ];
        let h = wgsl_header(
            &[("n", "u32"), ("f", "f32")],
            &args,
            &[("a", View::Vec4), ("a", View::Texture)],
            Some(View::Scalar),
            true,
        );
        assert!(h.contains("struct Params {\n    n: u32,\n    f: f32,\n}"));
        assert!(h.contains("@binding(1) var<storage, read> a: array<f32>;"));
        assert!(h.contains("@binding(17) var<storage, read> a4: array<vec4<f32>>;"));
        assert!(h.contains("@binding(33) var a_tex: texture_2d<f32>;"));
        assert!(h.contains("@binding(2) var<storage, read> step: array<u32>;"));
        assert!(h.contains("@binding(3) var<storage, read_write> c: array<f32>;"));
        assert!(h.contains("@binding(15) var<storage, read> table: array<vec4<u32>>;"));
        assert!(h.contains(
            "fn read_a(i: u32) -> vec4<f32> { return textureLoad(a_tex, vec2<u32>(i % 1024u, i / 1024u), 0); }"
        ));
        assert!(!h.contains("fn read_c"));
        assert!(h.contains("fn read1_a(i: u32) -> f32 { let t = i / 4u; return textureLoad(a_tex,"));
        assert!(h.contains("fn read1_c(i: u32) -> f32 { return c[i]; }"));
        assert!(h.contains("fn read1_step(i: u32) -> u32 { return step[i]; }"));
    }

    #[test]
    fn a_uniform_view_is_a_64_kib_block_read_by_both_readers() {
        let args = [
            Arg::read("bias", 4),
            Arg::write("c", 4),
            Arg::read("step", 8).u32(),
        ];
        let views = [("bias", View::Uniform), ("step", View::Uniform)];
        let h = wgsl_header(&[("n", "u32")], &args, &views, Some(View::Uniform), true);
        assert!(h.contains("@binding(49) var<uniform> bias_u: array<vec4<f32>, 4096>;"));
        assert!(h.contains("@binding(51) var<uniform> step_u: array<vec4<u32>, 4096>;"));
        assert!(h.contains("fn read1_step(i: u32) -> u32 { return step_u[i / 4u][i % 4u]; }"));
        assert!(h.contains("@binding(15) var<uniform> table: array<vec4<u32>, 4096>;"));
        assert!(h.contains("fn read_bias(i: u32) -> vec4<f32> { return bias_u[i]; }"));
        assert!(h.contains("fn read1_bias(i: u32) -> f32 { return bias_u[i / 4u][i % 4u]; }"));
        assert_eq!(UNIFORM_VEC4S * 16, 65_536);
    }

    #[test]
    fn bindings_of_views_never_collide() {
        let mut seen = std::collections::HashSet::new();
        for view in [View::Scalar, View::Vec4, View::Texture, View::Uniform] {
            for i in 0..MAX_ARGS {
                let b = view.binding(i);
                assert_ne!(b, TABLE_BINDING);
                assert!(seen.insert(b), "binding {b} twice");
            }
        }
    }
}
