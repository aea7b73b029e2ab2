//! Reads a request body within the size limit, decompressing gzip (`Content-Encoding:
//! gzip`) within the same limit, so neither a large body nor a gzip bomb gets past it.

use std::io::Read;

use axum::body::Body;
use axum::http::{header, HeaderMap};
use bytes::Bytes;
use flate2::read::MultiGzDecoder;
use http_body_util::{BodyExt, LengthLimitError, Limited};

use crate::error::{ApiError, ErrorCode};

/// The body's bytes as the SDK meant them (decompressed), at most `limit` bytes.
pub async fn read(headers: &HeaderMap, body: Body, limit: usize) -> Result<Bytes, ApiError> {
    let encoding = content_encoding(headers)?;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return Err(ApiError::too_large(limit, "as sent"));
    }
    let received = match Limited::new(body, limit).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(error) if error.is::<LengthLimitError>() => {
            return Err(ApiError::too_large(limit, "as sent"))
        }
        Err(_) => {
            return Err(ApiError::bad_request(
                "body_read_failed",
                "request body could not be read",
            ))
        }
    };
    match encoding {
        Encoding::Identity => Ok(received),
        Encoding::Gzip => gunzip(&received, limit),
    }
}

enum Encoding {
    Identity,
    Gzip,
}

fn content_encoding(headers: &HeaderMap) -> Result<Encoding, ApiError> {
    let Some(value) = headers.get(header::CONTENT_ENCODING) else {
        return Ok(Encoding::Identity);
    };
    let value = value.to_str().unwrap_or_default().trim();
    if value.eq_ignore_ascii_case("gzip") || value.eq_ignore_ascii_case("x-gzip") {
        Ok(Encoding::Gzip)
    } else if value.is_empty() || value.eq_ignore_ascii_case("identity") {
        Ok(Encoding::Identity)
    } else {
        Err(ApiError::new(
            ErrorCode::UnsupportedMediaType,
            "unsupported_encoding",
            "Content-Encoding must be gzip or identity",
        ))
    }
}

/// Decompresses at most `limit` bytes; one byte more means the body is too large.
fn gunzip(compressed: &[u8], limit: usize) -> Result<Bytes, ApiError> {
    let mut decompressed = Vec::with_capacity(compressed.len().saturating_mul(4).min(limit));
    MultiGzDecoder::new(compressed)
        .take(limit as u64 + 1)
        .read_to_end(&mut decompressed)
        .map_err(|error| {
            ApiError::bad_request(
                "invalid_gzip",
                format!("request body is not valid gzip: {error}"),
            )
        })?;
    if decompressed.len() > limit {
        return Err(ApiError::too_large(limit, "decompressed"));
    }
    Ok(Bytes::from(decompressed))
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use axum::http::HeaderValue;
    use flate2::write::GzEncoder;
    use flate2::Compression;

    use super::*;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    fn gzip_headers() -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        headers
    }

    #[tokio::test]
    async fn plain_and_gzip_bodies_within_the_limit_are_read() {
        let plain = read(&HeaderMap::new(), Body::from("[]"), 10).await.unwrap();
        assert_eq!(&plain[..], b"[]");
        let unzipped = read(&gzip_headers(), Body::from(gzip(b"[{}]")), 100)
            .await
            .unwrap();
        assert_eq!(&unzipped[..], b"[{}]");
    }

    #[tokio::test]
    async fn the_limit_applies_before_and_after_decompression() {
        let error = read(&HeaderMap::new(), Body::from("x".repeat(11)), 10)
            .await
            .unwrap_err();
        assert_eq!(error.code, ErrorCode::PayloadTooLarge);
        // A megabyte of zeros compresses to about a kilobyte.
        let bomb = gzip(&vec![0; 1 << 20]);
        assert!(bomb.len() < 10_000);
        let error = read(&gzip_headers(), Body::from(bomb), 10_000)
            .await
            .unwrap_err();
        assert_eq!(error.code, ErrorCode::PayloadTooLarge);
        assert!(error.message.contains("decompressed"), "{}", error.message);
    }

    #[tokio::test]
    async fn bad_gzip_and_unknown_encodings_are_refused() {
        let error = read(&gzip_headers(), Body::from("[]"), 100)
            .await
            .unwrap_err();
        assert_eq!(error.code, ErrorCode::BadRequest);
        assert!(error.message.starts_with("request body is not valid gzip"));
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("br"));
        let error = read(&headers, Body::from("[]"), 100).await.unwrap_err();
        assert_eq!(error.code, ErrorCode::UnsupportedMediaType);
    }
}
