//! Graph IR: tensors (with a shape and a kind) and nodes. A node is one backend kernel
//! applied to tensors in the kernel's documented buffer order, so lowering is the
//! identity and the same graph runs on every backend.

use crate::backend::{ActKind, Kernel};

/// Index of a tensor in a [`Graph`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TensorId(pub usize);

/// Who owns a tensor's memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TensorKind {
    /// Bound by the caller to a buffer that outlives the graph: weights, optimizer and BN
    /// state, the data set, the step buffer, metrics.
    External,
    /// Produced and consumed inside one run; the planner assigns (and reuses) buffers.
    Temp,
}

/// A tensor's description.
#[derive(Clone, Debug)]
pub struct TensorInfo {
    /// Shape (row-major).
    pub shape: Vec<usize>,
    /// Who owns the memory.
    pub kind: TensorKind,
    /// A readable name, for errors and debugging.
    pub name: String,
}

impl TensorInfo {
    /// Number of values.
    pub fn numel(&self) -> usize {
        self.shape.iter().product()
    }
}

/// One kernel launch over graph tensors.
#[derive(Clone, Debug)]
pub struct Node {
    /// The kernel (sizes included).
    pub kernel: Kernel,
    /// Tensors in the kernel's buffer order.
    pub args: Vec<TensorId>,
}

impl Node {
    /// The tensors the node writes.
    pub fn outputs(&self) -> impl Iterator<Item = TensorId> + '_ {
        self.kernel.writes().into_iter().map(|i| self.args[i])
    }
}

/// How an all-reduce combines the ranks' values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reduce {
    /// The sum (gradients and statistics that are already divided by the whole batch).
    Sum,
    /// The mean over ranks.
    Mean,
}

/// An all-reduce point of data-parallel training: after the first `at` nodes have run,
/// `len` values of `tensor` from `offset` are combined across ranks and written back.
/// Graphs built for one process have none.
#[derive(Clone, Debug)]
pub struct Sync {
    /// Number of nodes run before it.
    pub at: usize,
    /// The tensor.
    pub tensor: TensorId,
    /// First value.
    pub offset: usize,
    /// Number of values.
    pub len: usize,
    /// How the ranks' values combine.
    pub op: Reduce,
}

/// A list of nodes in execution order over a table of tensors.
#[derive(Clone, Debug, Default)]
pub struct Graph {
    /// Tensor table.
    pub tensors: Vec<TensorInfo>,
    /// Nodes in execution order.
    pub nodes: Vec<Node>,
    /// All-reduce points, in order of `at`.
    pub syncs: Vec<Sync>,
    /// Nodes that only gather statistics for the host (a run may leave them out when
    /// nothing reads them that step), by index.
    pub statistics: Vec<usize>,
    /// The most storage buffers a kernel may bind on the device the graph is for (None:
    /// no limit): fusions that would bind more are not made.
    pub storage_limit: Option<usize>,
    /// Whether the device runs kernels that need subgroups of exactly 8 lanes
    /// ([`Kernel::ConvInputGrad`]): fusions into them are made only there.
    pub subgroups8: bool,
}

impl Graph {
    /// Whether a kernel of `buffers` storage buffers fits the device's limit.
    pub fn fits(&self, buffers: usize) -> bool {
        self.storage_limit.is_none_or(|l| buffers <= l)
    }

    /// Whether `kernel`'s GPU launch fits the device's storage-buffer limit.
    pub fn fits_kernel(&self, kernel: &Kernel) -> bool {
        self.fits(crate::backend::ops::storage_buffers(kernel))
    }

    /// Adds a tensor.
    pub fn tensor(
        &mut self,
        name: impl Into<String>,
        shape: &[usize],
        kind: TensorKind,
    ) -> TensorId {
        self.tensors.push(TensorInfo {
            shape: shape.to_vec(),
            kind,
            name: name.into(),
        });
        TensorId(self.tensors.len() - 1)
    }

    /// Adds an external tensor (bound by the caller).
    pub fn external(&mut self, name: impl Into<String>, shape: &[usize]) -> TensorId {
        self.tensor(name, shape, TensorKind::External)
    }

    /// Adds a temporary tensor.
    pub fn temp(&mut self, name: impl Into<String>, shape: &[usize]) -> TensorId {
        self.tensor(name, shape, TensorKind::Temp)
    }

