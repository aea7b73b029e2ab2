//! The PostgreSQL arm: a fresh database per test on the server `DATABASE_URL` names (the
//! one `scripts/test-env` provides), migrated, and dropped when the test ends.

use std::sync::Arc;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgConnection};
use vexil_config_api::store::{ConfigStore, PostgresStore};

pub struct Fixture {
    pub store: Arc<dyn ConfigStore>,
    server: PgConnectOptions,
    database: String,
}

fn server() -> PgConnectOptions {
    let url = std::env::var("DATABASE_URL")
        .expect("DATABASE_URL names the PostgreSQL server (scripts/test-env sets it)");
    url.parse().expect("DATABASE_URL is a PostgreSQL URL")
}

pub async fn open() -> Fixture {
    let server = server();
    let database = format!("vexil_contract_{}", uuid::Uuid::new_v4().simple());
    let mut admin = server.connect().await.expect("connecting to DATABASE_URL");
    sqlx::query(&format!("CREATE DATABASE {database}"))
        .execute(&mut admin)
        .await
        .expect("creating the test database");
    admin.close().await.ok();
    let pool = PgPoolOptions::new()
        .max_connections(8)
        .connect_with(server.clone().database(&database))
        .await
        .expect("connecting to the test database");
    let store = PostgresStore::new(pool);
    store.migrate().await.expect("migrating the test database");
    Fixture {
        store: Arc::new(store),
        server,
        database,
    }
}

impl Fixture {
    pub async fn close(self) {
        self.store.close().await;
        let mut admin = PgConnection::connect_with(&self.server)
            .await
            .expect("connecting to DATABASE_URL");
        sqlx::query(&format!("DROP DATABASE {} WITH (FORCE)", self.database))
            .execute(&mut admin)
            .await
            .expect("dropping the test database");
    }
}
