//! Optimizer updates (`shaders/update/common.wgsl` + `update/<rule>.wgsl`): one fused
//! launch over the weight, gradient and state arenas applies every tensor's clip factor,
//! value clipping and the rule's Keras formula (a multi-tensor apply: one workgroup per
//! [`CHUNK`] of a tensor, found through the chunk table). The CPU loops below are the
//! reference the parity tests hold the WGSL to.

use super::grad_stats::{block_table, grid_groups};
use crate::backend::contract::Entry;
use crate::backend::kernel::{arena_end, ArenaTensor, UpdateRule, CHUNK};
use crate::backend::launch::{shader_params, GpuLaunch};
use crate::backend::signature::{fits_uniform, UNIFORM_VEC4S};

shader_params! {
    /// `Params` of the update kernels.
    UpdateParams {
        /// Rows of the chunk table.
        chunks: u32,
        /// Bit 0: Nesterov (SGD).
        flags: u32,
        /// Unused.
        pad: u32,
        /// Unused.
        pad0: u32,
        /// Element-wise clip (0 = off).
        clipvalue: f32,
        /// Decoupled weight decay (0 = off).
        weight_decay: f32,
        /// First hyper-parameter (RMSprop rho, beta_1).
        a: f32,
        /// Second hyper-parameter (beta_2).
        b: f32,
        /// Epsilon.
        epsilon: f32,
        /// Unused.
        pad1: f32,
        /// Unused.
        pad2: f32,
        /// Unused.
        pad3: f32,
    }
}

/// The entry point and hyper-parameters of a rule.
fn entry_of(rule: UpdateRule) -> (Entry, u32, f32, f32, f32) {
    match rule {
        UpdateRule::Sgd { momentum, nesterov } => {
            let e = if momentum == 0.0 {
                Entry::SgdUpdate
            } else {
                Entry::SgdMomentumUpdate
            };
            (e, u32::from(nesterov), 0.0, 0.0, 0.0)
        }
        UpdateRule::Adagrad { epsilon } => (Entry::AdagradUpdate, 0, 0.0, 0.0, epsilon),
        UpdateRule::Rmsprop {
            rho,
            momentum,
            epsilon,
            centered,
        } => {
            let e = match (centered, momentum > 0.0) {
                (false, false) => Entry::RmspropUpdate,
                (false, true) => Entry::RmspropMomentumUpdate,
                (true, false) => Entry::RmspropCenteredUpdate,
                (true, true) => Entry::RmspropCenteredMomentumUpdate,
            };
            (e, 0, rho, 0.0, epsilon)
        }
        UpdateRule::Adam {
            beta_1,
            beta_2,
            epsilon,
            amsgrad,
        } => {
            let e = if amsgrad {
                Entry::AmsgradUpdate
            } else {
                Entry::AdamUpdate
            };
            (e, 0, beta_1, beta_2, epsilon)
        }
        UpdateRule::Nadam {
            beta_1,
            beta_2,
            epsilon,
        } => (Entry::NadamUpdate, 0, beta_1, beta_2, epsilon),
        UpdateRule::Adamax {
            beta_1,
            beta_2,
            epsilon,
        } => (Entry::AdamaxUpdate, 0, beta_1, beta_2, epsilon),
    }
}

/// GPU launch.
pub fn gpu(
    rule: UpdateRule,
    tensors: &[ArenaTensor],
    clipvalue: f32,
    weight_decay: f32,
) -> GpuLaunch {
    let (entry, flags, a, b, epsilon) = entry_of(rule);
    let table = block_table(tensors, CHUNK);
    let p = UpdateParams {
        chunks: table.len() as u32,
        flags,
        clipvalue,
        weight_decay,
        a,
        b,
        epsilon,
        ..Default::default()
    };
    let grid = grid_groups(table.len());
    GpuLaunch::new(entry, p, grid).with_table(table)
}

