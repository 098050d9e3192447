// Long walks, unrolled. llvmpipe (Mesa's gallivm) stops a shader invocation's loops after
// 65,535 iterations in all, silently; one walk down a column of a convolution's
// activations at batch 100 already takes 67,600. The column walks below take ROW_UNROLL
// rows an iteration (an inner loop of constant length, which the compiler unrolls), so a
// column of up to 524,280 rows fits — 174,760 for batch norm's three walks.
const ROW_UNROLL: u32 = 8u;

// The items of stripe s when `total` items (rows, positions) are split into `stripes`
// stripes of ceil(total / stripes) consecutive items (the last ones shorter or empty): first,
// and one past the last. Consecutive, so that a stripe's walk streams through memory (on
// llvmpipe a walk of every stripes-th row, each 50 KB past the last, ran 2–6× slower).
// The Rust side: backend::ops::elementwise::stripe_rows.
fn stripe_range(s: u32, total: u32, stripes: u32) -> vec2<u32> {
    let per = (total + stripes - 1u) / stripes;
    return vec2<u32>(min(s * per, total), min(s * per + per, total));
}
