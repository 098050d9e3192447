//! The CPU reference: every kernel as plain loops, written to be obviously correct rather
//! than fast. GPU kernels are tested against these.

// Index loops on purpose: each one reads like the formula it implements.
#![allow(clippy::needless_range_loop)]

use super::kernel::{ActKind, ClipMode, Kernel, LossKind, SELU_ALPHA, SELU_SCALE};
use super::{validate_launch, Backend, BufId, Counters, DeviceInfo, LaunchId};
use crate::error::{Error, Result};

/// The CPU reference backend. Launches execute at submit time, in order.
#[derive(Default)]
pub struct CpuBackend {
    bufs: Vec<Vec<f32>>,
    launches: Vec<(Kernel, Vec<BufId>)>,
    pending: Vec<LaunchId>,
    counters: Counters,
}

impl CpuBackend {
    /// A new, empty CPU backend.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Backend for CpuBackend {
    fn info(&self) -> DeviceInfo {
        DeviceInfo {
            kind: "cpu",
            adapter: "cpu-reference".into(),
            api: "none".into(),
        }
    }

    fn alloc(&mut self, words: usize) -> Result<BufId> {
        self.bufs.push(vec![0.0; words]);
        Ok(BufId(self.bufs.len() - 1))
    }

    fn free(&mut self, buf: BufId) {
        self.bufs[buf.0] = Vec::new();
    }

    fn len(&self, buf: BufId) -> usize {
        self.bufs[buf.0].len()
    }

    fn write_words(&mut self, buf: BufId, offset: usize, data: &[u32]) -> Result<()> {
        let dst = &mut self.bufs[buf.0];
        if offset + data.len() > dst.len() {
            return Err(Error::Shape(format!(
                "write of {} values at {offset} into a buffer of {}",
                data.len(),
                dst.len()
            )));
        }
        for (d, s) in dst[offset..].iter_mut().zip(data) {
            *d = f32::from_bits(*s);
        }
        self.counters.upload_bytes += 4 * data.len() as u64;
        Ok(())
    }

    fn read_words(&mut self, buf: BufId) -> Result<Vec<u32>> {
        self.counters.readback_bytes += 4 * self.bufs[buf.0].len() as u64;
        Ok(self.bufs[buf.0].iter().map(|v| v.to_bits()).collect())
    }

    fn prepare(&mut self, kernel: &Kernel, bufs: &[BufId]) -> Result<LaunchId> {
        validate_launch(kernel, bufs, |b| self.bufs[b.0].len())?;
        self.launches.push((kernel.clone(), bufs.to_vec()));
        Ok(LaunchId(self.launches.len() - 1))
    }

    fn launch(&mut self, id: LaunchId) {
        self.pending.push(id);
    }

    fn submit(&mut self) -> Result<()> {
        let pending = std::mem::take(&mut self.pending);
        for id in pending {
            let (kernel, ids) = &self.launches[id.0];
            // Move the buffers out so the kernel can borrow them all mutably at once.
            let mut taken: Vec<Vec<f32>> = ids
                .iter()
                .map(|b| std::mem::take(&mut self.bufs[b.0]))
                .collect();
            execute(kernel, &mut taken);
            for (b, v) in ids.iter().zip(taken) {
                self.bufs[b.0] = v;
            }
            self.counters.dispatches += 1;
        }
        self.counters.submits += 1;
        Ok(())
    }

    fn counters(&self) -> Counters {
        self.counters
    }

    fn max_buffer_words(&self) -> usize {
        usize::MAX / 8
    }
}

/// The PCG hash the WGSL kernels use; bit-identical so RReLU slopes match exactly.
pub fn pcg(v: u32) -> u32 {
    let state = v.wrapping_mul(747796405).wrapping_add(2891336453);
    let word = ((state >> ((state >> 28) + 4)) ^ state).wrapping_mul(277803737);
    (word >> 22) ^ word
}

/// Uniform draw in [0, 1) for (seed, step, element), as the GPU computes it.
pub fn uniform01(seed: u32, step: u32, i: u32) -> f32 {
    let h = pcg(seed ^ pcg(step ^ pcg(i)));
    (h >> 8) as f32 * (1.0 / 16777216.0)
}

fn rrelu_slope(lower: f32, upper: f32, training: bool, seed: u32, step: u32, i: usize) -> f32 {
    if training {
        lower + (upper - lower) * uniform01(seed, step, i as u32)
    } else {
        (lower + upper) * 0.5
    }
}

