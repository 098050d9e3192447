// The vec4 each of a subgroup's eight lanes holds, in every lane (lane j's at j): eight
// subgroupBroadcasts, on a CPU adapter register shuffles. Shared by the subgroup matmul
// (matmul/subgroup.wgsl), the implicit-matmul convolution (window/conv_gemm.wgsl), its kernel
// gradient and its input gradient (window/conv_input_grad.wgsl).
// Indexed with constants only (a private array indexed at run time is spilled to memory on
// CPU adapters).
fn lanes8(a: vec4<f32>) -> array<vec4<f32>, 8> {
    return array<vec4<f32>, 8>(
        subgroupBroadcast(a, 0u),
        subgroupBroadcast(a, 1u),
        subgroupBroadcast(a, 2u),
        subgroupBroadcast(a, 3u),
        subgroupBroadcast(a, 4u),
        subgroupBroadcast(a, 5u),
        subgroupBroadcast(a, 6u),
        subgroupBroadcast(a, 7u),
    );
}
