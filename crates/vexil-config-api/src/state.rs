//! `AppState`: cheap-to-clone handles shared by every request.

use std::sync::Arc;

use axum::extract::FromRef;
use vexil_service::health::Readiness;

use crate::config::Config;
use crate::store::ConfigStore;
use crate::sync::ChangeHub;

#[derive(Clone)]
pub struct AppState {
    /// Where the data lives; routes open a session per request (`read` or `write`) and
    /// flush it before answering a write.
    pub store: Arc<dyn ConfigStore>,
    pub config: Arc<Config>,
    pub readiness: Readiness,
    pub hub: ChangeHub,
    pub metrics: vexil_service::metrics::Metrics,
    /// analytics-worker's query service (connected on first use).
    pub analytics: crate::analytics::AnalyticsClient,
}

impl FromRef<AppState> for Arc<dyn ConfigStore> {
    fn from_ref(state: &AppState) -> Arc<dyn ConfigStore> {
        state.store.clone()
    }
}
