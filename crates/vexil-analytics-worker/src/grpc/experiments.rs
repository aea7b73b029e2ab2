//! `ExperimentStatistics`: per-variation sufficient statistics of one flag and metric.

use vexil_proto::analytics::v1::{
    ExperimentStatisticsRequest, ExperimentStatisticsResponse, VariationStatistics,
};

use super::{environment_id, required};
use crate::error::ApiError;
use crate::store::AnalyticsStore;

pub async fn experiment_statistics(
    store: &dyn AnalyticsStore,
    request: ExperimentStatisticsRequest,
) -> Result<ExperimentStatisticsResponse, ApiError> {
    let environment_id = environment_id(&request.environment_id)?;
    let flag_key = required("flag_key", &request.flag_key)?;
    let metric_key = required("metric_key", &request.metric_key)?;
    let rows = store
        .experiment_statistics(environment_id, flag_key, metric_key)
        .await?;
    let metric_keys = store
        .experiment_metric_keys(environment_id, flag_key)
        .await?;
    Ok(ExperimentStatisticsResponse {
        variations: rows
            .into_iter()
            .map(|row| VariationStatistics {
                variation: row.variation,
                units: u64::try_from(row.units).unwrap_or(0),
                conversions: u64::try_from(row.conversions).unwrap_or(0),
                value_sum: row.value_sum,
                value_sum_squares: row.value_sum_squares,
            })
            .collect(),
        metric_keys,
    })
}
