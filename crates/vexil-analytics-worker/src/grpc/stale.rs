//! `StaleFlags`: of the candidate flags config-api sends, which were not evaluated, or
//! served at most one variation, in the window.

use std::collections::HashMap;
use std::time::Duration;

use time::OffsetDateTime;
use vexil_proto::analytics::v1::{
    FlagStaleness, StaleFlagsRequest, StaleFlagsResponse, StaleReason,
};

use super::environment_id;
use crate::error::ApiError;
use crate::store::{unix_ms, AnalyticsStore, FlagActivity};

const DEFAULT_WINDOW: Duration = Duration::from_secs(7 * 24 * 3600);
const MAX_FLAGS: usize = 10_000;

pub async fn stale_flags(
    store: &dyn AnalyticsStore,
    request: StaleFlagsRequest,
) -> Result<StaleFlagsResponse, ApiError> {
    let environment_id = environment_id(&request.environment_id)?;
    if request.flag_keys.len() > MAX_FLAGS {
        return Err(ApiError::invalid_argument(format!(
            "at most {MAX_FLAGS} flag_keys per request"
        )));
    }
    let window = match request.window_seconds {
        0 => DEFAULT_WINDOW,
        seconds => Duration::from_secs(seconds.min(10 * 365 * 24 * 3600)),
    };
    let since = OffsetDateTime::now_utc() - window;
    let activity: HashMap<String, FlagActivity> = store
        .flag_activity(environment_id, &request.flag_keys, since)
        .await?
        .into_iter()
        .map(|activity| (activity.flag_key.clone(), activity))
        .collect();
    let last: HashMap<String, OffsetDateTime> = store
        .last_evaluated(environment_id, &request.flag_keys)
        .await?
        .into_iter()
        .collect();
    let flags = request
        .flag_keys
        .into_iter()
        .map(|flag_key| {
            let (variations_served, evaluations) =
                activity.get(&flag_key).map_or((0, 0), |activity| {
                    (activity.variations_served, activity.evaluations)
                });
            let reason = if evaluations == 0 {
                StaleReason::NotEvaluated
            } else if variations_served <= 1 {
                StaleReason::SingleVariation
            } else {
                StaleReason::Unspecified
            };
            FlagStaleness {
                last_evaluated_unix_ms: last.get(&flag_key).map(|at| unix_ms(*at)),
                flag_key,
                reason: reason as i32,
                variations_served: u32::try_from(variations_served).unwrap_or(u32::MAX),
                evaluations: u64::try_from(evaluations).unwrap_or(0),
            }
        })
        .collect();
    Ok(StaleFlagsResponse { flags })
}
