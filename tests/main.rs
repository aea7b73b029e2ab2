//! Cross-service scenarios, run against the real Postgres, Redis and Kafka whose
//! addresses `scripts/test-env` exports (see `README.md` beside this file).

mod dependencies;
mod kafka_smoke;
mod test_env;
