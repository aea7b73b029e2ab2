//! The store's boundary, which every store implements (`postgres/`, `sqlite/`): a write
//! session *is* one transaction, so "validate, version, record the FlagSync change and the
//! audit entry in one commit" holds the same on every store. The rules (`mutations/`,
//! `instructions/`, `sync/`, `scheduler.rs`) are written once against these traits.
//!
//! Reads and writes take `&mut self`: a session holds one connection. Dropping a write
//! session without `commit` rolls it back and publishes nothing.

use async_trait::async_trait;
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::kinds::{ChangeKind, CredentialKind, ItemKind};
use super::params::{
    AuditFilter, FlagFields, FlagFilter, NewChange, NewRequest, NewToken, SegmentFields,
};
use super::rows::{
    ApiToken, ApprovalRequest, Change, Credential, Environment, FlagEnvironmentRow, FlagRow,
    Project, Resolved, ScheduledChange, SegmentRow, StaleCandidate,
};
use super::StoreError;
use crate::audit::{AuditEntry, AuditRecord, Verification};
use crate::auth::{Actor, Caller};
use crate::sync::ChangeHub;

pub type StoreResult<T> = Result<T, StoreError>;

/// A database config-api keeps its data in. Cheap to share (`Arc<dyn ConfigStore>`).
#[async_trait]
pub trait ConfigStore: Send + Sync + 'static {
    /// "postgres" or "sqlite", for logs.
    fn name(&self) -> &'static str;

    /// Starts the store's background work, once, before serving: committed changes are
    /// published on `hub` in per-environment sequence order from then on. PostgreSQL:
    /// the sequencer and the LISTEN connection; SQLite: publishing at each commit.
    async fn start(&self, hub: ChangeHub, shutdown: CancellationToken) -> StoreResult<()>;

    /// A session for reads outside a transaction (each read sees the latest commit).
    async fn read(&self) -> StoreResult<Box<dyn ConfigRead>>;

    /// A read-only session whose reads all see one snapshot (the FlagSync snapshot).
    async fn read_snapshot(&self) -> StoreResult<Box<dyn ConfigRead>>;

    /// A write session: one transaction, committed by `ConfigWrite::commit`.
    async fn write(&self) -> StoreResult<Box<dyn ConfigWrite>>;

    /// Returns once every change and audit entry this process committed before the call
    /// is numbered, chained and published. Routes call it before answering a write, so a
    /// client that reads after a 2xx sees its own change in the audit log and the stream.
    async fn flush(&self);

    /// Closes the connections; later sessions fail.
    async fn close(&self);
}

/// Reads, on a session of either kind.
#[async_trait]
pub trait ConfigRead: Send {
    // Projects and environments.
    async fn list_projects(&mut self) -> StoreResult<Vec<Project>>;
    async fn find_project(&mut self, key: &str) -> StoreResult<Option<Project>>;
    async fn find_project_by_id(&mut self, id: Uuid) -> StoreResult<Option<Project>>;
    /// A project's environments, ordered by key.
    async fn list_environments(&mut self, project_id: Uuid) -> StoreResult<Vec<Environment>>;
    /// Every environment of every project.
    async fn list_all_environments(&mut self) -> StoreResult<Vec<Environment>>;
    async fn find_environment(
        &mut self,
        project_id: Uuid,
        key: &str,
    ) -> StoreResult<Option<Environment>>;
    async fn find_environment_by_id(&mut self, id: Uuid) -> StoreResult<Option<Environment>>;

    // Flags.
    async fn find_flag(&mut self, project_id: Uuid, key: &str) -> StoreResult<Option<FlagRow>>;
    /// One page of a project's flags ordered by key, and how many match the filter.
    async fn list_flags(
        &mut self,
        project_id: Uuid,
        filter: &FlagFilter,
    ) -> StoreResult<(Vec<FlagRow>, i64)>;
    /// Every flag of a project, archived ones too, ordered by key.
    async fn list_project_flags(&mut self, project_id: Uuid) -> StoreResult<Vec<FlagRow>>;
    /// The flag's targeting in each environment.
    async fn flag_environment_configs(
        &mut self,
        flag_id: Uuid,
    ) -> StoreResult<Vec<FlagEnvironmentRow>>;
    async fn flag_environment_config(
        &mut self,
        flag_id: Uuid,
        environment_id: Uuid,
    ) -> StoreResult<Option<FlagEnvironmentRow>>;
    /// Every flag of the environment as SDKs see it, ordered by key.
    async fn sdk_flags(&mut self, environment_id: Uuid) -> StoreResult<Vec<vexil_eval::Flag>>;
    /// A project's temporary, unarchived flags created before `cutoff`, by key.
    async fn temporary_flags_created_before(
        &mut self,
        project_id: Uuid,
        cutoff: OffsetDateTime,
    ) -> StoreResult<Vec<StaleCandidate>>;

