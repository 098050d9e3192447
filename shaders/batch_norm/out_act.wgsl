// The activation batch norm's training forward applies as it stores its output
// (Kernel::BnTrainAct: batch norm, then an activation layer reading nothing else), fixed
// per pipeline; ACT_LINEAR (the default) for every other batch-norm kernel, whose output
// is then stored as computed. RReLU only outside training (its mean slope): a drawn slope
// would need the step record. Declared before this file: activation.wgsl.
override OUT_ACT: u32 = 0u;
override OUT_F0: f32 = 0.0;
override OUT_F1: f32 = 0.0;

// Value i of the output.
fn out_act(v: f32, i: u32) -> f32 {
    return act(Act(OUT_ACT, 0u, OUT_F0, OUT_F1), v, i, 0u);
}

// Values 4·q.. of the output.
fn out_act4(v: vec4<f32>, q: u32) -> vec4<f32> {
    let i = 4u * q;
    return vec4<f32>(out_act(v.x, i), out_act(v.y, i + 1u), out_act(v.z, i + 2u), out_act(v.w, i + 3u));
}
