//! Decides what a record is: an event to aggregate, a kind without aggregates, or a dead
//! letter (with a stable reason).

use prost::Message;
use uuid::Uuid;
use vexil_proto::events::v1::EventEnvelope;

use crate::aggregate::Accepted;
use crate::events::{parse, SdkEvent};
use crate::store::Candidate;

/// Stable dead-letter reasons (`DeadLetter.reason`).
pub const UNDECODABLE_ENVELOPE: &str = "undecodable_envelope";
pub const INVALID_ENVELOPE: &str = "invalid_envelope";
pub const INVALID_EVENT: &str = "invalid_event";

#[derive(Debug)]
pub enum Classified {
    Event(Box<Candidate>),
    Ignored,
    DeadLetter {
        reason: &'static str,
        detail: String,
    },
}

pub fn classify(value: Option<&[u8]>) -> Classified {
    let Some(value) = value else {
        return dead(UNDECODABLE_ENVELOPE, "the record has no value".into());
    };
    let envelope = match EventEnvelope::decode(value) {
        Ok(envelope) => envelope,
        Err(error) => return dead(UNDECODABLE_ENVELOPE, error.to_string()),
    };
    let Ok(environment_id) = Uuid::parse_str(&envelope.environment_id) else {
        return dead(
            INVALID_ENVELOPE,
            format!("environment id `{}` is not a UUID", envelope.environment_id),
        );
    };
    let event = match parse(&envelope.kind, &envelope.event_json) {
        Ok(SdkEvent::Ignored) => return Classified::Ignored,
        Ok(event) => event,
        Err(error) => {
            return dead(
                INVALID_EVENT,
                format!("{} event: {}", envelope.kind, error.0),
            )
        }
    };
    let dedup_key =
        (!envelope.payload_id_generated && !envelope.payload_id.is_empty()).then(|| {
            let index = i32::try_from(envelope.index_in_payload).unwrap_or(i32::MAX);
            (envelope.payload_id, index)
        });
    Classified::Event(Box::new(Candidate {
        dedup_key,
        accepted: Accepted {
            environment_id,
            received_at_ms: envelope.received_at_unix_ms,
            event,
        },
    }))
}

fn dead(reason: &'static str, detail: String) -> Classified {
    Classified::DeadLetter { reason, detail }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope(kind: &str, json: &str, generated: bool) -> Vec<u8> {
        EventEnvelope {
            environment_id: Uuid::from_u128(1).to_string(),
            payload_id: "p".into(),
            payload_id_generated: generated,
            index_in_payload: 4,
            kind: kind.into(),
            event_json: json.as_bytes().to_vec(),
            ..EventEnvelope::default()
        }
        .encode_to_vec()
    }

    #[test]
    fn records_are_events_ignored_or_dead_letters() {
        let custom = r#"{"kind":"custom","key":"m","contextKeys":{"user":"u"}}"#;
        match classify(Some(&envelope("custom", custom, false))) {
            Classified::Event(candidate) => assert_eq!(candidate.dedup_key, Some(("p".into(), 4))),
            other => panic!("{other:?}"),
        }
        match classify(Some(&envelope("custom", custom, true))) {
            Classified::Event(candidate) => assert_eq!(candidate.dedup_key, None),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            classify(Some(&envelope("diagnostic", "{}", false))),
            Classified::Ignored
        ));
        for (value, reason) in [
            (None, UNDECODABLE_ENVELOPE),
            (Some(vec![0xff, 0xff, 0xff]), UNDECODABLE_ENVELOPE),
            (Some(envelope("custom", "{", false)), INVALID_EVENT),
        ] {
            match classify(value.as_deref()) {
                Classified::DeadLetter { reason: actual, .. } => assert_eq!(actual, reason),
                other => panic!("{other:?}"),
            }
        }
    }
}
