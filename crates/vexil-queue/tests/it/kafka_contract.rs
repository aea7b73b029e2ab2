//! The shared queue contract against Kafka: the broker at `VEXIL_TEST_KAFKA_BROKERS`
//! (`scripts/test-env` starts one), a fresh topic per case, deleted when the case ends.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use vexil_queue::contract::Fixture;
use vexil_queue::kafka::{self, KafkaConsumer, KafkaOptions, KafkaProducer};

/// More than one, so that lag is seen to be per partition; three, so that keys spread.
const PARTITIONS: u32 = 3;
const ADMIN_TIMEOUT: Duration = Duration::from_secs(30);

async fn fixture() -> Fixture {
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
        topic: topic.clone(),
        guard: Box::new(DeleteTopic { options, topic }),
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

/// Deletes the case's topic when the case ends. A broker that cannot delete topics only
/// gets a note: the names are unique, so a leftover topic harms no later run.
struct DeleteTopic {
    options: KafkaOptions,
    topic: String,
}

impl Drop for DeleteTopic {
    fn drop(&mut self) {
        let (options, topic) = (self.options.clone(), self.topic.clone());
        // `drop` cannot await, and the case's runtime may be busy or ending: a runtime of
        // its own on a thread of its own.
        let deleted = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|error| error.to_string())?;
            runtime
                .block_on(kafka::delete_topic(&options, &topic, ADMIN_TIMEOUT))
                .map_err(|error| format!("{error:?}"))
        })
        .join();
        match deleted {
            Ok(Ok(())) => {}
            Ok(Err(error)) => eprintln!("note: topic {} was not deleted: {error}", self.topic),
            Err(_) => eprintln!("note: deleting topic {} panicked", self.topic),
        }
    }
}
