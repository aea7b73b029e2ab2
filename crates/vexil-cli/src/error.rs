//! Input errors (bad files, bad case lines, a bad API URL, a missing token), which exit with
//! code 2, and the final error report.

use std::fmt;
use std::io;
use std::process::ExitCode;

use crate::commands::eval::CaseError;

/// Exit code for bad usage or bad input, the same code clap uses for usage errors.
const EXIT_INPUT: u8 = 2;

/// A problem with what the user gave us, as opposed to a failure of `vexil` itself.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// A file could not be opened or read.
    #[error("cannot read {name}")]
    Unreadable {
        /// The path as given (or `<stdin>`).
        name: String,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// The flag data file is not a valid polling payload.
    #[error("{location}: invalid flag data{item}{at}: {message}", at = at_path(json_path))]
    FlagData {
        /// Where in the file.
        location: Location,
        /// The flag or segment the problem is in, as ` for flag "key"`, or empty.
        item: String,
        /// JSON path of the offending value, e.g. `flags.my-flag.rules[0].clauses[1].op`.
        json_path: String,
        /// What is wrong.
        message: String,
    },
    /// A line of a cases file is not a valid case.
    #[error("{location}: {problem}")]
    Case {
        /// Where in the file.
        location: Location,
        /// What is wrong.
        problem: CaseError,
    },
    /// `--api-url` (or `VEXIL_API_URL`) is not a URL this build can use.
    #[error("--api-url (or VEXIL_API_URL) {url:?}: {problem}")]
    ApiUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        problem: String,
    },
    /// A `vexil up` setting is not usable.
    #[error("{setting}: {problem}")]
    Setting {
        /// The option and its environment variable, e.g. `--redis-url (or VEXIL_REDIS__URL)`.
        setting: &'static str,
        /// What is wrong with it.
        problem: String,
    },
    /// The API token is not set.
    #[error(
        "{variable} is not set: export the API token in it (it is never read from the command line)"
    )]
    MissingToken {
        /// The environment variable, `VEXIL_API_TOKEN`.
        variable: &'static str,
    },
}

/// A place in an input file, printed `file:line` or `file:line:column` like a compiler does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The path as given (or `<stdin>`).
    pub name: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, when known.
    pub column: Option<usize>,
}

impl fmt::Display for Location {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}:{}", self.name, self.line)?;
        match self.column {
            Some(column) => write!(formatter, ":{column}"),
            None => Ok(()),
        }
    }
}

/// Prints `error` to stderr and chooses the exit code: 2 for bad input, 1 for anything else
/// (including an API that refused the request or could not be reached).
/// A closed stdout (`vexil eval ... | head`) is not an error: the reader has all it wanted.
pub fn report(error: &anyhow::Error) -> ExitCode {
    if is_broken_pipe(error) {
        return ExitCode::SUCCESS;
    }
    eprintln!("error: {error:#}");
    if error.chain().any(|cause| cause.is::<InputError>()) {
        ExitCode::from(EXIT_INPUT)
    } else {
        ExitCode::FAILURE
    }
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error
        .chain()
        .filter_map(|cause| cause.downcast_ref::<io::Error>())
        .any(|io_error| io_error.kind() == io::ErrorKind::BrokenPipe)
}

fn at_path(json_path: &str) -> String {
    // serde_path_to_error spells the document root ".", which says nothing useful.
    if json_path.is_empty() || json_path == "." {
        String::new()
    } else {
        format!(" at {json_path}")
    }
}
