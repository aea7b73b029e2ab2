//! The `vexil` binary: parses the command line, runs it, and turns the outcome into an exit code.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // Usage errors never get here: clap prints them and exits with code 2.
    let cli = vexil_cli::Cli::parse();
    match vexil_cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => vexil_cli::report(&error),
    }
}
