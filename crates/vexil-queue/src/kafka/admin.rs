//! Creating and deleting topics with librdkafka's admin client, for tests and for
//! services that create their topic at startup.

use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};

use super::{client_config, KafkaOptions};
use crate::QueueError;

/// Creates `topic` with `partitions` partitions of `options.replication_factor` replicas,
/// unless it exists (it then keeps its partition count and replicas). Fails after
/// `timeout`.
pub async fn create_topic(
    options: &KafkaOptions,
    topic: &str,
    partitions: u32,
    timeout: Duration,
) -> Result<(), QueueError> {
    let admin = admin(options)?;
    let partitions = i32::try_from(partitions).unwrap_or(i32::MAX);
    // -1 asks the brokers for their default.
    let replication = TopicReplication::Fixed(options.replication_factor.unwrap_or(-1));
    let new_topic = NewTopic::new(topic, partitions, replication);
    let answer = tokio::time::timeout(
        timeout,
        admin.create_topics([&new_topic], &admin_options(timeout)),
    )
    .await;
    check(
        topic,
        "create",
        answer,
        RDKafkaErrorCode::TopicAlreadyExists,
    )
}

fn admin(options: &KafkaOptions) -> Result<AdminClient<DefaultClientContext>, QueueError> {
    client_config(options, &[])
        .create()
        .map_err(|source| QueueError::KafkaClient {
            role: "admin client",
            brokers: options.brokers.clone(),
            source: Box::new(source),
        })
}

fn admin_options(timeout: Duration) -> AdminOptions {
    AdminOptions::new()
        .request_timeout(Some(timeout))
        .operation_timeout(Some(timeout))
}

type TopicResults = Vec<Result<String, (String, RDKafkaErrorCode)>>;

/// The outcome of a request about one topic: `harmless` is the answer meaning the topic
/// already is as asked (it exists, or it does not).
fn check(
    topic: &str,
    action: &'static str,
    answer: Result<Result<TopicResults, KafkaError>, tokio::time::error::Elapsed>,
    harmless: RDKafkaErrorCode,
) -> Result<(), QueueError> {
    let failed = |source| QueueError::Kafka {
        action,
        topic: topic.to_owned(),
        source: Box::new(source),
    };
    let results = answer
        .map_err(|_| failed(KafkaError::AdminOp(RDKafkaErrorCode::OperationTimedOut)))?
        .map_err(failed)?;
    for result in results {
        match result {
            Ok(_) => {}
            Err((_, code)) if code == harmless => {}
            Err((_, code)) => return Err(failed(KafkaError::AdminOp(code))),
        }
    }
    Ok(())
}
