//! The write session: the one writer's `BEGIN IMMEDIATE` transaction, holding the writer
//! gate until it commits or is dropped. It numbers its changes and chains its audit
//! entries as it records them, keeps the changes it wrote, and publishes them on the hub
//! once committed, before opening the gate, so watchers see changes in commit order.

use std::sync::{Arc, PoisonError};

use async_trait::async_trait;
use sqlx::{Sqlite, SqliteConnection, Transaction};
use time::OffsetDateTime;
use tokio::sync::OwnedMutexGuard;
use uuid::Uuid;

use super::session::{Connected, Session};
use super::{
    approvals, audit, changes, credentials, environments, flag_environments, flags, projects,
    scheduled_changes, segments, tokens, tombstones, HubSlot,
};
use crate::audit::AuditRecord;
use crate::auth::Caller;
use crate::store::kinds::{ChangeKind, CredentialKind, ItemKind};
use crate::store::params::{FlagFields, NewChange, NewRequest, NewToken, SegmentFields};
use crate::store::rows::{
    ApiToken, ApprovalRequest, Change, Credential, Environment, FlagEnvironmentRow, FlagRow,
    Project, ScheduledChange, SegmentRow,
};
use crate::store::{ConfigWrite, StoreError, StoreResult};
use crate::sync::HubEvent;

/// What a write session holds. Fields drop in declaration order: the transaction first,
/// which queues its rollback on the writer connection, then the gate, so the next writer's
/// `BEGIN IMMEDIATE` runs after that rollback.
pub(super) struct Writing {
    transaction: Transaction<'static, Sqlite>,
    /// The changes written so far, in sequence order, to publish after commit.
    recorded: Vec<Change>,
    /// For each open savepoint, how many changes were recorded when it was set.
    savepoints: Vec<usize>,
    hub: HubSlot,
    gate: OwnedMutexGuard<()>,
}

impl Writing {
    pub(super) fn new(
        transaction: Transaction<'static, Sqlite>,
        hub: HubSlot,
        gate: OwnedMutexGuard<()>,
    ) -> Writing {
        Writing {
            transaction,
            recorded: Vec::new(),
            savepoints: Vec::new(),
            hub,
            gate,
        }
    }

    /// Commits, then publishes the recorded changes on the hub `start` gave (none before
    /// `start`), then opens the gate.
    async fn commit(self) -> StoreResult<()> {
        let Writing {
            transaction,
            recorded,
            hub,
            gate,
            ..
        } = self;
        transaction.commit().await?;
        let hub = hub.lock().unwrap_or_else(PoisonError::into_inner).clone();
        if let Some(hub) = hub {
            for change in recorded {
                hub.publish(HubEvent::Change(Arc::new(change)));
            }
        }
        drop(gate);
        Ok(())
    }
}

impl Connected for Writing {
    fn connection(&mut self) -> &mut SqliteConnection {
        &mut self.transaction
    }
}

#[async_trait]
impl ConfigWrite for Session<Writing> {
    async fn commit(self: Box<Self>) -> StoreResult<()> {
        // On a task of its own, so a caller that stops waiting (a client hanging up drops
        // its request's future) cannot stop it between the commit and the publishing:
        // watchers would never hear of committed changes.
        let committing = tokio::spawn(self.held.commit());
        match committing.await {
            Ok(result) => result,
            Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
            Err(_) => Err(StoreError::Database(sqlx::Error::Io(
                std::io::Error::other(
                    "the commit task was cancelled: the runtime is shutting down",
                ),
            ))),
        }
    }

