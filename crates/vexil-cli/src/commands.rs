//! One module per subcommand, each with a `run` taking its parsed arguments.

pub mod eval;
pub mod flags;
pub mod up;
