//! Reads a request body within the size limit, decompressing gzip (`Content-Encoding:
//! gzip`) within the same limit, so neither a large body nor a gzip bomb gets past it.

use std::io::Read;

use axum::body::Body;
use axum::http::{header, HeaderMap};
use bytes::Bytes;
use flate2::bufread::MultiGzDecoder;
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

/// SDK event bodies compress about tenfold (the bench's 190-byte events to 16-24 bytes).
const MAX_BELIEVED_RATIO: usize = 32;

/// Decompresses at most `limit` bytes; one byte more means the body is too large.
fn gunzip(compressed: &[u8], limit: usize) -> Result<Bytes, ApiError> {
    // The hint is believed up to a ratio SDK bodies do not reach, so that a small body
    // claiming a large size cannot make every request reserve the whole limit.
    let capacity = decompressed_size_hint(compressed)
        .min(compressed.len().saturating_mul(MAX_BELIEVED_RATIO))
        .min(limit + 1);
    let mut decompressed = Vec::with_capacity(capacity);
    // `bufread`: the body is already in memory, so it is inflated from where it lies,
    // without `read::`'s 32 KiB buffer and copy.
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

/// How large `compressed` says it is decompressed, to size the buffer once: a gzip member
/// ends with its size modulo 2^32 (RFC 1952's ISIZE). Only a hint: the body may hold
/// several members, or lie; the buffer grows, or the limit cuts it, all the same.
fn decompressed_size_hint(compressed: &[u8]) -> usize {
    let trailer = compressed
        .len()
        .checked_sub(4)
        .and_then(|start| compressed.get(start..))
        .and_then(|size| <[u8; 4]>::try_from(size).ok());
    match trailer {
        Some(size) => usize::try_from(u32::from_le_bytes(size)).unwrap_or(usize::MAX),
        None => 0,
    }
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

    #[test]
    fn the_gzip_trailer_sizes_the_buffer() {
        let data = b"[{}]".repeat(1000);
        assert_eq!(decompressed_size_hint(&gzip(&data)), data.len());
        assert_eq!(decompressed_size_hint(b"[]"), 0);
        // Several members: the trailer gives only the last one's size, and the buffer
        // grows as before; the limit still holds.
        let mut members = gzip(&data);
        members.extend(gzip(b"[]"));
        assert_eq!(decompressed_size_hint(&members), 2);
        assert_eq!(gunzip(&members, 10_000).unwrap().len(), data.len() + 2);
        assert_eq!(
            gunzip(&members, 100).unwrap_err().code,
            ErrorCode::PayloadTooLarge
        );
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
