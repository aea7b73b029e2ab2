//! The `ConfigStore` contract, written once and run on every store.
//!
//! Behaviours (`behaviours/`, files by topic) are `async fn x(store: Arc<dyn ConfigStore>)`
//! that use nothing but the traits, so any store can run them. They call `store.flush()`
//! after the commits whose changes or audit entries they then read (PostgreSQL numbers and
//! chains them after commit) and wait for hub events with a deadline, never a sleep.
//!
//! An arm (`arms/`) opens one store: `async fn open() -> Fixture`, where the `Fixture`
//! holds the store in `store` plus whatever must outlive the test (a temporary directory,
//! a database), and `Fixture::close(self).await` ends it. `contract!(arm; module::behaviour,
//! …)` generates one `#[tokio::test]` per behaviour in a module named after the arm;
//! `contract!(arm_a, arm_b; …)` runs the same list on several arms.
//!
//! What only one store has (SQLite's file, its lock, its statements) is tested in
//! `sqlite_only.rs`.

mod arms;
mod behaviours;
mod sqlite_only;
mod support;

/// One `#[tokio::test]` per listed behaviour, per arm.
macro_rules! contract {
    ($arm:ident, $($more:ident),+ ; $($behaviours:tt)*) => {
        contract!($arm; $($behaviours)*);
        contract!($($more),+ ; $($behaviours)*);
    };
    ($arm:ident; $($module:ident :: $behaviour:ident),* $(,)?) => {
        mod $arm {
            $(
                // Several threads: behaviours run writers concurrently.
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $behaviour() {
                    let fixture = crate::arms::$arm::open().await;
                    crate::behaviours::$module::$behaviour(fixture.store.clone()).await;
                    fixture.close().await;
                }
            )*
        }
    };
}

contract!(sqlite, postgres;
    keys::duplicate_keys_are_refused_with_none,
    keys::projects_and_environments_read_back_as_written,
    flags::flag_environment_upsert_and_sdk_flags_order,
    flags::flags_update_archive_and_delete,
    flags::list_flags_filters_pages_and_counts,
    flags::tombstones_are_taken_once_per_kind,
    segments::segments_insert_list_update_and_delete,
    credentials::credentials_resolve_until_revoked,
    credentials::retiring_credentials_with_and_without_expiry,
    tokens::tokens_create_list_revoke_and_find_actor,
    tokens::bootstrap_token_rotation_revokes_the_old_one,
    approvals::approvals_list_review_and_apply,
    scheduled::scheduled_changes_claim_finish_and_cancel,
    cascades::deleting_an_environment_cascades_and_closes_its_stream,
    cascades::deleting_a_project_cascades,
    sessions::a_dropped_write_leaves_nothing_and_publishes_nothing,
    sessions::savepoint_rollback_undoes_rows_changes_and_audit_entries,
    sessions::a_snapshot_does_not_see_later_commits,
    sessions::writes_see_their_own_uncommitted_rows,
    changes::sequences_are_gapless_in_commit_order_and_published_in_order,
    changes::concurrent_writers_are_numbered_and_published_in_commit_order,
    changes::changes_since_and_oldest_change_held,
    changes::pruning_keeps_each_environments_newest_change,
    audit::the_audit_chain_verifies_after_many_writes,
    audit::list_audit_filters,
);