/// `launch` (an update of the arenas holding `tensors`) reading its arenas through
/// textures: on CPU adapters a texel load is one gather where a storage load is a loop
/// over the lanes (the seed network's update once measured 5.5 → 3.6 ms on llvmpipe, the
/// copies into the textures included), and the clip scales, the step record and the
/// chunk table from uniform blocks (2.8–3.5 → 2.0–2.5 ms more for the first two). Since
/// then the storage entry overtook it on llvmpipe (929–963 against 1,233–1,413 µs at
/// batch 256), which takes storage by default; SwiftShader keeps textures. Arenas
/// too large for a texture, more tensors than a block holds scales for, or more chunks
/// than it holds rows keep storage reads; so does any launch that is not an update.
pub fn through_textures(launch: GpuLaunch, tensors: &[ArenaTensor]) -> GpuLaunch {
    let slots = tensors.iter().map(|t| t.slot + 1).max().unwrap_or(0);
    if !super::matmul::fits_texture(arena_end(tensors))
        || !fits_uniform(slots)
        || launch.table.len() > UNIFORM_VEC4S
    {
        return launch;
    }
    let entry = match launch.entry {
        Entry::SgdUpdate => Entry::SgdUpdateTexture,
        Entry::SgdMomentumUpdate => Entry::SgdMomentumUpdateTexture,
        Entry::AdagradUpdate => Entry::AdagradUpdateTexture,
        Entry::RmspropUpdate => Entry::RmspropUpdateTexture,
        Entry::RmspropMomentumUpdate => Entry::RmspropMomentumUpdateTexture,
        Entry::RmspropCenteredUpdate => Entry::RmspropCenteredUpdateTexture,
        Entry::RmspropCenteredMomentumUpdate => Entry::RmspropCenteredMomentumUpdateTexture,
        Entry::AdamUpdate => Entry::AdamUpdateTexture,
        Entry::AmsgradUpdate => Entry::AmsgradUpdateTexture,
        Entry::NadamUpdate => Entry::NadamUpdateTexture,
        Entry::AdamaxUpdate => Entry::AdamaxUpdateTexture,
        _ => return launch,
    };
    GpuLaunch { entry, ..launch }
}

/// CPU reference.
pub fn cpu(
    rule: UpdateRule,
    tensors: &[ArenaTensor],
    (clipvalue, weight_decay): (f32, f32),
    b: &mut [&mut [f32]],
) {
    for t in tensors {
        let range = t.offset..t.offset + t.n;
        let (w, rest) = b.split_at_mut(1);
        let (g, rest) = rest.split_at_mut(1);
        let (fixed, slots) = rest.split_at_mut(2);
        let scale = fixed[0][t.slot];
        let step = &fixed[1];
        let mut state: Vec<&mut [f32]> = slots.iter_mut().map(|s| &mut s[range.clone()]).collect();
        tensor_cpu(
            rule,
            (clipvalue, weight_decay),
            t.lr_mult,
            scale,
            step,
            &mut w[0][range.clone()],
            &g[0][range.clone()],
            &mut state,
        );
    }
}

