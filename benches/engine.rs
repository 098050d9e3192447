//! `cargo bench`: the standard benchmark set (see `steadygrad::bench`), printed as the
//! README's table and as JSON. `cargo bench -- quick` for smaller sizes.

fn main() {
    let quick = std::env::args().any(|a| a == "quick");
    let data = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/data"));
    let (train, _) = steadygrad::data::idx::load_mnist_dir(data).expect("the bundled digits");
    let report = steadygrad::bench::run(&train, quick).expect("benchmarks run");
    println!("adapter: {}\n", report.adapter);
    print!("{}", report.to_markdown());
    println!("\n{}", report.to_json());
}
