//! `FlagSync.Watch`: per stream, a snapshot (or the missed changes) of each watched
//! environment, a `Synced` marker, then every committed change in sequence order.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::{broadcast, mpsc};
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};
use uuid::Uuid;
use vexil_proto::config::v1 as proto;
use vexil_proto::config::v1::flag_sync_server::FlagSync;
use vexil_proto::config::v1::watch_event::Event;

use super::hub::{ChangeHub, HubEvent};
use super::snapshot::{missed_changes, snapshot, to_event};
use crate::error::ApiError;
use crate::store::rows::Change;
use crate::store::{ConfigStore, StoreError};

pub struct FlagSyncService {
    store: Arc<dyn ConfigStore>,
    hub: ChangeHub,
    shutdown: CancellationToken,
}

impl FlagSyncService {
    pub fn new(store: Arc<dyn ConfigStore>, hub: ChangeHub, shutdown: CancellationToken) -> Self {
        FlagSyncService {
            store,
            hub,
            shutdown,
        }
    }
}

/// Events buffered per stream before a slow client holds its watcher up.
const STREAM_BUFFER: usize = 1024;

#[tonic::async_trait]
impl FlagSync for FlagSyncService {
    type WatchStream = ReceiverStream<Result<proto::WatchEvent, Status>>;

    async fn watch(
        &self,
        request: Request<proto::WatchRequest>,
    ) -> Result<Response<Self::WatchStream>, Status> {
        let request = request.into_inner();
        let only = if request.environment_id.is_empty() {
            None
        } else {
            let id: Uuid = request.environment_id.parse().map_err(|_| {
                Status::invalid_argument("environment_id must be an environment's UUID")
            })?;
            let mut session = self.store.read().await.map_err(ApiError::from)?;
            if session
                .find_environment_by_id(id)
                .await
                .map_err(ApiError::from)?
                .is_none()
            {
                return Err(Status::not_found(format!("environment {id} not found")));
            }
            Some(id)
        };
        let mut resume_from = HashMap::new();
        for (environment_id, sequence) in request.resume_from {
            let id: Uuid = environment_id.parse().map_err(|_| {
                Status::invalid_argument(format!(
                    "resume_from key `{environment_id}` is not an environment UUID"
                ))
            })?;
            resume_from.insert(id, sequence as i64);
        }
        // Subscribe before reading snapshots, so no change committed in between is missed.
        let changes = self.hub.subscribe();
        let (sender, receiver) = mpsc::channel(STREAM_BUFFER);
        let watcher = Watcher {
            store: self.store.clone(),
            only,
            last: HashMap::new(),
            sender,
        };
        tokio::spawn(watcher.run(resume_from, changes, self.shutdown.clone()));
        Ok(Response::new(ReceiverStream::new(receiver)))
    }
}

struct Watcher {
    store: Arc<dyn ConfigStore>,
    /// `None`: every environment.
    only: Option<Uuid>,
    /// Per watched environment, the last sequence number sent.
    last: HashMap<Uuid, i64>,
    sender: mpsc::Sender<Result<proto::WatchEvent, Status>>,
}

/// The client went away or the stream must end.
struct Stop;

impl Watcher {
    async fn run(
        mut self,
        mut resume_from: HashMap<Uuid, i64>,
        mut changes: broadcast::Receiver<HubEvent>,
        shutdown: CancellationToken,
    ) {
        let result: Result<(), Stop> = async {
            let initial = match self.only {
                Some(id) => vec![id],
                None => self.all_environment_ids().await?,
            };
            for environment_id in initial {
                let resume = resume_from.remove(&environment_id);
                self.start(environment_id, resume).await?;
            }
            if self.only.is_none() {
                // Environments the client knew that are gone: it missed their deletion.
                for (environment_id, after) in resume_from {
                    self.send(proto::WatchEvent {
                        environment_id: environment_id.to_string(),
                        sequence: after as u64 + 1,
                        event: Some(Event::EnvironmentDeleted(proto::EnvironmentDeleted {})),
                    })
                    .await?;
                }
            }
            self.send(proto::WatchEvent {
                environment_id: String::new(),
                sequence: 0,
                event: Some(Event::Synced(proto::Synced {})),
            })
            .await?;
            loop {
                let event = tokio::select! {
                    _ = shutdown.cancelled() => return Err(Stop),
                    _ = self.sender.closed() => return Err(Stop),
                    event = changes.recv() => event,
                };
                match event {
                    Ok(HubEvent::Change(change)) => self.on_change(change).await?,
                    Ok(HubEvent::Resync) | Err(broadcast::error::RecvError::Lagged(_)) => {
                        self.resync().await?
                    }
                    Err(broadcast::error::RecvError::Closed) => return Err(Stop),
                }
            }
        }
        .await;
        // Every way out is a stop: the client left, shutdown, or an error already sent.
        let _ = result;
    }

