//! MPI through the `mpi` crate (rsmpi): [`Mpi`] (initialized once per process, finalized
//! when dropped) and [`MpiComm`], its world communicator.

use mpi::collective::SystemOperation;
use mpi::environment::Universe;
use mpi::topology::SimpleCommunicator;
use mpi::traits::{Communicator as _, CommunicatorCollectives};

use super::Communicator;
use crate::error::{Error, Result};

/// MPI, initialized. Keep it alive while any [`MpiComm`] is in use: dropping it
/// finalizes MPI.
pub struct Mpi {
    universe: Universe,
}

impl Mpi {
    /// Initializes MPI (once per process).
    pub fn init() -> Result<Mpi> {
        let universe = mpi::initialize().ok_or_else(|| {
            Error::Distributed("MPI could not be initialized (or was initialized twice)".into())
        })?;
        Ok(Mpi { universe })
    }

    /// `MPI_COMM_WORLD`: every rank `mpirun` started.
    pub fn world(&self) -> MpiComm {
        let world = self.universe.world();
        // The ranks that share this host's memory, in world order.
        let local_rank = world.split_shared(0).rank() as usize;
        MpiComm { world, local_rank }
    }

    /// Ends every rank of the job with `code`.
    pub fn abort(&self, code: i32) -> ! {
        self.universe.world().abort(code)
    }
}

/// A communicator over MPI's world (ranks as processes under `mpirun`).
pub struct MpiComm {
    world: SimpleCommunicator,
    local_rank: usize,
}

impl Communicator for MpiComm {
    fn rank(&self) -> usize {
        self.world.rank() as usize
    }

    fn size(&self) -> usize {
        self.world.size() as usize
    }

    fn local_rank(&self) -> usize {
        self.local_rank
    }

    fn all_reduce_sum(&self, data: &mut [f32]) -> Result<()> {
        let send = data.to_vec();
        self.world
            .all_reduce_into(&send[..], data, SystemOperation::sum());
        Ok(())
    }

    fn all_gather(&self, value: u64) -> Result<Vec<u64>> {
        let mut out = vec![0u64; self.size()];
        self.world.all_gather_into(&value, &mut out[..]);
        Ok(out)
    }
}
