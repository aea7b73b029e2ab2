//! The shared queue contract against the embedded log.

use std::sync::Arc;

use vexil_queue::contract::Fixture;

use crate::support;

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("temporary directory");
    let queue = Arc::new(support::open(dir.path(), support::options(4)).await);
    Fixture {
        producer: queue.clone(),
        consumer: queue,
        topic: support::TOPIC.to_owned(),
        guard: Box::new(dir),
    }
}

vexil_queue::contract_tests!(fixture);
