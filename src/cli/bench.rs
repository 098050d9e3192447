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
    if a.sweep {
        let rows = steadygrad::bench::sweep(&train, a.quick)?;
        if a.json {
            println!(
                "{}",
                serde_json::json!({"batch_sweep": steadygrad::bench::sweep_json(&rows)})
            );
        } else {
            print!("{}", steadygrad::bench::sweep_markdown(&rows));
            if a.markdown {
                println!(
                    "\nPrinted by `steadygrad bench --sweep --markdown{}` on {}, adapter {}.",
                    if a.quick { " --quick" } else { "" },
                    steadygrad::bench::cpu_description(),
                    rows.first().map_or("none", |r| r.adapter.as_str())
                );
            }
        }
        return Ok(());
    }
    if a.profile {
        let p = steadygrad::bench::profile(&train, &a.model, a.batch_size, a.quick)?;
        if a.json {
            println!("{}", p.to_json());
        } else {
            print!(
                "{}\nBy kernel:\n\n{}",
                p.to_markdown(),
                p.by_kernel_markdown()
            );
            if a.markdown {
                println!(
                    "\nPrinted by `steadygrad bench --profile --model {} --batch-size {} --markdown{}` on {}, adapter {}.",
                    p.model,
                    p.batch,
                    if a.quick { " --quick" } else { "" },
                    steadygrad::bench::cpu_description(),
                    p.adapter
                );
            }
        }
        return Ok(());
    }
    let report = steadygrad::bench::run(&train, a.quick)?;
    eprintln!("adapter: {}", report.adapter);
    if a.json {
        println!("{}", report.to_json());
    } else {
        print!("{}", report.to_markdown());
        if a.markdown {
            println!(
                "\nPrinted by `steadygrad bench --markdown{}` on {}, adapter {}.",
                if a.quick { " --quick" } else { "" },
                steadygrad::bench::cpu_description(),
                report.adapter
            );
        }
    }
    Ok(())
}
