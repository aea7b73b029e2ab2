//! Integration tests of the `vexil` binary: each runs the built binary on fixture files, or
//! against a config-api running in-process (`api.rs`).

mod api;
mod cases_mode;
mod flags_stale;
mod harness;
mod input_errors;
mod single_mode;
