//! The geometry of a 2-D window sliding over a batch of NHWC images — a convolution's
//! receptive field or a pooling window — with TensorFlow's padding rules (Keras's
//! `padding="valid"` and `"same"`), shared by the convolution and pooling kernels and the
//! layers that lower to them.

/// Keras's `padding`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Padding {
    /// No padding: windows lie wholly inside the image.
    Valid,
    /// Output size `⌈in / stride⌉`; the padding split with the odd extra row or column at
    /// the bottom or right (TensorFlow's rule).
    Same,
}

impl Padding {
    /// Keras's name.
    pub fn keras_name(self) -> &'static str {
        match self {
            Padding::Valid => "valid",
            Padding::Same => "same",
        }
    }

    /// Parses Keras's name (case-insensitive, as Keras accepts it).
    pub fn parse(s: &str) -> Result<Padding, String> {
        match s.to_ascii_lowercase().as_str() {
            "valid" => Ok(Padding::Valid),
            "same" => Ok(Padding::Same),
            other => Err(format!(
                "unknown padding {other:?} (expected valid or same)"
            )),
        }
    }
}

/// A window over `n` images of `h × w × c` (NHWC, row-major): `kh × kw` taps spaced by the
/// dilation, moved by the strides, the image padded by `pad_top`/`pad_left` (and whatever
/// the output size implies at the bottom and right), giving `oh × ow` outputs per image.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Window {
    /// Images.
    pub n: usize,
    /// Input height.
    pub h: usize,
    /// Input width.
    pub w: usize,
    /// Channels.
    pub c: usize,
    /// Window height (taps).
    pub kh: usize,
    /// Window width (taps).
    pub kw: usize,
    /// Vertical stride.
    pub sh: usize,
    /// Horizontal stride.
    pub sw: usize,
    /// Vertical dilation.
    pub dh: usize,
    /// Horizontal dilation.
    pub dw: usize,
    /// Rows of padding above.
    pub pad_top: usize,
    /// Columns of padding on the left.
    pub pad_left: usize,
    /// Output height.
    pub oh: usize,
    /// Output width.
    pub ow: usize,
}

/// One spatial axis's output size and padding before it, by TensorFlow's rules; an error
/// when no window fits (`valid`) or a size is zero.
pub fn axis(
    input: usize,
    kernel: usize,
    stride: usize,
    dilation: usize,
    padding: Padding,
) -> Result<(usize, usize), String> {
    if kernel == 0 || stride == 0 || dilation == 0 {
        return Err("kernel, stride and dilation must be at least 1".into());
    }
    let span = (kernel - 1)
        .checked_mul(dilation)
        .and_then(|s| s.checked_add(1))
        .ok_or("the window is too large")?;
    match padding {
        Padding::Valid => {
            if span > input {
                return Err(format!(
                    "a window spanning {span} does not fit an input of {input} without padding"
                ));
            }
            Ok(((input - span) / stride + 1, 0))
        }
        Padding::Same => {
            let out = input.div_ceil(stride);
            let needed = (out - 1) * stride + span;
            let total = needed.saturating_sub(input);
            Ok((out, total / 2))
        }
    }
}

