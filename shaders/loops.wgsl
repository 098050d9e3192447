// Long walks, unrolled. llvmpipe (Mesa's gallivm) stops a shader invocation's loops after
// 65,535 iterations in all, silently; one walk down a column of a convolution's
// activations at batch 100 already takes 67,600. The column walks below take ROW_UNROLL
// rows an iteration (an inner loop of constant length, which the compiler unrolls), so a
// column of up to 524,280 rows fits — 174,760 for batch norm's three walks.
const ROW_UNROLL: u32 = 8u;
