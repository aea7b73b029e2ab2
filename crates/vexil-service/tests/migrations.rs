//! `vexil_service::migrations` against the real PostgreSQL of `DATABASE_URL` (a fresh
//! database per test, from `#[sqlx::test]`).
#![cfg(feature = "postgres")]

use std::path::Path;

use sqlx::migrate::Migrator;
use sqlx::PgPool;

/// A migrator over one migration that creates `{schema}.things`.
async fn migrator(directory: &Path, schema: &str) -> Migrator {
    let folder = directory.join(schema);
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(
        folder.join("20260101000001_things.sql"),
        format!("CREATE SCHEMA IF NOT EXISTS {schema}; CREATE TABLE {schema}.things (id int);"),
    )
    .unwrap();
    Migrator::new(folder).await.unwrap()
}

async fn history(pool: &PgPool, table: &str) -> Vec<i64> {
    sqlx::query_scalar(&format!("SELECT version FROM {table} ORDER BY version"))
        .fetch_all(pool)
        .await
        .unwrap()
}

#[sqlx::test(migrations = false)]
async fn two_services_share_one_database_each_with_its_own_history(pool: PgPool) {
    let directory = tempfile::tempdir().unwrap();
    let first = migrator(directory.path(), "first").await;
    let second = migrator(directory.path(), "second").await;

    vexil_service::migrations::run(&pool, "first", &first)
        .await
        .unwrap();
    vexil_service::migrations::run(&pool, "second", &second)
        .await
        .unwrap();
    // Running again applies nothing twice (a second CREATE TABLE would fail).
    vexil_service::migrations::run(&pool, "first", &first)
        .await
        .unwrap();

    assert_eq!(
        history(&pool, "first._sqlx_migrations").await,
        [20260101000001]
    );
    assert_eq!(
        history(&pool, "second._sqlx_migrations").await,
        [20260101000001]
    );
    let public: Option<String> =
        sqlx::query_scalar("SELECT to_regclass('public._sqlx_migrations')::text")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(public, None, "nothing is kept in public");
    // The pool's own connections still use the default search_path.
    let search_path: String = sqlx::query_scalar("SHOW search_path")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(!search_path.contains("first"), "{search_path}");
}

#[sqlx::test(migrations = false)]
async fn history_kept_in_public_by_older_versions_is_carried_over(pool: PgPool) {
    let directory = tempfile::tempdir().unwrap();
    let first = migrator(directory.path(), "first").await;
    // The old way: sqlx's own run, history in public._sqlx_migrations.
    first.run(&pool).await.unwrap();

    vexil_service::migrations::run(&pool, "first", &first)
        .await
        .unwrap();

    assert_eq!(
        history(&pool, "first._sqlx_migrations").await,
        [20260101000001]
    );
}

#[sqlx::test(migrations = false)]
async fn a_schema_name_that_is_not_an_identifier_is_refused(pool: PgPool) {
    let directory = tempfile::tempdir().unwrap();
    let first = migrator(directory.path(), "first").await;
    let error = vexil_service::migrations::run(&pool, "first; DROP", &first)
        .await
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("not a plain lower-case identifier"),
        "{error}"
    );
}
