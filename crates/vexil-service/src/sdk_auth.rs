//! The SDK credential in `Authorization`, as LaunchDarkly's SDKs send it (spec 5.2):
//! `Authorization: <key>`, or `Authorization: api_key <key>` from older SDKs. Only the
//! parsing lives here; which kinds of key a route accepts, and how a key is checked, stay
//! with the service.

use axum::http::header::AUTHORIZATION;
use axum::http::HeaderMap;

/// The non-empty key in the request's `Authorization` header, if it has one.
pub fn authorization_key(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .map(presented_key)
        .filter(|key| !key.is_empty())
}

/// The key in an `Authorization` value: raw, or after the `api_key` scheme older SDKs use.
/// Other schemes (`Bearer`) are not stripped: the value is then not an SDK key.
pub fn presented_key(value: &str) -> &str {
    let value = value.trim();
    match value.split_once(' ') {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("api_key") => rest.trim(),
        _ => value,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn raw_and_api_key_forms_are_accepted() {
        assert_eq!(presented_key("sdk-123"), "sdk-123");
        assert_eq!(presented_key(" api_key sdk-123 "), "sdk-123");
        assert_eq!(presented_key("API_KEY sdk-123"), "sdk-123");
        assert_eq!(presented_key("API_KEY mob-123"), "mob-123");
        assert_eq!(presented_key("Bearer sdk-123"), "Bearer sdk-123");
    }

    #[test]
    fn a_missing_empty_or_unreadable_header_presents_no_key() {
        let key = |value: Option<HeaderValue>| {
            let mut headers = HeaderMap::new();
            if let Some(value) = value {
                headers.insert(AUTHORIZATION, value);
            }
            authorization_key(&headers).map(str::to_owned)
        };
        assert_eq!(key(None), None);
        assert_eq!(key(Some(HeaderValue::from_static(""))), None);
        assert_eq!(key(Some(HeaderValue::from_static("   "))), None);
        assert_eq!(
            key(Some(HeaderValue::from_bytes(b"sdk-\xff").unwrap())),
            None
        );
        assert_eq!(
            key(Some(HeaderValue::from_static("api_key sdk-1"))).as_deref(),
            Some("sdk-1")
        );
    }
}
