// Losses with their gradient, the gradient's column sums, and the on-GPU accumulation of
// loss/accuracy metrics, in one launch.
//
// Loss codes: the LOSS_* constants below, checked against `LossKind::code` by
// tests/contracts.rs: softmax + categorical cross-entropy on logits (sparse labels; one-hot
// targets are the same math), sigmoid + binary cross-entropy on logits, mean squared error.
// Reductions follow Keras: the mean over the batch, and for BCE/MSE first the mean over
// the last axis. Gradients are with respect to the kernel's input (logits for 0 and 1).

struct Params {
    rows: u32,
    cols: u32,
    code: u32,
    // Rows of the whole batch the gradient averages over (rows, unless this is a shard).
    total: u32,
}

const LOSS_SOFTMAX_CROSS_ENTROPY: u32 = 0u;
const LOSS_SIGMOID_BINARY_CROSS_ENTROPY: u32 = 1u;
const LOSS_MEAN_SQUARED_ERROR: u32 = 2u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> s1: array<f32>;
@group(0) @binding(2) var<storage, read_write> s2: array<f32>;
@group(0) @binding(3) var<storage, read_write> s3: array<f32>;
@group(0) @binding(4) var<storage, read_write> s4: array<f32>;
@group(0) @binding(5) var<storage, read_write> s5: array<f32>;

fn target_of(label: u32, c: u32) -> f32 {
    if (p.cols == 1u) { return f32(label); }
    return select(0.0, 1.0, c == label);
}

// One row: its loss and gradient (written to s3), and whether its prediction is right.
fn row_loss(r: u32) -> vec2<f32> {
    let base = r * p.cols;
    let label = bitcast<u32>(s2[r]);
    let inv_b = 1.0 / f32(p.total);
    // Prediction: argmax (first maximal index) for several columns, threshold for one.
    var mx = s1[base];
    var arg = 0u;
    for (var c = 1u; c < p.cols; c++) {
        let v = s1[base + c];
        if (v > mx) { mx = v; arg = c; }
    }
    var loss = 0.0;
    switch p.code {
        case LOSS_SOFTMAX_CROSS_ENTROPY: {
            var sum = 0.0;
            for (var c = 0u; c < p.cols; c++) { sum += exp(s1[base + c] - mx); }
            let lse = mx + log(sum);
            // Labels are validated on the host; the clamp only keeps a bad one in the row.
            loss = lse - s1[base + min(label, p.cols - 1u)];
            let inv_sum = 1.0 / sum;
            for (var c = 0u; c < p.cols; c++) {
                let prob = exp(s1[base + c] - mx) * inv_sum;
                s3[base + c] = (prob - target_of(label, c)) * inv_b;
            }
        }
        case LOSS_SIGMOID_BINARY_CROSS_ENTROPY: {
            let scale = inv_b / f32(p.cols);
            for (var c = 0u; c < p.cols; c++) {
                let z = s1[base + c];
                let t = target_of(label, c);
                // Stable form: max(z,0) − z·t + log(1 + e^{−|z|}).
                loss += max(z, 0.0) - z * t + log(1.0 + exp(-abs(z)));
                s3[base + c] = (1.0 / (1.0 + exp(-z)) - t) * scale;
            }
            loss = loss / f32(p.cols);
            if (p.cols == 1u) { arg = select(0u, 1u, mx > 0.0); }
        }
        case LOSS_MEAN_SQUARED_ERROR, default: {
            let scale = 2.0 * inv_b / f32(p.cols);
            for (var c = 0u; c < p.cols; c++) {
                let d = s1[base + c] - target_of(label, c);
                loss += d * d;
                s3[base + c] = d * scale;
            }
            loss = loss / f32(p.cols);
            if (p.cols == 1u) { arg = u32(max(round(mx), 0.0)); }
        }
    }
    return vec2<f32>(loss, select(0.0, 1.0, arg == label));
}

var<workgroup> partial_loss: array<f32, 256>;
var<workgroup> partial_correct: array<f32, 256>;

// One workgroup (a batch's loss is small work; one launch does it all): every row's loss
// and gradient, then metrics += (Σ loss, Σ correct, rows), then the gradient's column sums
// (the output layer's bias gradient). s1 = input [rows, cols], s2 = labels [rows] (class
// indices, u32 bits), s3 = gradient [rows, cols], s4 = its column sums [cols],
// s5 = metrics [3].
@compute @workgroup_size(256)
fn loss_forward_backward(@builtin(local_invocation_id) lid: vec3<u32>) {
    var l = 0.0;
    var right = 0.0;
    for (var r = lid.x; r < p.rows; r += 256u) {
        let lc = row_loss(r);
        l += lc.x;
        right += lc.y;
    }
    partial_loss[lid.x] = l;
    partial_correct[lid.x] = right;
    workgroupBarrier();
    for (var stride = 128u; stride > 0u; stride = stride / 2u) {
        if (lid.x < stride) {
            partial_loss[lid.x] += partial_loss[lid.x + stride];
            partial_correct[lid.x] += partial_correct[lid.x + stride];
        }
        workgroupBarrier();
    }
    if (lid.x == 0u) {
        s5[0] = s5[0] + partial_loss[0];
        s5[1] = s5[1] + partial_correct[0];
        s5[2] = s5[2] + f32(p.rows);
    }
    // The gradient rows written above, visible to every invocation of the workgroup. (The
    // column walk steps an index rather than counting rows: `for (r < rows)` here ran
    // 80× slower on llvmpipe at exactly 32 rows, measured.)
    storageBarrier();
    for (var c = lid.x; c < p.cols; c += 256u) {
        var acc = 0.0;
        var at = c;
        let end = p.rows * p.cols;
        while (at < end) {
            acc += s3[at];
            at += p.cols;
        }
        s4[c] = acc;
    }
}
