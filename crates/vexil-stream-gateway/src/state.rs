//! `AppState`: cheap-to-clone handles every request uses.

use std::time::Duration;

use tokio_util::sync::CancellationToken;
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
}