/// One tensor of [`cpu`]: its weights, gradient and state slices.
#[allow(clippy::too_many_arguments)]
fn tensor_cpu(
    rule: UpdateRule,
    (clipvalue, weight_decay): (f32, f32),
    lr_mult: f32,
    scale: f32,
    step: &[f32],
    w: &mut [f32],
    g: &[f32],
    state: &mut [&mut [f32]],
) {
    let n = w.len();
    let lr = step[2] * lr_mult;
    let (s0, s1, s2, s3) = (step[4], step[5], step[6], step[7]);
    for i in 0..n {
        let mut gi = g[i] * scale;
        if clipvalue > 0.0 {
            gi = gi.clamp(-clipvalue, clipvalue);
        }
        // Keras's decoupled weight decay, before the rule's step.
        w[i] -= w[i] * weight_decay * lr;
        match rule {
            UpdateRule::Sgd { momentum, nesterov } => {
                if momentum == 0.0 {
                    w[i] -= lr * gi;
                } else {
                    // The step's momentum (a schedule may move it).
                    let momentum = s0;
                    let m = momentum * state[0][i] - lr * gi;
                    state[0][i] = m;
                    w[i] += if nesterov { momentum * m - lr * gi } else { m };
                }
            }
            UpdateRule::Adagrad { epsilon } => {
                state[0][i] += gi * gi;
                w[i] -= lr * gi / (state[0][i] + epsilon).sqrt();
            }
            UpdateRule::Rmsprop {
                rho,
                momentum,
                epsilon,
                centered,
            } => {
                let v = rho * state[0][i] + (1.0 - rho) * gi * gi;
                state[0][i] = v;
                let has_momentum = momentum > 0.0;
                let mut den = v + epsilon;
                if centered {
                    let k = if has_momentum { 2 } else { 1 };
                    let avg = rho * state[k][i] + (1.0 - rho) * gi;
                    state[k][i] = avg;
                    den = v - avg * avg + epsilon;
                }
                let inc = lr * gi / den.sqrt();
                if has_momentum {
                    let m = s0 * state[1][i] + inc;
                    state[1][i] = m;
                    w[i] -= m;
                } else {
                    w[i] -= inc;
                }
            }
            UpdateRule::Adam {
                beta_1,
                beta_2,
                epsilon,
                amsgrad,
            } => {
                let m = state[0][i] + (gi - state[0][i]) * (1.0 - beta_1);
                state[0][i] = m;
                let mut v = state[1][i] + (gi * gi - state[1][i]) * (1.0 - beta_2);
                state[1][i] = v;
                if amsgrad {
                    v = state[2][i].max(v);
                    state[2][i] = v;
                }
                w[i] -= m * (s0 * lr_mult) / (v.sqrt() + epsilon);
            }
            UpdateRule::Nadam {
                beta_1,
                beta_2,
                epsilon,
            } => {
                let m = state[0][i] + (gi - state[0][i]) * (1.0 - beta_1);
                state[0][i] = m;
                let v = state[1][i] + (gi * gi - state[1][i]) * (1.0 - beta_2);
                state[1][i] = v;
                let m_hat = s1 * m / (1.0 - s2 * s1) + (1.0 - s0) * gi / (1.0 - s2);
                let v_hat = v / (1.0 - s3);
                w[i] -= lr * m_hat / (v_hat.sqrt() + epsilon);
            }
            UpdateRule::Adamax {
                beta_1,
                beta_2,
                epsilon,
            } => {
                let m = state[0][i] + (gi - state[0][i]) * (1.0 - beta_1);
                state[0][i] = m;
                let u = (beta_2 * state[1][i]).max(gi.abs());
                state[1][i] = u;
                w[i] -= (lr * m) / (s0 * (u + epsilon));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::kernel::UpdateRule;

    /// The texture entries read the clip scales and the chunk table from uniform blocks:
    /// an update of more tensors than a block holds scales for, or of more chunks than it
    /// holds rows, keeps the storage entry.
    #[test]
    fn more_than_a_block_holds_keeps_the_storage_entry() {
        let rule = UpdateRule::Sgd {
            momentum: 0.9,
            nesterov: true,
        };
        let tensors = |count: usize| -> Vec<ArenaTensor> {
            (0..count)
                .map(|slot| ArenaTensor {
                    offset: slot * CHUNK,
                    n: 1,
                    slot,
                    lr_mult: 1.0,
                })
                .collect()
        };
        let entry =
            |tensors: &[ArenaTensor]| through_textures(gpu(rule, tensors, 0.0, 0.0), tensors).entry;
        // A chunk a tensor: as many table rows as tensors.
        assert_eq!(
            entry(&tensors(UNIFORM_VEC4S)),
            Entry::SgdMomentumUpdateTexture
        );
        assert_eq!(entry(&tensors(UNIFORM_VEC4S + 1)), Entry::SgdMomentumUpdate);
        // One tensor of many chunks in the last slot of a block's scales, then past it.
        let last_slot = |slot: usize| {
            vec![ArenaTensor {
                offset: 0,
                n: 5 * CHUNK,
                slot,
                lr_mult: 1.0,
            }]
        };
        assert_eq!(
            entry(&last_slot(4 * UNIFORM_VEC4S - 1)),
            Entry::SgdMomentumUpdateTexture
        );
        assert_eq!(
            entry(&last_slot(4 * UNIFORM_VEC4S)),
            Entry::SgdMomentumUpdate
        );
    }
}
