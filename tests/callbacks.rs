//! Keras's callbacks in the one training loop: EarlyStopping restores the best epoch's
//! weights and stops after its patience, ReduceLROnPlateau lowers the learning rate by
//! Keras's rule, ModelCheckpoint saves the best model; the validation split is the tail
//! of the training data.

use std::path::Path;

use steadygrad::backend::{ActKind, CpuBackend};
use steadygrad::data::idx::load_mnist_dir;
use steadygrad::data::Dataset;
use steadygrad::nn::{Layer, Sequential, Weight};
use steadygrad::train::{
    Callback, Control, EarlyStopping, EpochLogs, FitOptions, LossName, ModelCheckpoint,
    ReduceLrOnPlateau, Session,
};
use steadygrad::Sgd;

/// 600 training digits and 200 others whose labels are shuffled: the validation loss
/// rises as the model fits the training digits.
fn data() -> (Dataset, Dataset) {
    let (train, _) = load_mnist_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("data")).unwrap();
    let fit = train.subset(&(0..600).collect::<Vec<_>>());
    let mut val = train.subset(&(600..800).collect::<Vec<_>>());
    for (i, y) in val.y.iter_mut().enumerate() {
        *y = (*y + 1 + (i as u32 * 7) % 9) % 10;
    }
    (fit, val)
}

fn session(lr: f32) -> Session {
    let layers: Vec<Layer> = vec![
        Layer::flatten(),
        Layer::dense(64).activation(ActKind::Relu).into(),
        Layer::dense(10).activation(ActKind::Softmax).into(),
    ];
    let m = Sequential::new(&[28, 28], layers, 5).unwrap();
    let mut s = Session::with_backend(m, Box::new(CpuBackend::new())).unwrap();
    s.compile(
        Box::new(Sgd::new(lr).momentum(0.9)),
        LossName::SparseCategoricalCrossentropy,
    )
    .unwrap();
    s
}

/// Records each epoch's logs and weights.
#[derive(Default)]
struct Record(Vec<(EpochLogs, Vec<Weight>)>);

impl Callback for Record {
    fn on_epoch_end(&mut self, s: &mut Session, l: &EpochLogs) -> steadygrad::Result<Control> {
        self.0.push((l.clone(), s.get_weights()?));
        Ok(Control::Continue)
    }
}

fn opts(epochs: usize) -> FitOptions {
    FitOptions {
        epochs,
        batch_size: 32,
        seed: 3,
        ..Default::default()
    }
}

#[test]
fn early_stopping_stops_after_its_patience_and_restores_the_best_weights() {
    let (fit, val) = data();
    let mut s = session(0.05);
    let (mut rec, mut stop) = (Record::default(), EarlyStopping::new(2));
    let h = s
        .fit(&fit, Some(&val), &opts(30), &mut [&mut rec, &mut stop])
        .unwrap();
    let losses: Vec<f32> = rec.0.iter().map(|(l, _)| l.val_loss.unwrap()).collect();
    // Keras's rule: stop once 2 epochs in a row did not improve on the best.
    let best = (0..losses.len())
        .min_by(|&a, &b| losses[a].total_cmp(&losses[b]))
        .unwrap();
    assert!(h.epochs.len() < 30, "stopped early: {losses:?}");
    assert_eq!(stop.stopped_epoch, Some(h.epochs.len() - 1));
    assert_eq!(stop.best_epoch, Some(best));
    assert_eq!(h.epochs.len() - 1 - best, 2, "{losses:?}");
    assert_eq!(
        s.get_weights().unwrap(),
        rec.0[best].1,
        "the best epoch's weights"
    );
}

#[test]
fn reduce_lr_on_plateau_follows_keras_rule() {
    let (fit, val) = data();
    let mut s = session(0.05);
    let (mut rec, mut plateau) = (Record::default(), ReduceLrOnPlateau::new(0.5, 1));
    s.fit(&fit, Some(&val), &opts(8), &mut [&mut rec, &mut plateau])
        .unwrap();
    // The rule, applied to the recorded validation losses.
    let (mut best, mut wait, mut lr) = (f32::INFINITY, 0, 0.05f32);
    for (l, _) in &rec.0 {
        assert_eq!(l.learning_rate, lr, "epoch {}", l.epoch);
        let v = l.val_loss.unwrap();
        if v + 1e-4 < best {
            (best, wait) = (v, 0);
        } else {
            wait += 1;
            if wait >= 1 {
                (lr, wait) = (lr * 0.5, 0);
            }
        }
    }
    assert!(lr < 0.05, "the loss plateaued at least once");
    // A schedule cannot be reduced.
    let mut s = session(0.05);
    let sched = steadygrad::Schedule::InverseTimeDecay {
        initial: 0.05,
        decay_steps: 10,
        decay_rate: 1.0,
        staircase: false,
    };
    s.compile(
        Box::new(Sgd::new(0.05).schedule(sched)),
        LossName::SparseCategoricalCrossentropy,
    )
    .unwrap();
    let e = s
        .fit(
            &fit,
            Some(&val),
            &opts(1),
            &mut [&mut ReduceLrOnPlateau::new(0.5, 1)],
        )
        .unwrap_err();
    assert!(e.to_string().contains("schedule"), "{e}");
}

#[test]
fn the_checkpoint_holds_the_best_model_and_validation_split_is_the_tail() {
    let (fit, val) = data();
    let dir = std::env::temp_dir().join(format!("steadygrad-ckpt-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut s = session(0.05);
    let (mut rec, mut ckpt) = (Record::default(), ModelCheckpoint::best_only(&dir));
    s.fit(&fit, Some(&val), &opts(5), &mut [&mut rec, &mut ckpt])
        .unwrap();
    let losses: Vec<f32> = rec.0.iter().map(|(l, _)| l.val_loss.unwrap()).collect();
    let best = (0..losses.len())
        .min_by(|&a, &b| losses[a].total_cmp(&losses[b]))
        .unwrap();
    assert_eq!(*ckpt.saved.last().unwrap(), best);
    let saved = steadygrad::io::load_model(&dir).unwrap();
    assert_eq!(saved.model.weights(), &rec.0[best].1[..]);
    assert!(saved.optimizer.is_some());
    let _ = std::fs::remove_dir_all(&dir);
    // Keras's validation_split: the last fraction, taken before shuffling.
    let all = fit.subset(&(0..600).collect::<Vec<_>>());
    let mut s = session(0.05);
    let o = FitOptions {
        validation_split: 0.25,
        ..opts(2)
    };
    let h = s.fit(&all, None, &o, &mut []).unwrap();
    let tail = all.subset(&(450..600).collect::<Vec<_>>());
    let (l, a) = s.evaluate(&tail, 32).unwrap();
    let last = h.epochs.last().unwrap();
    assert_eq!((last.val_loss, last.val_accuracy), (Some(l), Some(a)));
}