impl Window {
    /// The window of a convolution or pooling layer over images of `h × w × c`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        n: usize,
        (h, w, c): (usize, usize, usize),
        (kh, kw): (usize, usize),
        (sh, sw): (usize, usize),
        (dh, dw): (usize, usize),
        padding: Padding,
    ) -> Result<Window, String> {
        let (oh, pad_top) = axis(h, kh, sh, dh, padding)?;
        let (ow, pad_left) = axis(w, kw, sw, dw, padding)?;
        Ok(Window {
            n,
            h,
            w,
            c,
            kh,
            kw,
            sh,
            sw,
            dh,
            dw,
            pad_top,
            pad_left,
            oh,
            ow,
        })
    }

    /// The same window over `n` images.
    pub fn with_batch(self, n: usize) -> Window {
        Window { n, ..self }
    }

    /// Values of the input.
    pub fn input_len(&self) -> usize {
        self.n * self.h * self.w * self.c
    }

    /// Output positions (`n·oh·ow`).
    pub fn positions(&self) -> usize {
        self.n * self.oh * self.ow
    }

    /// Values of a pooled output (`n·oh·ow·c`).
    pub fn pooled_len(&self) -> usize {
        self.positions() * self.c
    }

    /// Values of one im2col row (`kh·kw·c`: a receptive field).
    pub fn patch(&self) -> usize {
        self.kh * self.kw * self.c
    }

    /// Whether the window reads each input pixel once, in place (1×1, stride 1, no
    /// padding): a convolution is then a plain matmul over the input.
    pub fn is_pointwise(&self) -> bool {
        self.kh == 1
            && self.kw == 1
            && self.sh == 1
            && self.sw == 1
            && self.pad_top == 0
            && self.pad_left == 0
            && self.oh == self.h
            && self.ow == self.w
    }

    /// Whether the windows tile the input (strides equal to the window, no dilation, no
    /// padding above or on the left, as Keras's default pooling has them): each input
    /// position then lies in at most one window, that of its cell of `sh × sw` positions.
    pub fn is_tiling(&self) -> bool {
        self.sh == self.kh
            && self.sw == self.kw
            && self.dh == 1
            && self.dw == 1
            && self.pad_top == 0
            && self.pad_left == 0
    }

    /// Cells of `sh × sw` positions down and across an image (`⌈h/sh⌉`, `⌈w/sw⌉`; the
    /// last row and column of cells cut off by the input's edge).
    pub fn cells_down_across(&self) -> (usize, usize) {
        (self.h.div_ceil(self.sh), self.w.div_ceil(self.sw))
    }

    /// Cells of `sh × sw` positions in the input, all images.
    pub fn cells(&self) -> usize {
        let (down, across) = self.cells_down_across();
        self.n * down * across
    }

    /// Whether the channels come in whole vec4s (the window kernels then take four
    /// channels an invocation).
    pub fn vec4_channels(&self) -> bool {
        self.c.is_multiple_of(4)
    }

    /// The input row and column of tap (`ky`, `kx`) of output (`oy`, `ox`), or `None` in
    /// the padding.
    pub fn tap(&self, oy: usize, ox: usize, ky: usize, kx: usize) -> Option<(usize, usize)> {
        let iy = (oy * self.sh + ky * self.dh).checked_sub(self.pad_top)?;
        let ix = (ox * self.sw + kx * self.dw).checked_sub(self.pad_left)?;
        (iy < self.h && ix < self.w).then_some((iy, ix))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_and_valid_follow_tensorflow() {
        // valid: ⌊(in − (k−1)·d − 1)/s⌋ + 1.
        assert_eq!(axis(28, 3, 1, 1, Padding::Valid), Ok((26, 0)));
        assert_eq!(axis(14, 3, 2, 1, Padding::Valid), Ok((6, 0)));
        assert_eq!(axis(14, 3, 1, 2, Padding::Valid), Ok((10, 0)));
        // same: ⌈in/s⌉, the odd extra padding after.
        assert_eq!(axis(28, 5, 2, 1, Padding::Same), Ok((14, 1)));
        assert_eq!(axis(6, 3, 2, 1, Padding::Same), Ok((3, 0)));
        assert_eq!(axis(10, 3, 2, 1, Padding::Same), Ok((5, 0)));
        assert_eq!(axis(7, 4, 1, 1, Padding::Same), Ok((7, 1)));
        assert!(axis(2, 3, 1, 1, Padding::Valid).is_err());
        assert!(axis(5, 3, 0, 1, Padding::Same).is_err());
    }

    #[test]
    fn taps_skip_the_padding() {
        let win = Window::new(1, (5, 5, 1), (3, 3), (2, 2), (1, 1), Padding::Same).unwrap();
        assert_eq!((win.oh, win.ow, win.pad_top), (3, 3, 1));
        assert_eq!(win.tap(0, 0, 0, 0), None);
        assert_eq!(win.tap(0, 0, 1, 1), Some((0, 0)));
        assert_eq!(win.tap(2, 2, 2, 2), None);
        assert!(
            Window::new(2, (4, 4, 3), (1, 1), (1, 1), (1, 1), Padding::Valid)
                .unwrap()
                .is_pointwise()
        );
    }

    #[test]
    fn tiling_windows_are_keras_default_pools() {
        let pool = |hw, k, s, pad| Window::new(1, (hw, hw, 2), k, s, (1, 1), pad).unwrap();
        // The example CNN's pools: 26 → 13 and 11 → 5 (a row and column left untaken).
        let (a, b) = (
            pool(26, (2, 2), (2, 2), Padding::Valid),
            pool(11, (2, 2), (2, 2), Padding::Valid),
        );
        assert!(a.is_tiling() && b.is_tiling());
        assert_eq!((a.cells(), b.cells()), (169, 36));
        // `same` pads after: still tiling; 3×3 windows at stride 3 over 7 pad one above.
        assert!(pool(7, (2, 2), (2, 2), Padding::Same).is_tiling());
        assert!(!pool(7, (3, 3), (3, 3), Padding::Same).is_tiling());
        assert!(!pool(8, (3, 3), (2, 2), Padding::Valid).is_tiling());
        let dilated = Window::new(1, (9, 9, 1), (2, 2), (2, 2), (2, 2), Padding::Valid).unwrap();
        assert!(!dilated.is_tiling());
    }
}
