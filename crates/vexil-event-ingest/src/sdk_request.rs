//! What an SDK's request headers say about its events (spec 5.2, 6.1): the payload id,
//! the SDK's user agent, wrapper and tags, the event schema, and W3C trace context.

use axum::http::HeaderMap;
use vexil_proto::events::v1::EventSource;

/// Header names SDKs send with events.
pub mod headers {
    pub const PAYLOAD_ID: &str = "x-launchdarkly-payload-id";
    pub const LAUNCHDARKLY_USER_AGENT: &str = "x-launchdarkly-user-agent";
    pub const WRAPPER: &str = "x-launchdarkly-wrapper";
    pub const TAGS: &str = "x-launchdarkly-tags";
    pub const EVENT_SCHEMA: &str = "x-launchdarkly-event-schema";
    pub const TRACEPARENT: &str = "traceparent";
    pub const TRACESTATE: &str = "tracestate";
}

/// Longest header value copied into an envelope or record header; longer ones are cut
/// (payload ids and trace headers are dropped instead, since a cut one would mislead).
pub const MAX_HEADER_BYTES: usize = 512;

/// Which kind of SDK sent the request, from the route and credential it used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    Server,
    ClientSide,
    Mobile,
}

impl Source {
    /// The `source` metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Server => "server",
            Source::ClientSide => "client_side",
            Source::Mobile => "mobile",
        }
    }

    pub fn to_proto(self) -> EventSource {
        match self {
            Source::Server => EventSource::Server,
            Source::ClientSide => EventSource::ClientSide,
            Source::Mobile => EventSource::Mobile,
        }
    }
}

/// The request facts every envelope of the request repeats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SdkRequest {
    pub payload_id: String,
    pub is_payload_id_generated: bool,
    pub user_agent: String,
    pub wrapper: String,
    pub tags: String,
    pub event_schema: u32,
    pub traceparent: Option<String>,
    pub tracestate: Option<String>,
}

impl SdkRequest {
    /// Reads the headers; a missing or unusable payload id is replaced by a fresh v4 UUID.
    pub fn from_headers(request_headers: &HeaderMap) -> SdkRequest {
        let text = |name: &str| {
            request_headers
                .get(name)
                .and_then(|value| value.to_str().ok())
                .map(str::trim)
                .filter(|value| !value.is_empty())
        };
        let presented_id = text(headers::PAYLOAD_ID).filter(|id| id.len() <= 128);
        let (payload_id, is_payload_id_generated) = match presented_id {
            Some(id) => (id.to_owned(), false),
            None => (uuid::Uuid::new_v4().to_string(), true),
        };
        let user_agent = text(headers::LAUNCHDARKLY_USER_AGENT)
            .or_else(|| text(axum::http::header::USER_AGENT.as_str()))
            .unwrap_or_default();
        let whole = |name: &str| text(name).filter(|value| value.len() <= MAX_HEADER_BYTES);
        SdkRequest {
            payload_id,
            is_payload_id_generated,
            user_agent: truncated(user_agent),
            wrapper: truncated(text(headers::WRAPPER).unwrap_or_default()),
            tags: truncated(text(headers::TAGS).unwrap_or_default()),
            event_schema: text(headers::EVENT_SCHEMA)
                .and_then(|schema| schema.parse().ok())
                .unwrap_or(0),
            traceparent: whole(headers::TRACEPARENT).map(str::to_owned),
            tracestate: whole(headers::TRACESTATE).map(str::to_owned),
        }
    }
}

/// At most [`MAX_HEADER_BYTES`], cut at a character boundary.
fn truncated(value: &str) -> String {
    let mut end = value.len().min(MAX_HEADER_BYTES);
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    value[..end].to_owned()
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn request(pairs: &[(&'static str, &str)]) -> SdkRequest {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        SdkRequest::from_headers(&map)
    }

    #[test]
    fn launchdarkly_headers_are_read() {
        let request = request(&[
            (
                "x-launchdarkly-payload-id",
                "7d2b6a1e-0000-4000-8000-000000000001",
            ),
            ("user-agent", "PythonClient/9.16.1"),
            ("x-launchdarkly-wrapper", "OpenFeature/1.2"),
            ("x-launchdarkly-tags", "application-id/checkout"),
            ("x-launchdarkly-event-schema", "4"),
            (
                "traceparent",
                "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            ),
        ]);
        assert_eq!(request.payload_id, "7d2b6a1e-0000-4000-8000-000000000001");
        assert!(!request.is_payload_id_generated);
        assert_eq!(request.user_agent, "PythonClient/9.16.1");
        assert_eq!(request.wrapper, "OpenFeature/1.2");
        assert_eq!(request.tags, "application-id/checkout");
        assert_eq!(request.event_schema, 4);
        assert!(request.traceparent.is_some());
        assert_eq!(request.tracestate, None);
    }

    #[test]
    fn browsers_name_themselves_in_the_launchdarkly_user_agent() {
        let request = request(&[
            ("user-agent", "Mozilla/5.0"),
            ("x-launchdarkly-user-agent", "JSClient/3.1.0"),
        ]);
        assert_eq!(request.user_agent, "JSClient/3.1.0");
    }

    #[test]
    fn a_missing_or_unusable_payload_id_is_generated() {
        let generated = request(&[]);
        assert!(generated.is_payload_id_generated);
        assert!(uuid::Uuid::parse_str(&generated.payload_id).is_ok());
        assert_ne!(generated.payload_id, request(&[]).payload_id);
        let long = "x".repeat(200);
        assert!(request(&[("x-launchdarkly-payload-id", &long)]).is_payload_id_generated);
        assert_eq!(
            request(&[("x-launchdarkly-event-schema", "four")]).event_schema,
            0
        );
    }

    #[test]
    fn long_values_are_cut_at_a_character_boundary() {
        let long = "é".repeat(MAX_HEADER_BYTES);
        assert_eq!(truncated(&long).len(), MAX_HEADER_BYTES);
        assert_eq!(truncated("ab"), "ab");
    }
}
