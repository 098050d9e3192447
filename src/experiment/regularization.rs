//! The chapter's regularization experiment: a deep MLP that overfits 1,000 training
//! digits, trained with the same budget under no regularization, L2, dropout and
//! max-norm, then the dropout network predicted with MC dropout. Each configuration
//! reports the training and test accuracy and loss, both measured in inference mode
//! after training (the gap between them is the overfitting), and its validation loss
//! per epoch. `steadygrad experiment regularization` runs it.

use crate::backend::ActKind;
use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::nn::{Constraint, Initializer, Layer, Regularizer, Sequential};
use crate::optim::{Adam, Schedule};
use crate::train::{Callback, Control, Device, EpochLogs, FitOptions, LossName, Session};

/// What a configuration adds to the plain network.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Regularization {
    /// Nothing.
    None,
    /// `kernel_regularizer=L2(factor)` on every Dense.
    L2(f32),
    /// `Dropout(rate)` before every hidden Dense and the output (the chapter's layout).
    Dropout(f32),
    /// `kernel_constraint=MaxNorm(max_value)` on every hidden Dense.
    MaxNorm(f32),
    /// The dropout network, predicted as the mean of N stochastic passes (MC dropout).
    McDropout(f32, usize),
}

impl Regularization {
    /// Its short name in tables and charts.
    pub fn name(&self) -> String {
        match *self {
            Regularization::None => "none".into(),
            Regularization::L2(f) => format!("l2 {f}"),
            Regularization::Dropout(r) => format!("dropout {r}"),
            Regularization::MaxNorm(m) => format!("max-norm {m}"),
            Regularization::McDropout(r, n) => format!("dropout {r} + MC ×{n}"),
        }
    }
}

/// The chapter's settings: L2 0.01 (its `l2(0.01)`), dropout 0.2, max-norm 1, MC dropout
/// with 100 samples — the last reusing the dropout configuration's network.
pub fn configs() -> Vec<Regularization> {
    vec![
        Regularization::None,
        Regularization::L2(0.01),
        Regularization::Dropout(0.2),
        Regularization::MaxNorm(1.0),
        Regularization::McDropout(0.2, 100),
    ]
}

/// The experiment's budget and network.
#[derive(Clone, Debug)]
pub struct RegularizationOptions {
    /// Hidden layers (each `units` wide, ELU with He initialization as in the chapter).
    pub layers: usize,
    /// Units per hidden layer.
    pub units: usize,
    /// Epochs per configuration.
    pub epochs: usize,
    /// Mini-batch size.
    pub batch_size: usize,
    /// Adam's learning rate.
    pub lr: f32,
    /// Where to run.
    pub device: Device,
    /// Seed of the initializers, shuffles and masks (the same for every configuration).
    pub seed: u64,
}

impl Default for RegularizationOptions {
    fn default() -> Self {
        RegularizationOptions {
            layers: 4,
            units: 256,
            epochs: 30,
            batch_size: 32,
            lr: 0.001,
            device: Device::Auto,
            seed: 42,
        }
    }
}

/// One configuration's outcome.
#[derive(Clone, Debug)]
pub struct RegularizationResult {
    /// The configuration.
    pub config: Regularization,
    /// Accuracy on the training set, in inference mode, after training.
    pub train_accuracy: f32,
    /// Loss (cross-entropy, penalties excluded) on the training set, likewise.
    pub train_loss: f32,
    /// Accuracy on the test set.
    pub test_accuracy: f32,
    /// Loss on the test set.
    pub test_loss: f32,
    /// Per epoch: the running training loss (with dropout active, penalties included,
    /// as Keras reports it) and the test loss.
    pub epochs: Vec<(f32, f32)>,
    /// Seconds spent training.
    pub seconds: f64,
    /// Where it ran.
    pub device: crate::backend::DeviceInfo,
}

impl RegularizationResult {
    /// Training accuracy minus test accuracy: the overfitting gap.
    pub fn gap(&self) -> f32 {
        self.train_accuracy - self.test_accuracy
    }
}

/// The network of one configuration (`McDropout` is the dropout network).
pub fn network(
    c: Regularization,
    o: &RegularizationOptions,
    input: &[usize],
    classes: usize,
) -> Result<Sequential> {
    let mut layers = vec![Layer::flatten()];
    let dropout = match c {
        Regularization::Dropout(r) | Regularization::McDropout(r, _) => Some(r),
        _ => None,
    };
    let dense = |units: usize, act: ActKind| {
        let d = crate::nn::Dense::new(units).activation(act);
        match c {
            Regularization::L2(f) => d.kernel_regularizer(Regularizer::l2(f)),
            _ => d,
        }
    };
    for _ in 0..o.layers {
        if let Some(r) = dropout {
            layers.push(Layer::dropout(r));
        }
        let d =
            dense(o.units, ActKind::Elu { alpha: 1.0 }).kernel_initializer(Initializer::HE_NORMAL);
        layers.push(match c {
            Regularization::MaxNorm(m) => d.kernel_constraint(Constraint::max_norm(m)).into(),
            _ => d.into(),
        });
    }
    if let Some(r) = dropout {
        layers.push(Layer::dropout(r));
    }
    layers.push(dense(classes, ActKind::Softmax).into());
    Sequential::new(input, layers, o.seed)
}

