//! The SQLite arm: a fresh database file in a temporary directory per test.

use std::sync::Arc;

use tempfile::TempDir;
use vexil_config_api::store::sqlite::SqliteStore;
use vexil_config_api::store::ConfigStore;

pub struct Fixture {
    pub store: Arc<dyn ConfigStore>,
    /// Removed when the fixture drops, after the store closed.
    _directory: TempDir,
}

pub async fn open() -> Fixture {
    let directory = tempfile::tempdir().expect("creating a temporary directory");
    let store = SqliteStore::open(&directory.path().join("config.db"))
        .await
        .expect("opening a fresh SQLite store");
    Fixture {
        store: Arc::new(store),
        _directory: directory,
    }
}

impl Fixture {
    pub async fn close(self) {
        self.store.close().await;
    }
}