/// `f(x)` for one element (softmax excluded).
pub fn act_value(act: ActKind, x: f32, training: bool, seed: u32, step: u32, i: usize) -> f32 {
    match act {
        ActKind::Linear | ActKind::Softmax => x,
        ActKind::Relu => x.max(0.0),
        ActKind::LeakyRelu { alpha } => {
            if x > 0.0 {
                x
            } else {
                alpha * x
            }
        }
        ActKind::Rrelu { lower, upper } => {
            if x >= 0.0 {
                x
            } else {
                rrelu_slope(lower, upper, training, seed, step, i) * x
            }
        }
        ActKind::Elu { alpha } => {
            if x > 0.0 {
                x
            } else {
                alpha * (x.exp() - 1.0)
            }
        }
        ActKind::Selu => {
            if x > 0.0 {
                SELU_SCALE * x
            } else {
                SELU_SCALE * SELU_ALPHA * (x.exp() - 1.0)
            }
        }
        ActKind::Tanh => x.clamp(-20.0, 20.0).tanh(),
        ActKind::Sigmoid => 1.0 / (1.0 + (-x).exp()),
    }
}

/// `f'(x)` for one element given its input and output (softmax excluded).
pub fn act_derivative(
    act: ActKind,
    x: f32,
    y: f32,
    training: bool,
    seed: u32,
    step: u32,
    i: usize,
) -> f32 {
    match act {
        ActKind::Linear | ActKind::Softmax => 1.0,
        ActKind::Relu => {
            if x > 0.0 {
                1.0
            } else {
                0.0
            }
        }
        ActKind::LeakyRelu { alpha } => {
            if x > 0.0 {
                1.0
            } else {
                alpha
            }
        }
        ActKind::Rrelu { lower, upper } => {
            let positive = if training { x >= 0.0 } else { x > 0.0 };
            if positive {
                1.0
            } else {
                rrelu_slope(lower, upper, training, seed, step, i)
            }
        }
        ActKind::Elu { alpha } => {
            if x > 0.0 {
                1.0
            } else {
                alpha * x.exp()
            }
        }
        ActKind::Selu => {
            if x >= 0.0 {
                SELU_SCALE
            } else {
                SELU_SCALE * SELU_ALPHA * x.exp()
            }
        }
        ActKind::Tanh => 1.0 - y * y,
        ActKind::Sigmoid => y * (1.0 - y),
    }
}

fn target_of(label: usize, c: usize, cols: usize) -> f32 {
    if cols == 1 {
        label as f32
    } else if c == label {
        1.0
    } else {
        0.0
    }
}

