//! A session holds one connection; every read runs on it, so reads on a write session see
//! its own writes and reads on a snapshot session share its snapshot. Implemented once for
//! the three kinds of connection a session can hold.

use async_trait::async_trait;
use sqlx::pool::PoolConnection;
use sqlx::{Sqlite, SqliteConnection, Transaction};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{
    approvals, audit, changes, credentials, environments, flag_environments, flags, projects,
    scheduled_changes, segments, tokens,
};
use crate::audit::{AuditEntry, Verification};
use crate::auth::Actor;
use crate::store::params::{AuditFilter, FlagFilter};
use crate::store::rows::{
    ApiToken, ApprovalRequest, Change, Credential, Environment, FlagEnvironmentRow, FlagRow,
    Project, Resolved, ScheduledChange, SegmentRow, StaleCandidate,
};
use crate::store::{ConfigRead, StoreResult};

/// What a session holds: a pooled connection (`read`), a deferred transaction on one
/// (`read_snapshot`), or the writer's transaction (`write`, see `write.rs`).
pub(super) trait Connected: Send {
    fn connection(&mut self) -> &mut SqliteConnection;
}

impl Connected for PoolConnection<Sqlite> {
    fn connection(&mut self) -> &mut SqliteConnection {
        self
    }
}

impl Connected for Transaction<'static, Sqlite> {
    fn connection(&mut self) -> &mut SqliteConnection {
        self
    }
}

/// A session on SQLite. Dropping one that holds a transaction rolls it back.
pub(super) struct Session<C> {
    pub(super) held: C,
}

impl<C: Connected> Session<C> {
    pub(super) fn new(held: C) -> Session<C> {
        Session { held }
    }

    pub(super) fn connection(&mut self) -> &mut SqliteConnection {
        self.held.connection()
    }
}

#[async_trait]
impl<C: Connected> ConfigRead for Session<C> {
    async fn list_projects(&mut self) -> StoreResult<Vec<Project>> {
        projects::list(self.connection()).await
    }

    async fn find_project(&mut self, key: &str) -> StoreResult<Option<Project>> {
        projects::find(self.connection(), key).await
    }

    async fn find_project_by_id(&mut self, id: Uuid) -> StoreResult<Option<Project>> {
        projects::find_by_id(self.connection(), id).await
    }

    async fn list_environments(&mut self, project_id: Uuid) -> StoreResult<Vec<Environment>> {
        environments::list(self.connection(), project_id).await
    }

    async fn list_all_environments(&mut self) -> StoreResult<Vec<Environment>> {
        environments::list_all(self.connection()).await
    }

    async fn find_environment(
        &mut self,
        project_id: Uuid,
        key: &str,
    ) -> StoreResult<Option<Environment>> {
        environments::find(self.connection(), project_id, key).await
    }

    async fn find_environment_by_id(&mut self, id: Uuid) -> StoreResult<Option<Environment>> {
        environments::find_by_id(self.connection(), id).await
    }

    async fn find_flag(&mut self, project_id: Uuid, key: &str) -> StoreResult<Option<FlagRow>> {
        flags::find(self.connection(), project_id, key).await
    }

    async fn list_flags(
        &mut self,
        project_id: Uuid,
        filter: &FlagFilter,
    ) -> StoreResult<(Vec<FlagRow>, i64)> {
        flags::list(self.connection(), project_id, filter).await
    }

    async fn list_project_flags(&mut self, project_id: Uuid) -> StoreResult<Vec<FlagRow>> {
        flags::list_for_project(self.connection(), project_id).await
    }

    async fn flag_environment_configs(
        &mut self,
        flag_id: Uuid,
    ) -> StoreResult<Vec<FlagEnvironmentRow>> {
        flag_environments::list(self.connection(), flag_id).await
    }

    async fn flag_environment_config(
        &mut self,
        flag_id: Uuid,
        environment_id: Uuid,
    ) -> StoreResult<Option<FlagEnvironmentRow>> {
        flag_environments::find(self.connection(), flag_id, environment_id).await
    }

    async fn sdk_flags(&mut self, environment_id: Uuid) -> StoreResult<Vec<vexil_eval::Flag>> {
        flag_environments::sdk_flags(self.connection(), environment_id).await
    }

    async fn temporary_flags_created_before(
        &mut self,
        project_id: Uuid,
        cutoff: OffsetDateTime,
    ) -> StoreResult<Vec<StaleCandidate>> {
        flags::temporary_created_before(self.connection(), project_id, cutoff).await
    }

    async fn list_segments(&mut self, environment_id: Uuid) -> StoreResult<Vec<SegmentRow>> {
        segments::list(self.connection(), environment_id).await
    }

    async fn find_segment(
        &mut self,
        environment_id: Uuid,
        key: &str,
    ) -> StoreResult<Option<SegmentRow>> {
        segments::find(self.connection(), environment_id, key).await
    }

    async fn list_credentials(&mut self, environment_id: Uuid) -> StoreResult<Vec<Credential>> {
        credentials::list(self.connection(), environment_id).await
    }

    async fn resolve_credential(&mut self, secret: &str) -> StoreResult<Option<Resolved>> {
        credentials::resolve(self.connection(), secret).await
    }

    async fn list_tokens(&mut self) -> StoreResult<Vec<ApiToken>> {
        tokens::list(self.connection()).await
    }

    async fn find_actor(&mut self, secret: &str) -> StoreResult<Option<Actor>> {
        tokens::find_actor(self.connection(), secret).await
    }

    async fn list_approvals(
        &mut self,
        flag_id: Uuid,
        status: Option<&str>,
    ) -> StoreResult<Vec<ApprovalRequest>> {
        approvals::list(self.connection(), flag_id, status).await
    }

    async fn list_scheduled_changes(&mut self, flag_id: Uuid) -> StoreResult<Vec<ScheduledChange>> {
        scheduled_changes::list(self.connection(), flag_id).await
    }

    async fn changes_since(
        &mut self,
        environment_id: Uuid,
        after_sequence: i64,
        limit: i64,
    ) -> StoreResult<Vec<Change>> {
        changes::since(self.connection(), environment_id, after_sequence, limit).await
    }

    async fn oldest_change_held(&mut self, environment_id: Uuid) -> StoreResult<Option<i64>> {
        changes::oldest_held(self.connection(), environment_id).await
    }

    async fn list_audit(&mut self, filter: &AuditFilter) -> StoreResult<Vec<AuditEntry>> {
        audit::list(self.connection(), filter).await
    }

    async fn verify_audit(&mut self) -> StoreResult<Verification> {
        audit::verify(self.connection()).await
    }
}
