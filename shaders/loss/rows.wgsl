// Losses with their gradient, the gradient's column sums, and the on-GPU accumulation of
// loss/accuracy metrics, by one workgroup: the work shared by the loss's launch
// (loss/loss.wgsl) and the output layer's fused one (loss/dense.wgsl).
//
// Loss codes: the LOSS_* constants below, checked against `LossKind::code` by
// tests/contracts.rs: softmax + categorical cross-entropy on logits (sparse labels; one-hot
// targets are the same math), sigmoid + binary cross-entropy on logits, mean squared error.
// Reductions follow Keras: the mean over the batch, and for BCE/MSE first the mean over
// the last axis. Gradients are with respect to the kernel's input (logits for 0 and 1).

// Declared before this file (generated from Rust): `p` (LossParams: rows, cols, code =
// LOSS_* below, total = rows of the whole batch the gradient averages over: rows, unless
// this is a shard), and the buffers x (the input [rows, cols]), labels (class indices),
// dx (the gradient [rows, cols]), dx_sums (its column sums) and metrics [3].

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

var<workgroup> partial_loss: array<f32, 256>;
var<workgroup> partial_correct: array<f32, 256>;

// Lane `lane` of the workgroup of 256 (a batch's loss is small work; one workgroup does it
// all): every row's loss and gradient, then metrics += (Σ loss, Σ correct, rows), then the
// gradient's column sums (the output layer's bias gradient). When it returns, every lane
// sees the whole gradient.
fn loss_and_column_sums(lane: u32) {
    let lid = vec3<u32>(lane, 0u, 0u);
    var l = 0.0;
    var right = 0.0;
    for (var r = lid.x; r < p.rows; r += 256u) {
        let lc = row_loss(r);
        l += lc.x;
        right += lc.y;
    }
    partial_loss[lid.x] = l;
    partial_correct[lid.x] = right;
    // The partial sums and the gradient rows written above, visible to every lane: one
    // barrier of each kind (on CPU adapters a barrier switches between all the
    // workgroup's lanes, so lane 0 adds the 256 partials itself rather than in a tree of
    // eight barriers). The column walk steps an index rather than counting rows:
    // `for (r < rows)` here ran 80× slower on llvmpipe at exactly 32 rows, measured.
    storageBarrier();
    workgroupBarrier();
    if (lid.x == 0u) {
        var sl = 0.0;
        var sc = 0.0;
        for (var i = 0u; i < 256u; i++) {
            sl += partial_loss[i];
            sc += partial_correct[i];
        }
        metrics[0] = metrics[0] + sl;
        metrics[1] = metrics[1] + sc;
        metrics[2] = metrics[2] + f32(p.rows);
    }
    for (var c = lid.x; c < p.cols; c += 256u) {
        var acc = 0.0;
        var at = c;
        let end = p.rows * p.cols;
        while (at < end) {
            acc += dx[at];
            at += p.cols;
        }
        dx_sums[c] = acc;
    }
}
