//! OFREP error codes and the HTTP status of each (spec 8.4), and the whole-request error body.

use serde::Serialize;

/// An OFREP `errorCode` (spec 8.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OfrepErrorCode {
    /// Body not JSON, no `context` object, or a malformed flag (LaunchDarkly provider mapping).
    ParseError,
    /// The context has no usable key.
    TargetingKeyMissing,
    /// The context is invalid otherwise (bad kind, empty multi-kind context, ...).
    InvalidContext,
    /// Any other evaluation error.
    General,
    /// No such flag, deleted, or not visible to a client credential.
    FlagNotFound,
}

impl OfrepErrorCode {
    /// The code as OFREP spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            OfrepErrorCode::ParseError => "PARSE_ERROR",
            OfrepErrorCode::TargetingKeyMissing => "TARGETING_KEY_MISSING",
            OfrepErrorCode::InvalidContext => "INVALID_CONTEXT",
            OfrepErrorCode::General => "GENERAL",
            OfrepErrorCode::FlagNotFound => "FLAG_NOT_FOUND",
        }
    }

    /// The HTTP status of a response carrying this code: `404` for `FLAG_NOT_FOUND`, `400` for
    /// every other (spec 8.4). (An unexpected server failure is a `500` without a code.)
    pub fn http_status(self) -> u16 {
        match self {
            OfrepErrorCode::FlagNotFound => 404,
            OfrepErrorCode::ParseError
            | OfrepErrorCode::TargetingKeyMissing
            | OfrepErrorCode::InvalidContext
            | OfrepErrorCode::General => 400,
        }
    }
}

/// An OFREP error object: `{"key"?, "errorCode", "errorDetails"}`. With a `key` it is a single
/// flag's failure (the single-flag endpoint's body, or an item of a bulk `flags` array);
/// without, a whole bulk request's failure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OfrepError<'a> {
    /// The flag key, when the error concerns one flag.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<&'a str>,
    /// What went wrong.
    pub error_code: OfrepErrorCode,
    /// A message for people.
    pub error_details: String,
}

impl OfrepError<'_> {
    /// The HTTP status when this error is the whole response.
    pub fn http_status(&self) -> u16 {
        self.error_code.http_status()
    }

    /// The JSON body.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("an OFREP error always serializes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_serialize_as_ofrep_spells_them_and_map_to_statuses() {
        let codes = [
            (OfrepErrorCode::ParseError, 400),
            (OfrepErrorCode::TargetingKeyMissing, 400),
            (OfrepErrorCode::InvalidContext, 400),
            (OfrepErrorCode::General, 400),
            (OfrepErrorCode::FlagNotFound, 404),
        ];
        for (code, status) in codes {
            assert_eq!(
                serde_json::to_string(&code).unwrap(),
                format!("\"{}\"", code.as_str())
            );
            assert_eq!(code.http_status(), status);
        }
    }

    #[test]
    fn errors_carry_a_key_only_for_one_flag() {
        let flag = OfrepError {
            key: Some("k"),
            error_code: OfrepErrorCode::FlagNotFound,
            error_details: "flag `k` not found".into(),
        };
        assert_eq!(
            String::from_utf8(flag.to_json()).unwrap(),
            r#"{"key":"k","errorCode":"FLAG_NOT_FOUND","errorDetails":"flag `k` not found"}"#
        );
        assert_eq!(flag.http_status(), 404);
        let request = OfrepError { key: None, ..flag };
        assert_eq!(
            String::from_utf8(request.to_json()).unwrap(),
            r#"{"errorCode":"FLAG_NOT_FOUND","errorDetails":"flag `k` not found"}"#
        );
    }
}
