//! Keras's training callbacks, as [`Callback`]s of the one loop (`fit`): `EarlyStopping`
//! (with `restore_best_weights`), `ReduceLROnPlateau` and `ModelCheckpoint` (with
//! `save_best_only`, each save atomic as a whole folder). They monitor `val_loss`, with
//! Keras's rules for an improvement, patience and cooldown
//! (`keras/src/callbacks/early_stopping.py`, `reduce_lr_on_plateau.py`,
//! `model_checkpoint.py`).

use std::path::PathBuf;

use super::options::{Callback, Control, EpochLogs};
use super::session::Session;
use crate::error::{Error, Result};
use crate::nn::Weight;

/// The monitored value of an epoch: `val_loss`, or an error saying validation data is
/// needed.
fn val_loss(who: &str, logs: &EpochLogs) -> Result<f32> {
    logs.val_loss.ok_or_else(|| {
        Error::Config(format!(
            "{who} monitors val_loss: give validation data (a validation set or a validation split)"
        ))
    })
}

/// Keras's improvement test for a loss: `current + min_delta < best` (any value improves
/// on none).
fn improves(current: f32, best: Option<f32>, min_delta: f32) -> bool {
    best.is_none_or(|b| current + min_delta < b)
}

/// Keras's `EarlyStopping(monitor="val_loss", patience, min_delta, restore_best_weights)`:
/// training stops once `patience` epochs in a row brought no improvement; with
/// `restore_best_weights`, the weights of the best epoch are put back when training ends.
#[derive(Clone, Debug)]
pub struct EarlyStopping {
    /// Epochs without improvement before stopping.
    pub patience: usize,
    /// The least decrease that counts as an improvement.
    pub min_delta: f32,
    /// Put back the best epoch's weights at the end.
    pub restore_best_weights: bool,
    best: Option<f32>,
    wait: usize,
    best_weights: Option<Vec<Weight>>,
    /// The epoch (from 0) with the best value, once there is one.
    pub best_epoch: Option<usize>,
    /// The epoch training stopped after, if it stopped early.
    pub stopped_epoch: Option<usize>,
}

impl EarlyStopping {
    /// Stops after `patience` epochs without improvement, restoring the best weights.
    pub fn new(patience: usize) -> EarlyStopping {
        EarlyStopping {
            patience,
            min_delta: 0.0,
            restore_best_weights: true,
            best: None,
            wait: 0,
            best_weights: None,
            best_epoch: None,
            stopped_epoch: None,
        }
    }
}

impl Callback for EarlyStopping {
    fn on_train_begin(&mut self, _s: &mut Session) -> Result<()> {
        (self.best, self.wait, self.best_weights) = (None, 0, None);
        (self.best_epoch, self.stopped_epoch) = (None, None);
        Ok(())
    }
    fn on_epoch_end(&mut self, s: &mut Session, logs: &EpochLogs) -> Result<Control> {
        let current = val_loss("early stopping", logs)?;
        if self.restore_best_weights && self.best_weights.is_none() {
            self.best_weights = Some(s.get_weights()?);
            self.best_epoch = Some(logs.epoch);
        }
        self.wait += 1;
        if improves(current, self.best, self.min_delta) {
            self.best = Some(current);
            self.best_epoch = Some(logs.epoch);
            if self.restore_best_weights {
                self.best_weights = Some(s.get_weights()?);
            }
            self.wait = 0;
            return Ok(Control::Continue);
        }
        if self.wait >= self.patience && logs.epoch > 0 {
            self.stopped_epoch = Some(logs.epoch);
            return Ok(Control::Stop);
        }
        Ok(Control::Continue)
    }
    fn on_train_end(&mut self, s: &mut Session) -> Result<()> {
        if let Some(w) = &self.best_weights {
            s.set_weights(w)?;
        }
        Ok(())
    }
}

