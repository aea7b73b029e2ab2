//! Integration tests of the `vexil` binary: each runs the built binary on fixture files.

mod cases_mode;
mod harness;
mod input_errors;
mod single_mode;
