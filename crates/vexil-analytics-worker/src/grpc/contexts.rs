//! `Contexts`: contexts seen, most recent first, with keyset paging.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use vexil_proto::analytics::v1::{ContextSeen, ContextsRequest, ContextsResponse};

use super::environment_id;
use crate::error::ApiError;
use crate::store::{time_of, unix_ms};
use crate::store::{AnalyticsStore, ContextRow};

const DEFAULT_PAGE_SIZE: u32 = 50;
const MAX_PAGE_SIZE: u32 = 1000;

/// The last row of a page, which the next page starts after. Microseconds keep the
/// comparison exact against PostgreSQL's timestamps.
#[derive(Serialize, Deserialize)]
struct PageToken {
    last_seen_us: i64,
    kind: String,
    key: String,
}

pub async fn contexts(
    store: &dyn AnalyticsStore,
    request: ContextsRequest,
) -> Result<ContextsResponse, ApiError> {
    let environment_id = environment_id(&request.environment_id)?;
    let page_size = match request.page_size {
        0 => DEFAULT_PAGE_SIZE,
        size => size.min(MAX_PAGE_SIZE),
    };
    let after = if request.page_token.is_empty() {
        None
    } else {
        Some(decode_token(&request.page_token)?)
    };
    let mut rows = store
        .contexts(
            environment_id,
            request.kind.as_deref(),
            after.as_ref(),
            i64::from(page_size) + 1,
        )
        .await?;
    let next_page_token = if rows.len() > page_size as usize {
        rows.truncate(page_size as usize);
        rows.last().map(encode_token).unwrap_or_default()
    } else {
        String::new()
    };
    Ok(ContextsResponse {
        contexts: rows
            .into_iter()
            .map(|row| ContextSeen {
                kind: row.kind,
                key: row.key,
                name: row.name,
                last_seen_unix_ms: unix_ms(row.last_seen_at),
            })
            .collect(),
        next_page_token,
    })
}

fn encode_token(row: &ContextRow) -> String {
    let token = PageToken {
        last_seen_us: i64::try_from(row.last_seen_at.unix_timestamp_nanos() / 1000)
            .unwrap_or(i64::MAX),
        kind: row.kind.clone(),
        key: row.key.clone(),
    };
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&token).expect("a page token serializes"))
}

fn decode_token(token: &str) -> Result<ContextRow, ApiError> {
    let invalid = || ApiError::invalid_argument("page_token is not a token this service issued");
    let bytes = URL_SAFE_NO_PAD.decode(token).map_err(|_| invalid())?;
    let token: PageToken = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
    let last_seen_at =
        time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(token.last_seen_us) * 1000)
            .unwrap_or_else(|_| time_of(0));
    Ok(ContextRow {
        kind: token.kind,
        key: token.key,
        name: None,
        last_seen_at,
    })
}
