// Shared by the element-wise and row-wise kernels of this folder. Declared before this
// file (generated from Rust): `p` (ElementwiseParams: n = element count, or rows for the
// row-wise kernels; cols; code = activation code; flags bit 0 training (RReLU draws
// slopes), bits 8.. RReLU's layer seed; f0..f3 float parameters) and the kernel's buffers.

// Flattened invocation index for 2-D dispatches of 256-wide workgroups.
fn flat(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
    return gid.x + gid.y * nwg.x * 256u;
}
