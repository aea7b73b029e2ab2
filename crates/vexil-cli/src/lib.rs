//! The `vexil` command line: evaluates flags from data files the way an SDK would, and is where
//! later operator commands (`vexil up`, `vexil flags stale`) live.
//!
//! Owns the command-line syntax (`cli.rs`), reading and checking input files (`data_file.rs`,
//! `commands/eval/case_line.rs`), how results are printed, and exit codes (`error.rs`: 0 success,
//! 1 unexpected failure, 2 bad usage or bad input). Never decides flag semantics: every
//! evaluation goes through `vexil_eval::variation_detail`.
//!
//! Start with [`run`], then `commands/eval.rs`. A new subcommand is a variant of
//! `cli::Command` and a module under `commands/`.

mod cli;
mod commands;
mod data_file;
mod error;

pub use cli::Cli;
pub use error::{report, InputError, Location};

use cli::Command;

/// Runs one parsed command line. Errors caused by the user's input carry an [`InputError`] in
/// their chain, which [`report`] turns into exit code 2.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Eval(args) => commands::eval::run(&args),
    }
}