    /// Shape of a tensor.
    pub fn shape(&self, t: TensorId) -> &[usize] {
        &self.tensors[t.0].shape
    }

    /// Gives tensor `t` another shape of as many values (the same row-major data).
    pub fn reshape(&mut self, t: TensorId, shape: &[usize]) {
        let info = &mut self.tensors[t.0];
        debug_assert_eq!(
            info.numel(),
            shape.iter().product::<usize>(),
            "{} reshaped to {shape:?}",
            info.name
        );
        info.shape = shape.to_vec();
    }

    /// Appends a node.
    pub fn push(&mut self, kernel: Kernel, args: Vec<TensorId>) {
        debug_assert_eq!(args.len(), kernel.arity(), "{kernel:?}");
        self.nodes.push(Node { kernel, args });
    }

    /// Adds a node that only gathers statistics (see [`Graph::statistics`]): nothing the
    /// step computes may depend on what it writes.
    pub fn push_statistics(&mut self, kernel: Kernel, args: Vec<TensorId>) {
        self.statistics.push(self.nodes.len());
        self.push(kernel, args);
    }

    /// Combines `len` values of `t` from `offset` across ranks at this point of the graph
    /// (after the nodes pushed so far).
    pub fn all_reduce(&mut self, t: TensorId, offset: usize, len: usize, op: Reduce) {
        self.syncs.push(Sync {
            at: self.nodes.len(),
            tensor: t,
            offset,
            len,
            op,
        });
    }

    /// `[rows, cols]` of a 2-D tensor.
    pub fn dims2(&self, t: TensorId) -> (usize, usize) {
        let s = self.shape(t);
        let cols = *s.last().unwrap_or(&1);
        (s.iter().product::<usize>() / cols.max(1), cols)
    }

    /// `x·w` for `x` read as `[m, k]` and `w: [k, n]`.
    pub fn matmul(
        &mut self,
        name: &str,
        x: TensorId,
        w: TensorId,
        (m, k, n): (usize, usize, usize),
    ) -> TensorId {
        let y = self.temp(name, &[m, n]);
        self.push(
            Kernel::MatMul {
                m,
                k,
                n,
                trans_a: false,
                trans_b: false,
                accumulate: false,
            },
            vec![x, w, y],
        );
        y
    }

    /// `x·w + b` in one launch ([`Kernel::Dense`], no activation yet:
    /// [`Graph::fuse_activation`] may add it), for `x` read as `[m, k]`, `w` as `[k, n]`.
    pub fn dense(
        &mut self,
        name: &str,
        [x, w, b, step]: [TensorId; 4],
        (m, k, n): (usize, usize, usize),
    ) -> TensorId {
        let y = self.temp(name, &[m, n]);
        self.push(
            Kernel::Dense {
                m,
                k,
                n,
                act: ActKind::Linear,
                training: false,
                seed: 0,
            },
            vec![x, w, b, y, step],
        );
        y
    }

    /// Applies `act` to `t` inside the launch that produced it, when that is the last node
    /// and a [`Kernel::Dense`] (or [`Kernel::ConvDirect`]) without an activation yet, and the output alone tells the
    /// derivative. Returns whether it did (then `t` holds the activated values).
    pub fn fuse_activation(
        &mut self,
        t: TensorId,
        act: ActKind,
        training: bool,
        seed: u32,
    ) -> bool {
        let Some(node) = self.nodes.last_mut() else {
            return false;
        };
        let fusable = act.derivative_from_output() && node.args.get(3) == Some(&t);
        match &mut node.kernel {
            Kernel::Dense {
                act: a,
                training: tr,
                seed: s,
                ..
            }
            | Kernel::ConvDirect {
                act: a,
                training: tr,
                seed: s,
                ..
            } if fusable && *a == ActKind::Linear => {
                *a = act;
                *tr = training;
                *s = seed;
                true
            }
            _ => false,
        }
    }

    /// `x + b` broadcast over rows.
    pub fn bias_add(&mut self, name: &str, x: TensorId, b: TensorId) -> TensorId {
        let (rows, cols) = self.dims2(x);
        let y = self.temp(name, &[rows, cols]);
        self.push(Kernel::BiasAdd { rows, cols }, vec![x, b, y]);
        y
    }
}
