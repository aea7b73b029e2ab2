//! The feed: watches every environment through config-api's `FlagSync.Watch`, applies
//! each event to the store in sequence order and marks it for the persistent copy. Reconnects with
//! backoff, resuming from the last applied sequence number of each environment.

mod convert;

use std::time::{Duration, SystemTime};

use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tonic::transport::Endpoint;
use vexil_proto::config::v1 as proto;
use vexil_proto::config::v1::flag_sync_client::FlagSyncClient;
use vexil_service::service_auth::BearerToken;

use self::convert::{convert, mark, ConvertError, Converted};
use crate::config::ConfigApiConfig;
use crate::error::error_chain;
use crate::persistence::{Mark, Persister};
use crate::store::{Change, EnvironmentId, Store, UnknownEnvironment};

/// The largest watch event accepted: a snapshot carries a whole environment.
const MAX_EVENT_BYTES: usize = 256 * 1024 * 1024;
const FIRST_RECONNECT_DELAY: Duration = Duration::from_millis(250);

/// Why a watch session ended.
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    #[error("config_api.grpc_url is invalid")]
    Url(#[source] tonic::transport::Error),
    #[error("cannot connect to config-api")]
    Connect(#[source] tonic::transport::Error),
    #[error("service_token cannot be sent as gRPC metadata")]
    Token,
    #[error("FlagSync.Watch failed: {}", .0.message())]
    Status(#[from] tonic::Status),
    #[error("config-api ended the watch stream")]
    Ended,
    #[error("unusable watch event")]
    Convert(#[from] ConvertError),
    #[error(transparent)]
    UnknownEnvironment(#[from] UnknownEnvironment),
    #[error("environment {environment_id} skipped from sequence {applied} to {received}")]
    Gap {
        environment_id: EnvironmentId,
        applied: u64,
        received: u64,
    },
}

/// Everything a session needs.
pub struct Feed {
    pub config: ConfigApiConfig,
    pub service_token: Option<String>,
    pub store: Store,
    pub persister: Persister,
    /// Becomes `true` at the first `Synced`.
    pub synced: watch::Sender<bool>,
}

impl Feed {
    /// Runs sessions until `shutdown` fires.
    pub fn spawn(self, shutdown: CancellationToken) -> JoinHandle<()> {
        tokio::spawn(async move {
            let mut delay = FIRST_RECONNECT_DELAY;
            loop {
                let mut has_synced = false;
                let result = tokio::select! {
                    _ = shutdown.cancelled() => return,
                    result = self.session(&mut has_synced) => result,
                };
                if has_synced {
                    delay = FIRST_RECONNECT_DELAY;
                }
                if let Err(error) = result {
                    tracing::warn!(error = %error_chain(&error), retry_in_ms = delay.as_millis() as u64,
                        "config-api watch interrupted");
                }
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = tokio::time::sleep(jittered(delay)) => {}
                }
                delay = (delay * 2).min(self.config.max_reconnect_delay.max(FIRST_RECONNECT_DELAY));
            }
        })
    }

    /// One watch stream, from connecting until it fails.
    async fn session(&self, has_synced: &mut bool) -> Result<(), FeedError> {
        let channel = Endpoint::from_shared(self.config.grpc_url.clone())
            .map_err(FeedError::Url)?
            .connect_timeout(Duration::from_secs(5))
            .http2_keep_alive_interval(Duration::from_secs(20))
            .keep_alive_timeout(Duration::from_secs(10))
            .keep_alive_while_idle(true)
            .connect()
            .await
            .map_err(FeedError::Connect)?;
        let token =
            BearerToken::new(self.service_token.as_deref()).map_err(|_| FeedError::Token)?;
        let mut client = FlagSyncClient::with_interceptor(channel, token)
            .max_decoding_message_size(MAX_EVENT_BYTES);
        let resume_from = self.store.sequences();
        tracing::info!(environments = resume_from.len(), "watching config-api");
        let mut stream = client
            .watch(proto::WatchRequest {
                environment_id: String::new(),
                resume_from,
            })
            .await?
            .into_inner();
        while let Some(event) = stream.message().await? {
            if self.handle(event)? {
                *has_synced = true;
            }
        }
        Err(FeedError::Ended)
    }

    /// Applies one event; returns whether it was `Synced`.
    fn handle(&self, event: proto::WatchEvent) -> Result<bool, FeedError> {
        let environment_id = EnvironmentId::new(&event.environment_id);
        let sequence = event.sequence;
        match convert(event)? {
            Converted::Synced => {
                self.store.mark_loaded();
                self.synced.send_replace(true);
                tracing::info!("in sync with config-api");
                Ok(true)
            }
            Converted::EnvironmentDeleted => {
                self.store.remove(&environment_id);
                self.persister
                    .mark(&environment_id, sequence, Mark::Deleted);
                tracing::info!(environment_id = %environment_id, "environment deleted");
                Ok(false)
            }
            Converted::Change(change) => {
                if !matches!(change, Change::Replace(_)) {
                    let applied = self
                        .store
                        .environment(&environment_id)
                        .ok_or_else(|| UnknownEnvironment(environment_id.clone()))?
                        .sequence();
                    if sequence <= applied {
                        tracing::debug!(environment_id = %environment_id, sequence, "change already applied");
                        return Ok(false);
                    }
                    if sequence > applied + 1 {
                        return Err(FeedError::Gap {
                            environment_id,
                            applied,
                            received: sequence,
                        });
                    }
                }
                let persist = mark(&change);
                self.store.apply(&environment_id, sequence, change)?;
                self.persister.mark(&environment_id, sequence, persist);
                tracing::debug!(environment_id = %environment_id, sequence, "change applied");
                Ok(false)
            }
        }
    }
}

/// Between half and all of `delay`, so replicas do not reconnect in lockstep.
fn jittered(delay: Duration) -> Duration {
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |since| since.subsec_nanos());
    let fraction = 0.5 + f64::from(nanos % 1_000) / 2_000.0;
    delay.mul_f64(fraction)
}
