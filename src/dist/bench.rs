//! Timing the all-reduce itself (`steadygrad bench --distributed`): what a step's
//! gradient exchange costs between these ranks, apart from training.

use web_time::Instant;

use super::Communicator;
use crate::error::Result;

/// One size's all-reduce timing.
#[derive(Clone, Debug, PartialEq)]
pub struct AllReduceTiming {
    /// Values (f32) summed.
    pub values: usize,
    /// Median seconds of one all-reduce, the slowest rank's.
    pub seconds: f64,
}

impl AllReduceTiming {
    /// Bytes each rank contributes.
    pub fn bytes(&self) -> usize {
        4 * self.values
    }

    /// "Bus bandwidth": the bytes a ring all-reduce moves through each rank's link,
    /// 2·(n − 1)/n of the buffer, per second.
    pub fn bus_bytes_per_second(&self, ranks: usize) -> f64 {
        let n = ranks.max(1) as f64;
        2.0 * (n - 1.0) / n * self.bytes() as f64 / self.seconds.max(1e-12)
    }
}

/// Times `repeats` all-reduces of each size (after one to warm up); every rank must call
/// it with the same arguments. The median of each rank's times, then the largest over
/// ranks (a collective ends when its slowest rank does).
pub fn all_reduce_timings(
    comm: &dyn Communicator,
    sizes: &[usize],
    repeats: usize,
) -> Result<Vec<AllReduceTiming>> {
    let mut out = Vec::new();
    for &n in sizes {
        let mut data = vec![1.0f32; n];
        comm.all_reduce_sum(&mut data)?;
        let mut times = Vec::with_capacity(repeats);
        for _ in 0..repeats.max(1) {
            data.fill(1.0);
            let t0 = Instant::now();
            comm.all_reduce_sum(&mut data)?;
            times.push(t0.elapsed().as_secs_f64());
        }
        times.sort_by(f64::total_cmp);
        let median = times[times.len() / 2];
        let all = comm.all_gather(median.to_bits())?;
        let seconds = all.into_iter().map(f64::from_bits).fold(0.0, f64::max);
        out.push(AllReduceTiming { values: n, seconds });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dist::ThreadGroup;

    #[test]
    fn timings_cover_each_size_and_sum_correctly() {
        let handles: Vec<_> = ThreadGroup::new(2)
            .into_iter()
            .map(|c| std::thread::spawn(move || all_reduce_timings(&c, &[1, 1000], 3).unwrap()))
            .collect();
        for h in handles {
            let t = h.join().unwrap();
            assert_eq!(
                t.iter().map(|x| x.values).collect::<Vec<_>>(),
                vec![1, 1000]
            );
            assert!(t
                .iter()
                .all(|x| x.seconds > 0.0 && x.bus_bytes_per_second(2) > 0.0));
        }
    }
}
