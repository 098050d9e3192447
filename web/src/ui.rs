//! The page's parts: text lines, the loss chart and the grid of test digits, drawn with
//! the DOM and a 2-D canvas.

use steadygrad::chart::ticks;
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

/// The text of the element with id `id` (empty if the page lacks it).
pub fn text(id: &str) -> String {
    document()
        .get_element_by_id(id)
        .and_then(|e| e.text_content())
        .unwrap_or_default()
}

/// The page's stored value for `key` (its local storage), if any.
pub fn stored(key: &str) -> Option<String> {
    let storage = web_sys::window()?.local_storage().ok()??;
    storage.get_item(key).ok()?
}

/// Stores `value` under `key` in the page's local storage (silently nothing where the
/// browser refuses: the value is only a cache).
pub fn store(key: &str, value: &str) {
    if let Some(Ok(Some(storage))) = web_sys::window().map(|w| w.local_storage()) {
        let _ = storage.set_item(key, value);
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

/// Draws the loss chart: `raw` (the mean loss of each group of steps, faint) and
/// `smooth` (its bias-corrected EWMA), training steps on x, with axis titles, ticks and a
/// legend.
pub fn draw_loss(id: &str, raw: &[(f64, f64)], smooth: &[(f64, f64)], group: usize) {
    let Some((c, ctx)) = canvas(id) else { return };
    let (w, h) = (c.width() as f64, c.height() as f64);
    ctx.set_fill_style_str("#fff");
    ctx.fill_rect(0.0, 0.0, w, h);
    // The plot area: room for the y labels and title on the left, x labels below.
    let (left, right, top, bottom) = (64.0, w - 12.0, 26.0, h - 40.0);
    ctx.set_stroke_style_str("#888");
    ctx.set_line_width(1.0);
    ctx.stroke_rect(left + 0.5, top + 0.5, right - left, bottom - top);
    ctx.set_fill_style_str("#333");
    ctx.set_font("12px sans-serif");
    let _ = ctx.fill_text("training step", (left + right) / 2.0 - 36.0, h - 4.0);
    ctx.save();
    let _ = ctx.translate(14.0, (top + bottom) / 2.0 + 12.0);
    let _ = ctx.rotate(-std::f64::consts::FRAC_PI_2);
    let _ = ctx.fill_text("loss", 0.0, 0.0);
    ctx.restore();
    let all = raw.iter().chain(smooth);
    let max_x = all.clone().map(|p| p.0).fold(1.0f64, f64::max);
    let max_y = all
        .map(|p| p.1)
        .filter(|v| v.is_finite())
        .fold(1e-6f64, f64::max)
        * 1.05;
    let px = |x: f64| left + x / max_x * (right - left);
    let py = |y: f64| bottom - y / max_y * (bottom - top);
    // Ticks at 1-2-5 steps: about four on y from 0, whole steps on x.
    ctx.set_stroke_style_str("#e5e5e5");
    let y_step = ticks::step_of(max_y, false, 4);
    for y in ticks::linear(0.0, max_y, false, 4) {
        ctx.begin_path();
        ctx.move_to(left, py(y));
        ctx.line_to(right, py(y));
        ctx.stroke();
        let _ = ctx.fill_text(&ticks::linear_label(y, y_step), 24.0, py(y) + 4.0);
    }
    for x in ticks::linear(0.0, max_x, true, 6) {
        let label = ticks::linear_label(x, 1.0);
        let _ = ctx.fill_text(&label, px(x) - 4.0 * label.len() as f64, bottom + 16.0);
    }
    let line = |pts: &[(f64, f64)], colour: &str, width: f64| {
        ctx.set_stroke_style_str(colour);
        ctx.set_line_width(width);
        ctx.begin_path();
        for (i, (x, y)) in pts.iter().filter(|p| p.1.is_finite()).enumerate() {
            if i == 0 {
                ctx.move_to(px(*x), py(*y));
            } else {
                ctx.line_to(px(*x), py(*y));
            }
        }
        ctx.stroke();
    };
    line(raw, "#9ec5f4", 1.0);
    line(smooth, "#1f6feb", 2.5);
    // The legend, above the plot area.
    ctx.set_fill_style_str("#9ec5f4");
    ctx.fill_rect(left, 8.0, 18.0, 3.0);
    ctx.set_fill_style_str("#1f6feb");
    ctx.fill_rect(left + 210.0, 8.0, 18.0, 3.0);
    ctx.set_fill_style_str("#333");
    let _ = ctx.fill_text(
        &format!("mean loss of each {group} steps"),
        left + 24.0,
        14.0,
    );
    let _ = ctx.fill_text(
        "their EWMA (β 0.98 a step, bias-corrected)",
        left + 234.0,
        14.0,
    );
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
