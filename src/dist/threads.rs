//! [`ThreadGroup`]: ranks as threads of one process, summing through shared memory.

use std::sync::{Arc, Barrier, Mutex};

use super::Communicator;
use crate::error::{Error, Result};

struct Shared {
    barrier: Barrier,
    /// Each rank's contribution to the collective in progress.
    slots: Vec<Mutex<Vec<f32>>>,
    gathered: Vec<Mutex<u64>>,
}

/// One rank of a group of threads. Every rank computes the sum in rank order, so all get
/// the same bits. Made by [`ThreadGroup::new`], one per thread.
pub struct ThreadGroup {
    rank: usize,
    shared: Arc<Shared>,
}

impl ThreadGroup {
    /// A group of `size` ranks; hand element `r` to the thread that runs rank `r`.
    pub fn new(size: usize) -> Vec<ThreadGroup> {
        let shared = Arc::new(Shared {
            barrier: Barrier::new(size),
            slots: (0..size).map(|_| Mutex::new(Vec::new())).collect(),
            gathered: (0..size).map(|_| Mutex::new(0)).collect(),
        });
        (0..size)
            .map(|rank| ThreadGroup {
                rank,
                shared: shared.clone(),
            })
            .collect()
    }
}

fn poisoned<T>(_: T) -> Error {
    Error::Distributed("a rank thread panicked".into())
}

impl Communicator for ThreadGroup {
    fn rank(&self) -> usize {
        self.rank
    }

    fn size(&self) -> usize {
        self.shared.slots.len()
    }

    fn all_reduce_sum(&self, data: &mut [f32]) -> Result<()> {
        let s = &self.shared;
        {
            let mut mine = s.slots[self.rank].lock().map_err(poisoned)?;
            mine.clear();
            mine.extend_from_slice(data);
        }
        s.barrier.wait();
        data.fill(0.0);
        for slot in &s.slots {
            let v = slot.lock().map_err(poisoned)?;
            if v.len() != data.len() {
                return Err(Error::Distributed(format!(
                    "ranks disagree on an all-reduce's length ({} and {})",
                    v.len(),
                    data.len()
                )));
            }
            for (d, x) in data.iter_mut().zip(v.iter()) {
                *d += x;
            }
        }
        // No rank overwrites its slot before every rank has read them all.
        s.barrier.wait();
        Ok(())
    }

    fn all_gather(&self, value: u64) -> Result<Vec<u64>> {
        let s = &self.shared;
        *s.gathered[self.rank].lock().map_err(poisoned)? = value;
        s.barrier.wait();
        let out = s
            .gathered
            .iter()
            .map(|g| g.lock().map(|v| *v).map_err(poisoned))
            .collect::<Result<Vec<u64>>>()?;
        s.barrier.wait();
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_and_gathers_across_threads() {
        let group = ThreadGroup::new(3);
        let handles: Vec<_> = group
            .into_iter()
            .map(|c| {
                std::thread::spawn(move || {
                    let r = c.rank() as f32;
                    let mut v = vec![r, 10.0 * r];
                    c.all_reduce_sum(&mut v).unwrap();
                    let g = c.all_gather(c.rank() as u64 * 7).unwrap();
                    (v, g)
                })
            })
            .collect();
        for h in handles {
            let (v, g) = h.join().unwrap();
            assert_eq!(v, vec![3.0, 30.0]);
            assert_eq!(g, vec![0, 7, 14]);
        }
    }
}
