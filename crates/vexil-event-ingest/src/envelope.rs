//! Turns accepted events into Kafka records: the `EventEnvelope` value, the record key
//! and the record headers (the contract is in `proto/vexil/events/v1/events.proto`).

use prost::Message;
use rdkafka::message::{Header, OwnedHeaders};
use vexil_proto::events::v1::{
    EventEnvelope, PAYLOAD_ID_HEADER, TRACEPARENT_HEADER, TRACESTATE_HEADER,
};

use crate::credentials::ResolvedCredential;
use crate::events::Valid;
use crate::kafka::Record;
use crate::sdk_request::{SdkRequest, Source};

/// What every record of one request shares.
pub struct Batch<'a> {
    pub credential: &'a ResolvedCredential,
    pub request: &'a SdkRequest,
    pub source: Source,
    pub received_at_unix_ms: i64,
}

impl Batch<'_> {
    /// The record for the event at `index` of the payload, `json` as the SDK sent it.
    pub fn record(&self, index: usize, json: &str, event: &Valid) -> Record {
        let envelope = EventEnvelope {
            environment_id: self.credential.environment_id.clone(),
            project_key: Some(self.credential.project_key.clone()),
            environment_key: Some(self.credential.environment_key.clone()),
            received_at_unix_ms: self.received_at_unix_ms,
            payload_id: self.request.payload_id.clone(),
            payload_id_generated: self.request.is_payload_id_generated,
            index_in_payload: u32::try_from(index).unwrap_or(u32::MAX),
            source: self.source.to_proto() as i32,
            user_agent: self.request.user_agent.clone(),
            wrapper: self.request.wrapper.clone(),
            tags: self.request.tags.clone(),
            event_schema: self.request.event_schema,
            kind: event.kind.as_str().to_owned(),
            event_json: json.as_bytes().to_vec(),
        };
        Record {
            key: record_key(
                &self.credential.environment_id,
                event.context_key.as_deref(),
                &self.request.payload_id,
            ),
            value: envelope.encode_to_vec(),
        }
    }

    /// The record headers: the payload id and the request's W3C trace context.
    pub fn headers(&self) -> OwnedHeaders {
        let mut headers = OwnedHeaders::new_with_capacity(3).insert(Header {
            key: PAYLOAD_ID_HEADER,
            value: Some(&self.request.payload_id),
        });
        for (key, value) in [
            (TRACEPARENT_HEADER, &self.request.traceparent),
            (TRACESTATE_HEADER, &self.request.tracestate),
        ] {
            if let Some(value) = value {
                headers = headers.insert(Header {
                    key,
                    value: Some(value),
                });
            }
        }
        headers
    }
}

/// `{environment_id}:{context key}` keeps one context's events in one partition, in
/// order; events without a context (summaries, diagnostics) are spread by payload,
/// `{environment_id}#{payload_id}`. Both depend only on the request, so a retried
/// payload's events land in the partitions of their first copies.
pub fn record_key(environment_id: &str, context_key: Option<&str>, payload_id: &str) -> String {
    match context_key {
        Some(context_key) => format!("{environment_id}:{context_key}"),
        None => format!("{environment_id}#{payload_id}"),
    }
}

#[cfg(test)]
mod tests {
    use rdkafka::message::Headers;
    use vexil_proto::config::v1::CredentialKind;
    use vexil_proto::events::v1::EventSource;

    use super::*;
    use crate::events::EventKind;

    #[test]
    fn records_carry_the_envelope_key_and_headers() {
        let credential = ResolvedCredential {
            environment_id: "env-1".into(),
            project_key: "shop".into(),
            environment_key: "test".into(),
            kind: CredentialKind::ServerSdkKey,
        };
        let request = SdkRequest {
            payload_id: "p-1".into(),
            is_payload_id_generated: false,
            user_agent: "GoClient/7.0.0".into(),
            wrapper: String::new(),
            tags: String::new(),
            event_schema: 4,
            traceparent: Some("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01".into()),
            tracestate: None,
        };
        let batch = Batch {
            credential: &credential,
            request: &request,
            source: Source::Server,
            received_at_unix_ms: 1_718_000_000_000,
        };
        let json = r#"{"kind":"custom","key":"k"}"#;
        let valid = Valid {
            kind: EventKind::Custom,
            context_key: Some("org:o".into()),
        };
        let record = batch.record(3, json, &valid);
        assert_eq!(record.key, "env-1:org:o");
        let envelope = EventEnvelope::decode(record.value.as_slice()).unwrap();
        assert_eq!(envelope.environment_id, "env-1");
        assert_eq!(envelope.project_key.as_deref(), Some("shop"));
        assert_eq!(envelope.index_in_payload, 3);
        assert_eq!(envelope.source(), EventSource::Server);
        assert_eq!(envelope.kind, "custom");
        assert_eq!(envelope.event_json, json.as_bytes());
        assert_eq!(envelope.event_schema, 4);

        let headers = batch.headers();
        let names: Vec<&str> = headers.iter().map(|header| header.key).collect();
        assert_eq!(names, ["vexil-payload-id", "traceparent"]);
    }

    #[test]
    fn contextless_events_are_keyed_by_payload() {
        assert_eq!(record_key("env-1", None, "p-1"), "env-1#p-1");
        assert_eq!(record_key("env-1", Some("u-5"), "p-1"), "env-1:u-5");
    }
}