    async fn all_environment_ids(&self) -> Result<Vec<Uuid>, Stop> {
        let mut session = self.store.read().await.map_err(|error| self.fail(error))?;
        let environments = session
            .list_all_environments()
            .await
            .map_err(|error| self.fail(error))?;
        Ok(environments
            .into_iter()
            .map(|environment| environment.id)
            .collect())
    }

    /// Brings a newly watched environment up to date: the missed changes when they are
    /// all held, a snapshot otherwise.
    async fn start(&mut self, environment_id: Uuid, resume: Option<i64>) -> Result<(), Stop> {
        if let Some(after) = resume {
            let missed = missed_changes(self.store.as_ref(), environment_id, after)
                .await
                .map_err(|error| self.fail(error))?;
            if let Some(missed) = missed {
                self.last.insert(environment_id, after);
                for change in missed {
                    self.forward(&change).await?;
                }
                return Ok(());
            }
        }
        self.send_snapshot(environment_id).await
    }

    async fn send_snapshot(&mut self, environment_id: Uuid) -> Result<(), Stop> {
        let event = snapshot(self.store.as_ref(), environment_id)
            .await
            .map_err(|error| self.fail(error))?;
        match event {
            Some(event) => {
                self.last.insert(environment_id, event.sequence as i64);
                self.send(event).await
            }
            None => {
                self.last.remove(&environment_id);
                if self.only == Some(environment_id) {
                    Err(self.fail_with(Status::not_found("the environment was deleted")))
                } else {
                    Ok(())
                }
            }
        }
    }

    async fn on_change(&mut self, change: Arc<Change>) -> Result<(), Stop> {
        let environment_id = change.environment_id;
        if self.only.is_some_and(|only| only != environment_id) {
            return Ok(());
        }
        match self.last.get(&environment_id).copied() {
            None => self.send_snapshot(environment_id).await,
            Some(last) if change.sequence <= last => Ok(()),
            Some(last) if change.sequence == last + 1 => self.forward(&change).await,
            Some(_) => self.catch_up(environment_id).await,
        }
    }

    /// Re-reads every watched environment after a possible loss of notifications, and in
    /// watch-all mode picks up environments created meanwhile.
    async fn resync(&mut self) -> Result<(), Stop> {
        let mut environment_ids: Vec<Uuid> = self.last.keys().copied().collect();
        if self.only.is_none() {
            for id in self.all_environment_ids().await? {
                if !self.last.contains_key(&id) {
                    environment_ids.push(id);
                }
            }
        }
        for environment_id in environment_ids {
            self.catch_up(environment_id).await?;
        }
        Ok(())
    }

    async fn catch_up(&mut self, environment_id: Uuid) -> Result<(), Stop> {
        let resume = self.last.get(&environment_id).copied();
        self.start(environment_id, resume).await
    }

    async fn forward(&mut self, change: &Change) -> Result<(), Stop> {
        let Some(event) = to_event(change) else {
            // Undecodable row (logged): give the client a clean state instead.
            return self.send_snapshot(change.environment_id).await;
        };
        self.last.insert(change.environment_id, change.sequence);
        let is_deletion = matches!(event.event, Some(Event::EnvironmentDeleted(_)));
        self.send(event).await?;
        if is_deletion {
            self.last.remove(&change.environment_id);
            if self.only == Some(change.environment_id) {
                return Err(Stop);
            }
        }
        Ok(())
    }

    async fn send(&self, event: proto::WatchEvent) -> Result<(), Stop> {
        self.sender.send(Ok(event)).await.map_err(|_| Stop)
    }

    fn fail(&self, error: StoreError) -> Stop {
        self.fail_with(ApiError::from(error).into())
    }

    fn fail_with(&self, status: Status) -> Stop {
        let _ = self.sender.try_send(Err(status));
        Stop
    }
}
