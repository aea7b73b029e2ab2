//! The command-line syntax of `vexil` (clap definitions only; behaviour lives in `commands/`).

use std::path::PathBuf;

use clap::{ArgGroup, Args, Parser, Subcommand};
use serde_json::Value;
use vexil_eval::ValueType;

/// Vexil, a LaunchDarkly-compatible feature flag platform.
#[derive(Debug, Parser)]
#[command(name = "vexil", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Evaluate flags from a data file, exactly as a server-side SDK would.
    Eval(EvalArgs),
}

/// `vexil eval`: many cases from a JSON Lines file (`--cases`), or one flag (`--flag`).
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("mode").required(true).args(["cases", "flag"])))]
pub struct EvalArgs {
    /// Flag data: a server-side polling payload `{"flags": {...}, "segments": {...}}`.
    #[arg(long, value_name = "FLAGS.json")]
    pub data: PathBuf,

    /// Evaluate every line of this file (`-` for stdin), printing one JSON result per line. Each
    /// line is `{"flag": KEY, "context": {...}, "default": JSON, "valueType": TYPE}`.
    #[arg(long, value_name = "CASES.jsonl")]
    pub cases: Option<PathBuf>,

    /// Evaluate this one flag and explain the result.
    #[arg(long, value_name = "KEY", requires = "context")]
    pub flag: Option<String>,

    /// The context to evaluate for, as JSON. An invalid context is not an error: it serves the
    /// default with reason USER_NOT_SPECIFIED.
    #[arg(long, value_name = "JSON", requires = "flag", allow_hyphen_values = true, value_parser = parse_json)]
    pub context: Option<Value>,

    /// The value served when the flag cannot be evaluated, as JSON (strings need quotes: '"off"').
    #[arg(long, value_name = "JSON", requires = "flag", allow_hyphen_values = true, value_parser = parse_json, default_value = "null")]
    pub default: Value,

    /// The type a typed SDK call expects: bool, int, double, string or any. A value of another
    /// type serves the default with error WRONG_TYPE.
    #[arg(long, value_name = "TYPE", requires = "flag", default_value = "any")]
    pub value_type: ValueType,

    /// Print the result as the same JSON line `--cases` prints, instead of explaining it.
    #[arg(long, requires = "flag")]
    pub json: bool,
}

fn parse_json(text: &str) -> Result<Value, String> {
    serde_json::from_str(text).map_err(|error| {
        // A bare word is most likely a string without its quotes.
        let is_bare_word = error.line() == 1 && error.column() == 1;
        let hint = if is_bare_word {
            "; a string needs quotes, e.g. '\"off\"'"
        } else {
            ""
        };
        format!("not valid JSON ({error}){hint}")
    })
}
