//! The model a session holds and its weights on the device: the arenas
//! ([`super::arena`]), each weight's view into them, and whether the host copy in the
//! model is behind the device's.

use super::arena::{self, Arena};
use crate::backend::{Backend, BufId};
use crate::error::Result;
use crate::nn::Sequential;

/// The model and its device weights.
pub(crate) struct ModelState {
    pub model: Sequential,
    /// The weight arenas (one per group).
    pub arenas: Vec<Arena>,
    /// Each weight's view into its arena buffer, in weight order.
    pub views: Vec<BufId>,
    /// Whether the device weights are newer than the model's host copy.
    pub host_stale: bool,
}

impl ModelState {
    /// Uploads the model's weights.
    pub fn upload(model: Sequential, backend: &mut dyn Backend) -> Result<ModelState> {
        model.output_shapes()?;
        let init: Vec<(&[f32], bool)> = model
            .weights()
            .iter()
            .map(|w| (w.data.as_slice(), w.optimizable))
            .collect();
        let (arenas, views) = arena::upload_weights(backend, &init)?;
        Ok(ModelState {
            model,
            arenas,
            views,
            host_stale: false,
        })
    }

    /// Brings the model's host weights up to date (one read per arena buffer, not one
    /// per weight).
    pub fn sync(&mut self, backend: &mut dyn Backend) -> Result<()> {
        if self.host_stale {
            for g in 0..self.arenas.len() {
                for (buf, members) in self.arenas[g].buffers() {
                    let all = backend.read(buf)?;
                    self.absorb(&members, &all)?;
                }
            }
            self.host_stale = false;
        }
        Ok(())
    }

    /// Copies the values of an arena buffer, read back as `all`, into the model's weights
    /// (`members`: weight index and offset).
    pub fn absorb(&mut self, members: &[(usize, usize)], all: &[f32]) -> Result<()> {
        for &(i, at) in members {
            let name = self.model.weights()[i].name.clone();
            let n = self.model.weights()[i].data.len();
            self.model.set_weight(&name, &all[at..at + n])?;
        }
        Ok(())
    }

    /// Replaces weight `name`'s values, on the host and the device.
    pub fn set_weight(
        &mut self,
        backend: &mut dyn Backend,
        name: &str,
        data: &[f32],
    ) -> Result<()> {
        self.sync(backend)?;
        self.model.set_weight(name, data)?;
        let i = self
            .model
            .weight_index(name)
            .expect("checked by set_weight");
        backend.write(self.views[i], 0, data)
    }
}
