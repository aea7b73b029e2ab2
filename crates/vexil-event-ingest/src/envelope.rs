//! Turns accepted events into queue records: the `EventEnvelope` value, the record key
//! and the record headers (the contract is in `proto/vexil/events/v1/events.proto`).

use std::sync::Arc;

use prost::encoding::{encode_key, encode_varint, WireType};
use prost::Message;
use vexil_proto::events::v1::{
    EventEnvelope, PAYLOAD_ID_HEADER, TRACEPARENT_HEADER, TRACESTATE_HEADER,
};

use crate::credentials::ResolvedCredential;
use crate::events::Valid;
use crate::records::Records;
use crate::sdk_request::{SdkRequest, Source};

/// `EventEnvelope` field numbers written per event; every other field is the same for
/// the whole request and encoded once.
const INDEX_IN_PAYLOAD: u32 = 7;
const KIND: u32 = 13;
const EVENT_JSON: u32 = 14;

/// What every record of one request shares.
pub struct Batch<'a> {
    credential: &'a ResolvedCredential,
    request: &'a SdkRequest,
    pub received_at_unix_ms: i64,
    /// The request's envelope fields numbered below `index_in_payload` (1-6) and between
    /// it and `kind` (8-12), prost-encoded once. A field added to `EventEnvelope` goes
    /// into one of the two by its number, or is written per event like `kind`; the test
    /// below compares the result with prost's own encoding.
    before_index: Vec<u8>,
    after_index: Vec<u8>,
}

impl<'a> Batch<'a> {
    pub fn new(
        credential: &'a ResolvedCredential,
        request: &'a SdkRequest,
        source: Source,
        received_at_unix_ms: i64,
    ) -> Batch<'a> {
        let before_index = EventEnvelope {
            environment_id: credential.environment_id.clone(),
            project_key: Some(credential.project_key.clone()),
            environment_key: Some(credential.environment_key.clone()),
            received_at_unix_ms,
            payload_id: request.payload_id.clone(),
            payload_id_generated: request.is_payload_id_generated,
            ..EventEnvelope::default()
        };
        let after_index = EventEnvelope {
            source: source.to_proto() as i32,
            user_agent: request.user_agent.clone(),
            wrapper: request.wrapper.clone(),
            tags: request.tags.clone(),
            event_schema: request.event_schema,
            ..EventEnvelope::default()
        };
        Batch {
            credential,
            request,
            received_at_unix_ms,
            before_index: before_index.encode_to_vec(),
            after_index: after_index.encode_to_vec(),
        }
    }

    /// Appends the record of the event at `index` of the payload, `json` as the SDK sent
    /// it: key, then the encoded envelope.
    pub fn push_record(&self, records: &mut Records, index: usize, json: &str, event: &Valid<'_>) {
        records.push(
            |key| self.write_key(key, event.context_key.as_deref()),
            |value| {
                let index = u32::try_from(index).unwrap_or(u32::MAX);
                value.reserve(self.value_len(event.kind.as_str(), json));
                value.extend_from_slice(&self.before_index);
                // proto3: a default value is not written, as prost would not write it.
                if index != 0 {
                    encode_key(INDEX_IN_PAYLOAD, WireType::Varint, value);
                    encode_varint(u64::from(index), value);
                }
                value.extend_from_slice(&self.after_index);
                length_delimited(KIND, event.kind.as_str().as_bytes(), value);
                length_delimited(EVENT_JSON, json.as_bytes(), value);
            },
        );
    }

    /// About how many bytes a record of `json` takes, key included, to size buffers.
    pub fn record_len(&self, json: &str) -> usize {
        self.value_len("migration_op", json) + self.credential.environment_id.len() + 64
    }

    /// The record headers, in order: the payload id and the request's W3C trace context.
    /// Built once per request and shared by its records.
    pub fn headers(&self) -> Arc<[vexil_queue::Header]> {
        [
            (PAYLOAD_ID_HEADER, Some(&self.request.payload_id)),
            (TRACEPARENT_HEADER, self.request.traceparent.as_ref()),
            (TRACESTATE_HEADER, self.request.tracestate.as_ref()),
        ]
        .into_iter()
        .filter_map(|(name, value)| {
            Some(vexil_queue::Header {
                name: name.to_owned(),
                value: bytes::Bytes::copy_from_slice(value?.as_bytes()),
            })
        })
        .collect()
    }

    /// `{environment_id}:{context key}` keeps one context's events in one partition, in
    /// order; events without a context (summaries, diagnostics) are spread by payload,
    /// `{environment_id}#{payload_id}`. Both depend only on the request, so a retried
    /// payload's events land in the partitions of their first copies.
    fn write_key(&self, key: &mut Vec<u8>, context_key: Option<&str>) {
        key.extend_from_slice(self.credential.environment_id.as_bytes());
        match context_key {
            Some(context_key) => {
                key.push(b':');
                key.extend_from_slice(context_key.as_bytes());
            }
            None => {
                key.push(b'#');
                key.extend_from_slice(self.request.payload_id.as_bytes());
            }
        }
    }

    /// An upper bound of an envelope's encoded length.
    fn value_len(&self, kind: &str, json: &str) -> usize {
        // Each per-event field: a one-byte key and a varint of at most 5 bytes.
        self.before_index.len() + self.after_index.len() + 3 * 6 + kind.len() + json.len()
    }
}

