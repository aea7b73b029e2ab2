//! `vexil eval`: loads the flag data once, then evaluates a cases file or one flag.

mod case_line;
mod cases;
mod detail_json;
mod explain;
mod single;

use std::io;

use crate::cli::EvalArgs;
use crate::data_file;

pub use case_line::CaseError;

/// Runs `vexil eval`, writing results to stdout.
pub fn run(args: &EvalArgs) -> anyhow::Result<()> {
    let data = data_file::load(&args.data)?;
    let stdout = io::stdout().lock();
    if let Some(cases_path) = &args.cases {
        return cases::run(&data, cases_path, stdout);
    }
    let request = single::Request {
        flag_key: args
            .flag
            .as_deref()
            .expect("clap requires --flag when --cases is absent"),
        context: args
            .context
            .as_ref()
            .expect("clap requires --context with --flag"),
        default: &args.default,
        value_type: args.value_type,
        is_json: args.json,
    };
    single::run(&data, &request, stdout)
}
