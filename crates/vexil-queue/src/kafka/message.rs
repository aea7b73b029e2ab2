//! What librdkafka hands a subscription becomes: a [`Record`], or an error that waiting
//! cures (librdkafka retries) or not.

use bytes::Bytes;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{BorrowedMessage, Headers};
use rdkafka::Message;

use crate::{Header, Record};

/// Errors that waiting will not cure: the topic or partition is gone or forbidden, or the
/// consumer itself failed for good.
pub(super) fn is_permanent(error: &KafkaError) -> bool {
    match error {
        KafkaError::MessageConsumptionFatal(_) => true,
        KafkaError::MessageConsumption(code) => matches!(
            code,
            RDKafkaErrorCode::UnknownTopicOrPartition
                | RDKafkaErrorCode::UnknownTopic
                | RDKafkaErrorCode::UnknownPartition
                | RDKafkaErrorCode::TopicAuthorizationFailed
        ),
        _ => false,
    }
}

/// The record as appended: key, value, headers in order (a header without a value reads
/// back empty) and the producer's timestamp.
pub(super) fn record(message: &BorrowedMessage<'_>) -> Record {
    let headers = message
        .headers()
        .map(|headers| {
            headers
                .iter()
                .map(|header| Header {
                    name: header.key.to_owned(),
                    value: header.value.map(Bytes::copy_from_slice).unwrap_or_default(),
                })
                .collect()
        })
        .unwrap_or_default();
    Record {
        key: message
            .key()
            .map(Bytes::copy_from_slice)
            .unwrap_or_default(),
        value: message
            .payload()
            .map(Bytes::copy_from_slice)
            .unwrap_or_default(),
        headers,
        timestamp_ms: message.timestamp().to_millis().unwrap_or(0),
    }
}
