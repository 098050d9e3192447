//! `steadygrad train --distributed`: one MPI rank of data-parallel training (with the
//! `mpi` feature). A rank that fails aborts the whole job, so no rank waits forever in an
//! all-reduce for one that is gone — except for configuration errors: those come from the
//! flags and files every rank reads alike, so every rank meets them at the same point;
//! rank 0 alone prints them and all ranks end normally.

use steadygrad::{Error, Result};

use super::args::{BenchArgs, TrainArgs};

/// Runs `train` as this process's MPI rank.
#[cfg(feature = "mpi")]
pub fn train(a: TrainArgs) -> Result<()> {
    use steadygrad::dist::{Communicator, Mpi};
    let mpi = Mpi::init()?;
    let comm = mpi.world();
    let (rank, ranks) = (comm.rank(), comm.size());
    match super::commands::train_on(a, Some(Box::new(comm))) {
        Ok(()) => Ok(()),
        Err(e) if ranks == 1 => Err(e),
        Err(Error::Config(message)) => {
            // Rank 0 prints before MPI_Finalize, collective over the ranks (Open MPI ends
            // it with a barrier): printed after it (by main), the line raced mpirun, which ends
            // the job as soon as another rank exits with its failing status.
            if rank == 0 {
                eprintln!("error: {}", Error::Config(message));
            }
            drop(mpi); // MPI_Finalize: a normal end, with a failing status.
            std::process::exit(1)
        }
        Err(e) => {
            eprintln!("error (rank {rank} of {ranks}): {e}");
            mpi.abort(1)
        }
    }
}

/// Without the `mpi` feature: a one-line error saying how to get it.
#[cfg(not(feature = "mpi"))]
pub fn train(_a: TrainArgs) -> Result<()> {
    Err(without_mpi())
}

/// `steadygrad bench --distributed`: all-reduce timings between the ranks, printed by
/// rank 0 (a Markdown table, or JSON with `--json`).
#[cfg(feature = "mpi")]
pub fn bench(a: BenchArgs) -> Result<()> {
    use steadygrad::dist::{all_reduce_timings, Communicator, Mpi};
    let mpi = Mpi::init()?;
    let comm = mpi.world();
    let ranks = comm.size();
    let seed = steadygrad::nn::seed_network(false)?;
    let grads: usize = seed
        .weights()
        .iter()
        .filter(|w| w.optimizable)
        .map(|w| w.data.len())
        .sum();
    let mut sizes = vec![grads, 1 << 20, 1 << 24];
    if !a.quick {
        sizes.push(100_000_000);
    }
    let t = all_reduce_timings(&comm, &sizes, if a.quick { 3 } else { 10 })?;
    if comm.rank() != 0 {
        return Ok(());
    }
    if a.json {
        let rows: Vec<_> = t
            .iter()
            .map(|x| {
                serde_json::json!({"values": x.values, "bytes": x.bytes(), "seconds": x.seconds,
                    "bus_bytes_per_second": x.bus_bytes_per_second(ranks)})
            })
            .collect();
        println!("{}", serde_json::json!({"ranks": ranks, "allreduce": rows}));
    } else {
        println!("| values (f32) | bytes | all-reduce, {ranks} ranks (median) | bus bandwidth |");
        println!("|---|---|---|---|");
        for (i, x) in t.iter().enumerate() {
            let what = if i == 0 {
                " (seed network's gradients)"
            } else {
                ""
            };
            println!(
                "| {}{what} | {:.2} MB | {:.3} ms | {:.2} GB/s |",
                x.values,
                x.bytes() as f64 / 1e6,
                1e3 * x.seconds,
                x.bus_bytes_per_second(ranks) / 1e9
            );
        }
    }
    Ok(())
}

/// Without the `mpi` feature: a one-line error saying how to get it.
#[cfg(not(feature = "mpi"))]
pub fn bench(_a: BenchArgs) -> Result<()> {
    Err(without_mpi())
}

/// The error of `--distributed` in a build without the `mpi` feature.
#[cfg(not(feature = "mpi"))]
fn without_mpi() -> Error {
    Error::Config(
        "--distributed needs a build with MPI: install Open MPI (apt install openmpi-bin libopenmpi-dev clang libclang-dev) and build with `cargo build --release --features mpi`".into(),
    )
}
