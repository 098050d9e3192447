//! Checking matmul variants against the CPU reference on this adapter: the autotuner
//! admits a variant for a shape class only after it matched there, and
//! `steadygrad verify` runs every variant on awkward shapes.

use super::{GpuBackend, MatmulVariant};
use crate::backend::kernel::{ActKind, Kernel};
use crate::backend::{ops, Backend};
use crate::error::Result;

/// One variant's result over a set of shapes.
#[derive(Clone, Debug)]
pub struct VariantCheck {
    /// The variant.
    pub variant: MatmulVariant,
    /// Matmuls run (shapes × transposes).
    pub runs: usize,
    /// The worst error over them in units of the tolerance (≤ 1 passes).
    pub worst: f64,
    /// The first failure: the shape and what went wrong.
    pub failure: Option<String>,
}

impl VariantCheck {
    /// Whether every run matched the reference.
    pub fn passed(&self) -> bool {
        self.failure.is_none() && self.worst <= 1.0
    }
}

/// The shapes `steadygrad verify` runs (m, k, n), each with all four transposes: one
/// element, odd sizes, a single column, shapes of several workgroups either way, the seed
/// network's first layer, a row length that is a multiple of 256, and an inner dimension
/// longer than llvmpipe lets one loop run (a convolution's weight gradient at batch 256,
/// and with more rows than the narrow kernel splits k for).
pub const AWKWARD_SHAPES: [(usize, usize, usize); 11] = [
    (1, 1, 1),
    (7, 13, 5),
    (33, 7, 300),
    (1, 785, 7),
    (5, 9, 16),
    (72, 16, 136),
    (31, 784, 300),
    (64, 64, 64),
    (256, 256, 257),
    (9, 70_000, 16),
    (40, 70_000, 16),
];

/// Deterministic operands with a spread of magnitudes and signs.
fn operand(len: usize, seed: u32) -> Vec<f32> {
    (0..len as u32)
        .map(|i| {
            let h = (i.wrapping_mul(2_654_435_761) ^ seed.wrapping_mul(40_503)).rotate_left(7);
            (h % 2001) as f32 / 1000.0 - 1.0
        })
        .collect()
}

/// The reference product of `a`, `b` and, for the tolerance, of their magnitudes.
fn reference(
    m: usize,
    k: usize,
    n: usize,
    ta: bool,
    tb: bool,
    a: &[f32],
    b: &[f32],
) -> (Vec<f32>, Vec<f32>) {
    let mut c = vec![0.0; m * n];
    let (mut aa, mut bb) = (a.to_vec(), b.to_vec());
    ops::matmul::cpu(m, k, n, ta, tb, false, &mut [&mut aa, &mut bb, &mut c]);
    let (mut abs_a, mut abs_b): (Vec<f32>, Vec<f32>) = (
        a.iter().map(|x| x.abs()).collect(),
        b.iter().map(|x| x.abs()).collect(),
    );
    let mut bound = vec![0.0; m * n];
    ops::matmul::cpu(
        m,
        k,
        n,
        ta,
        tb,
        false,
        &mut [&mut abs_a, &mut abs_b, &mut bound],
    );
    (c, bound)
}

/// The worst |got − want| over the outputs in units of each output's tolerance (1e-5 of
/// `bound`, its Σ|a·b|, plus 1e-6); a non-finite output is infinitely wrong.
pub fn worst_error(got: &[f32], want: &[f32], bound: &[f32]) -> f64 {
    if got.len() != want.len() {
        return f64::INFINITY;
    }
    (got.iter().zip(want).zip(bound))
        .map(|((g, w), s)| {
            let tol = 1e-5 * f64::from(*s) + 1e-6;
            let d = f64::from(*g) - f64::from(*w);
            if d.is_finite() {
                d.abs() / tol
            } else {
                f64::INFINITY
            }
        })
        .fold(0.0, f64::max)
}

impl GpuBackend {
    /// Runs `variant` on one matmul with fixed operands (without transposes, also the dense
    /// layer's launch: the product plus a bias) and returns its worst error against the CPU
    /// reference in units of the tolerance (1e-5 of Σ|a·b| per output, plus 1e-6: any
    /// summation order of float32 stays well inside it). An error of the run is `Err`.
    pub fn check_matmul_variant(
        &mut self,
        variant: MatmulVariant,
        shape: (usize, usize, usize),
        trans: (bool, bool),
    ) -> Result<f64> {
        #[cfg(not(target_arch = "wasm32"))]
        return pollster::block_on(self.check_matmul_variant_async(variant, shape, trans));
        #[cfg(target_arch = "wasm32")]
        Err(crate::error::Error::Gpu(format!(
            "checking {} {shape:?} {trans:?} would block in a browser: use check_matmul_variant_async",
            variant.name()
        )))
    }

