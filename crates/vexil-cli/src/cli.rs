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
    /// Query the flags of a running Vexil through config-api's REST API.
    Flags(FlagsArgs),
    /// Run the whole platform (config-api, stream gateway, event ingest, analytics worker) in
    /// this one process.
    #[command(after_help = UP_AFTER_HELP)]
    Up(UpArgs),
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

/// `vexil flags ...`.
#[derive(Debug, Args)]
pub struct FlagsArgs {
    /// What to do with the flags.
    #[command(subcommand)]
    pub command: FlagsCommand,
}

/// The `vexil flags` subcommands.
#[derive(Debug, Subcommand)]
pub enum FlagsCommand {
    /// List temporary flags that look ready to remove: old, and over the last 7 days not
    /// evaluated at all or serving only one variation.
    #[command(after_help = STALE_AFTER_HELP)]
    Stale(StaleArgs),
}

const STALE_AFTER_HELP: &str = "\
A flag is stale when it is temporary, not archived, created more than --threshold-days ago, and
over the last 7 days was not evaluated at all (reason not_evaluated) or served at most one
variation (single_variation) in the environment. The analytics come from SDK events; config-api
answers 503 while analytics-worker is unreachable.

The API token is read from the VEXIL_API_TOKEN environment variable, never from the command line
(shell history and process listings would show it). It needs role reader in the environment.
Only http:// URLs are supported for now (no TLS in this build).

Exit status: 0 success, also when no flag is stale; 1 the API refused the request (its message is
printed) or could not be reached; 2 bad usage, a bad --api-url or a missing VEXIL_API_TOKEN.

Examples:
  export VEXIL_API_TOKEN=...
  vexil flags stale --project shop --environment production
  vexil flags stale --project shop --environment production --threshold-days 90 --json | jq -r '.[].key'";

/// Where the Vexil REST API is. The token is not here: it comes from `VEXIL_API_TOKEN`.
#[derive(Debug, Args)]
pub struct ApiArgs {
    /// Base URL of config-api's REST API (http:// only).
    #[arg(
        long,
        value_name = "URL",
        env = "VEXIL_API_URL",
        default_value = "http://127.0.0.1:8030"
    )]
    pub api_url: String,
}

/// `vexil flags stale`.
#[derive(Debug, Args)]
pub struct StaleArgs {
    /// The project's key.
    #[arg(long, value_name = "KEY")]
    pub project: String,

    /// The environment's key: staleness is judged on the evaluations there.
    #[arg(long, value_name = "KEY")]
    pub environment: String,

    /// Only flags created more than this many days ago are candidates (0 to 36500).
    #[arg(long, value_name = "DAYS", default_value_t = 30, allow_negative_numbers = true, value_parser = clap::value_parser!(u32).range(0..=36_500))]
    pub threshold_days: u32,

    /// Print the API's items as a JSON array (stable, for scripts) instead of a table.
    #[arg(long)]
    pub json: bool,

    #[command(flatten)]
    pub api: ApiArgs,
}

const UP_AFTER_HELP: &str = "\
Runs config-api, the stream gateway, event ingest and the analytics worker in this process.
With no options it needs nothing else: config-api and the analytics worker keep their data in
SQLite files in --data-dir, events go through a durable queue there, and the gateway keeps its
copy of the flags in memory. Each backend can be a server instead: PostgreSQL with
--database-url (config-api and the worker share it, each in its own schema), Kafka with
--kafka-brokers, Redis with --redis-url. The admin API listens on --api-listen; every SDK path
(streaming, polling, client-side evaluation, OFREP and events) on --sdk-listen, so one URL serves
as a LaunchDarkly SDK's base, stream and events URI.

On first start it creates a project `demo` with a few flags, and keeps the admin token and the
demo's SDK keys in --data-dir, printing them at every start.

Prefer the environment variables for URLs that hold a password: command lines are visible to
other users of the machine. Stop with Ctrl-C or SIGTERM: streams end, pending events are flushed.

Exit status: 0 after a clean stop; 1 a backend could not be reached or a service failed; 2 bad
usage or a bad setting.

Example:
  vexil up                                    # everything in ./vexil-data
  export VEXIL_DATABASE__URL=postgres://postgres@127.0.0.1:5432/vexil
  vexil up --redis-url redis://127.0.0.1:6379 --kafka-brokers 127.0.0.1:9092";

/// `vexil up`. Each backend is optional: without PostgreSQL the services keep their data in
/// SQLite files, without Kafka events go through an embedded queue, without Redis the
/// gateway's copy is kept in memory.
#[derive(Debug, Args)]
pub struct UpArgs {
    /// PostgreSQL for config-api and the analytics worker (`postgres://`); the database must
    /// exist. Without it each keeps its data in a SQLite file in `--data-dir`.
    #[arg(
        long,
        value_name = "URL",
        env = "VEXIL_DATABASE__URL",
        hide_env_values = true
    )]
    pub database_url: Option<String>,

    /// Redis for the stream gateway's persistent copy of the flags (`redis://`), in
    /// LaunchDarkly's Redis layout. Without it the copy is kept in memory: config-api runs
    /// in the same process and its database is the durable copy.
    #[arg(
        long,
        value_name = "URL",
        env = "VEXIL_REDIS__URL",
        hide_env_values = true
    )]
    pub redis_url: Option<String>,

    /// Kafka bootstrap brokers, `host:port[,host:port...]`. Without them, events go through
    /// an embedded durable queue in `--data-dir`'s `queue/`.
    #[arg(long, value_name = "BROKERS", env = "VEXIL_KAFKA__BROKERS")]
    pub kafka_brokers: Option<String>,

    /// Where the admin token and the demo project's keys are kept.
    #[arg(long, value_name = "DIR", default_value = "vexil-data")]
    pub data_dir: PathBuf,

    /// Address of the admin REST API (config-api).
    #[arg(long, value_name = "ADDRESS", default_value = "127.0.0.1:8030")]
    pub api_listen: std::net::SocketAddr,

    /// Address of every SDK path (stream gateway and event ingest together).
    #[arg(long, value_name = "ADDRESS", default_value = "127.0.0.1:8040")]
    pub sdk_listen: std::net::SocketAddr,

    /// Do not create the demo project on first start.
    #[arg(long)]
    pub no_demo: bool,
}
