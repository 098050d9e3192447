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

// The eight rows of the first half's group, or (`second`) of the second's: where a subgroup
// owns two blocks of 32 rows, lanes 0–3 the first's and lanes 4–7 the second's (HALVES in
// window/conv_gemm_taps.wgsl).
fn half_of(a: array<vec4<f32>, 8>, b: array<vec4<f32>, 8>, second: bool) -> array<vec4<f32>, 8> {
    return array<vec4<f32>, 8>(
        select(a[0], b[0], second),
        select(a[1], b[1], second),
        select(a[2], b[2], second),
        select(a[3], b[3], second),
        select(a[4], b[4], second),
        select(a[5], b[5], second),
        select(a[6], b[6], second),
        select(a[7], b[7], second),
    );
}
