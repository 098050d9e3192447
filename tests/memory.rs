//! Memory stays flat: after the first steps nothing is created per step (buffers, parameter
//! buffers, bind groups), the device's live buffer count does not grow across epochs, and
//! neither does the process's resident memory.

mod common;

use common::*;
use steadygrad::backend::{Backend, CpuBackend};
use steadygrad::data::idx::load_mnist_dir;
use steadygrad::optim::Adam;
use steadygrad::train::{FitOptions, LossName, Session};

fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

#[test]
fn nothing_is_created_per_step_and_memory_is_flat_across_epochs() {
    let (train, test) =
        load_mnist_dir(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data")).unwrap();
    let (train, test) = (train.limit(640), test.limit(200));
    let mut devices: Vec<Box<dyn Backend>> = vec![Box::new(CpuBackend::new())];
    if let Some(g) = gpu() {
        devices.push(Box::new(g));
    }
    for be in devices {
        let mut s = Session::with_backend(seed_network(false), be).unwrap();
        let dev = s.device_info().kind;
        s.compile(
            Box::new(Adam::default()),
            LossName::SparseCategoricalCrossentropy,
        )
        .unwrap();
        let epoch = FitOptions {
            epochs: 1,
            batch_size: 64,
            ..Default::default()
        };
        // Warm up: plans for the full and the last (partial) batch, validation plans.
        s.fit(&train, Some(&test), &epoch, &mut []).unwrap();
        let (buffers, rss) = (s.live_buffers(), rss_bytes());
        let more = FitOptions { epochs: 8, ..epoch };
        let h = s.fit(&train, Some(&test), &more, &mut []).unwrap();
        assert_eq!(
            h.counters.allocations_per_step, 0.0,
            "{dev}: allocations inside steps"
        );
        assert_eq!(
            s.live_buffers(),
            buffers,
            "{dev}: live buffers after 8 more epochs"
        );
        let grown = rss_bytes().saturating_sub(rss);
        assert!(
            grown < 32 << 20,
            "{dev}: resident memory grew by {grown} bytes over 8 epochs"
        );
    }
}
