//! The chapter's transfer experiment (examples/transfer.rs): reusing model A's layers beats
//! training task B from scratch, on average over seeds, with the same budget.

#[path = "../examples/transfer.rs"]
mod transfer_example;

use steadygrad::train::Device;

#[test]
fn transfer_beats_training_from_scratch_on_average() {
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
    let results = transfer_example::experiment(&data, &[1, 2, 3, 4, 5], 3, Device::Cpu).unwrap();
    let n = results.len() as f32;
    let scratch = results.iter().map(|r| r.0).sum::<f32>() / n;
    let transfer = results.iter().map(|r| r.1).sum::<f32>() / n;
    eprintln!("B from scratch {scratch:.4}, B from A {transfer:.4} ({results:?})");
    assert!(
        scratch > 0.85,
        "task B is learnable from scratch: {scratch}"
    );
    assert!(
        transfer > scratch,
        "transfer {transfer} vs scratch {scratch}"
    );
}