    // Segments.
    /// An environment's segments, ordered by key.
    async fn list_segments(&mut self, environment_id: Uuid) -> StoreResult<Vec<SegmentRow>>;
    async fn find_segment(
        &mut self,
        environment_id: Uuid,
        key: &str,
    ) -> StoreResult<Option<SegmentRow>>;

    // Credentials and API tokens.
    async fn list_credentials(&mut self, environment_id: Uuid) -> StoreResult<Vec<Credential>>;
    /// The environment an active credential secret belongs to; `None` when the secret is
    /// unknown, revoked or expired.
    async fn resolve_credential(&mut self, secret: &str) -> StoreResult<Option<Resolved>>;
    async fn list_tokens(&mut self) -> StoreResult<Vec<ApiToken>>;
    /// The actor an unrevoked API token secret stands for.
    async fn find_actor(&mut self, secret: &str) -> StoreResult<Option<Actor>>;

    // Approvals and scheduled changes.
    async fn list_approvals(
        &mut self,
        flag_id: Uuid,
        status: Option<&str>,
    ) -> StoreResult<Vec<ApprovalRequest>>;
    async fn list_scheduled_changes(&mut self, flag_id: Uuid) -> StoreResult<Vec<ScheduledChange>>;

    // The FlagSync outbox.
    /// Changes of one environment after `after_sequence`, oldest first.
    async fn changes_since(
        &mut self,
        environment_id: Uuid,
        after_sequence: i64,
        limit: i64,
    ) -> StoreResult<Vec<Change>>;
    /// The oldest sequence number still held for an environment, if any.
    async fn oldest_change_held(&mut self, environment_id: Uuid) -> StoreResult<Option<i64>>;

    // The audit log.
    /// Entries matching the filter, newest first.
    async fn list_audit(&mut self, filter: &AuditFilter) -> StoreResult<Vec<AuditEntry>>;
    /// Re-reads every entry in order and checks each hash and link, stopping at the first
    /// entry that does not check out (`audit::check_entry`).
    async fn verify_audit(&mut self) -> StoreResult<Verification>;
}

/// Writes, in one transaction. Reads on a write session see its own writes.
#[async_trait]
pub trait ConfigWrite: ConfigRead {
    /// Commits; on success the session's changes are (or, on PostgreSQL, will be after
    /// `ConfigStore::flush`) numbered, chained and published.
    async fn commit(self: Box<Self>) -> StoreResult<()>;

    /// Marks a point to roll back to (one level: savepoints do not nest).
    async fn savepoint(&mut self) -> StoreResult<()>;
    /// Undoes everything since `savepoint`, including changes and audit entries recorded,
    /// and ends the savepoint (the next `savepoint` starts a new one).
    async fn rollback_to_savepoint(&mut self) -> StoreResult<()>;
    /// Keeps everything since `savepoint`.
    async fn release_savepoint(&mut self) -> StoreResult<()>;

    // Projects and environments. An insert returns `None` when the key is taken.
    async fn insert_project(
        &mut self,
        key: &str,
        name: &str,
        description: &str,
        tags: &[String],
    ) -> StoreResult<Option<Project>>;
    async fn update_project(
        &mut self,
        id: Uuid,
        name: &str,
        description: &str,
        tags: &[String],
    ) -> StoreResult<Project>;
    /// Deletes the project and, by cascade, everything in it.
    async fn delete_project(&mut self, id: Uuid) -> StoreResult<()>;
    async fn insert_environment(
        &mut self,
        project_id: Uuid,
        key: &str,
        name: &str,
        is_critical: bool,
    ) -> StoreResult<Option<Environment>>;
    async fn update_environment(
        &mut self,
        id: Uuid,
        name: &str,
        is_critical: bool,
    ) -> StoreResult<Environment>;
    /// Deletes the environment; returns the sequence number its closing change takes
    /// (its last sequence number plus one), for `record_environment_deleted`.
    async fn delete_environment(&mut self, id: Uuid) -> StoreResult<i64>;