/// A length-delimited protobuf field (string or bytes); an empty one is not written.
fn length_delimited(tag: u32, bytes: &[u8], buffer: &mut Vec<u8>) {
    if bytes.is_empty() {
        return;
    }
    encode_key(tag, WireType::LengthDelimited, buffer);
    encode_varint(bytes.len() as u64, buffer);
    buffer.extend_from_slice(bytes);
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use vexil_proto::config::v1::CredentialKind;

    use super::*;
    use crate::events::EventKind;

    fn credential() -> ResolvedCredential {
        ResolvedCredential {
            environment_id: "env-1".into(),
            project_key: "shop".into(),
            environment_key: "test".into(),
            kind: CredentialKind::ServerSdkKey,
        }
    }

    fn request() -> SdkRequest {
        SdkRequest {
            payload_id: "p-1".into(),
            is_payload_id_generated: false,
            user_agent: "GoClient/7.0.0".into(),
            wrapper: String::new(),
            tags: "application-id/shop".into(),
            event_schema: 4,
            traceparent: Some("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01".into()),
            tracestate: None,
        }
    }

    fn custom(context_key: Option<&str>) -> Valid<'_> {
        Valid {
            kind: EventKind::Custom,
            context_key: context_key.map(Cow::Borrowed),
        }
    }

    #[test]
    fn records_carry_the_envelope_key_and_headers() {
        let (credential, request) = (credential(), request());
        let batch = Batch::new(&credential, &request, Source::Server, 1_718_000_000_000);
        let json = r#"{"kind":"custom","key":"k"}"#;
        let mut records = Records::default();
        batch.push_record(&mut records, 3, json, &custom(Some("org:o")));
        let record = records.iter().next().unwrap();
        assert_eq!(record.key, b"env-1:org:o");
        let envelope = EventEnvelope::decode(record.value).unwrap();
        assert_eq!(envelope.environment_id, "env-1");
        assert_eq!(envelope.project_key.as_deref(), Some("shop"));
        assert_eq!(envelope.index_in_payload, 3);
        assert_eq!(
            envelope.source(),
            vexil_proto::events::v1::EventSource::Server
        );
        assert_eq!(envelope.kind, "custom");
        assert_eq!(envelope.event_json, json.as_bytes());
        assert_eq!(envelope.event_schema, 4);

        let headers = batch.headers();
        let names: Vec<&str> = headers.iter().map(|header| header.name.as_str()).collect();
        assert_eq!(names, ["vexil-payload-id", "traceparent"]);
        assert_eq!(&headers[0].value[..], b"p-1");
        assert_eq!(
            &headers[1].value[..],
            b"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
        );
    }

    #[test]
    fn envelopes_are_encoded_as_prost_encodes_them() {
        let (credential, mut request) = (credential(), request());
        for generated in [false, true] {
            request.is_payload_id_generated = generated;
            let batch = Batch::new(&credential, &request, Source::Mobile, 1_718_000_000_123);
            let mut records = Records::default();
            let json = "{}".repeat(100);
            for index in [0, 1, 127, 128, 300_000] {
                batch.push_record(&mut records, index, &json, &custom(None));
            }
            for (record, index) in records.iter().zip([0, 1, 127, 128, 300_000]) {
                let expected = EventEnvelope {
                    environment_id: "env-1".into(),
                    project_key: Some("shop".into()),
                    environment_key: Some("test".into()),
                    received_at_unix_ms: 1_718_000_000_123,
                    payload_id: "p-1".into(),
                    payload_id_generated: generated,
                    index_in_payload: index,
                    source: Source::Mobile.to_proto() as i32,
                    user_agent: "GoClient/7.0.0".into(),
                    wrapper: String::new(),
                    tags: "application-id/shop".into(),
                    event_schema: 4,
                    kind: "custom".into(),
                    event_json: json.clone().into_bytes(),
                };
                assert_eq!(record.value, expected.encode_to_vec(), "index {index}");
                assert!(record.value.len() + record.key.len() <= batch.record_len(&json));
            }
        }
    }

    #[test]
    fn contextless_events_are_keyed_by_payload() {
        let (credential, request) = (credential(), request());
        let batch = Batch::new(&credential, &request, Source::Server, 0);
        let mut records = Records::default();
        batch.push_record(&mut records, 0, "{}", &custom(None));
        batch.push_record(&mut records, 1, "{}", &custom(Some("u-5")));
        let keys: Vec<&[u8]> = records.iter().map(|record| record.key).collect();
        assert_eq!(keys, [&b"env-1#p-1"[..], b"env-1:u-5"]);
    }
}
