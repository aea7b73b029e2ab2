//! Cross-service scenarios, run against the real Postgres, Redis and Kafka whose
//! addresses `scripts/test-env` exports (see `README.md` beside this file).

mod broker_pause;
mod dependencies;
mod deploy;
mod event_log;
mod events_end_to_end;
mod kafka_smoke;
mod metrics_series;
mod python_sdk;
mod scratch;
mod stack;
mod telemetry;
mod test_env;
