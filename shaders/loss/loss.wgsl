// The loss of a batch with its gradient, the gradient's column sums and the metrics, in
// one launch of one workgroup (Kernel::Loss; the work is loss/rows.wgsl's).

@compute @workgroup_size(256)
fn loss_forward_backward(@builtin(local_invocation_id) lid: vec3<u32>) {
    loss_and_column_sums(lid.x);
}
