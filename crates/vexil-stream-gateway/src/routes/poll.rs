//! `GET /sdk/latest-all`: the polling payload (spec 5.4) with a content ETag, 304 for a
//! matching `If-None-Match`, and gzip when the client accepts it.
//!
//! Caching choice: the body is secret data selected by the `Authorization` header, so
//! shared caches must not serve it to another key. Responses say
//! `Cache-Control: private, max-age=0, must-revalidate` and
//! `Vary: Authorization, Accept-Encoding`; clients (and a CDN configured to key on
//! `Authorization`) revalidate every time and get a cheap 304 while nothing changed.

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;

use super::sdk_key::ServerSdkKey;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::Payload;

pub const CACHE_CONTROL: &str = "private, max-age=0, must-revalidate";
pub const VARY: &str = "Authorization, Accept-Encoding";
/// Appended to the ETag of the gzip representation, which is a different byte sequence.
const GZIP_ETAG_SUFFIX: &str = "-gzip";

pub async fn latest_all(
    State(state): State<AppState>,
    ServerSdkKey(authenticated): ServerSdkKey,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let data = state
        .store
        .environment(&authenticated.environment_id)
        .ok_or_else(ApiError::not_loaded)?;
    Ok(payload_response(data.payload(), &headers))
}

fn payload_response(payload: &Payload, request: &HeaderMap) -> Response {
    let is_gzip = accepts_gzip(request);
    let etag = if is_gzip {
        format!("\"{}{GZIP_ETAG_SUFFIX}\"", payload.etag())
    } else {
        format!("\"{}\"", payload.etag())
    };
    let is_unchanged = request
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .any(|value| matches_etag(value, payload.etag()));
    let mut response = if is_unchanged {
        let mut response = Response::new(Body::empty());
        *response.status_mut() = StatusCode::NOT_MODIFIED;
        response
    } else if is_gzip {
        let mut response = Response::new(Body::from(payload.gzip().clone()));
        response
            .headers_mut()
            .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        response
    } else {
        Response::new(Body::from(payload.body().clone()))
    };
    let headers = response.headers_mut();
    if !is_unchanged {
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
    }
    headers.insert(
        header::ETAG,
        HeaderValue::from_str(&etag).expect("a hex ETag is a valid header value"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(CACHE_CONTROL),
    );
    headers.insert(header::VARY, HeaderValue::from_static(VARY));
    response
}

/// Whether an `If-None-Match` value names this payload, in either representation.
fn matches_etag(if_none_match: &str, etag: &str) -> bool {
    if_none_match.split(',').any(|candidate| {
        let candidate = candidate.trim();
        if candidate == "*" {
            return true;
        }
        let candidate = candidate.strip_prefix("W/").unwrap_or(candidate);
        let candidate = candidate.trim_matches('"');
        let candidate = candidate
            .strip_suffix(GZIP_ETAG_SUFFIX)
            .unwrap_or(candidate);
        candidate == etag
    })
}

/// Whether `Accept-Encoding` allows gzip (`gzip`, `x-gzip` or `*`, with a non-zero q).
fn accepts_gzip(request: &HeaderMap) -> bool {
    let mut wildcard = false;
    for value in request.get_all(header::ACCEPT_ENCODING) {
        let Ok(value) = value.to_str() else { continue };
        for coding in value.split(',') {
            let mut parts = coding.split(';');
            let name = parts.next().unwrap_or("").trim();
            let is_allowed = parts
                .filter_map(|parameter| parameter.trim().strip_prefix("q="))
                .all(|q| q.trim().parse::<f32>().is_ok_and(|q| q > 0.0));
            if name.eq_ignore_ascii_case("gzip") || name.eq_ignore_ascii_case("x-gzip") {
                return is_allowed;
            }
            if name == "*" {
                wildcard = is_allowed;
            }
        }
    }
    wildcard
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(name, value)| (name.clone(), HeaderValue::from_str(value).unwrap()))
            .collect()
    }

    #[test]
    fn gzip_negotiation_honours_q_values() {
        let accept = |value| accepts_gzip(&headers(&[(header::ACCEPT_ENCODING, value)]));
        assert!(accept("gzip"));
        assert!(accept("br, gzip;q=0.5"));
        assert!(accept("*"));
        assert!(!accept("gzip;q=0"));
        assert!(!accept("identity"));
        assert!(!accept("*, gzip;q=0"));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }

    #[test]
    fn etags_match_in_every_representation() {
        assert!(matches_etag("\"abc\"", "abc"));
        assert!(matches_etag("W/\"abc-gzip\"", "abc"));
        assert!(matches_etag("\"x\", \"abc\"", "abc"));
        assert!(matches_etag("*", "abc"));
        assert!(!matches_etag("\"abd\"", "abc"));
    }

    #[test]
    fn unchanged_payload_gets_304_with_cache_headers() {
        let payload = Payload::build([("f", &b"{}"[..])], []);
        let etag = format!("\"{}\"", payload.etag());
        let response = payload_response(&payload, &headers(&[(header::IF_NONE_MATCH, &etag)]));
        assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
        assert_eq!(response.headers()[header::ETAG], etag.as_str());
        assert_eq!(response.headers()[header::VARY], VARY);
        let response = payload_response(&payload, &headers(&[(header::ACCEPT_ENCODING, "gzip")]));
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()[header::CONTENT_ENCODING], "gzip");
        assert!(response.headers()[header::ETAG]
            .to_str()
            .unwrap()
            .ends_with("-gzip\""));
    }
}
