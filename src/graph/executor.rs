//! The executor: binds a planned graph to backend buffers, prepares every launch once
//! (pipelines, parameters, bind groups), and replays them. Replaying records every node
//! of the graph for the backend's next submit, so a training step is one submit.

use std::collections::HashMap;

use super::ir::{Graph, TensorId, TensorKind};
use super::plan::plan;
use crate::backend::{Backend, BufId, LaunchId};
use crate::error::{Error, Result};

/// A graph made ready to run on one backend.
pub struct Executor {
    launches: Vec<LaunchId>,
    slots: Vec<BufId>,
    bufs: HashMap<TensorId, BufId>,
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
        for n in &g.nodes {
            let ids: Vec<BufId> = n.args.iter().map(|a| bufs[a]).collect();
            launches.push(backend.prepare(&n.kernel, &ids)?);
        }
        Ok(Executor {
            launches,
            slots,
            bufs,
        })
    }

    /// Records every node for the backend's next submit.
    pub fn record(&self, backend: &mut dyn Backend) {
        for l in &self.launches {
            backend.launch(*l);
        }
    }

    /// The buffer holding tensor `t`.
    pub fn buffer(&self, t: TensorId) -> BufId {
        self.bufs[&t]
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
