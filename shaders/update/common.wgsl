// Shared by the optimizer update kernels (each file of this folder follows it):
// one launch updates every tensor of the arenas (weights, gradients, state: a tensor sits
// at the same offset in each). One workgroup per chunk of 1024 words of one tensor, found
// in the chunk table (walk_chunk); an invocation per four vec4s; lanes past the tensor's
// end (arena padding) compute but store nothing. Bindings: w, g, clip scales, the step
// record, then the rule's state arenas (Keras's optimizer variables, named as Keras names
// them) in order.
//
// The step record: [step (u32), batch offset (u32), learning rate (f32), unused,
// per-step optimizer scalars ×4 (f32)], written by the host once per step.

// The clip scales and the step record are read through `read1_scales` and `read1_step`
// (generated), and the chunk table is declared (generated) from uniform blocks in the
// texture entries (CPU adapters, where a storage load is one per lane and vec4 of the
// arenas: the seed network's update 2.7–3.5 → 1.0–1.6 ms on llvmpipe with those loads
// shared by the lanes; llvmpipe now takes the storage entries, which overtook these
// there), from storage otherwise.
//
// Declared before this file (generated from Rust): `p` (UpdateParams: chunks = rows of
// the chunk table, flags bit 0 Nesterov (SGD), clipvalue (0 = off), weight_decay (0 =
// off), a and b = the rule's hyper-parameters (rho, beta_1, beta_2, …), epsilon), the buffers `w`, `grad`,
// `scales`, `step` and the rule's state (each arena seen as vec4s: `w4`, `grad4`, …), and
// `table`: per chunk (first vec4 of the chunk, words of its tensor from there, slot in the
// scales, learning-rate multiplier bits).

// This invocation's chunk row, the place in the chunk of the vec4 it is at, and the
// per-chunk values every vec4 of it shares (its tensor's clip scale and learning rate, the
// step's scalars), read once (set by walk_chunk).
var<private> row: vec4<u32>;
var<private> lane0: u32;
var<private> scale_now: f32;
var<private> lr_now: f32;
var<private> scalars_now: vec4<f32>;

// A workgroup's chunk: 64 invocations, each through four of its 256 vec4s (64 apart), so
// that the chunk row, clip scale, learning rate and step scalars are read once for four
// (on llvmpipe every storage load is one per lane: the seed network's SGD update 0.95–0.98 →
// 0.85–0.87 ms at batch 32). Each rule file defines update_vec4(i).
fn walk_chunk(wid: vec3<u32>, lid: vec3<u32>, nwg: vec3<u32>) {
    let c = wid.x + wid.y * nwg.x;
    if (c < p.chunks) { row = table[c]; } else { row = vec4<u32>(0u); }
    scale_now = read1_scales(row.z);
    lr_now = bitcast<f32>(read1_step(2u)) * lr_mult();
    scalars_now = bitcast<vec4<f32>>(vec4<u32>(read1_step(4u), read1_step(5u), read1_step(6u), read1_step(7u)));
    for (var j = 0u; j < 4u; j++) {
        let l = lid.x + 64u * j;
        lane0 = l * 4u;
        if (!in_tensor(row.x + l)) { break; }
        update_vec4(row.x + l);
    }
}

// Whether vec4 i holds any element of its tensor.
fn in_tensor(i: u32) -> bool {
    return lane0 < row.y;
}

// `updated` in the lanes inside the tensor, `current` in the padding.
fn keep(i: u32, current: vec4<f32>, updated: vec4<f32>) -> vec4<f32> {
    let lanes = vec4<u32>(lane0) + vec4<u32>(0u, 1u, 2u, 3u);
    return select(current, updated, lanes < vec4<u32>(row.y));
}

// The tensor's learning-rate multiplier.
fn lr_mult() -> f32 {
    return bitcast<f32>(row.w);
}

// The gradient after norm clipping (a factor per tensor) and value clipping.
fn clipped_grad(i: u32) -> vec4<f32> {
    var g = read_grad(i) * scale_now;
    if (p.clipvalue > 0.0) { g = clamp(g, vec4<f32>(-p.clipvalue), vec4<f32>(p.clipvalue)); }
    return g;
}

fn learning_rate() -> f32 {
    return lr_now;
}

// Per-step scalar k (0..3) the host computed for this step.
fn step_scalar(k: u32) -> f32 {
    return scalars_now[k];
}

// The weight w (vec4 i, read once by the rule) as the rule's step sees it: decayed first
// by Keras's decoupled weight decay, w − w·wd·lr (a no-op when weight_decay is 0). Each
// rule reads every arena's vec4 once and stores it once: on llvmpipe every storage access
// is a loop over the lanes, so a second read of the same vec4 costs as much as the first.
fn decayed(w: vec4<f32>) -> vec4<f32> {
    return w - w * p.weight_decay * learning_rate();
}
