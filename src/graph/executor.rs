//! The executor: binds a planned graph to backend buffers, prepares every launch once
//! (pipelines, parameters, bind groups), and replays them. Replaying records every node
//! of the graph for the backend's next submit, so a training step is one submit.

use std::collections::HashMap;

use super::ir::{Graph, Reduce, TensorId, TensorKind};
use super::plan::plan;
use crate::backend::{Backend, BufId, LaunchId};
use crate::dist::Communicator;
use crate::error::{Error, Result};

/// An all-reduce point bound to its buffer.
struct BoundSync {
    at: usize,
    buf: BufId,
    offset: usize,
    len: usize,
    op: Reduce,
}

/// What one run's all-reduce points cost.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct SyncCost {
    /// All-reduce rounds.
    pub rounds: u64,
    /// Values each rank contributed.
    pub values: u64,
    /// Seconds inside the all-reduces (the exchange, and any wait for slower ranks).
    pub seconds: f64,
}

impl std::ops::Add for SyncCost {
    type Output = SyncCost;
    fn add(self, o: SyncCost) -> SyncCost {
        SyncCost {
            rounds: self.rounds + o.rounds,
            values: self.values + o.values,
            seconds: self.seconds + o.seconds,
        }
    }
}

/// A graph made ready to run on one backend.
pub struct Executor {
    launches: Vec<LaunchId>,
    /// Whether each launch only gathers statistics ([`Graph::statistics`]).
    statistics: Vec<bool>,
    /// Each launch's kernel and the tensor it writes first (for profiles).
    labels: Vec<String>,
    slots: Vec<BufId>,
    bufs: HashMap<TensorId, BufId>,
    syncs: Vec<BoundSync>,
}

impl Executor {
    /// Plans `g`, allocates its temporaries, and prepares its launches. `bound` gives the
    /// buffer of every external tensor; `keep` lists temporaries the caller will read.
    pub fn new(
        g: &Graph,
        backend: &mut dyn Backend,
        bound: &HashMap<TensorId, BufId>,
        keep: &[TensorId],
    ) -> Result<Self> {
        let p = plan(g, keep)?;
        let mut slots = Vec::with_capacity(p.slots.len());
        for &words in &p.slots {
            slots.push(backend.alloc(words)?);
        }
        let mut bufs = HashMap::new();
        for (i, info) in g.tensors.iter().enumerate() {
            let t = TensorId(i);
            let b = match info.kind {
                TensorKind::External => match bound.get(&t) {
                    Some(b) => *b,
                    None => {
                        if g.nodes.iter().any(|n| n.args.contains(&t)) {
                            return Err(Error::Config(format!(
                                "external tensor {} has no buffer bound",
                                info.name
                            )));
                        }
                        continue;
                    }
                },
                TensorKind::Temp => match p.slot_of.get(&t) {
                    Some(s) => slots[*s],
                    None => continue,
                },
            };
            bufs.insert(t, b);
        }
        let mut launches = Vec::with_capacity(g.nodes.len());
        let mut labels = Vec::with_capacity(g.nodes.len());
        for n in &g.nodes {
            let ids: Vec<BufId> = n.args.iter().map(|a| bufs[a]).collect();
            launches.push(backend.prepare(&n.kernel, &ids)?);
            let kind = format!("{:?}", crate::backend::KernelKind::from(&n.kernel));
            let out = n.outputs().next().map(|t| g.tensors[t.0].name.clone());
            labels.push(match out {
                Some(o) => format!("{kind} → {o}"),
                None => kind,
            });
        }
        let syncs = g
            .syncs
            .iter()
            .map(|s| BoundSync {
                at: s.at,
                buf: bufs[&s.tensor],
                offset: s.offset,
                len: s.len,
                op: s.op,
            })
            .collect();
        let mut statistics = vec![false; launches.len()];
        for &i in &g.statistics {
            statistics[i] = true;
        }
        Ok(Executor {
            launches,
            statistics,
            labels,
            slots,
            bufs,
            syncs,
        })
    }

