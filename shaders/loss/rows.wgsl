// The loss of a batch by one workgroup: every row's loss and gradient (loss/row_loss.wgsl
// precedes), the gradient's column sums and the on-GPU accumulation of loss/accuracy
// metrics: the work shared by the loss's launch (loss/loss.wgsl) and the output layer's
// fused one (loss/dense.wgsl). Declared before this file besides row_loss.wgsl's: dx_sums
// (the gradient's column sums) and metrics [3].

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
