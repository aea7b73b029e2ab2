//! `AppState`: cheap-to-clone handles shared by every request.

use std::sync::Arc;

use axum::extract::FromRef;
use sqlx::PgPool;
use vexil_service::health::Readiness;

use crate::config::Config;
use crate::sequencer::Sequencer;
use crate::sync::ChangeHub;

#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    pub config: Arc<Config>,
    pub readiness: Readiness,
    pub hub: ChangeHub,
    /// Numbers and chains what writes queued; routes flush it before answering.
    pub sequencer: Sequencer,
    pub metrics: vexil_service::metrics::Metrics,
    /// analytics-worker's query service (connected on first use).
    pub analytics: crate::analytics::AnalyticsClient,
}

impl FromRef<AppState> for PgPool {
    fn from_ref(state: &AppState) -> PgPool {
        state.pool.clone()
    }
}