/// Records the test loss after each epoch.
struct Curve(Vec<(f32, f32)>);

impl Callback for Curve {
    fn on_epoch_end(&mut self, _s: &mut Session, l: &EpochLogs) -> Result<Control> {
        self.0.push((l.loss, l.val_loss.unwrap_or(f32::NAN)));
        Ok(Control::Continue)
    }
}

/// The mean cross-entropy and accuracy of MC-dropout predictions of `data`.
fn mc_metrics(s: &mut Session, data: &Dataset, samples: usize) -> Result<(f32, f32)> {
    let x: Vec<f32> = (0..data.len()).flat_map(|i| data.sample(i)).collect();
    let (p, _) = s.predict_mc(&x, 256, samples)?;
    let k = p.len() / data.len().max(1);
    let (mut loss, mut right) = (0.0f64, 0usize);
    for (row, &y) in p.chunks(k).zip(&data.y) {
        // Keras clips probabilities to [1e-7, 1 − 1e-7] before the log.
        loss -= f64::from(row[y as usize].clamp(1e-7, 1.0 - 1e-7)).ln();
        let best = row
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map_or(0, |(i, _)| i);
        right += usize::from(best == y as usize);
    }
    let n = data.len().max(1) as f64;
    Ok(((loss / n) as f32, (right as f64 / n) as f32))
}

/// Trains one network per configuration (the MC configuration reuses its dropout
/// network when both are asked for) and measures each.
pub fn run(
    configs: &[Regularization],
    o: &RegularizationOptions,
    train: &Dataset,
    test: &Dataset,
    mut progress: impl FnMut(&RegularizationResult),
) -> Result<Vec<RegularizationResult>> {
    if train.is_empty() || test.is_empty() {
        return Err(Error::Config(
            "the regularization experiment needs training and test samples".into(),
        ));
    }
    let classes = train.classes().max(test.classes());
    let mut out: Vec<RegularizationResult> = Vec::new();
    // The last trained dropout network, kept for its MC configuration.
    let mut dropout_session: Option<(f32, Session, RegularizationResult)> = None;
    for &c in configs {
        let reuse = match (c, &dropout_session) {
            (Regularization::McDropout(r, _), Some((rate, _, _))) => *rate == r,
            _ => false,
        };
        let (mut s, base) = if reuse {
            let (_, s, base) = dropout_session.take().expect("checked above");
            (s, base)
        } else {
            let model = network(c, o, &train.sample_shape, classes)?;
            let mut s = Session::new(model, o.device)?;
            s.compile(
                Box::new(Adam {
                    learning_rate: Schedule::Constant(o.lr),
                    ..Default::default()
                }),
                LossName::SparseCategoricalCrossentropy,
            )?;
            let opts = FitOptions {
                epochs: o.epochs,
                batch_size: o.batch_size,
                seed: o.seed,
                ..Default::default()
            };
            let mut curve = Curve(Vec::new());
            let t0 = std::time::Instant::now();
            s.fit(train, Some(test), &opts, &mut [&mut curve])?;
            let (train_loss, train_accuracy) = s.evaluate(train, 256)?;
            let (test_loss, test_accuracy) = s.evaluate(test, 256)?;
            let r = RegularizationResult {
                config: c,
                train_accuracy,
                train_loss,
                test_accuracy,
                test_loss,
                epochs: curve.0,
                seconds: t0.elapsed().as_secs_f64(),
                device: s.device_info(),
            };
            (s, r)
        };
        let r = match c {
            Regularization::McDropout(_, n) => {
                let (train_loss, train_accuracy) = mc_metrics(&mut s, train, n)?;
                let (test_loss, test_accuracy) = mc_metrics(&mut s, test, n)?;
                RegularizationResult {
                    config: c,
                    train_accuracy,
                    train_loss,
                    test_accuracy,
                    test_loss,
                    ..base.clone()
                }
            }
            _ => base.clone(),
        };
        if let Regularization::Dropout(rate) = c {
            dropout_session = Some((rate, s, base));
        }
        progress(&r);
        out.push(r);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_carry_what_their_configuration_names() {
        let o = RegularizationOptions {
            layers: 2,
            units: 8,
            ..Default::default()
        };
        let json =
            |c| crate::io::config::model_to_json(&network(c, &o, &[4, 4], 3).unwrap()).to_string();
        assert!(!json(Regularization::None).contains("Dropout"));
        assert!(json(Regularization::L2(0.01)).contains("\"L2\""));
        assert_eq!(
            json(Regularization::Dropout(0.2))
                .matches("\"Dropout\"")
                .count(),
            3
        );
        assert!(json(Regularization::MaxNorm(1.0)).contains("\"MaxNorm\""));
        assert_eq!(
            json(Regularization::McDropout(0.2, 10)),
            json(Regularization::Dropout(0.2))
        );
    }
}
