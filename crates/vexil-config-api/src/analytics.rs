//! The client of analytics-worker's gRPC `Analytics` service, behind the usage, contexts,
//! stale-flag and experiment endpoints. The channel connects lazily, so config-api starts
//! and serves everything else while the worker is down; those endpoints then answer 503.

use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Channel, Endpoint};
use tonic::{Code, Status};
use vexil_proto::analytics::v1 as proto;
use vexil_proto::analytics::v1::analytics_client::AnalyticsClient as GrpcClient;
use vexil_service::service_auth::BearerToken;

use crate::config::AnalyticsConfig;
use crate::error::{ApiError, ApiResult};

type Authorizing = InterceptedService<Channel, BearerToken>;

/// Cheap to clone: clones share one HTTP/2 channel.
#[derive(Clone)]
pub struct AnalyticsClient {
    client: GrpcClient<Authorizing>,
}

impl AnalyticsClient {
    /// Fails only for a malformed `analytics.grpc_url` or service token; connecting
    /// happens on the first call.
    pub fn new(config: &AnalyticsConfig, service_token: Option<&str>) -> anyhow::Result<Self> {
        let endpoint = Endpoint::from_shared(config.grpc_url.clone())
            .map_err(|error| anyhow::anyhow!("analytics.grpc_url: {error}"))?
            .connect_timeout(config.timeout)
            .timeout(config.timeout);
        let token = BearerToken::new(service_token)
            .map_err(|_| anyhow::anyhow!("service_token: not a valid header value"))?;
        let channel = endpoint.connect_lazy();
        Ok(AnalyticsClient {
            client: GrpcClient::with_interceptor(channel, token),
        })
    }

    pub async fn flag_usage(
        &self,
        request: proto::FlagUsageRequest,
    ) -> ApiResult<proto::FlagUsageResponse> {
        answer(self.client.clone().flag_usage(request).await)
    }

    pub async fn contexts(
        &self,
        request: proto::ContextsRequest,
    ) -> ApiResult<proto::ContextsResponse> {
        answer(self.client.clone().contexts(request).await)
    }

    pub async fn stale_flags(
        &self,
        request: proto::StaleFlagsRequest,
    ) -> ApiResult<proto::StaleFlagsResponse> {
        answer(self.client.clone().stale_flags(request).await)
    }

    pub async fn experiment_statistics(
        &self,
        request: proto::ExperimentStatisticsRequest,
    ) -> ApiResult<proto::ExperimentStatisticsResponse> {
        answer(self.client.clone().experiment_statistics(request).await)
    }
}

/// The worker's answer, or its refusal as an API error: a bad request stays a 400, a
/// worker that cannot be reached or does not answer in time is a 503.
fn answer<T>(result: Result<tonic::Response<T>, Status>) -> ApiResult<T> {
    result
        .map(tonic::Response::into_inner)
        .map_err(|status| match status.code() {
            Code::InvalidArgument | Code::OutOfRange => {
                ApiError::bad_request(status.message().to_owned())
            }
            Code::NotFound => ApiError::not_found(status.message().to_owned()),
            Code::Unavailable | Code::DeadlineExceeded | Code::Cancelled => ApiError::unavailable(
                format!("analytics-worker is unavailable: {}", status.message()),
            ),
            _ => ApiError::internal(anyhow::anyhow!(
                "analytics-worker answered {:?}: {}",
                status.code(),
                status.message()
            )),
        })
}
