// The four-way workgroup sum of the health kernels (one workgroup of 256).

var<workgroup> r0: array<f32, 256>;
var<workgroup> r1: array<f32, 256>;
var<workgroup> r2: array<f32, 256>;
var<workgroup> r3: array<f32, 256>;

fn reduce(lid: u32) {
    for (var stride = 128u; stride > 0u; stride = stride / 2u) {
        if (lid < stride) {
            r0[lid] += r0[lid + stride];
            r1[lid] += r1[lid + stride];
            r2[lid] += r2[lid + stride];
            r3[lid] += r3[lid + stride];
        }
        workgroupBarrier();
    }
}
