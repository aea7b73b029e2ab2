//! The `AnalyticsStore` contract, written once (`behaviours/`, one async function per
//! behaviour taking `&dyn AnalyticsStore`) and run against every implementation by
//! `contract!`: PostgreSQL on a fresh database per test (`#[sqlx::test]` on `DATABASE_URL`,
//! migrated through the store's own migration path) and SQLite in a fresh temporary
//! directory. Needs no Kafka.

mod behaviours;
mod fixtures;
mod sqlite_file;

/// Runs each listed behaviour against PostgreSQL and against SQLite.
macro_rules! contract {
    ($($module:ident :: $name:ident),* $(,)?) => {
        mod postgres {
            $(
                #[sqlx::test(migrations = false)]
                async fn $name(pool: sqlx::PgPool) {
                    let store = crate::fixtures::postgres(pool).await;
                    crate::behaviours::$module::$name(&store).await;
                }
            )*
        }

        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    let (store, _directory) = crate::fixtures::sqlite().await;
                    crate::behaviours::$module::$name(&store).await;
                    vexil_analytics_worker::store::AnalyticsStore::close(&store).await;
                }
            )*
        }
    };
}

contract!(
    offsets::offsets_load_what_commits_stored,
    offsets::a_batch_not_starting_at_the_stored_offset_is_fenced_and_writes_nothing,
    dedup::retried_payloads_count_once_across_and_within_batches,
    dedup::pruning_forgets_only_keys_older_than_the_retention,
    usage::usage_sums_buckets_by_variation,
    usage::distinct_contexts_union_the_days_and_partitions_asked_for,
    contexts::contexts_list_most_recent_first_without_anonymous_ones,
    stale::last_evaluated_and_flag_activity_per_flag,
    experiments::experiment_statistics_join_exposures_with_later_custom_events,
);