    /// Sets the savepoint `vexil_savepoint` (a nested one would shadow it, as in SQL).
    async fn savepoint(&mut self) -> StoreResult<()> {
        sqlx::query(r#"SAVEPOINT vexil_savepoint"#)
            .execute(self.connection())
            .await?;
        let mark = self.held.recorded.len();
        self.held.savepoints.push(mark);
        Ok(())
    }

    /// Undoes everything since the savepoint, the changes it recorded included (their
    /// sequence numbers too), and ends the savepoint.
    async fn rollback_to_savepoint(&mut self) -> StoreResult<()> {
        sqlx::query(r#"ROLLBACK TO SAVEPOINT vexil_savepoint"#)
            .execute(self.connection())
            .await?;
        sqlx::query(r#"RELEASE SAVEPOINT vexil_savepoint"#)
            .execute(self.connection())
            .await?;
        if let Some(mark) = self.held.savepoints.pop() {
            self.held.recorded.truncate(mark);
        }
        Ok(())
    }

    async fn release_savepoint(&mut self) -> StoreResult<()> {
        sqlx::query(r#"RELEASE SAVEPOINT vexil_savepoint"#)
            .execute(self.connection())
            .await?;
        self.held.savepoints.pop();
        Ok(())
    }

    async fn insert_project(
        &mut self,
        key: &str,
        name: &str,
        description: &str,
        tags: &[String],
    ) -> StoreResult<Option<Project>> {
        projects::insert(self.connection(), key, name, description, tags).await
    }

    async fn update_project(
        &mut self,
        id: Uuid,
        name: &str,
        description: &str,
        tags: &[String],
    ) -> StoreResult<Project> {
        projects::update(self.connection(), id, name, description, tags).await
    }

    async fn delete_project(&mut self, id: Uuid) -> StoreResult<()> {
        projects::delete(self.connection(), id).await
    }

    async fn insert_environment(
        &mut self,
        project_id: Uuid,
        key: &str,
        name: &str,
        is_critical: bool,
    ) -> StoreResult<Option<Environment>> {
        environments::insert(self.connection(), project_id, key, name, is_critical).await
    }

    async fn update_environment(
        &mut self,
        id: Uuid,
        name: &str,
        is_critical: bool,
    ) -> StoreResult<Environment> {
        environments::update(self.connection(), id, name, is_critical).await
    }

    async fn delete_environment(&mut self, id: Uuid) -> StoreResult<i64> {
        environments::delete(self.connection(), id).await
    }

    async fn find_flag_for_update(
        &mut self,
        project_id: Uuid,
        key: &str,
    ) -> StoreResult<Option<FlagRow>> {
        flags::find(self.connection(), project_id, key).await
    }

    async fn insert_flag(
        &mut self,
        project_id: Uuid,
        key: &str,
        fields: &FlagFields<'_>,
    ) -> StoreResult<Option<FlagRow>> {
        flags::insert(self.connection(), project_id, key, fields).await
    }

    async fn update_flag(&mut self, id: Uuid, fields: &FlagFields<'_>) -> StoreResult<FlagRow> {
        flags::update(self.connection(), id, fields).await
    }

    async fn set_flag_archived(&mut self, id: Uuid, is_archived: bool) -> StoreResult<()> {
        flags::set_archived(self.connection(), id, is_archived).await
    }

    async fn delete_flag(&mut self, id: Uuid) -> StoreResult<()> {
        flags::delete(self.connection(), id).await
    }

    async fn flag_environment_configs_for_update(
        &mut self,
        flag_id: Uuid,
    ) -> StoreResult<Vec<FlagEnvironmentRow>> {
        flag_environments::list_by_environment_id(self.connection(), flag_id).await
    }

    async fn flag_environment_config_for_update(
        &mut self,
        flag_id: Uuid,
        environment_id: Uuid,
    ) -> StoreResult<Option<FlagEnvironmentRow>> {
        flag_environments::find(self.connection(), flag_id, environment_id).await
    }

    async fn upsert_flag_environment_config(
        &mut self,
        flag_id: Uuid,
        environment_id: Uuid,
        version: i64,
        config: &vexil_eval::Flag,
    ) -> StoreResult<()> {
        flag_environments::upsert(self.connection(), flag_id, environment_id, version, config).await
    }

    async fn take_tombstone(
        &mut self,
        environment_id: Uuid,
        kind: ItemKind,
        key: &str,
    ) -> StoreResult<Option<i64>> {
        tombstones::take(self.connection(), environment_id, kind, key).await
    }

    async fn put_tombstone(
        &mut self,
        environment_id: Uuid,
        kind: ItemKind,
        key: &str,
        version: i64,
    ) -> StoreResult<()> {
        tombstones::put(self.connection(), environment_id, kind, key, version).await
    }

    async fn find_segment_for_update(
        &mut self,
        environment_id: Uuid,
        key: &str,
    ) -> StoreResult<Option<SegmentRow>> {
        segments::find(self.connection(), environment_id, key).await
    }

    async fn insert_segment(
        &mut self,
        environment_id: Uuid,
        fields: &SegmentFields<'_>,
        version: i64,
        data: &vexil_eval::Segment,
    ) -> StoreResult<Option<SegmentRow>> {
        segments::insert(self.connection(), environment_id, fields, version, data).await
    }

    async fn update_segment(
        &mut self,
        id: Uuid,
        fields: &SegmentFields<'_>,
        version: i64,
        data: &vexil_eval::Segment,
    ) -> StoreResult<SegmentRow> {
        segments::update(self.connection(), id, fields, version, data).await
    }

    async fn delete_segment(&mut self, id: Uuid) -> StoreResult<()> {
        segments::delete(self.connection(), id).await
    }

    async fn create_credential(
        &mut self,
        environment_id: Uuid,
        kind: CredentialKind,
    ) -> StoreResult<(Credential, String)> {
        credentials::create(self.connection(), environment_id, kind).await
    }

    async fn retire_credentials(
        &mut self,
        environment_id: Uuid,
        kind: CredentialKind,
        expires_at: Option<OffsetDateTime>,
    ) -> StoreResult<Vec<Credential>> {
        credentials::retire(self.connection(), environment_id, kind, expires_at).await
    }

    async fn revoke_credential(
        &mut self,
        environment_id: Uuid,
        id: Uuid,
    ) -> StoreResult<Option<Credential>> {
        credentials::revoke(self.connection(), environment_id, id).await
    }

    async fn create_token(&mut self, new: &NewToken<'_>) -> StoreResult<(ApiToken, String)> {
        tokens::create(self.connection(), new).await
    }

    async fn revoke_token(&mut self, id: Uuid) -> StoreResult<Option<ApiToken>> {
        tokens::revoke(self.connection(), id).await
    }

    async fn ensure_bootstrap_token(&mut self, secret: &str) -> StoreResult<()> {
        tokens::ensure_bootstrap(self.connection(), secret).await
    }

    async fn insert_approval(&mut self, new: &NewRequest<'_>) -> StoreResult<Uuid> {
        approvals::insert(self.connection(), new).await
    }

    async fn find_approval_for_update(
        &mut self,
        flag_id: Uuid,
        id: Uuid,
    ) -> StoreResult<Option<ApprovalRequest>> {
        approvals::find(self.connection(), flag_id, id).await
    }

    async fn review_approval(
        &mut self,
        id: Uuid,
        status: &str,
        reviewer_token_id: Uuid,
        reviewer_name: &str,
        comment: &str,
    ) -> StoreResult<()> {
        approvals::review(
            self.connection(),
            id,
            status,
            reviewer_token_id,
            reviewer_name,
            comment,
        )
        .await
    }

    async fn mark_approval_applied(&mut self, id: Uuid) -> StoreResult<()> {
        approvals::mark_applied(self.connection(), id).await
    }

    async fn insert_scheduled_change(&mut self, new: &NewChange<'_>) -> StoreResult<Uuid> {
        scheduled_changes::insert(self.connection(), new).await
    }

    async fn claim_due_scheduled_changes(
        &mut self,
        limit: i64,
    ) -> StoreResult<Vec<ScheduledChange>> {
        scheduled_changes::claim_due(self.connection(), limit).await
    }

    async fn finish_scheduled_change(
        &mut self,
        id: Uuid,
        status: &str,
        failure_reason: Option<&str>,
    ) -> StoreResult<bool> {
        scheduled_changes::finish(self.connection(), id, status, failure_reason).await
    }

    async fn cancel_scheduled_change(
        &mut self,
        flag_id: Uuid,
        id: Uuid,
    ) -> StoreResult<Option<String>> {
        scheduled_changes::cancel(self.connection(), flag_id, id).await
    }

    async fn record_change(
        &mut self,
        environment_id: Uuid,
        kind: ChangeKind,
        key: &str,
        version: i64,
        payload: Vec<u8>,
    ) -> StoreResult<()> {
        let change = changes::record(
            self.connection(),
            environment_id,
            kind,
            key,
            version,
            payload,
        )
        .await?;
        self.held.recorded.extend(change);
        Ok(())
    }

    async fn record_environment_deleted(
        &mut self,
        environment_id: Uuid,
        sequence: i64,
    ) -> StoreResult<()> {
        let change =
            changes::record_environment_deleted(self.connection(), environment_id, sequence)
                .await?;
        self.held.recorded.push(change);
        Ok(())
    }

    async fn prune_changes(&mut self, cutoff: OffsetDateTime) -> StoreResult<u64> {
        changes::prune(self.connection(), cutoff).await
    }

    async fn append_audit(&mut self, caller: &Caller, record: AuditRecord) -> StoreResult<()> {
        audit::append(self.connection(), caller, record).await
    }
}
