//! Arenas: the session keeps every optimizable weight in one device buffer per group, each
//! at a [`CHUNK`] boundary (the rest, batch norm's moving statistics, in a state buffer
//! beside it), and once compiled a gradient arena and one arena per optimizer slot with
//! the same offsets. Each weight, gradient and slot the layers and the saved state see is a
//! view into them; the gradient statistics and the optimizer update run as one launch over
//! a whole group ([`crate::backend::Kernel::Update`]). A model fits in one group unless it
//! is larger than one binding the adapter allows.

use crate::backend::{Backend, BufId, CHUNK, VIEW_ALIGN};
use crate::error::{Error, Result};

/// Where the weights of one group sit.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct GroupLayout {
    /// (weight index, offset in words) of each optimizable member, in the group's weight
    /// arena.
    pub members: Vec<(usize, usize)>,
    /// Words of the weight arena (and of the gradient and slot arenas).
    pub words: usize,
    /// (weight index, offset in words) of each other member (batch norm's moving
    /// statistics), in the group's state buffer.
    pub state_members: Vec<(usize, usize)>,
    /// Words of the state buffer.
    pub state_words: usize,
}

/// Packs weights of `(length, optimizable)` into groups of at most `max_words` a buffer:
/// the optimizable weights of each group in its weight arena at [`CHUNK`] boundaries, the
/// others in its state buffer at [`VIEW_ALIGN`] boundaries. (A kernel may not bind one
/// buffer both read-only and read-write, and batch norm reads its scale and shift while
/// it writes its moving statistics: they sit in different buffers.) A weight larger than
/// `max_words` gets a group of its own (whose allocation then reports the size).
pub(crate) fn layout(weights: &[(usize, bool)], max_words: usize) -> Vec<GroupLayout> {
    let mut groups: Vec<GroupLayout> = vec![GroupLayout::default()];
    for pass in [true, false] {
        let align = if pass { CHUNK } else { VIEW_ALIGN };
        // Where this pass packs: the weight arenas, then the state buffers.
        let place = |g: &mut GroupLayout| -> (usize, bool) {
            if pass {
                (g.words, g.members.is_empty())
            } else {
                (g.state_words, g.state_members.is_empty())
            }
        };
        let mut current = 0;
        for (i, &(len, optimizable)) in weights.iter().enumerate() {
            if optimizable != pass {
                continue;
            }
            let (used, empty) = place(&mut groups[current]);
            let mut at = used.div_ceil(align) * align;
            if at + len > max_words && !empty {
                current += 1;
                if current == groups.len() {
                    groups.push(GroupLayout::default());
                }
                let (used, _) = place(&mut groups[current]);
                at = used.div_ceil(align) * align;
            }
            let g = &mut groups[current];
            if pass {
                g.members.push((i, at));
                g.words = at + len;
            } else {
                g.state_members.push((i, at));
                g.state_words = at + len;
            }
        }
    }
    groups.retain(|g| !g.members.is_empty() || !g.state_members.is_empty());
    groups
}

/// One group's device buffers.
#[derive(Debug)]
pub(crate) struct Arena {
    pub layout: GroupLayout,
    /// The optimizable weights.
    pub params: BufId,
    /// The other weights, when there are any.
    pub state: Option<BufId>,
}

impl Arena {
    /// Each buffer of the group with the (weight index, offset) of its members.
    pub fn buffers(&self) -> Vec<(BufId, Vec<(usize, usize)>)> {
        let mut v = vec![(self.params, self.layout.members.clone())];
        if let Some(s) = self.state {
            v.push((s, self.layout.state_members.clone()));
        }
        v
    }
}

/// Allocates the weight arenas for `weights` (their values) and returns them with one
/// view per weight, in weight order.
pub(crate) fn upload_weights(
    backend: &mut dyn Backend,
    weights: &[(&[f32], bool)],
) -> Result<(Vec<Arena>, Vec<BufId>)> {
    let shape: Vec<(usize, bool)> = weights.iter().map(|(d, o)| (d.len().max(1), *o)).collect();
    let groups = layout(&shape, backend.max_buffer_words());
    let mut arenas = Vec::new();
    let mut views = vec![BufId(usize::MAX); weights.len()];
    for layout in groups {
        let params = backend.alloc(layout.words.max(1))?;
        let state = if layout.state_members.is_empty() {
            None
        } else {
            Some(backend.alloc(layout.state_words)?)
        };
        let members = (layout.members.iter().map(|m| (params, m))).chain(
            state
                .iter()
                .flat_map(|&b| layout.state_members.iter().map(move |m| (b, m))),
        );
        for (buf, &(i, at)) in members {
            let v = backend.view(buf, at, shape[i].0)?;
            backend.write(v, 0, weights[i].0)?;
            views[i] = v;
        }
        arenas.push(Arena {
            layout,
            params,
            state,
        });
    }
    if views.contains(&BufId(usize::MAX)) {
        return Err(Error::Config("a weight was left out of the arenas".into()));
    }
    Ok((arenas, views))
}

/// A group's training buffers: the gradient arena and the optimizer's slot arenas.
#[derive(Debug)]
pub(crate) struct TrainArena {
    pub grads: BufId,
    /// One per slot name, in the optimizer's order.
    pub slots: Vec<BufId>,
}

/// Allocates the gradient and slot arenas of every group (slots filled with `init`) and
/// returns them with the slot views per weight (empty for weights no optimizer updates).
pub(crate) fn alloc_training(
    backend: &mut dyn Backend,
    arenas: &[Arena],
    lens: &[usize],
    init: &[f32],
) -> Result<(Vec<TrainArena>, Vec<Vec<BufId>>)> {
    let mut out = Vec::new();
    let mut views: Vec<Vec<BufId>> = vec![Vec::new(); lens.len()];
    for a in arenas {
        let words = a.layout.words.max(1);
        let grads = backend.alloc(words)?;
        let mut slots = Vec::new();
        for &v in init {
            slots.push(backend.upload(&vec![v; words])?);
        }
        for &(i, at) in &a.layout.members {
            for &s in &slots {
                views[i].push(backend.view(s, at, lens[i].max(1))?);
            }
        }
        out.push(TrainArena { grads, slots });
    }
    Ok((out, views))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn optimizable_weights_at_chunk_boundaries_the_others_apart() {
        let g = layout(&[(10, false), (1500, true), (7, true), (3, false)], 1 << 20);
        assert_eq!(g.len(), 1);
        assert_eq!(g[0].members, vec![(1, 0), (2, 2048)]);
        assert_eq!(g[0].words, 2055);
        assert_eq!(g[0].state_members, vec![(0, 0), (3, 64)]);
        assert_eq!(g[0].state_words, 67);
    }

    #[test]
    fn groups_split_at_the_binding_limit() {
        let g = layout(&[(3000, true), (3000, true), (100, false)], 4096);
        assert_eq!(g.len(), 2);
        assert_eq!(g[0].members, vec![(0, 0)]);
        assert_eq!(g[0].state_members, vec![(2, 0)]);
        assert_eq!(g[1].members, vec![(1, 0)]);
        // A weight beyond the limit stands alone.
        let g = layout(&[(10, true), (9000, true)], 4096);
        assert_eq!(g[1].members, vec![(1, 0)]);
        assert_eq!(g[1].words, 9000);
    }
}