/// Keras's `ReduceLROnPlateau(monitor="val_loss", factor, patience, min_delta=1e-4,
/// cooldown=0, min_lr=0)`: after `patience` epochs without improvement the learning rate
/// is multiplied by `factor` (not below `min_lr`), then `cooldown` epochs pass before
/// counting again. It sets the rate directly, so the optimizer's rate must be a constant
/// (Keras refuses a schedule too).
#[derive(Clone, Debug)]
pub struct ReduceLrOnPlateau {
    /// Multiplies the learning rate, in (0, 1).
    pub factor: f32,
    /// Epochs without improvement before reducing.
    pub patience: usize,
    /// The least decrease that counts as an improvement.
    pub min_delta: f32,
    /// Epochs after a reduction before counting again.
    pub cooldown: usize,
    /// The floor of the learning rate.
    pub min_lr: f32,
    best: Option<f32>,
    wait: usize,
    cooldown_counter: usize,
}

impl ReduceLrOnPlateau {
    /// Keras's defaults beside `factor` and `patience`.
    pub fn new(factor: f32, patience: usize) -> ReduceLrOnPlateau {
        ReduceLrOnPlateau {
            factor,
            patience,
            min_delta: 1e-4,
            cooldown: 0,
            min_lr: 0.0,
            best: None,
            wait: 0,
            cooldown_counter: 0,
        }
    }
}

impl Callback for ReduceLrOnPlateau {
    fn on_train_begin(&mut self, s: &mut Session) -> Result<()> {
        if !(self.factor > 0.0 && self.factor < 1.0) {
            return Err(Error::Config(format!(
                "ReduceLROnPlateau: factor {} must be in (0, 1)",
                self.factor
            )));
        }
        s.learning_rate_constant()?;
        (self.best, self.wait, self.cooldown_counter) = (None, 0, 0);
        Ok(())
    }
    fn on_epoch_end(&mut self, s: &mut Session, logs: &EpochLogs) -> Result<Control> {
        let current = val_loss("ReduceLROnPlateau", logs)?;
        let in_cooldown = self.cooldown_counter > 0;
        if in_cooldown {
            self.cooldown_counter -= 1;
            self.wait = 0;
        }
        if improves(current, self.best, self.min_delta) {
            self.best = Some(current);
            self.wait = 0;
        } else if self.cooldown_counter == 0 {
            self.wait += 1;
            if self.wait >= self.patience {
                let old = s.learning_rate_constant()?;
                if old > self.min_lr {
                    s.set_learning_rate((old * self.factor).max(self.min_lr))?;
                    self.cooldown_counter = self.cooldown;
                    self.wait = 0;
                }
            }
        }
        Ok(Control::Continue)
    }
}

/// Keras's `ModelCheckpoint(dir, monitor="val_loss", save_best_only)`: after each epoch
/// (with `save_best_only`, each epoch that improved on the best `val_loss`) the model and
/// its optimizer state are saved to `dir`, atomically as a whole folder, so the folder
/// always holds a complete model even when training is killed.
#[derive(Clone, Debug)]
pub struct ModelCheckpoint {
    /// The model folder.
    pub dir: PathBuf,
    /// Save only when `val_loss` improved.
    pub save_best_only: bool,
    best: Option<f32>,
    /// Epochs (from 0) saved.
    pub saved: Vec<usize>,
}

impl ModelCheckpoint {
    /// Saves the best model (by `val_loss`) to `dir`.
    pub fn best_only(dir: impl Into<PathBuf>) -> ModelCheckpoint {
        ModelCheckpoint {
            dir: dir.into(),
            save_best_only: true,
            best: None,
            saved: Vec::new(),
        }
    }
}

impl Callback for ModelCheckpoint {
    fn on_train_begin(&mut self, _s: &mut Session) -> Result<()> {
        self.best = None;
        Ok(())
    }
    fn on_epoch_end(&mut self, s: &mut Session, logs: &EpochLogs) -> Result<Control> {
        if self.save_best_only {
            let current = val_loss("the checkpoint", logs)?;
            if !improves(current, self.best, 0.0) {
                return Ok(Control::Continue);
            }
            self.best = Some(current);
        }
        let state = s.optimizer_state().ok();
        let model = s.model()?.clone();
        crate::io::save_model(&model, state.as_ref(), &self.dir)?;
        self.saved.push(logs.epoch);
        Ok(Control::Continue)
    }
}
