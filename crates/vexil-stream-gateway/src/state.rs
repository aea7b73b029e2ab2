//! `AppState`: cheap-to-clone handles every request uses.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use vexil_service::cors::CorsPolicy;
use vexil_service::health::Readiness;

use crate::store::Store;

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub readiness: Readiness,
    /// Time between heartbeat comments on idle SSE streams.
    pub heartbeat_interval: Duration,
    /// Fires at shutdown; open streams end when it does.
    pub shutdown: CancellationToken,
    /// Which origins the browser endpoints and OFREP allow (spec 7.6).
    pub cors: Arc<CorsPolicy>,
    /// The largest request body accepted, in bytes.
    pub body_limit_bytes: usize,
    pub metrics: crate::metrics::GatewayMetrics,
}
