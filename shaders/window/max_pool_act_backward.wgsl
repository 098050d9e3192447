// Max pooling's backward fused with the derivative of the activation before it (the
// convolution whose output y the pooling read, Kernel::MaxPoolActBackward): each input
// value receives the gradient of every window that took it, times f'(y); the layer's bias
// gradient comes as partial sums, one per chunk of CHUNK_ROWS positions and channel (a
// column sum of them follows). One invocation per chunk and channel: the positions are
// walked in parallel, where a column walk had one invocation per channel.

// The activation code (equal to p.code) and the chunk length, fixed per pipeline.
override BACK_ACT: u32 = 0u;
override CHUNK_ROWS: u32 = 64u;

@compute @workgroup_size(256)
fn max_pool_act_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let t = flat(gid, nwg);
    let rows = p.n * H * W;
    let chunk = t / C;
    let ch = t % C;
    let r0 = chunk * CHUNK_ROWS;
    if (r0 >= rows) { return; }
    let r1 = min(r0 + CHUNK_ROWS, rows);
    let a = Act(BACK_ACT, p.flags, p.f0, p.f1);
    let s = step[0];
    var acc = 0.0;
    for (var r = r0; r < r1; r++) {
        let i = r * C + ch;
        let ix = r % W;
        let iy = (r / W) % H;
        let img = r / (W * H);
        let g = max_pool_grad(i, img, iy, ix, ch);
        let d = g * act_grad_from_output(a, read1_y(i), i, s);
        dz[i] = d;
        acc += d;
    }
    partials[chunk * C + ch] = acc;
}
