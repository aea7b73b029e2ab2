//! `FlagUsage`: evaluation counts by variation over time buckets.

use std::collections::BTreeMap;

use vexil_proto::analytics::v1::{
    FlagUsageRequest, FlagUsageResponse, Granularity, UsageBucket, VariationCount,
};

use super::{environment_id, required};
use crate::error::ApiError;
use crate::stats::hll::RELATIVE_STANDARD_ERROR;
use crate::store::{time_of, unix_ms, AnalyticsStore};

/// The longest window one request may cover, by granularity, so an answer stays small.
const MAX_BUCKETS: i64 = 10_000;

pub async fn flag_usage(
    store: &dyn AnalyticsStore,
    request: FlagUsageRequest,
) -> Result<FlagUsageResponse, ApiError> {
    let environment_id = environment_id(&request.environment_id)?;
    let flag_key = required("flag_key", &request.flag_key)?;
    if request.from_unix_ms >= request.to_unix_ms {
        return Err(ApiError::invalid_argument(
            "from_unix_ms must be before to_unix_ms",
        ));
    }
    let bucket_ms = match request.granularity() {
        Granularity::Minute => 60_000,
        Granularity::Unspecified | Granularity::Hour => 3_600_000,
        Granularity::Day => 86_400_000,
    };
    if (request.to_unix_ms - request.from_unix_ms) / bucket_ms > MAX_BUCKETS {
        return Err(ApiError::invalid_argument(format!(
            "the window spans more than {MAX_BUCKETS} buckets; use a coarser granularity"
        )));
    }
    let (from, to) = (time_of(request.from_unix_ms), time_of(request.to_unix_ms));
    let cells = store
        .flag_usage(environment_id, flag_key, from, to, bucket_ms)
        .await?;

    let mut buckets: Vec<UsageBucket> = Vec::new();
    let mut totals: BTreeMap<i32, u64> = BTreeMap::new();
    for cell in cells {
        let start = unix_ms(cell.bucket_start);
        if buckets
            .last()
            .is_none_or(|bucket| bucket.start_unix_ms != start)
        {
            buckets.push(UsageBucket {
                start_unix_ms: start,
                counts: Vec::new(),
            });
        }
        let count = u64::try_from(cell.count).unwrap_or(0);
        *totals.entry(cell.variation).or_default() += count;
        buckets
            .last_mut()
            .expect("a bucket was just pushed")
            .counts
            .push(variation_count(cell.variation, count));
    }

    let last_day = time_of(request.to_unix_ms - 1).date();
    let sketch = store
        .distinct_contexts(environment_id, flag_key, from.date(), last_day)
        .await?;
    let last = store
        .last_evaluated(environment_id, &[flag_key.to_owned()])
        .await?;
    Ok(FlagUsageResponse {
        buckets,
        totals: totals
            .into_iter()
            .map(|(variation, count)| variation_count(variation, count))
            .collect(),
        distinct_contexts_estimate: sketch.estimate(),
        distinct_contexts_relative_error: RELATIVE_STANDARD_ERROR,
        last_evaluated_unix_ms: last.first().map(|(_, at)| unix_ms(*at)),
    })
}

fn variation_count(variation: i32, count: u64) -> VariationCount {
    VariationCount {
        variation: (variation >= 0).then_some(variation),
        count,
    }
}
