//! The gRPC `vexil.analytics.v1.Analytics` service: validates requests, reads through
//! the `AnalyticsStore`, answers. One file per call.

mod contexts;
mod experiments;
mod stale;
mod usage;

use std::sync::Arc;

use tonic::{Request, Response, Status};
use uuid::Uuid;
use vexil_proto::analytics::v1::analytics_server::Analytics;
use vexil_proto::analytics::v1::{
    ContextsRequest, ContextsResponse, ExperimentStatisticsRequest, ExperimentStatisticsResponse,
    FlagUsageRequest, FlagUsageResponse, StaleFlagsRequest, StaleFlagsResponse,
};

use crate::error::ApiError;
use crate::store::AnalyticsStore;

#[derive(Clone)]
pub struct AnalyticsService {
    store: Arc<dyn AnalyticsStore>,
}

impl AnalyticsService {
    pub fn new(store: Arc<dyn AnalyticsStore>) -> AnalyticsService {
        AnalyticsService { store }
    }
}

#[tonic::async_trait]
impl Analytics for AnalyticsService {
    async fn flag_usage(
        &self,
        request: Request<FlagUsageRequest>,
    ) -> Result<Response<FlagUsageResponse>, Status> {
        Ok(Response::new(
            usage::flag_usage(self.store.as_ref(), request.into_inner()).await?,
        ))
    }

    async fn contexts(
        &self,
        request: Request<ContextsRequest>,
    ) -> Result<Response<ContextsResponse>, Status> {
        Ok(Response::new(
            contexts::contexts(self.store.as_ref(), request.into_inner()).await?,
        ))
    }

    async fn stale_flags(
        &self,
        request: Request<StaleFlagsRequest>,
    ) -> Result<Response<StaleFlagsResponse>, Status> {
        Ok(Response::new(
            stale::stale_flags(self.store.as_ref(), request.into_inner()).await?,
        ))
    }

    async fn experiment_statistics(
        &self,
        request: Request<ExperimentStatisticsRequest>,
    ) -> Result<Response<ExperimentStatisticsResponse>, Status> {
        Ok(Response::new(
            experiments::experiment_statistics(self.store.as_ref(), request.into_inner()).await?,
        ))
    }
}

fn environment_id(value: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(value)
        .map_err(|_| ApiError::invalid_argument(format!("environment_id `{value}` is not a UUID")))
}

fn required<'a>(field: &str, value: &'a str) -> Result<&'a str, ApiError> {
    if value.is_empty() {
        Err(ApiError::invalid_argument(format!("{field} is required")))
    } else {
        Ok(value)
    }
}
