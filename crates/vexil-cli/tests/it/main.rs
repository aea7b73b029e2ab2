//! Integration tests of the `vexil` binary: each runs the built binary on fixture files,
//! against a config-api running in-process (`api.rs`), or as `vexil up` on the real backends
//! (`up.rs`).

mod api;
mod cases_mode;
mod flags_stale;
mod harness;
mod input_errors;
mod single_mode;
mod up;
mod up_metrics;

// Shared with the system tests in `tests/`: the LaunchDarkly Python SDK driver and the test
// servers' addresses.
#[allow(dead_code)]
#[path = "../../../../tests/python_sdk.rs"]
mod python_sdk;
#[path = "../../../../tests/test_env.rs"]
mod test_env;
