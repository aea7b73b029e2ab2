//! Splits a request body into events without copying them: an analytics body must be a
//! JSON array of objects, a diagnostic body one JSON object. One pass of the scanner
//! (`scan/`) checks the body, splits it and finds each event's checked fields, handing
//! each event on as it is read.

use super::fields::Fields;
use super::scan::{array_of_objects, BodyError, Cursor, JsonType, SyntaxError};

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

/// One event of a body: its JSON as the SDK sent it, borrowed from the body, and the
/// fields validation reads, found in the same pass over the body (or why they could not
/// be read: a field named twice).
#[derive(Debug, Clone, Default)]
pub struct Event<'a> {
    pub json: &'a str,
    fields: Fields<'a>,
    unreadable: Option<String>,
}

impl<'a> Event<'a> {
    /// The fields, or why they cannot be read.
    pub(super) fn fields(&self) -> Result<&Fields<'a>, &str> {
        match &self.unreadable {
            Some(reason) => Err(reason),
            None => Ok(&self.fields),
        }
    }

    /// Reads the event object at the cursor (`depth` levels inside the body) into `self`,
    /// which it clears first: one `Event` serves a whole body.
    #[inline]
    fn read(&mut self, cursor: &mut Cursor<'a>, depth: usize) -> Result<(), SyntaxError> {
        self.fields = Fields::default();
        let start = cursor.position();
        self.unreadable = self.fields.read_into(cursor, depth)?;
        self.json = cursor.since(start);
        Ok(())
    }
}

/// The events of an analytics body (spec 6.1), each handed to `each` with its index as
/// soon as it is read, in the one pass over the body that also checks it: nothing is kept
/// per event. The body can still turn out to be refused after `each` saw events (invalid
/// JSON further on, or an element that is not an object), so what `each` makes of them
/// must be thrown away on an error.
pub fn read_analytics<'a>(
    body: &'a [u8],
    mut each: impl FnMut(usize, &Event<'a>),
) -> Result<(), PayloadError> {
    let text = utf8(body)?;
    let mut event = Event::default();
    array_of_objects(text, |cursor, index, wanted| {
        event.read(cursor, 1)?;
        if wanted {
            each(index, &event);
        }
        Ok(())
    })
    .map_err(|error| match error {
        BodyError::Syntax(error) => invalid_json(body, error),
        BodyError::NotAnArray(found) => PayloadError::NotAnArray(found.described()),
        BodyError::ElementNotAnObject { index, found } => PayloadError::EventNotAnObject {
            index,
            found: found.described(),
        },
    })
}

/// The events of an analytics body, collected: [`read_analytics`] for those that want
/// them all at once (tests, the benches' bare producer).
pub fn parse_analytics(body: &[u8]) -> Result<Vec<Event<'_>>, PayloadError> {
    let mut events = Vec::new();
    read_analytics(body, |_, event| events.push(event.clone()))?;
    Ok(events)
}

/// The one diagnostic event of a diagnostic body (spec 6.6).
pub fn parse_diagnostic(body: &[u8]) -> Result<Event<'_>, PayloadError> {
    let text = utf8(body)?;
    let mut cursor = Cursor::new(text);
    let mut event = Event::default();
    let read = match cursor.peek_token() {
        Some(b'{') => event.read(&mut cursor, 0).map(Ok),
        Some(first) => cursor
            .skip_value(0)
            .map(|()| Err(JsonType::of_first_byte(first))),
        None => cursor.skip_value(0).map(|()| Err(JsonType::Null)),
    };
    let read = read
        .and_then(|read| cursor.end().map(|()| read))
        .map_err(|error| invalid_json(body, error))?;
    read.map_err(|found| PayloadError::DiagnosticNotAnObject(found.described()))?;
    Ok(event)
}

fn utf8(body: &[u8]) -> Result<&str, PayloadError> {
    std::str::from_utf8(body).map_err(|error| {
        let error = SyntaxError {
            problem: super::scan::Problem::InvalidUtf8,
            at: error.valid_up_to(),
        };
        invalid_json(body, error)
    })
}

fn invalid_json(body: &[u8], error: SyntaxError) -> PayloadError {
    PayloadError::InvalidJson(error.describe(body))
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
        assert_eq!(
            message(b"[{}, 3, {]"),
            "request body is not valid JSON: expected a string key at line 1 column 10"
        );
        assert_eq!(
            message(b"[{},\n  {\"a\": 01}]"),
            "request body is not valid JSON: invalid number at line 2 column 10"
        );
        assert_eq!(
            message(b""),
            "request body is not valid JSON: unexpected end of input at line 1 column 1"
        );
        assert!(message(b"{nope").starts_with("request body is not valid JSON: "));
        assert_eq!(
            parse_analytics(b"\"x\"").unwrap_err().reason(),
            "wrong_body_type"
        );
    }

    #[test]
    fn a_diagnostic_body_is_one_object() {
        let event = parse_diagnostic(b" {\"kind\":\"diagnostic\"}\n").unwrap();
        assert_eq!(event.json, r#"{"kind":"diagnostic"}"#);
        assert_eq!(
            parse_diagnostic(b"[]").unwrap_err().to_string(),
            "diagnostic request body must be a JSON object, not an array"
        );
        for body in [&b""[..], b"{", b"{} {}", b"[", b"\xff"] {
            assert_eq!(
                parse_diagnostic(body).unwrap_err().reason(),
                "invalid_json",
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn an_unreadable_event_is_dropped_alone_and_stray_bytes_refuse_the_body() {
        let events = parse_analytics(br#"[{"kind":"a","kind":"b"} ,{"kind":"c"}]"#).unwrap();
        assert!(events[0].fields().is_err());
        assert_eq!(events[0].json, r#"{"kind":"a","kind":"b"}"#);
        assert_eq!(events[1].json, r#"{"kind":"c"}"#);
        assert!(events[1].fields().is_ok());
        for body in [
            &b"[{}] x"[..],
            b"[{},]",
            b"[{} {}]",
            b"[\xff]",
            b"[{\"a\":\"\xff\"}]",
            b"[{}",
            b"\xef\xbb\xbf[]",
            b"\x0c[]",
        ] {
            assert_eq!(
                parse_analytics(body).unwrap_err().reason(),
                "invalid_json",
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn nesting_deeper_than_serde_json_allows_refuses_the_body() {
        let nested = |levels: usize| {
            format!(
                "[{{\"data\":{}{}}}]",
                "[".repeat(levels - 2),
                "]".repeat(levels - 2)
            )
        };
        assert!(serde_json::from_str::<serde_json::Value>(&nested(127)).is_ok());
        assert_eq!(parse_analytics(nested(127).as_bytes()).unwrap().len(), 1);
        assert!(serde_json::from_str::<serde_json::Value>(&nested(128)).is_err());
        let message = parse_analytics(nested(128).as_bytes())
            .unwrap_err()
            .to_string();
        assert_eq!(
            message,
            "request body is not valid JSON: arrays and objects nested more than 127 levels \
             deep at line 1 column 135"
        );
        // Far deeper than any stack would allow a recursive reader.
        let deep = format!("[{}", "{\"a\":[".repeat(1_000_000));
        assert_eq!(
            parse_analytics(deep.as_bytes()).unwrap_err().reason(),
            "invalid_json"
        );
    }
}
