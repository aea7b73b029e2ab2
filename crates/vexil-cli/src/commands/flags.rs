//! `vexil flags`: commands about the flags of a running Vexil, through config-api's REST API.

mod stale;

use crate::cli::{FlagsArgs, FlagsCommand};

/// Runs one `vexil flags` subcommand.
pub fn run(args: &FlagsArgs) -> anyhow::Result<()> {
    match &args.command {
        FlagsCommand::Stale(args) => stale::run(args),
    }
}
