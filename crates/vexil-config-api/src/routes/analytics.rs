//! What SDK events say about flags, answered by analytics-worker over gRPC (`analytics.rs`):
//! a flag's usage over time, the contexts seen, stale flags, and experiment statistics.
//! config-api adds what only it knows: keys instead of ids, variation values, and which
//! flags are temporary and old enough to be stale candidates.

use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::{Duration, OffsetDateTime};
use vexil_proto::analytics::v1 as proto;

use super::lookup;
use crate::auth::{Caller, Role};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::rows::{Environment, FlagRow};

/// The window stale flags are judged on (issue 5: "over the last 7 days").
const STALE_WINDOW_DAYS: i64 = 7;
/// Flags younger than this many days are not stale candidates unless asked otherwise.
const DEFAULT_THRESHOLD_DAYS: i64 = 30;
/// The default usage window when `from` is absent.
const DEFAULT_USAGE_WINDOW: Duration = Duration::days(1);

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/projects/{project}/environments/{environment}/flags/{flag}/usage",
            get(usage),
        )
        .route(
            "/projects/{project}/environments/{environment}/flags/{flag}/experiment",
            get(experiment),
        )
        .route(
            "/projects/{project}/environments/{environment}/contexts",
            get(contexts),
        )
        .route("/projects/{project}/flags/stale", get(stale))
}

type QueryResult<T> = Result<Query<T>, axum::extract::rejection::QueryRejection>;

