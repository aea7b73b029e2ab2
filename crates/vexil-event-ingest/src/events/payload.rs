//! Splits a request body into events without copying them: an analytics body must be a
//! JSON array of objects, a diagnostic body one JSON object.

use serde_json::value::RawValue;

use super::raw::JsonType;

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

/// The events of an analytics body (spec 6.1), each borrowed from `body` as sent.
pub fn parse_analytics(body: &[u8]) -> Result<Vec<&RawValue>, PayloadError> {
    let found = json_type(body);
    if found != Some("an array") {
        // Tell "not JSON" from "JSON of the wrong type" without a second full parse.
        return Err(match serde_json::from_slice::<&RawValue>(body) {
            Err(error) => PayloadError::InvalidJson(error.to_string()),
            Ok(_) => PayloadError::NotAnArray(found.unwrap_or("empty")),
        });
    }
    let events: Vec<&RawValue> = serde_json::from_slice(body)
        .map_err(|error| PayloadError::InvalidJson(error.to_string()))?;
    for (index, event) in events.iter().enumerate() {
        let found = json_type(event.get().as_bytes()).unwrap_or("empty");
        if found != "an object" {
            return Err(PayloadError::EventNotAnObject { index, found });
        }
    }
    Ok(events)
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
        let raw: Vec<&str> = events.iter().map(|event| event.get()).collect();
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
}
