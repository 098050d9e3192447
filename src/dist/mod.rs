//! Data-parallel training: ranks that each hold a shard of every global batch and sum
//! what must be whole-batch (gradients, synchronized batch-norm statistics, metrics)
//! through a [`Communicator`]. A session given one (see
//! [`crate::Session::set_communicator`]) runs its step graph in segments split at the
//! graph's all-reduce points ([`crate::graph::Sync`]); without one, a step stays one
//! submit.
//!
//! Implementations: [`ThreadGroup`] (ranks as threads of one process, e.g. one adapter
//! each) and, with the `mpi` feature, `MpiComm` (ranks as processes under `mpirun`,
//! over Open MPI through the `mpi` crate).

mod bench;
#[cfg(feature = "mpi")]
mod mpi;
mod threads;

#[cfg(feature = "mpi")]
pub use self::mpi::{Mpi, MpiComm};
pub use bench::{all_reduce_timings, AllReduceTiming};
pub use threads::ThreadGroup;

use crate::error::{Error, Result};

/// The collective operations data-parallel training needs. Every rank must call them in
/// the same order with the same lengths, and every rank must get bit-identical results
/// (so weights stay identical across ranks).
pub trait Communicator {
    /// This process's (or thread's) rank, from 0.
    fn rank(&self) -> usize;
    /// Number of ranks.
    fn size(&self) -> usize;
    /// This rank among those on its host (which adapter it takes there).
    fn local_rank(&self) -> usize {
        self.rank()
    }
    /// Sums `data` element-wise across ranks, in place.
    fn all_reduce_sum(&self, data: &mut [f32]) -> Result<()>;
    /// Every rank's `value`, in rank order.
    fn all_gather(&self, value: u64) -> Result<Vec<u64>>;
}

/// How a batch is split across ranks: this rank's rows are part of `total`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Shard {
    /// Rows of the whole (global) batch.
    pub total: usize,
    /// Number of ranks.
    pub ranks: usize,
}

/// The rows of rank `rank` among `ranks` for a global batch of `rows`: an even split,
/// the first `rows % ranks` ranks taking one more. Returns (offset, rows).
pub fn shard_rows(rows: usize, rank: usize, ranks: usize) -> (usize, usize) {
    let (base, extra) = (rows / ranks, rows % ranks);
    let offset = rank * base + rank.min(extra);
    (offset, base + usize::from(rank < extra))
}

/// Checks that a global batch of `batch_size` splits evenly among `ranks`.
pub fn check_batch(batch_size: usize, ranks: usize) -> Result<()> {
    if ranks > 0 && !batch_size.is_multiple_of(ranks) {
        return Err(Error::Config(format!(
            "the global batch size {batch_size} does not divide evenly among {ranks} ranks: use a multiple of {ranks}"
        )));
    }
    Ok(())
}

/// A 64-bit FNV-1a hash of the bits of `values`, for comparing weights across ranks.
pub fn checksum<'a>(values: impl IntoIterator<Item = &'a [f32]>) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for v in values {
        for x in v {
            for b in x.to_bits().to_le_bytes() {
                h ^= u64::from(b);
                h = h.wrapping_mul(0x0100_0000_01b3);
            }
        }
    }
    h
}

/// Errors naming the first rank whose checksum differs from rank 0's.
pub fn check_agreement(what: &str, sums: &[u64]) -> Result<()> {
    match sums.iter().position(|s| *s != sums[0]) {
        None => Ok(()),
        Some(r) => Err(Error::Distributed(format!(
            "rank {r}'s {what} differ from rank 0's (checksums {:016x} and {:016x})",
            sums[r], sums[0]
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_cover_the_batch_in_order() {
        for rows in [1, 7, 64, 65] {
            for ranks in 1..5 {
                let mut next = 0;
                for r in 0..ranks {
                    let (o, n) = shard_rows(rows, r, ranks);
                    assert_eq!(o, next);
                    next += n;
                }
                assert_eq!(next, rows);
            }
        }
    }

    #[test]
    fn batch_must_divide() {
        assert!(check_batch(64, 2).is_ok());
        let e = check_batch(63, 2).unwrap_err().to_string();
        assert!(e.contains("63") && e.contains("2 ranks"), "{e}");
    }

    #[test]
    fn agreement_names_the_rank() {
        assert!(check_agreement("weights", &[5, 5, 5]).is_ok());
        let e = check_agreement("weights", &[5, 5, 6])
            .unwrap_err()
            .to_string();
        assert!(e.contains("rank 2"), "{e}");
        assert_ne!(checksum([&[1.0f32][..]]), checksum([&[-1.0f32][..]]));
    }
}
