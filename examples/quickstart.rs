//! The README's library quick start: build a network, train it on the bundled digits,
//! evaluate it and keep the trained model. Run it from the checkout with
//! `cargo run --release --example quickstart`.

use steadygrad::backend::ActKind;
use steadygrad::data::idx::load_mnist_dir;
use steadygrad::nn::{Initializer, Layer, Sequential};
use steadygrad::optim::Adam;
use steadygrad::train::{Device, FitOptions, LossName, Session};

fn main() -> Result<(), steadygrad::Error> {
    let (train, test) = load_mnist_dir(std::path::Path::new("data"))?;
    let model = Sequential::new(
        &[28, 28],
        vec![
            Layer::flatten(),
            Layer::dense(300)
                .activation(ActKind::LeakyRelu { alpha: 0.2 })
                .kernel_initializer(Initializer::HE_NORMAL)
                .into(),
            Layer::batch_norm(),
            Layer::dense(100)
                .activation(ActKind::Selu)
                .kernel_initializer(Initializer::LECUN_NORMAL)
                .into(),
            Layer::dense(10).activation(ActKind::Softmax).into(),
        ],
        42,
    )?;
    print!("{}", model.summary());
    let mut session = Session::new(model, Device::Auto)?;
    session.compile(
        Box::new(Adam::default()),
        LossName::SparseCategoricalCrossentropy,
    )?;
    let options = FitOptions {
        epochs: 5,
        ..Default::default()
    };
    let history = session.fit(&train, Some(&test), &options, &mut [])?;
    let (loss, accuracy) = session.evaluate(&test, 256)?;
    println!(
        "{} epochs: test loss {loss:.4}, test accuracy {accuracy:.4}",
        history.epochs.len()
    );
    // The current weights, ready to save with steadygrad::io::save_model.
    let _model = session.into_model()?;
    Ok(())
}
