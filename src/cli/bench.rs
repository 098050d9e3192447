//! `steadygrad bench`: the standard set, the batch sweep (`--sweep`) or one step's
//! per-launch profile (`--profile`) on the bundled digits, as tables or JSON.

use steadygrad::{Error, Result};

use super::args::{BenchArgs, DataArgs};
use super::commands::load_data;

/// `steadygrad bench`.
pub fn bench(a: BenchArgs) -> Result<()> {
    let (train, _) = load_data(&DataArgs {
        data: a.data.clone(),
        test_data: None,
        classes: None,
        limit: None,
    })?;
    if train.features() != 784 {
        return Err(Error::Config(format!(
            "--data {}: the benchmarks train the seed network on 28×28 digits; these samples have shape {:?}",
            a.data.display(),
            train.sample_shape
        )));
    }
    // The table always (with `--markdown`, the line saying where it ran); `--json` ends
    // stdout with the same figures as one object.
    let quick = if a.quick { " --quick" } else { "" };
    let printed_by = |command: String, adapter: &str| {
        if a.markdown {
            println!(
                "\nPrinted by `steadygrad bench {command}{quick}` on {}, adapter {adapter}.",
                steadygrad::bench::cpu_description(),
            );
        }
    };
    if a.sweep {
        let rows = steadygrad::bench::sweep(&train, a.quick)?;
        print!("{}", steadygrad::bench::sweep_markdown(&rows));
        printed_by(
            "--sweep --markdown".into(),
            rows.first().map_or("none", |r| r.adapter.as_str()),
        );
        if a.json {
            println!(
                "{}",
                serde_json::json!({"batch_sweep": steadygrad::bench::sweep_json(&rows)})
            );
        }
        return Ok(());
    }
    if a.profile {
        let p = steadygrad::bench::profile(&train, &a.model, a.batch_size, a.quick)?;
        print!(
            "{}\nBy kernel:\n\n{}",
            p.to_markdown(),
            p.by_kernel_markdown()
        );
        printed_by(
            format!(
                "--profile --model {} --batch-size {} --markdown",
                p.model, p.batch
            ),
            &p.adapter,
        );
        if a.json {
            println!("{}", p.to_json());
        }
        return Ok(());
    }
    let report = steadygrad::bench::run(&train, a.quick)?;
    eprintln!("adapter: {}", report.adapter);
    print!("{}", report.to_markdown());
    printed_by("--markdown".into(), &report.adapter);
    if a.json {
        println!("{}", report.to_json());
    }
    Ok(())
}
