// The cells of pooling windows that tile their input (Window::is_tiling: strides equal to
// the window, no dilation, no padding above or left): SH × SW input positions each, one
// window's, counted across and down an image, those past the last window (a `valid`
// pool's leftover rows and columns) included. Shared by max pooling's backward walks over
// cells (window/max_pool_backward.wgsl, window/max_pool_act_backward.wgsl), which declare
// argmax's vec4 view and read_dy before it.

// Cells across and down an image.
fn cells_across() -> vec2<u32> {
    return vec2<u32>((W + SW - 1u) / SW, (H + SH - 1u) / SH);
}

// (image, row, column) of a cell, counted in cells.
fn cell_position(cell: u32) -> vec3<u32> {
    let across = cells_across();
    return vec3<u32>(cell / (across.x * across.y), (cell / across.x) % across.y, cell % across.x);
}

// The input index of position q (0 ≤ q < SH·SW, row by row) of cell `c`, channel ch, or
// -1 past the input's edge.
fn cell_input(c: vec3<u32>, q: u32, ch: u32) -> i32 {
    let iy = c.y * SH + q / SW;
    let ix = c.z * SW + q % SW;
    if (iy >= H || ix >= W) { return -1; }
    return i32(input_index(c.x, iy, ix, ch));
}

// The window of cell `c` at channels ch..ch+3: its argmax and dy, or for a cell past the
// last window (a `valid` pool's leftover rows and columns) no argmax and zero.
struct CellWindow {
    at: vec4<u32>,
    dy: vec4<f32>,
}

fn cell_window(c: vec3<u32>, ch: u32) -> CellWindow {
    if (c.y < OH && c.z < OW) {
        let o = output_index(c.x, c.y, c.z, ch) / 4u;
        return CellWindow(argmax4[o], read_dy(o));
    }
    return CellWindow(vec4<u32>(0xffffffffu), vec4<f32>(0.0));
}