    /// [`GpuBackend::check_matmul_variant`] without blocking (the reads awaited).
    pub async fn check_matmul_variant_async(
        &mut self,
        variant: MatmulVariant,
        (m, k, n): (usize, usize, usize),
        (ta, tb): (bool, bool),
    ) -> Result<f64> {
        let a = operand(m * k, 1);
        let b = operand(k * n, 2);
        let (want, bound) = reference(m, k, n, ta, tb, &a, &b);
        let product = Kernel::MatMul {
            m,
            k,
            n,
            trans_a: ta,
            trans_b: tb,
            accumulate: false,
        };
        let nan = vec![f32::NAN; m * n];
        let got = self
            .run_variant(variant, &product, &[&a, &b, &nan], 2)
            .await?;
        let worst = worst_error(&got, &want, &bound);
        if ta || tb {
            return Ok(worst);
        }
        // The dense layer's launch of the same variant: its own entries (the bias, and for
        // small weights B too, read from uniform blocks on CPU adapters), checked as well.
        let bias = operand(n, 3);
        let with_bias = |v: &[f32], abs: bool| -> Vec<f32> {
            (v.iter().enumerate())
                .map(|(i, x)| x + if abs { bias[i % n].abs() } else { bias[i % n] })
                .collect()
        };
        let (want, bound) = (with_bias(&want, false), with_bias(&bound, true));
        let dense = Kernel::Dense {
            m,
            k,
            n,
            act: ActKind::Linear,
            training: false,
            seed: 0,
        };
        let got = self
            .run_variant(variant, &dense, &[&a, &b, &bias, &nan, &[0.0; 8]], 3)
            .await?;
        Ok(worst.max(worst_error(&got, &want, &bound)))
    }

    /// Runs `kernel` through `variant` once over fresh buffers holding `inputs` and returns
    /// buffer `out`; the buffers are freed either way.
    async fn run_variant(
        &mut self,
        variant: MatmulVariant,
        kernel: &Kernel,
        inputs: &[&[f32]],
        out: usize,
    ) -> Result<Vec<f32>> {
        let mut bufs = Vec::with_capacity(inputs.len());
        let mut run = async || {
            for data in inputs {
                let buf = self.alloc(data.len())?;
                bufs.push(buf);
                self.write(buf, 0, data)?;
            }
            let id = self.prepare_launch(kernel, &bufs, ops::gpu_launch(kernel, variant))?;
            self.launch(id);
            let words = self.read_async(bufs[out]).await?;
            Ok(words.into_iter().map(f32::from_bits).collect())
        };
        let got = run().await;
        for buf in bufs {
            self.free(buf);
        }
        got
    }

    /// Every matmul variant on `shapes` with all four transposes (one line of
    /// `steadygrad verify` each).
    pub fn verify_variants(&mut self, shapes: &[(usize, usize, usize)]) -> Vec<VariantCheck> {
        self.candidates()
            .into_iter()
            .map(|variant| {
                let mut check = VariantCheck {
                    variant,
                    runs: 0,
                    worst: 0.0,
                    failure: None,
                };
                for &shape in shapes {
                    for t in [(false, false), (true, false), (false, true), (true, true)] {
                        check.runs += 1;
                        let what = format!("{}×{}×{}, transposes {t:?}", shape.0, shape.1, shape.2);
                        match self.check_matmul_variant(variant, shape, t) {
                            Ok(e) => {
                                if e > 1.0 && check.failure.is_none() {
                                    check.failure = Some(format!("{what}: {e:.1}× the tolerance"));
                                }
                                check.worst = check.worst.max(e);
                            }
                            Err(e) => {
                                check.failure.get_or_insert(format!("{what}: {e}"));
                                check.worst = f64::INFINITY;
                            }
                        }
                    }
                }
                check
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_error_measure_passes_rounding_and_fails_wrong_or_missing_outputs() {
        let want = [1.0f32, -2.0, 0.0];
        let bound = [10.0f32, 20.0, 0.0];
        assert_eq!(worst_error(&want, &want, &bound), 0.0);
        // Rounding of a sum of magnitude 10: far inside the tolerance.
        assert!(worst_error(&[1.000_001, -2.0, 0.0], &want, &bound) < 0.1);
        assert!(worst_error(&[1.01, -2.0, 0.0], &want, &bound) > 1.0);
        assert!(worst_error(&[1.0, -2.0, f32::NAN], &want, &bound).is_infinite());
        assert!(worst_error(&[1.0, -2.0], &want, &bound).is_infinite());
    }

    #[test]
    fn operands_are_deterministic_and_spread() {
        let a = operand(1000, 1);
        assert_eq!(a, operand(1000, 1));
        assert_ne!(a, operand(1000, 2));
        assert!(a.iter().any(|&x| x < -0.5) && a.iter().any(|&x| x > 0.5));
        assert!(a.iter().all(|x| (-1.0..=1.0).contains(x)));
    }
}
