//! The shared queue contract against Kafka: the broker at `VEXIL_TEST_KAFKA_BROKERS`
//! (`scripts/test-env` starts one), a fresh topic per case.
//!
//! Topics are not deleted afterwards: with tansu 0.6, deleting a topic while other clients
//! of the process run made librdkafka's metadata cache crash (SIGSEGV in `strcmp` under
//! `rd_kafka_metadata_cache_find`, 3 runs in 12 when two test processes ran side by side).
//! The names are unique, and the test broker keeps topics in memory only.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use vexil_queue::contract::Fixture;
use vexil_queue::kafka::{self, KafkaConsumer, KafkaOptions, KafkaProducer};

/// More than one, so that lag is seen to be per partition; three, so that keys spread.
const PARTITIONS: u32 = 3;
const ADMIN_TIMEOUT: Duration = Duration::from_secs(30);

pub(crate) async fn fixture() -> Fixture {
    let brokers = std::env::var("VEXIL_TEST_KAFKA_BROKERS").unwrap_or_else(|_| {
        panic!(
            "VEXIL_TEST_KAFKA_BROKERS is not set: the Kafka contract tests need a broker \
             (run the tests through scripts/test-env, which starts one)"
        )
    });
    let options = KafkaOptions::new(brokers);
    let topic = unique_topic();
    kafka::create_topic(&options, &topic, PARTITIONS, ADMIN_TIMEOUT)
        .await
        .unwrap_or_else(|error| panic!("creating topic {topic}: {error:?}"));
    let producer = KafkaProducer::new(&options).expect("creating the producer");
    Fixture {
        producer: Arc::new(producer),
        consumer: Arc::new(KafkaConsumer::new(options.clone())),
        topic,
        guard: Box::new(()),
    }
}

vexil_queue::contract_tests!(fixture);

/// Unique across the cases of this run and across runs on one broker.
fn unique_topic() -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_nanos();
    format!(
        "vexil-queue-contract-{}-{nanos}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}