fn query<T>(query: QueryResult<T>) -> ApiResult<T> {
    query
        .map(|Query(query)| query)
        .map_err(|rejection| ApiError::bad_request(rejection.body_text()))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct UsageQuery {
    /// Start of the window (RFC 3339); default: one day before `to`.
    #[serde(default, with = "time::serde::rfc3339::option")]
    from: Option<OffsetDateTime>,
    /// End of the window, exclusive (RFC 3339); default: now.
    #[serde(default, with = "time::serde::rfc3339::option")]
    to: Option<OffsetDateTime>,
    #[serde(default)]
    granularity: Granularity,
}

#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
enum Granularity {
    Minute,
    #[default]
    Hour,
    Day,
}

impl Granularity {
    fn to_proto(self) -> proto::Granularity {
        match self {
            Granularity::Minute => proto::Granularity::Minute,
            Granularity::Hour => proto::Granularity::Hour,
            Granularity::Day => proto::Granularity::Day,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Usage {
    flag_key: String,
    environment_key: String,
    #[serde(with = "time::serde::rfc3339")]
    from: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    to: OffsetDateTime,
    granularity: Granularity,
    buckets: Vec<UsageBucket>,
    totals: Vec<VariationCount>,
    distinct_contexts: DistinctContexts,
    #[serde(with = "time::serde::rfc3339::option")]
    last_evaluated: Option<OffsetDateTime>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct UsageBucket {
    #[serde(with = "time::serde::rfc3339")]
    start: OffsetDateTime,
    counts: Vec<VariationCount>,
}

/// `variation` and `value` are absent for evaluations that served no variation (errors,
/// an unknown flag's default).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct VariationCount {
    #[serde(skip_serializing_if = "Option::is_none")]
    variation: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    value: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    count: u64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DistinctContexts {
    estimate: u64,
    relative_error: f64,
}

async fn usage(
    State(state): State<AppState>,
    caller: Caller,
    Path((project_key, environment_key, flag_key)): Path<(String, String, String)>,
    parameters: QueryResult<UsageQuery>,
) -> ApiResult<Json<Usage>> {
    caller
        .actor
        .require_environment(Role::Reader, &project_key, &environment_key)?;
    let parameters = query(parameters)?;
    let to = parameters.to.unwrap_or_else(OffsetDateTime::now_utc);
    let from = parameters.from.unwrap_or(to - DEFAULT_USAGE_WINDOW);
    if from >= to {
        return Err(ApiError::bad_request("from: must be before `to`"));
    }
    let (environment, flag) =
        environment_and_flag(&state, &project_key, &environment_key, &flag_key).await?;
    let answer = state
        .analytics
        .flag_usage(proto::FlagUsageRequest {
            environment_id: environment.id.to_string(),
            flag_key: flag.key.clone(),
            from_unix_ms: unix_ms(from),
            to_unix_ms: unix_ms(to),
            granularity: parameters.granularity.to_proto() as i32,
        })
        .await?;
    let counts = |counts: Vec<proto::VariationCount>| {
        counts
            .into_iter()
            .map(|count| variation_count(&flag, count))
            .collect()
    };
    Ok(Json(Usage {
        flag_key: flag.key.clone(),
        environment_key: environment.key,
        from,
        to,
        granularity: parameters.granularity,
        buckets: answer
            .buckets
            .into_iter()
            .map(|bucket| UsageBucket {
                start: from_unix_ms(bucket.start_unix_ms),
                counts: counts(bucket.counts),
            })
            .collect(),
        totals: counts(answer.totals),
        distinct_contexts: DistinctContexts {
            estimate: answer.distinct_contexts_estimate,
            relative_error: answer.distinct_contexts_relative_error,
        },
        last_evaluated: answer.last_evaluated_unix_ms.map(from_unix_ms),
    }))
}

/// A count with the variation's value and name, when the flag still has that variation.
fn variation_count(flag: &FlagRow, count: proto::VariationCount) -> VariationCount {
    let variation = count
        .variation
        .and_then(|index| usize::try_from(index).ok())
        .and_then(|index| flag.variations.get(index));
    VariationCount {
        variation: count.variation,
        value: variation.map(|variation| variation.value.clone()),
        name: variation.and_then(|variation| variation.name.clone()),
        count: count.count,
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ExperimentQuery {
    /// The custom event key of the metric.
    metric: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Experiment {
    flag_key: String,
    environment_key: String,
    metric: String,
    variations: Vec<VariationStatistics>,
    /// Every metric with at least one conversion for this flag.
    metrics_seen: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct VariationStatistics {
    variation: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    value: Option<Value>,
    units: u64,
    conversions: u64,
    value_sum: f64,
    value_sum_squares: f64,
}

async fn experiment(
    State(state): State<AppState>,
    caller: Caller,
    Path((project_key, environment_key, flag_key)): Path<(String, String, String)>,
    parameters: QueryResult<ExperimentQuery>,
) -> ApiResult<Json<Experiment>> {
    caller
        .actor
        .require_environment(Role::Reader, &project_key, &environment_key)?;
    let parameters = query(parameters)?;
    if parameters.metric.is_empty() {
        return Err(ApiError::bad_request("metric: must not be empty"));
    }
    let (environment, flag) =
        environment_and_flag(&state, &project_key, &environment_key, &flag_key).await?;
    let answer = state
        .analytics
        .experiment_statistics(proto::ExperimentStatisticsRequest {
            environment_id: environment.id.to_string(),
            flag_key: flag.key.clone(),
            metric_key: parameters.metric.clone(),
        })
        .await?;
    Ok(Json(Experiment {
        flag_key: flag.key.clone(),
        environment_key: environment.key,
        metric: parameters.metric,
        variations: answer
            .variations
            .into_iter()
            .map(|statistics| VariationStatistics {
                variation: statistics.variation,
                value: usize::try_from(statistics.variation)
                    .ok()
                    .and_then(|index| flag.variations.get(index))
                    .map(|variation| variation.value.clone()),
                units: statistics.units,
                conversions: statistics.conversions,
                value_sum: statistics.value_sum,
                value_sum_squares: statistics.value_sum_squares,
            })
            .collect(),
        metrics_seen: answer.metric_keys,
    }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ContextsQuery {
    limit: Option<i64>,
    page_token: Option<String>,
    kind: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ContextPage {
    items: Vec<ContextSeen>,
    /// Pass as `pageToken` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    next_page_token: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ContextSeen {
    kind: String,
    key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    last_seen: OffsetDateTime,
}

async fn contexts(
    State(state): State<AppState>,
    caller: Caller,
    Path((project_key, environment_key)): Path<(String, String)>,
    parameters: QueryResult<ContextsQuery>,
) -> ApiResult<Json<ContextPage>> {
    caller
        .actor
        .require_environment(Role::Reader, &project_key, &environment_key)?;
    let parameters = query(parameters)?;
    let limit = super::page_limit(parameters.limit)?;
    let environment = {
        let mut session = state.store.read().await?;
        lookup::project_environment(&mut *session, &project_key, &environment_key)
            .await?
            .1
    };
    let answer = state
        .analytics
        .contexts(proto::ContextsRequest {
            environment_id: environment.id.to_string(),
            page_size: u32::try_from(limit).expect("page_limit keeps limits within 1..=1000"),
            page_token: parameters.page_token.unwrap_or_default(),
            kind: parameters.kind,
        })
        .await?;
    Ok(Json(ContextPage {
        items: answer
            .contexts
            .into_iter()
            .map(|context| ContextSeen {
                kind: context.kind,
                key: context.key,
                name: context.name,
                last_seen: from_unix_ms(context.last_seen_unix_ms),
            })
            .collect(),
        next_page_token: Some(answer.next_page_token).filter(|token| !token.is_empty()),
    }))
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct StaleQuery {
    environment: String,
    threshold_days: Option<i64>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StaleFlags {
    environment_key: String,
    threshold_days: i64,
    window_days: i64,
    /// Only the stale ones, by key.
    items: Vec<StaleFlag>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StaleFlag {
    key: String,
    name: String,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    /// `not_evaluated` or `single_variation`.
    reason: &'static str,
    variations_served: u32,
    evaluations: u64,
    #[serde(with = "time::serde::rfc3339::option")]
    last_evaluated: Option<OffsetDateTime>,
}

/// Temporary flags older than the threshold that, over the last 7 days, were not evaluated
/// at all or served at most one variation in the environment.
async fn stale(
    State(state): State<AppState>,
    caller: Caller,
    Path(project_key): Path<String>,
    parameters: QueryResult<StaleQuery>,
) -> ApiResult<Json<StaleFlags>> {
    let parameters = query(parameters)?;
    caller
        .actor
        .require_environment(Role::Reader, &project_key, &parameters.environment)?;
    let threshold_days = parameters.threshold_days.unwrap_or(DEFAULT_THRESHOLD_DAYS);
    if !(0..=36_500).contains(&threshold_days) {
        return Err(ApiError::bad_request(
            "threshold-days: must be between 0 and 36500",
        ));
    }
    let (environment, candidates) = {
        let mut session = state.store.read().await?;
        let (project, environment) =
            lookup::project_environment(&mut *session, &project_key, &parameters.environment)
                .await?;
        let cutoff = OffsetDateTime::now_utc() - Duration::days(threshold_days);
        let candidates = session
            .temporary_flags_created_before(project.id, cutoff)
            .await?;
        (environment, candidates)
    };
    let mut items = Vec::new();
    if !candidates.is_empty() {
        let answer = state
            .analytics
            .stale_flags(proto::StaleFlagsRequest {
                environment_id: environment.id.to_string(),
                flag_keys: candidates.iter().map(|flag| flag.key.clone()).collect(),
                window_seconds: (STALE_WINDOW_DAYS * 24 * 3600) as u64,
            })
            .await?;
        let mut answers: std::collections::HashMap<String, proto::FlagStaleness> = answer
            .flags
            .into_iter()
            .map(|staleness| (staleness.flag_key.clone(), staleness))
            .collect();
        for candidate in candidates {
            let Some(staleness) = answers.remove(&candidate.key) else {
                continue;
            };
            let reason = match staleness.reason() {
                proto::StaleReason::NotEvaluated => "not_evaluated",
                proto::StaleReason::SingleVariation => "single_variation",
                proto::StaleReason::Unspecified => continue,
            };
            items.push(StaleFlag {
                key: candidate.key,
                name: candidate.name,
                created_at: candidate.created_at,
                reason,
                variations_served: staleness.variations_served,
                evaluations: staleness.evaluations,
                last_evaluated: staleness.last_evaluated_unix_ms.map(from_unix_ms),
            });
        }
    }
    Ok(Json(StaleFlags {
        environment_key: environment.key,
        threshold_days,
        window_days: STALE_WINDOW_DAYS,
        items,
    }))
}

/// The environment and the flag a path names (404 naming whichever is missing).
async fn environment_and_flag(
    state: &AppState,
    project_key: &str,
    environment_key: &str,
    flag_key: &str,
) -> ApiResult<(Environment, FlagRow)> {
    let mut session = state.store.read().await?;
    let (project, environment) =
        lookup::project_environment(&mut *session, project_key, environment_key).await?;
    let flag = lookup::flag(&mut *session, &project, flag_key).await?;
    Ok((environment, flag))
}

fn unix_ms(at: OffsetDateTime) -> i64 {
    (at.unix_timestamp_nanos() / 1_000_000) as i64
}

fn from_unix_ms(unix_ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(unix_ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}
