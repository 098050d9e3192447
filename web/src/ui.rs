//! The page's parts: text lines, the loss chart and the grid of test digits, drawn with
//! the DOM and a 2-D canvas.

use wasm_bindgen::{Clamped, JsCast, JsValue};
use web_sys::{CanvasRenderingContext2d, Document, HtmlCanvasElement, ImageData};

/// The page's document.
pub fn document() -> Document {
    web_sys::window()
        .and_then(|w| w.document())
        .expect("a page has a document")
}

/// Sets the text of the element with id `id` (if the page has it).
pub fn set_text(id: &str, text: &str) {
    if let Some(e) = document().get_element_by_id(id) {
        e.set_text_content(Some(text));
    }
}

/// Appends a line to the element with id `id`.
pub fn append_line(id: &str, text: &str) {
    if let Some(e) = document().get_element_by_id(id) {
        let line = document().create_element("div").expect("div");
        line.set_text_content(Some(text));
        let _ = e.append_child(&line);
    }
}

fn canvas(id: &str) -> Option<(HtmlCanvasElement, CanvasRenderingContext2d)> {
    let c: HtmlCanvasElement = document().get_element_by_id(id)?.dyn_into().ok()?;
    let ctx = c.get_context("2d").ok()??.dyn_into().ok()?;
    Some((c, ctx))
}

/// Draws the loss curve: one point per progress update, steps on x.
pub fn draw_loss(id: &str, points: &[(f64, f64)]) {
    let Some((c, ctx)) = canvas(id) else { return };
    let (w, h) = (c.width() as f64, c.height() as f64);
    ctx.set_fill_style_str("#fff");
    ctx.fill_rect(0.0, 0.0, w, h);
    ctx.set_stroke_style_str("#ccc");
    ctx.stroke_rect(0.5, 0.5, w - 1.0, h - 1.0);
    if points.len() < 2 {
        return;
    }
    let max_x = points.last().map_or(1.0, |p| p.0).max(1.0);
    let max_y = points.iter().map(|p| p.1).fold(0.0f64, f64::max).max(1e-6);
    let (pad, plot_w, plot_h) = (30.0, w - 40.0, h - 40.0);
    ctx.set_fill_style_str("#333");
    ctx.set_font("12px sans-serif");
    let _ = ctx.fill_text(&format!("{max_y:.2}"), 2.0, pad);
    let _ = ctx.fill_text("0", 2.0, h - 12.0);
    let _ = ctx.fill_text(&format!("step {}", max_x as u64), w - 80.0, h - 2.0);
    ctx.set_stroke_style_str("#1f6feb");
    ctx.set_line_width(2.0);
    ctx.begin_path();
    for (i, (x, y)) in points.iter().enumerate() {
        let px = pad + x / max_x * plot_w;
        let py = 10.0 + (1.0 - y / max_y) * plot_h;
        if i == 0 {
            ctx.move_to(px, py);
        } else {
            ctx.line_to(px, py);
        }
    }
    ctx.stroke();
}

/// Draws 28×28 digits (grey levels 0–255) in rows of `per_row`, each with its predicted
/// label under it: green when it matches the true label, red when not.
pub fn draw_digits(id: &str, pixels: &[u8], truth: &[u32], predicted: &[u32], per_row: usize) {
    let Some((c, ctx)) = canvas(id) else { return };
    let (cell_w, cell_h, scale) = (64.0, 80.0, 2.0);
    let rows = predicted.len().div_ceil(per_row);
    c.set_width((per_row as f64 * cell_w) as u32);
    c.set_height((rows as f64 * cell_h) as u32);
    ctx.set_fill_style_str("#fff");
    ctx.fill_rect(0.0, 0.0, c.width() as f64, c.height() as f64);
    ctx.set_font("bold 16px sans-serif");
    for (i, (&p, &t)) in predicted.iter().zip(truth).enumerate() {
        let (x, y) = ((i % per_row) as f64 * cell_w, (i / per_row) as f64 * cell_h);
        let img = &pixels[i * 784..(i + 1) * 784];
        // Scaled ×2 by hand: ink dark on white.
        let side = (28.0 * scale) as usize;
        let mut rgba = vec![255u8; side * side * 4];
        for py in 0..side {
            for px in 0..side {
                let v = 255 - img[(py / 2) * 28 + px / 2];
                let o = (py * side + px) * 4;
                rgba[o..o + 3].fill(v);
            }
        }
        if let Ok(data) =
            ImageData::new_with_u8_clamped_array_and_sh(Clamped(&rgba), side as u32, side as u32)
        {
            let _ = ctx.put_image_data(&data, x + 4.0, y + 2.0);
        }
        ctx.set_fill_style_str(if p == t { "#1a7f37" } else { "#cf222e" });
        let _ = ctx.fill_text(&p.to_string(), x + 26.0, y + 76.0);
    }
}

/// A JavaScript error as text.
pub fn js_text(e: JsValue) -> String {
    e.as_string()
        .or_else(|| {
            e.dyn_ref::<js_sys::Error>()
                .map(|e| String::from(e.message()))
        })
        .unwrap_or_else(|| format!("{e:?}"))
}
