//! Splits a request body into events without copying them: an analytics body must be a
//! JSON array of objects, a diagnostic body one JSON object.

use serde_json::value::RawValue;

use super::raw::JsonType;
use super::validate::Fields;

/// Why a whole body is refused (400); the message names the problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    #[error("request body is not valid JSON: {0}")]
    InvalidJson(String),
    #[error("request body must be a JSON array of event objects, not {0}")]
    NotAnArray(&'static str),
    #[error("event {index} must be a JSON object, not {found}")]
    EventNotAnObject { index: usize, found: &'static str },
    #[error("diagnostic request body must be a JSON object, not {0}")]
    DiagnosticNotAnObject(&'static str),
}

impl PayloadError {
    /// The `reason` label of `vexil_event_ingest_payloads_rejected_total`.
    pub fn reason(&self) -> &'static str {
        match self {
            PayloadError::InvalidJson(_) => "invalid_json",
            PayloadError::NotAnArray(_) | PayloadError::DiagnosticNotAnObject(_) => {
                "wrong_body_type"
            }
            PayloadError::EventNotAnObject { .. } => "event_not_an_object",
        }
    }
}

/// One event of an analytics body: its JSON as the SDK sent it, borrowed from the body,
/// and the fields validation reads, found in the same pass over the body (or why they
/// could not be read: a field named twice).
#[derive(Debug)]
pub struct Event<'a> {
    pub json: &'a str,
    pub(super) fields: Result<Fields<'a>, String>,
}

impl<'a> Event<'a> {
    /// One event on its own (a JSON object), as a diagnostic body holds it.
    pub fn parse(json: &'a str) -> Event<'a> {
        Event {
            json,
            fields: serde_json::from_str(json).map_err(|error| error.to_string()),
        }
    }
}

/// The events of an analytics body (spec 6.1). The body is read once: each event's
/// fields are read as it is passed, and its bytes are kept as they are.
pub fn parse_analytics(body: &[u8]) -> Result<Vec<Event<'_>>, PayloadError> {
    let Ok(text) = std::str::from_utf8(body) else {
        return Err(body_error(body));
    };
    let bytes = text.as_bytes();
    let mut at = skip_whitespace(bytes, 0);
    if bytes.get(at) != Some(&b'[') {
        return Err(body_error(body));
    }
    let mut events = Vec::new();
    at = skip_whitespace(bytes, at + 1);
    if bytes.get(at) == Some(&b']') {
        return finish(body, at + 1, events);
    }
    loop {
        let found = JsonType::of(&bytes[at..]);
        if found != Some(JsonType::Object) {
            return Err(not_an_object(body, events.len(), found));
        }
        // `at` is at a `{` and `end` just after its `}`: both are character boundaries.
        let mut stream = serde_json::Deserializer::from_str(&text[at..]).into_iter::<Fields<'_>>();
        let (fields, length) = match stream.next() {
            Some(Ok(fields)) => (Ok(fields), stream.byte_offset()),
            // Not JSON, or JSON whose fields cannot be read: the whole body tells which.
            _ => {
                let (reason, length) = unreadable_event(body, &text[at..])?;
                (Err(reason), length)
            }
        };
        let end = at + length;
        events.push(Event {
            json: &text[at..end],
            fields,
        });
        at = skip_whitespace(bytes, end);
        match bytes.get(at) {
            Some(b',') => at = skip_whitespace(bytes, at + 1),
            Some(b']') => return finish(body, at + 1, events),
            _ => return Err(body_error(body)),
        }
    }
}

/// The one diagnostic event of a diagnostic body (spec 6.6).
pub fn parse_diagnostic(body: &[u8]) -> Result<&RawValue, PayloadError> {
    let event: &RawValue = serde_json::from_slice(body)
        .map_err(|error| PayloadError::InvalidJson(error.to_string()))?;
    match json_type(event.get().as_bytes()) {
        Some("an object") => Ok(event),
        found => Err(PayloadError::DiagnosticNotAnObject(
            found.unwrap_or("empty"),
        )),
    }
}

/// Why a body is refused when it is not a JSON array (or not JSON at all); the message
/// is serde_json's, positions counted in the whole body. (Parsed as a `RawValue`, which,
/// unlike skipping, also refuses strings that are not UTF-8.)
fn body_error(body: &[u8]) -> PayloadError {
    match serde_json::from_slice::<&RawValue>(body) {
        Err(error) => PayloadError::InvalidJson(error.to_string()),
        Ok(_) => PayloadError::NotAnArray(json_type(body).unwrap_or("empty")),
    }
}

