//! Contexts of client-side and mobile requests: base64url JSON in URL paths, JSON in REPORT bodies (spec 7.2).

use base64::alphabet::URL_SAFE;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;
use serde_json::Value;
use vexil_eval::{Context, ContextError};

/// base64url (RFC 4648 §5) with or without `=` padding, as LaunchDarkly and Relay accept
/// (spec 7.2).
///
/// Vexil choices: the standard alphabet (`+`, `/`) is rejected (client SDKs encode with the URL
/// alphabet, and a `/` could not survive inside a path segment anyway); non-zero unused bits in
/// the last symbol are tolerated, as Go's decoder (Relay's) does.
const URL_SAFE_ANY_PADDING: GeneralPurpose = GeneralPurpose::new(
    &URL_SAFE,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// Why a request's context cannot be evaluated. The route answers `400` with the message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContextDecodeError {
    /// The path segment is not base64url.
    #[error("context in the URL path is not base64url: {0}")]
    InvalidBase64(String),
    /// The decoded path segment or the body is not JSON.
    #[error("context is not valid JSON: {0}")]
    InvalidJson(String),
    /// The JSON is not a valid context in either format (spec 2.1 to 2.4).
    #[error("invalid context: {0}")]
    InvalidContext(ContextError),
}

/// Decodes the `{contextB64}` path segment of `GET /sdk/evalx/{envId}/contexts/{contextB64}`,
/// `/msdk/evalx/contexts/...`, `/eval/{envId}/...` and `/meval/...` (and their `users`
/// aliases). `segment` is the percent-decoded path segment.
pub fn decode_context_base64(segment: &str) -> Result<Context, ContextDecodeError> {
    let json = URL_SAFE_ANY_PADDING
        .decode(segment)
        .map_err(|error| ContextDecodeError::InvalidBase64(error.to_string()))?;
    decode_context_json(&json)
}

/// Decodes the body of a `REPORT` request: a context in either JSON format (spec 2.1, 2.2),
/// or an old-style user without `kind` (spec 2.4), which becomes a `user` context keeping its
/// legacy secondary key for bucketing.
pub fn decode_context_json(json: &[u8]) -> Result<Context, ContextDecodeError> {
    let value: Value = serde_json::from_slice(json)
        .map_err(|error| ContextDecodeError::InvalidJson(error.to_string()))?;
    Context::from_json(&value).map_err(ContextDecodeError::InvalidContext)
}

#[cfg(test)]
mod tests {
    use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
    use serde_json::json;

    use super::*;

    fn encoded(value: &Value) -> (String, String) {
        let json = serde_json::to_vec(value).unwrap();
        (URL_SAFE_NO_PAD.encode(&json), URL_SAFE.encode(&json))
    }

    #[test]
    fn padded_and_unpadded_base64url_decode_to_the_same_context() {
        // `?>` and `~` give `-` and `_` in the URL alphabet; the length needs padding.
        let value = json!({"kind": "org", "key": "acme?>~", "name": "Acme"});
        let (unpadded, padded) = encoded(&value);
        assert!(padded.ends_with('='), "{padded}");
        assert!(unpadded.contains(['-', '_']), "{unpadded}");
        let expected = Context::from_json(&value).unwrap();
        assert_eq!(decode_context_base64(&unpadded).unwrap(), expected);
        assert_eq!(decode_context_base64(&padded).unwrap(), expected);
    }

    #[test]
    fn the_standard_alphabet_and_garbage_are_not_base64url() {
        let json = serde_json::to_vec(&json!({"key": "acme?>~"})).unwrap();
        let standard = STANDARD.encode(json);
        assert!(standard.contains(['+', '/']), "{standard}");
        // `e31` has non-zero unused bits (canonical: `e30`, `{}`), which is tolerated.
        assert!(decode_context_base64("e31").is_err_and(|error| matches!(
            error,
            ContextDecodeError::InvalidContext(ContextError::MissingKey { .. })
        )));
        for segment in [standard.as_str(), "not base64!", "a"] {
            assert!(
                matches!(
                    decode_context_base64(segment),
                    Err(ContextDecodeError::InvalidBase64(_))
                ),
                "{segment}"
            );
        }
    }

    #[test]
    fn old_style_users_become_user_contexts_with_their_secondary_key() {
        let old_user = json!({"key": "u-5", "email": "a@x.io", "secondary": "s",
            "custom": {"plan": "pro"}, "privateAttributeNames": ["email"]});
        let context = decode_context_base64(&encoded(&old_user).0).unwrap();
        let user = context.individual("user").unwrap();
        assert_eq!(user.key(), "u-5");
        assert_eq!(user.secondary(), Some("s"));
        assert_eq!(
            Value::Object(user.custom_attributes().clone()),
            json!({"email": "a@x.io", "plan": "pro"})
        );
        // The empty key is allowed for old-style users only (spec 2.4).
        assert!(decode_context_json(br#"{"key": ""}"#).is_ok());
        assert!(decode_context_json(br#"{"kind": "user", "key": ""}"#).is_err());
    }

    #[test]
    fn errors_name_the_problem() {
        let cases = [
            (
                &b"{"[..],
                "context is not valid JSON: EOF while parsing an object at line 1 column 1",
            ),
            (b"[]", "invalid context: context must be a JSON object"),
            (
                br#"{"kind": "org"}"#,
                r#"invalid context: context of kind "org" has no key: key must be a non-empty string"#,
            ),
            (
                br#"{"kind": "multi"}"#,
                "invalid context: multi-kind context must contain at least one individual context",
            ),
        ];
        for (body, message) in cases {
            assert_eq!(decode_context_json(body).unwrap_err().to_string(), message);
        }
        assert_eq!(
            decode_context_base64("e30*").unwrap_err().to_string(),
            "context in the URL path is not base64url: Invalid symbol 42, offset 3."
        );
    }
}
