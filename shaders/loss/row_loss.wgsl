// A loss and its gradient, one row at a time: shared by the loss's launch and the output
// layer's fused ones (loss/rows.wgsl, loss/dense.wgsl, loss/dense_rows.wgsl).
//
// Loss codes: the LOSS_* constants below, checked against `LossKind::code` by
// tests/contracts.rs: softmax + categorical cross-entropy on logits (sparse labels; one-hot
// targets are the same math), sigmoid + binary cross-entropy on logits, mean squared error.
// Reductions follow Keras: the mean over the batch, and for BCE/MSE first the mean over
// the last axis. Gradients are with respect to the kernel's input (logits for 0 and 1).

// Declared before this file (generated from Rust): `p` (LossParams or DenseLossParams:
// rows, cols, code = LOSS_* below, total = rows of the whole batch the gradient averages
// over: rows, unless this is a shard), and the buffers x (the input [rows, cols]), labels
// (class indices) and dx (the gradient [rows, cols]).

const LOSS_SOFTMAX_CROSS_ENTROPY: u32 = 0u;
const LOSS_SIGMOID_BINARY_CROSS_ENTROPY: u32 = 1u;
const LOSS_MEAN_SQUARED_ERROR: u32 = 2u;

fn target_of(label: u32, c: u32) -> f32 {
    if (p.cols == 1u) { return f32(label); }
    return select(0.0, 1.0, c == label);
}

// One row: its loss and gradient (written to dx), and whether its prediction is right.
fn row_loss(r: u32) -> vec2<f32> {
    let base = r * p.cols;
    let label = labels[r];
    let inv_b = 1.0 / f32(p.total);
    // Prediction: argmax (first maximal index) for several columns, threshold for one.
    var mx = x[base];
    var arg = 0u;
    for (var c = 1u; c < p.cols; c++) {
        let v = x[base + c];
        if (v > mx) { mx = v; arg = c; }
    }
    var loss = 0.0;
    switch p.code {
        case LOSS_SOFTMAX_CROSS_ENTROPY: {
            var sum = 0.0;
            for (var c = 0u; c < p.cols; c++) { sum += exp(x[base + c] - mx); }
            let lse = mx + log(sum);
            // Labels are validated on the host; the clamp only keeps a bad one in the row.
            loss = lse - x[base + min(label, p.cols - 1u)];
            let inv_sum = 1.0 / sum;
            for (var c = 0u; c < p.cols; c++) {
                let prob = exp(x[base + c] - mx) * inv_sum;
                dx[base + c] = (prob - target_of(label, c)) * inv_b;
            }
        }
        case LOSS_SIGMOID_BINARY_CROSS_ENTROPY: {
            let scale = inv_b / f32(p.cols);
            for (var c = 0u; c < p.cols; c++) {
                let z = x[base + c];
                let t = target_of(label, c);
                // Stable form: max(z,0) − z·t + log(1 + e^{−|z|}).
                loss += max(z, 0.0) - z * t + log(1.0 + exp(-abs(z)));
                dx[base + c] = (1.0 / (1.0 + exp(-z)) - t) * scale;
            }
            loss = loss / f32(p.cols);
            if (p.cols == 1u) { arg = select(0u, 1u, mx > 0.0); }
        }
        case LOSS_MEAN_SQUARED_ERROR, default: {
            let scale = 2.0 * inv_b / f32(p.cols);
            for (var c = 0u; c < p.cols; c++) {
                let d = x[base + c] - target_of(label, c);
                loss += d * d;
                dx[base + c] = d * scale;
            }
            loss = loss / f32(p.cols);
            if (p.cols == 1u) { arg = u32(max(round(mx), 0.0)); }
        }
    }
    return vec2<f32>(loss, select(0.0, 1.0, arg == label));
}
