//! Buffer planning: every temporary tensor gets a slot; a slot is reused once the tensors
//! in it are dead, so a step's memory is close to its peak live set and nothing is
//! allocated while training.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::ir::{Graph, TensorId, TensorKind};
use crate::error::{Error, Result};

/// Slot sizes (in words) and the slot of each temporary tensor.
#[derive(Clone, Debug, Default)]
pub struct Plan {
    /// Size of each slot in words.
    pub slots: Vec<usize>,
    /// Slot of each temporary tensor.
    pub slot_of: HashMap<TensorId, usize>,
}

impl Plan {
    /// Total words over all slots.
    pub fn total_words(&self) -> usize {
        self.slots.iter().sum()
    }
}

/// Plans the temporaries of `g`. Tensors in `keep` stay live to the end (the caller reads
/// them after the run).
pub fn plan(g: &Graph, keep: &[TensorId]) -> Result<Plan> {
    let keep: HashSet<TensorId> = keep.iter().copied().collect();
    let mut last_use: HashMap<TensorId, usize> = HashMap::new();
    for (i, n) in g.nodes.iter().enumerate() {
        for a in &n.args {
            last_use.insert(*a, i);
        }
    }
    // A temporary summed across ranks must be written before its all-reduce and read
    // after it, so its slot is live across the all-reduce.
    for s in &g.syncs {
        let info = &g.tensors[s.tensor.0];
        if s.offset + s.len > info.numel() {
            return Err(Error::Config(format!(
                "all-reduce of {}[{}..{}] is past its {} values",
                info.name,
                s.offset,
                s.offset + s.len,
                info.numel()
            )));
        }
        if info.kind == TensorKind::Temp {
            let written = g.nodes[..s.at]
                .iter()
                .any(|n| n.outputs().any(|o| o == s.tensor));
            if !written || last_use.get(&s.tensor).is_none_or(|&u| u < s.at) {
                return Err(Error::Config(format!(
                    "temporary {} is all-reduced where it is not live",
                    info.name
                )));
            }
        }
    }
    let mut plan = Plan::default();
    // Free slots by size: best fit in O(log n), so deep models plan in near-linear time.
    let mut free: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (i, n) in g.nodes.iter().enumerate() {
        // Inputs must already live somewhere.
        for (p, a) in n.args.iter().enumerate() {
            let info = &g.tensors[a.0];
            if info.kind == TensorKind::Temp
                && !plan.slot_of.contains_key(a)
                && !n.kernel.writes().contains(&p)
            {
                return Err(Error::Config(format!(
                    "tensor {} is read by {:?} before anything writes it",
                    info.name, n.kernel
                )));
            }
        }
        // Outputs get a slot before this node's dead inputs are released, so a kernel
        // never reads and writes the same buffer.
        for o in n.outputs() {
            let info = &g.tensors[o.0];
            if info.kind != TensorKind::Temp || plan.slot_of.contains_key(&o) {
                continue;
            }
            let need = info.numel().max(1);
            let best = free.range_mut(need..).next().and_then(|(&size, v)| {
                let s = v.pop()?;
                Some((size, v.is_empty(), s))
            });
            let slot = match best {
                Some((size, emptied, s)) => {
                    if emptied {
                        free.remove(&size);
                    }
                    s
                }
                None => {
                    plan.slots.push(need);
                    plan.slots.len() - 1
                }
            };
            plan.slot_of.insert(o, slot);
        }
        let mut released = HashSet::new();
        for a in &n.args {
            if g.tensors[a.0].kind == TensorKind::Temp
                && last_use.get(a) == Some(&i)
                && !keep.contains(a)
                && released.insert(*a)
            {
                let s = plan.slot_of[a];
                free.entry(plan.slots[s]).or_default().push(s);
            }
        }
    }
    Ok(plan)
}
