// A weight's squared norm before its update and the squared norm of the update, into
// health[offset..offset + 2]. One workgroup; rows = element count.
@compute @workgroup_size(256)
fn pair_norms(@builtin(local_invocation_id) lid: vec3<u32>) {
    var bb = 0.0;
    var dd = 0.0;
    for (var i = lid.x; i < p.rows; i += 256u) {
        let b = before[i];
        let d = after[i] - b;
        bb += b * b;
        dd += d * d;
    }
    r0[lid.x] = bb;
    r1[lid.x] = dd;
    r2[lid.x] = 0.0;
    r3[lid.x] = 0.0;
    workgroupBarrier();
    reduce(lid.x);
    if (lid.x == 0u) {
        health[p.offset] = r0[0];
        health[p.offset + 1u] = r1[0];
    }
}
