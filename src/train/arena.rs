//! Arenas: the session keeps every weight in one device buffer per group (optimizable
//! weights first, each at a [`CHUNK`] boundary, then the rest), and once compiled a
//! gradient arena and one arena per optimizer slot over the optimizable part, with the
//! same offsets. Each weight, gradient and slot the layers and the saved state see is a
//! view into them; the gradient statistics and the optimizer update run as one launch over
//! a whole group ([`crate::backend::Kernel::Update`]). A model fits in one group unless it
//! is larger than one binding the adapter allows.

use crate::backend::{Backend, BufId, CHUNK, VIEW_ALIGN};
use crate::error::{Error, Result};

/// Where the weights of one group sit.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct GroupLayout {
    /// (weight index, offset in words) of each member.
    pub members: Vec<(usize, usize)>,
    /// Words of the group's weight arena.
    pub words: usize,
    /// Words of its optimizable prefix (the gradient and slot arenas' length).
    pub opt_words: usize,
}

/// Packs weights of `(length, optimizable)` into groups of at most `max_words`: the
/// optimizable weights of each group first at [`CHUNK`] boundaries, the others after
/// them at [`VIEW_ALIGN`] boundaries. A weight larger than `max_words` gets a group of
/// its own (whose allocation then reports the size).
pub(crate) fn layout(weights: &[(usize, bool)], max_words: usize) -> Vec<GroupLayout> {
    let mut groups: Vec<GroupLayout> = vec![GroupLayout::default()];
    for pass in [true, false] {
        let align = if pass { CHUNK } else { VIEW_ALIGN };
        for (i, &(len, optimizable)) in weights.iter().enumerate() {
            if optimizable != pass {
                continue;
            }
            let mut g = groups.last_mut().expect("one group");
            let mut at = g.words.div_ceil(align) * align;
            if at + len > max_words && !g.members.is_empty() {
                groups.push(GroupLayout::default());
                g = groups.last_mut().expect("pushed");
                at = 0;
            }
            g.members.push((i, at));
            g.words = at + len;
            if optimizable {
                g.opt_words = g.words;
            }
        }
    }
    groups.retain(|g| !g.members.is_empty());
    groups
}

/// One group's device buffers.
#[derive(Debug)]
pub(crate) struct Arena {
    pub layout: GroupLayout,
    /// The weights.
    pub params: BufId,
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
        for &(i, at) in &layout.members {
            let v = backend.view(params, at, shape[i].0)?;
            backend.write(v, 0, weights[i].0)?;
            views[i] = v;
        }
        arenas.push(Arena { layout, params });
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
        let words = a.layout.opt_words.max(1);
        let grads = backend.alloc(words)?;
        let mut slots = Vec::new();
        for &v in init {
            slots.push(backend.upload(&vec![v; words])?);
        }
        for &(i, at) in &a.layout.members {
            if at < a.layout.opt_words {
                for &s in &slots {
                    views[i].push(backend.view(s, at, lens[i].max(1))?);
                }
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
    fn optimizable_weights_come_first_at_chunk_boundaries() {
        let g = layout(&[(10, false), (1500, true), (7, true), (3, false)], 1 << 20);
        assert_eq!(g.len(), 1);
        assert_eq!(g[0].members, vec![(1, 0), (2, 2048), (0, 2112), (3, 2176)]);
        assert_eq!(g[0].opt_words, 2055);
        assert_eq!(g[0].words, 2179);
    }

    #[test]
    fn groups_split_at_the_binding_limit() {
        let g = layout(&[(3000, true), (3000, true), (100, false)], 4096);
        assert_eq!(g.len(), 2);
        assert_eq!(g[0].members, vec![(0, 0)]);
        assert_eq!(g[1].members, vec![(1, 0), (2, 3008)]);
        // A weight beyond the limit stands alone.
        let g = layout(&[(10, true), (9000, true)], 4096);
        assert_eq!(g[1].members, vec![(1, 0)]);
        assert_eq!(g[1].words, 9000);
    }
}
