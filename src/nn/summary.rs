//! `summary()` in Keras's exact table layout (checked verbatim against Keras's output).

use super::Sequential;

impl Sequential {
    /// The model summary in Keras's layout (the table `model.summary()` prints): layer
    /// (type), output shape and parameter count per layer, then total, trainable and
    /// non-trainable counts, which follow freezing.
    pub fn summary(&self) -> String {
        const WIDTHS: [usize; 3] = [31, 22, 13];
        let shapes = self.output_shapes().unwrap_or_default();
        let mut per_layer = vec![0usize; self.layers().len()];
        for w in self.weights() {
            per_layer[w.layer] += w.data.len();
        }
        let line = |l: char, m: char, r: char, fill: char| {
            let parts: Vec<String> = WIDTHS
                .iter()
                .map(|w| fill.to_string().repeat(w + 2))
                .collect();
            format!("{l}{}{r}\n", parts.join(&m.to_string()))
        };
        // One table row; cells wrap at spaces (or inside a word too long for the column).
        let row = |cells: [String; 3], bar: char| {
            let wrapped: Vec<Vec<String>> = cells
                .iter()
                .zip(WIDTHS)
                .map(|(text, w)| wrap(text, w))
                .collect();
            let height = wrapped.iter().map(|c| c.len()).max().unwrap_or(1);
            let mut out = String::new();
            for i in 0..height {
                out.push(bar);
                for (c, (col, w)) in wrapped.iter().zip(WIDTHS).enumerate() {
                    let t = col.get(i).map(String::as_str).unwrap_or("");
                    if c == 2 {
                        out += &format!(" {t:>w$} ");
                    } else {
                        out += &format!(" {t:<w$} ");
                    }
                    out.push(bar);
                }
                out.push('\n');
            }
            out
        };
        let mut out = String::from("Model: \"sequential\"\n");
        out += &line('┏', '┳', '┓', '━');
        out += &row(
            [
                "Layer (type)".into(),
                "Output Shape".into(),
                "Param #".into(),
            ],
            '┃',
        );
        out += &line('┡', '╇', '┩', '━');
        for (li, l) in self.layers().iter().enumerate() {
            if li > 0 {
                out += &line('├', '┼', '┤', '─');
            }
            let params = per_layer[li];
            let shape = shapes
                .get(li)
                .map(|s| {
                    let dims: Vec<String> = s.iter().map(|d| d.to_string()).collect();
                    format!("(None, {})", dims.join(", "))
                })
                .unwrap_or_default();
            out += &row(
                [
                    format!("{} ({})", l.name, l.class_name()),
                    shape,
                    thousands(params),
                ],
                '│',
            );
        }
        out += &line('└', '┴', '┘', '─');
        let (total, trainable, non) = self.param_counts();
        for (label, n) in [
            ("Total", total),
            ("Trainable", trainable),
            ("Non-trainable", non),
        ] {
            out += &format!(" {label} params: {} ({})\n", thousands(n), param_bytes(n));
        }
        out
    }
}

/// `1234567` → `1,234,567`.
fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// Size of `n` float32 parameters as Keras prints it (`1.03 MB`, `9.25 KB`, `0.00 B`).
fn param_bytes(n: usize) -> String {
    let b = n as f64 * 4.0;
    if b >= 1024.0 * 1024.0 {
        format!("{:.2} MB", b / 1024.0 / 1024.0)
    } else if b >= 1024.0 {
        format!("{:.2} KB", b / 1024.0)
    } else {
        format!("{b:.2} B")
    }
}

/// Greedy word wrap to `width` columns, breaking words longer than the width.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut cur = String::new();
    for word in text.split(' ') {
        let mut word = word.to_string();
        while word.chars().count() > width {
            if !cur.is_empty() {
                lines.push(std::mem::take(&mut cur));
            }
            let head: String = word.chars().take(width).collect();
            word = word.chars().skip(width).collect();
            lines.push(head);
        }
        let need = if cur.is_empty() {
            word.chars().count()
        } else {
            cur.chars().count() + 1 + word.chars().count()
        };
        if need > width && !cur.is_empty() {
            lines.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur += &word;
    }
    if !cur.is_empty() || lines.is_empty() {
        lines.push(cur);
    }
    lines
}
