//! The `steadygrad` command line: a thin layer over the library (see `src/cli/`).

use std::process::ExitCode;

use clap::Parser;

mod cli;

use cli::args::{Cli, Command};

fn main() -> ExitCode {
    let parsed = Cli::parse();
    let r = match parsed.command {
        Command::Train(a) => cli::commands::train(a),
        Command::Summary(s) => cli::commands::summary(s),
        Command::Evaluate(a) => cli::commands::evaluate(a),
        Command::Predict(a) => cli::commands::predict(a),
        Command::Transfer(a) => cli::transfer::transfer(a),
    };
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
