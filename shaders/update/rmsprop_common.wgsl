// Keras RMSprop (keras/src/optimizers/rmsprop.py), a = rho, b = momentum (step scalar 0:
// the step's momentum, which a schedule may move):
//   v ← ρ·v + (1 − ρ)·g²; centered: ḡ ← ρ·ḡ + (1 − ρ)·g, den = v − ḡ² + ε; else den = v + ε;
//   inc = lr·g / sqrt(den); with momentum: m ← b·m + inc, w ← w − m; else w ← w − inc.
// One entry per configuration (a file each), so each binds exactly Keras's variables:
// velocity, then momentum (with momentum), then average_gradient (centered).

// Updates the velocity of vec4 i and returns lr·g / sqrt(den) with den from `avg`
// (the new average gradient; unused when not centered).
fn rms_increment(i: u32, g: vec4<f32>, centered: bool, avg: vec4<f32>) -> vec4<f32> {
    let rho = p.a;
    let v0 = read_velocity(i);
    let v = rho * v0 + (1.0 - rho) * g * g;
    velocity4[i] = keep(i, v0, v);
    var den = v + p.epsilon;
    if (centered) { den = v - avg * avg + p.epsilon; }
    return learning_rate() * g / sqrt(den);
}

fn new_average(old: vec4<f32>, g: vec4<f32>) -> vec4<f32> {
    return p.a * old + (1.0 - p.a) * g;
}