    /// Records every node for the backend's next submit (a graph with all-reduce points
    /// needs [`Executor::run`]).
    pub fn record(&self, backend: &mut dyn Backend) {
        debug_assert!(self.syncs.is_empty(), "a graph with all-reduce points");
        self.record_range(backend, 0..self.launches.len(), true);
    }

    /// Records launches `range`, the statistics-only ones when `statistics`.
    fn record_range(
        &self,
        backend: &mut dyn Backend,
        range: std::ops::Range<usize>,
        statistics: bool,
    ) {
        for i in range {
            if statistics || !self.statistics[i] {
                backend.launch(self.launches[i]);
            }
        }
    }

    /// Launches per run: all of them, or those left when the statistics-only ones are
    /// left out.
    pub fn launch_count(&self, statistics: bool) -> usize {
        if statistics {
            self.launches.len()
        } else {
            self.statistics.iter().filter(|s| !**s).count()
        }
    }

    /// Whether the graph has all-reduce points.
    pub fn is_distributed(&self) -> bool {
        !self.syncs.is_empty()
    }

    /// Records the graph's nodes; at each all-reduce point submits what is recorded,
    /// reads the values to combine, combines them across ranks through `comm` (all the
    /// point's tensors in one flat all-reduce) and writes them back. The caller submits
    /// what follows the last point.
    /// The statistics-only launches are left out unless `statistics`.
    pub fn run(
        &self,
        backend: &mut dyn Backend,
        comm: Option<&dyn Communicator>,
        statistics: bool,
    ) -> Result<SyncCost> {
        let mut cost = SyncCost::default();
        let Some(comm) = comm.filter(|_| !self.syncs.is_empty()) else {
            self.record_range(backend, 0..self.launches.len(), statistics);
            return Ok(cost);
        };
        let ranks = comm.size() as f32;
        let mut next = 0;
        let mut i = 0;
        while i < self.syncs.len() {
            let at = self.syncs[i].at;
            let group: Vec<&BoundSync> =
                self.syncs[i..].iter().take_while(|s| s.at == at).collect();
            i += group.len();
            self.record_range(backend, next..at, statistics);
            next = at;
            backend.submit()?;
            let mut flat = Vec::new();
            for s in &group {
                let v = backend.read(s.buf)?;
                flat.extend_from_slice(&v[s.offset..s.offset + s.len]);
            }
            let t0 = web_time::Instant::now();
            comm.all_reduce_sum(&mut flat)?;
            cost.seconds += t0.elapsed().as_secs_f64();
            cost.rounds += 1;
            cost.values += flat.len() as u64;
            let mut at_value = 0;
            for s in &group {
                let part = &mut flat[at_value..at_value + s.len];
                if s.op == Reduce::Mean {
                    part.iter_mut().for_each(|v| *v /= ranks);
                }
                backend.write(s.buf, s.offset, part)?;
                at_value += s.len;
            }
        }
        self.record_range(backend, next..self.launches.len(), statistics);
        Ok(cost)
    }

    /// The buffer holding tensor `t`.
    pub fn buffer(&self, t: TensorId) -> BufId {
        self.bufs[&t]
    }

    /// Each launch with its label (its kernel and the tensor it writes) and whether it
    /// only gathers statistics ([`Graph::statistics`]: not every run launches it).
    pub fn launches(&self) -> impl Iterator<Item = (LaunchId, &str, bool)> + '_ {
        (self.launches.iter().copied())
            .zip(self.labels.iter().map(String::as_str))
            .zip(self.statistics.iter().copied())
            .map(|((id, label), s)| (id, label, s))
    }

    /// Number of kernel launches per run.
    pub fn dispatches(&self) -> usize {
        self.launches.len()
    }

    /// Frees the planned temporaries.
    pub fn release(self, backend: &mut dyn Backend) {
        for s in self.slots {
            backend.free(s);
        }
    }
}
