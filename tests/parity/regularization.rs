//! Dropout (plain and alpha, shared noise axes), the weight penalties and the max-norm
//! constraint: the GPU against the CPU reference.

use super::*;
use steadygrad::backend::kernel::{DropoutMask, Penalized};

pub(super) fn regularization_kernels_match_reference() {
    let Some(mut g) = gpu() else { return };
    for (rows, sample, shared, alpha) in [
        (33, [1, 1, 300], [false; 4], false),
        (4, [5, 6, 3], [false, true, true, false], false),
        (7, [1, 1, 100], [true, false, false, false], true),
        (1, [3, 3, 1], [false; 4], true),
    ] {
        let mask = DropoutMask {
            rows,
            sample,
            shared,
            rate: 0.3,
            seed: 12345,
            alpha,
        };
        let n = mask.len();
        let step = step_record(6, 0, 0.0, [0.0; 4]);
        let x = random_with_edges(n, 2.0, 3);
        check(
            &mut g,
            Kernel::Dropout { mask },
            vec![x, vec![f32::NAN; n], step.clone()],
            1e-6,
        );
        let dy = random(n, 1.0, 4);
        check(
            &mut g,
            Kernel::DropoutBackward { mask },
            vec![dy, vec![f32::NAN; n], step],
            1e-6,
        );
    }
    let packed = ArenaTensor::pack(&[5, 2500, 1024]);
    let tensors: Vec<Penalized> = (packed.iter().zip([(0.01, 0.0), (0.0, 0.02), (0.003, 0.05)]))
        .map(|(&tensor, (l1, l2))| Penalized { tensor, l1, l2 })
        .collect();
    let n = arena_end(&packed);
    let chunks = steadygrad::backend::ops::regularization::penalty_chunks(&tensors);
    let mut w = random_with_edges(n, 1.0, 8);
    w[7] = 0.0; // sign(0) = 0
    check(
        &mut g,
        Kernel::Penalty {
            tensors: tensors.clone(),
            first: 2,
        },
        vec![w, random(n, 1.0, 9), vec![0.5; 2 + chunks]],
        1e-5,
    );
    check(
        &mut g,
        Kernel::AddPenalty {
            chunks: 70,
            rows: 32,
        },
        vec![random(70, 1.0, 10), vec![3.0, 1.0, 64.0]],
        1e-5,
    );
    for (rows, cols, per_row) in [
        (784, 30, false),
        (9, 16, false),
        (5, 7, true),
        (10, 1, false),
    ] {
        check(
            &mut g,
            Kernel::MaxNorm {
                rows,
                cols,
                per_row,
                max_value: 0.7,
            },
            vec![random_with_edges(rows * cols, 1.0, 11)],
            1e-5,
        );
    }
}
