//! `steadygrad train --distributed`: one MPI rank of data-parallel training (with the
//! `mpi` feature). A rank that fails aborts the whole job, so no rank waits forever in an
//! all-reduce for one that is gone.

#[cfg(not(feature = "mpi"))]
use steadygrad::Error;
use steadygrad::Result;

use super::args::TrainArgs;

/// Runs `train` as this process's MPI rank.
#[cfg(feature = "mpi")]
pub fn train(a: TrainArgs) -> Result<()> {
    use steadygrad::dist::{Communicator, Mpi};
    let mpi = Mpi::init()?;
    let comm = mpi.world();
    let (rank, ranks) = (comm.rank(), comm.size());
    match super::commands::train_on(a, Some(Box::new(comm))) {
        Ok(()) => Ok(()),
        Err(e) if ranks > 1 => {
            eprintln!("error (rank {rank} of {ranks}): {e}");
            mpi.abort(1)
        }
        Err(e) => Err(e),
    }
}

/// Without the `mpi` feature: a one-line error saying how to get it.
#[cfg(not(feature = "mpi"))]
pub fn train(_a: TrainArgs) -> Result<()> {
    Err(Error::Config(
        "--distributed needs a build with MPI: install Open MPI (apt install openmpi-bin libopenmpi-dev clang libclang-dev) and build with `cargo build --release --features mpi`".into(),
    ))
}