/// An element that is not an object refuses the body, unless the body is not even JSON.
fn not_an_object(body: &[u8], index: usize, found: Option<JsonType>) -> PayloadError {
    match serde_json::from_slice::<&RawValue>(body) {
        Err(error) => PayloadError::InvalidJson(error.to_string()),
        Ok(_) => PayloadError::EventNotAnObject {
            index,
            found: found.map_or("empty", JsonType::described),
        },
    }
}

/// For an event whose fields could not be read: why, and its length, when it is valid
/// JSON (the event alone is dropped), or the refusal of the whole body when it is not.
fn unreadable_event(body: &[u8], rest: &str) -> Result<(String, usize), PayloadError> {
    let mut stream = serde_json::Deserializer::from_str(rest).into_iter::<&RawValue>();
    let Some(Ok(event)) = stream.next() else {
        return Err(body_error(body));
    };
    let reason = serde_json::from_str::<Fields<'_>>(event.get())
        .err()
        .map_or_else(
            || "event cannot be read".to_owned(),
            |error| error.to_string(),
        );
    Ok((reason, stream.byte_offset()))
}

/// After the closing `]`: only whitespace may follow.
fn finish<'a>(
    body: &[u8],
    at: usize,
    events: Vec<Event<'a>>,
) -> Result<Vec<Event<'a>>, PayloadError> {
    if skip_whitespace(body, at) == body.len() {
        Ok(events)
    } else {
        Err(body_error(body))
    }
}

fn skip_whitespace(bytes: &[u8], mut at: usize) -> usize {
    while bytes.get(at).is_some_and(u8::is_ascii_whitespace) {
        at += 1;
    }
    at
}

/// The JSON type a document starts with, for messages ("an object", "a string", ...).
fn json_type(json: &[u8]) -> Option<&'static str> {
    JsonType::of(json).map(JsonType::described)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_array_of_objects_splits_into_raw_events() {
        let events =
            parse_analytics(br#" [ {"kind":"index"} , {"kind":"x","a":[1,2]} ] "#).unwrap();
        let raw: Vec<&str> = events.iter().map(|event| event.json).collect();
        assert_eq!(raw, [r#"{"kind":"index"}"#, r#"{"kind":"x","a":[1,2]}"#]);
        assert!(parse_analytics(b"[]").unwrap().is_empty());
    }

    #[test]
    fn wrong_bodies_name_the_problem() {
        let message = |body: &[u8]| parse_analytics(body).unwrap_err().to_string();
        assert_eq!(
            message(br#"{"kind":"index"}"#),
            "request body must be a JSON array of event objects, not an object"
        );
        assert_eq!(
            message(b"[{}, 3]"),
            "event 1 must be a JSON object, not a number"
        );
        assert!(message(b"[{]").starts_with("request body is not valid JSON: "));
        assert!(message(b"").starts_with("request body is not valid JSON: "));
        assert!(message(b"{nope").starts_with("request body is not valid JSON: "));
        assert_eq!(
            parse_analytics(b"\"x\"").unwrap_err().reason(),
            "wrong_body_type"
        );
    }

    #[test]
    fn a_diagnostic_body_is_one_object() {
        let event = parse_diagnostic(br#"{"kind":"diagnostic"}"#).unwrap();
        assert_eq!(event.get(), r#"{"kind":"diagnostic"}"#);
        assert_eq!(
            parse_diagnostic(b"[]").unwrap_err().to_string(),
            "diagnostic request body must be a JSON object, not an array"
        );
    }

    #[test]
    fn an_unreadable_event_is_dropped_alone_and_stray_bytes_refuse_the_body() {
        let events = parse_analytics(br#"[{"kind":"a","kind":"b"} ,{"kind":"c"}]"#).unwrap();
        assert!(events[0].fields.is_err());
        assert_eq!(events[0].json, r#"{"kind":"a","kind":"b"}"#);
        assert_eq!(events[1].json, r#"{"kind":"c"}"#);
        assert!(events[1].fields.is_ok());
        for body in [
            &b"[{}] x"[..],
            b"[{},]",
            b"[{} {}]",
            b"[\xff]",
            b"[{\"a\":\"\xff\"}]",
            b"[{}",
        ] {
            assert_eq!(
                parse_analytics(body).unwrap_err().reason(),
                "invalid_json",
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }
}
