//! Reads the test servers' addresses that `scripts/test-env` exports.

/// Returns the value of `name`, failing the test when it is unset or empty.
///
/// A missing server is a failure, never a skip: a green run must mean every
/// scenario really ran against Postgres, Redis and Kafka.
#[track_caller]
pub fn required_var(name: &str) -> String {
    match std::env::var(name) {
        Ok(value) if !value.trim().is_empty() => value,
        _ => panic!(
            "{name} is not set: run the tests through scripts/test-env, which starts \
             Postgres, Redis and Kafka when needed and exports their addresses \
             (scripts/test-env cargo test --workspace)"
        ),
    }
}