    // Flags. `_for_update` reads lock the rows until the session ends where the store has
    // row locks (PostgreSQL); SQLite's one writer already excludes every other write.
    async fn find_flag_for_update(
        &mut self,
        project_id: Uuid,
        key: &str,
    ) -> StoreResult<Option<FlagRow>>;
    async fn insert_flag(
        &mut self,
        project_id: Uuid,
        key: &str,
        fields: &FlagFields<'_>,
    ) -> StoreResult<Option<FlagRow>>;
    async fn update_flag(&mut self, id: Uuid, fields: &FlagFields<'_>) -> StoreResult<FlagRow>;
    async fn set_flag_archived(&mut self, id: Uuid, is_archived: bool) -> StoreResult<()>;
    async fn delete_flag(&mut self, id: Uuid) -> StoreResult<()>;
    async fn flag_environment_configs_for_update(
        &mut self,
        flag_id: Uuid,
    ) -> StoreResult<Vec<FlagEnvironmentRow>>;
    async fn flag_environment_config_for_update(
        &mut self,
        flag_id: Uuid,
        environment_id: Uuid,
    ) -> StoreResult<Option<FlagEnvironmentRow>>;
    async fn upsert_flag_environment_config(
        &mut self,
        flag_id: Uuid,
        environment_id: Uuid,
        version: i64,
        config: &vexil_eval::Flag,
    ) -> StoreResult<()>;
    /// Removes and returns the version a deleted item of this key had, so a re-created
    /// item continues above it (spec 5.5).
    async fn take_tombstone(
        &mut self,
        environment_id: Uuid,
        kind: ItemKind,
        key: &str,
    ) -> StoreResult<Option<i64>>;
    async fn put_tombstone(
        &mut self,
        environment_id: Uuid,
        kind: ItemKind,
        key: &str,
        version: i64,
    ) -> StoreResult<()>;

    // Segments.
    async fn find_segment_for_update(
        &mut self,
        environment_id: Uuid,
        key: &str,
    ) -> StoreResult<Option<SegmentRow>>;
    async fn insert_segment(
        &mut self,
        environment_id: Uuid,
        fields: &SegmentFields<'_>,
        version: i64,
        data: &vexil_eval::Segment,
    ) -> StoreResult<Option<SegmentRow>>;
    async fn update_segment(
        &mut self,
        id: Uuid,
        fields: &SegmentFields<'_>,
        version: i64,
        data: &vexil_eval::Segment,
    ) -> StoreResult<SegmentRow>;
    async fn delete_segment(&mut self, id: Uuid) -> StoreResult<()>;

    // Credentials and API tokens. Creating returns the row and the secret, shown once.
    async fn create_credential(
        &mut self,
        environment_id: Uuid,
        kind: CredentialKind,
    ) -> StoreResult<(Credential, String)>;
    /// Ends the environment's active credentials of `kind`: from `expires_at` on (never
    /// later than an expiry they already have), or at once when `None`. Returns those it
    /// changed.
    async fn retire_credentials(
        &mut self,
        environment_id: Uuid,
        kind: CredentialKind,
        expires_at: Option<OffsetDateTime>,
    ) -> StoreResult<Vec<Credential>>;
    async fn revoke_credential(
        &mut self,
        environment_id: Uuid,
        id: Uuid,
    ) -> StoreResult<Option<Credential>>;
    async fn create_token(&mut self, new: &NewToken<'_>) -> StoreResult<(ApiToken, String)>;
    async fn revoke_token(&mut self, id: Uuid) -> StoreResult<Option<ApiToken>>;
    /// Makes the configured bootstrap admin token exist, revoking an earlier bootstrap
    /// token whose secret differs.
    async fn ensure_bootstrap_token(&mut self, secret: &str) -> StoreResult<()>;

    // Approvals and scheduled changes.
    async fn insert_approval(&mut self, new: &NewRequest<'_>) -> StoreResult<Uuid>;
    async fn find_approval_for_update(
        &mut self,
        flag_id: Uuid,
        id: Uuid,
    ) -> StoreResult<Option<ApprovalRequest>>;
    async fn review_approval(
        &mut self,
        id: Uuid,
        status: &str,
        reviewer_token_id: Uuid,
        reviewer_name: &str,
        comment: &str,
    ) -> StoreResult<()>;
    async fn mark_approval_applied(&mut self, id: Uuid) -> StoreResult<()>;
    async fn insert_scheduled_change(&mut self, new: &NewChange<'_>) -> StoreResult<Uuid>;
    /// Pending changes due now, oldest first, locked so no other replica applies them.
    async fn claim_due_scheduled_changes(
        &mut self,
        limit: i64,
    ) -> StoreResult<Vec<ScheduledChange>>;
    /// Marks a pending change applied or failed; `false` when it was not pending.
    async fn finish_scheduled_change(
        &mut self,
        id: Uuid,
        status: &str,
        failure_reason: Option<&str>,
    ) -> StoreResult<bool>;
    /// Cancels a pending change; returns its status before, `None` when it does not exist.
    async fn cancel_scheduled_change(
        &mut self,
        flag_id: Uuid,
        id: Uuid,
    ) -> StoreResult<Option<String>>;

    // The FlagSync outbox and the audit log.
    /// Records a change to an environment's configuration; it is numbered in commit
    /// order and published to watchers once committed.
    async fn record_change(
        &mut self,
        environment_id: Uuid,
        kind: ChangeKind,
        key: &str,
        version: i64,
        payload: Vec<u8>,
    ) -> StoreResult<()>;
    /// Records the change that closes a deleted environment's stream, at `sequence`
    /// (from `delete_environment`).
    async fn record_environment_deleted(
        &mut self,
        environment_id: Uuid,
        sequence: i64,
    ) -> StoreResult<()>;
    /// Deletes changes committed before `cutoff`, keeping each environment's newest one
    /// so a resuming watcher can always tell whether it is up to date.
    async fn prune_changes(&mut self, cutoff: OffsetDateTime) -> StoreResult<u64>;
    /// Appends an audit entry; it commits or rolls back with the session's other writes.
    async fn append_audit(&mut self, caller: &Caller, record: AuditRecord) -> StoreResult<()>;
}
