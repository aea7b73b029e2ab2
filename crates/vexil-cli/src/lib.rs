//! The `vexil` command line: evaluates flags from data files the way an SDK would, and runs
//! operator commands against a Vexil API (`vexil flags stale`), and runs the whole platform in
//! one process (`vexil up`).
//!
//! Owns the command-line syntax (`cli.rs`), reading and checking input files (`data_file.rs`,
//! `commands/eval/case_line.rs`), the REST client (`api_client.rs`), how results are printed,
//! and exit codes (`error.rs`: 0 success, 1 a failure or an API refusal, 2 bad usage or bad
//! input). Never decides flag semantics: every evaluation goes through
//! `vexil_eval::variation_detail`, and what is stale is config-api's answer.
//!
//! Start with [`run`], then `commands/eval.rs`. A new subcommand is a variant of
//! `cli::Command` and a module under `commands/`.

mod api_client;
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
        Command::Flags(args) => commands::flags::run(&args),
        Command::Up(args) => commands::up::run(&args),
    }
}
