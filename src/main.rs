//! The `steadygrad` command line: a thin layer over the library (see `src/cli/`).

use std::process::ExitCode;

use clap::Parser;

mod cli;

use cli::args::{Cli, Command};

fn main() -> ExitCode {
    let parsed = match Cli::try_parse() {
        Ok(p) => p,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(
                e.kind(),
                ErrorKind::DisplayHelp
                    | ErrorKind::DisplayVersion
                    | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            ) {
                e.exit();
            }
            // One line, `error: …`, naming the flag (clap's usage block is left out).
            let text = e.render().to_string();
            let message = text
                .split("\n\n")
                .next()
                .unwrap_or("error: invalid arguments")
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    let r = match parsed.command {
        Command::Train(a) if a.distributed => cli::distributed::train(a),
        Command::Train(a) => cli::commands::train(a),
        Command::Summary(s) => cli::commands::summary(s),
        Command::Evaluate(a) => cli::commands::evaluate(a),
        Command::Predict(a) => cli::commands::predict(a),
        Command::Transfer(a) => cli::transfer::transfer(a),
        Command::Bench(a) if a.distributed => cli::distributed::bench(a),
        Command::Bench(a) => cli::bench::bench(a),
        Command::Experiment(cli::args::ExperimentCommand::Depth(a)) => cli::experiment::depth(a),
        Command::Experiment(cli::args::ExperimentCommand::Regularization(a)) => {
            cli::experiment::regularization(a)
        }
        Command::Plot(a) => cli::health::plot(a),
        Command::Tune(a) => cli::tune::tune(a),
        Command::Verify(a) => cli::tune::verify(a),
    };
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