/// Runs one kernel on host buffers, in the kernel's documented buffer order.
fn execute(kernel: &Kernel, b: &mut [Vec<f32>]) {
    match *kernel {
        Kernel::MatMul {
            m,
            k,
            n,
            trans_a,
            trans_b,
            accumulate,
        } => {
            let a = |i: usize, kk: usize, a: &[f32]| {
                if trans_a {
                    a[kk * m + i]
                } else {
                    a[i * k + kk]
                }
            };
            // Bring B to row-major [k, n] so the inner loop is contiguous.
            let bt: Vec<f32> = if trans_b {
                let mut t = vec![0.0; k * n];
                for j in 0..n {
                    for kk in 0..k {
                        t[kk * n + j] = b[1][j * k + kk];
                    }
                }
                t
            } else {
                b[1][..k * n].to_vec()
            };
            let mut out = vec![0.0f32; m * n];
            for i in 0..m {
                let row = &mut out[i * n..(i + 1) * n];
                for kk in 0..k {
                    let av = a(i, kk, &b[0]);
                    let brow = &bt[kk * n..(kk + 1) * n];
                    for (o, bv) in row.iter_mut().zip(brow) {
                        *o += av * bv;
                    }
                }
            }
            let c = &mut b[2];
            for (ci, oi) in c.iter_mut().zip(out) {
                *ci = if accumulate { *ci + oi } else { oi };
            }
        }
        Kernel::BiasAdd { rows, cols } => {
            for r in 0..rows {
                for c in 0..cols {
                    b[2][r * cols + c] = b[0][r * cols + c] + b[1][c];
                }
            }
        }
        Kernel::ColumnSum { rows, cols } => {
            for c in 0..cols {
                b[1][c] = (0..rows).map(|r| b[0][r * cols + c]).sum();
            }
        }
        Kernel::ActForward {
            act,
            n,
            training,
            seed,
        } => {
            let step = b[2][0] as u32;
            for i in 0..n {
                b[1][i] = act_value(act, b[0][i], training, seed, step, i);
            }
        }
        Kernel::ActBackward {
            act,
            n,
            training,
            seed,
        } => {
            let step = b[4][0] as u32;
            for i in 0..n {
                b[3][i] = b[2][i] * act_derivative(act, b[0][i], b[1][i], training, seed, step, i);
            }
        }
        Kernel::PreluForward { rows, cols } => {
            for i in 0..rows * cols {
                let x = b[0][i];
                b[2][i] = x.max(0.0) + b[1][i % cols] * x.min(0.0);
            }
        }
        Kernel::PreluBackward { rows, cols } => {
            for c in 0..cols {
                let alpha = b[1][c];
                let mut da = 0.0;
                for r in 0..rows {
                    let i = r * cols + c;
                    let (x, dy) = (b[0][i], b[2][i]);
                    let g = if x > 0.0 {
                        1.0
                    } else if x < 0.0 {
                        alpha
                    } else {
                        0.0
                    };
                    b[3][i] = dy * g;
                    da += dy * x.min(0.0);
                }
                b[4][c] = da;
            }
        }
        Kernel::SoftmaxForward { rows, cols } => {
            for r in 0..rows {
                let x = &b[0][r * cols..(r + 1) * cols];
                let mx = x.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
                let e: Vec<f32> = x.iter().map(|v| (v - mx).exp()).collect();
                let s: f32 = e.iter().sum();
                for c in 0..cols {
                    b[1][r * cols + c] = e[c] / s;
                }
            }
        }
        Kernel::SoftmaxBackward { rows, cols } => {
            for r in 0..rows {
                let base = r * cols;
                let dot: f32 = (0..cols).map(|c| b[0][base + c] * b[1][base + c]).sum();
                for c in 0..cols {
                    b[2][base + c] = b[0][base + c] * (b[1][base + c] - dot);
                }
            }
        }
        Kernel::Add { n } => {
            for i in 0..n {
                b[2][i] = b[0][i] + b[1][i];
            }
        }
        Kernel::Scale { n, factor } => {
            for i in 0..n {
                b[1][i] = factor * b[0][i];
            }
        }
        Kernel::Loss { kind, rows, cols } => {
            let inv_b = 1.0 / rows as f32;
            for r in 0..rows {
                let base = r * cols;
                let label = b[1][r] as usize;
                let z = b[0][base..base + cols].to_vec();
                let mut arg = 0;
                for c in 1..cols {
                    if z[c] > z[arg] {
                        arg = c;
                    }
                }
                let mx = z[arg];
                let mut loss = 0.0;
                match kind {
                    LossKind::SoftmaxCrossEntropy => {
                        let sum: f32 = z.iter().map(|v| (v - mx).exp()).sum();
                        // Labels are validated on the host; the clamp only keeps a bad one in the row.
                        loss = mx + sum.ln() - z[label.min(cols - 1)];
                        for c in 0..cols {
                            let p = (z[c] - mx).exp() / sum;
                            b[2][base + c] = (p - target_of(label, c, cols)) * inv_b;
                        }
                    }
                    LossKind::SigmoidBinaryCrossEntropy => {
                        let scale = inv_b / cols as f32;
                        for c in 0..cols {
                            let t = target_of(label, c, cols);
                            loss += z[c].max(0.0) - z[c] * t + (1.0 + (-z[c].abs()).exp()).ln();
                            b[2][base + c] = (1.0 / (1.0 + (-z[c]).exp()) - t) * scale;
                        }
                        loss /= cols as f32;
                        if cols == 1 {
                            arg = usize::from(mx > 0.0);
                        }
                    }
                    LossKind::MeanSquaredError => {
                        let scale = 2.0 * inv_b / cols as f32;
                        for c in 0..cols {
                            let d = z[c] - target_of(label, c, cols);
                            loss += d * d;
                            b[2][base + c] = d * scale;
                        }
                        loss /= cols as f32;
                        if cols == 1 {
                            arg = mx.round().max(0.0) as usize;
                        }
                    }
                }
                b[3][2 * r] = loss;
                b[3][2 * r + 1] = if arg == label { 1.0 } else { 0.0 };
            }
        }
        Kernel::AccumulateMetrics { rows } => {
            let l: f32 = (0..rows).map(|r| b[0][2 * r]).sum();
            let c: f32 = (0..rows).map(|r| b[0][2 * r + 1]).sum();
            b[1][0] += l;
            b[1][1] += c;
            b[1][2] += rows as f32;
        }
        Kernel::BnStats { rows, cols } => {
            for c in 0..cols {
                let mean = (0..rows).map(|r| b[0][r * cols + c]).sum::<f32>() / rows as f32;
                let var = (0..rows)
                    .map(|r| (b[0][r * cols + c] - mean).powi(2))
                    .sum::<f32>()
                    / rows as f32;
                b[1][c] = mean;
                b[2][c] = var;
            }
        }
        Kernel::BnApply { rows, cols, eps } => {
            for i in 0..rows * cols {
                let c = i % cols;
                let inv = b[3][c] / (b[2][c] + eps).sqrt();
                b[5][i] = (b[0][i] - b[1][c]) * inv + b[4][c];
            }
        }
        Kernel::BnMovingUpdate { cols, momentum } => {
            for c in 0..cols {
                b[2][c] = b[2][c] * momentum + b[0][c] * (1.0 - momentum);
                b[3][c] = b[3][c] * momentum + b[1][c] * (1.0 - momentum);
            }
        }
        Kernel::BnBackward { rows, cols, eps } => {
            let n = rows as f32;
            for c in 0..cols {
                let mean = b[1][c];
                let invstd = 1.0 / (b[2][c] + eps).sqrt();
                let xhat = |r: usize, x: &[f32]| (x[r * cols + c] - mean) * invstd;
                let sum_dy: f32 = (0..rows).map(|r| b[4][r * cols + c]).sum();
                let sum_dy_xhat: f32 = (0..rows).map(|r| b[4][r * cols + c] * xhat(r, &b[0])).sum();
                let k = b[3][c] * invstd / n;
                for r in 0..rows {
                    let i = r * cols + c;
                    b[5][i] = k * (n * b[4][i] - sum_dy - xhat(r, &b[0]) * sum_dy_xhat);
                }
                b[6][c] = sum_dy_xhat;
                b[7][c] = sum_dy;
            }
        }
        Kernel::GradStats { n, slot } => {
            let g = &b[0][..n];
            let sq: f32 = g.iter().map(|v| v * v).sum();
            let bad = g.iter().any(|v| !v.is_finite());
            let step = b[2][0];
            let s = &mut b[1][3 * slot..3 * slot + 3];
            s[0] = sq;
            s[1] += sq.sqrt();
            if bad && s[2] < 0.0 {
                s[2] = step;
            }
        }
        Kernel::ClipScale { count, mode } => match mode {
            ClipMode::GlobalNorm(c) => {
                let total: f32 = (0..count).map(|t| b[0][3 * t]).sum();
                let norm = total.sqrt();
                let factor = c * (1.0 / norm).min(1.0 / c);
                b[1][..count].fill(factor);
            }
            ClipMode::PerTensorNorm(c) => {
                for t in 0..count {
                    b[1][t] = c / b[0][3 * t].sqrt().max(c);
                }
            }
            ClipMode::None => b[1][..count].fill(1.0),
        },
        Kernel::SgdUpdate {
            n,
            slot,
            momentum,
            nesterov,
            clipvalue,
            lr_mult,
        } => {
            let scale = b[3][slot];
            let lr = b[4][2] * lr_mult;
            for i in 0..n {
                let mut g = b[1][i] * scale;
                if clipvalue > 0.0 {
                    g = g.clamp(-clipvalue, clipvalue);
                }
                if momentum == 0.0 {
                    b[0][i] -= lr * g;
                } else {
                    let v = momentum * b[2][i] - lr * g;
                    b[2][i] = v;
                    if nesterov {
                        b[0][i] += momentum * v - lr * g;
                    } else {
                        b[0][i] += v;
                    }
                }
            }
        }
        Kernel::GatherU8 { rows, features } => {
            let offset = b[3][1] as usize;
            for r in 0..rows {
                let s = b[2][offset + r] as usize;
                for c in 0..features {
                    let byte_index = s * features + c;
                    let word = b[0][byte_index / 4].to_bits();
                    let byte = (word >> ((byte_index % 4) * 8)) & 0xff;
                    b[4][r * features + c] = byte as f32 / 255.0;
                }
                b[5][r] = b[1][s];
            }
        }
        Kernel::GatherF32 { rows, features } => {
            let offset = b[3][1] as usize;
            for r in 0..rows {
                let s = b[2][offset + r] as usize;
                let row = b[0][s * features..(s + 1) * features].to_vec();
                b[4][r * features..(r + 1) * features].copy_from_slice(&row);
                b[5][r] = b[1][s];
            }
        }
    }
}
