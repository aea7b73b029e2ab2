//! The `[database]` section of the services on PostgreSQL (config-api, analytics-worker) and
//! its checks, also used by `vexil up` for `--database-url`. A service that also runs on
//! SQLite (analytics-worker, for `vexil up`'s embedded mode) checks its URL with
//! [`DatabaseConfig::validate_for`], naming the kinds it accepts; [`DatabaseConfig::validate`]
//! accepts PostgreSQL only. A database URL is never printed: it may hold a password.

use serde::{Deserialize, Serialize};
use sqlx::postgres::{PgPool, PgPoolOptions};

/// `[database]` in `vexil.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `postgres://user:password@host:port/database`; prefer setting it through
    /// `VEXIL_DATABASE__URL` so the password stays out of files.
    pub url: String,
    pub max_connections: u32,
    /// Apply pending migrations at startup.
    pub migrate: bool,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig {
            url: "postgres://postgres@127.0.0.1:5432/vexil".into(),
            max_connections: 10,
            migrate: true,
        }
    }
}

/// The databases a `database.url` can name, told apart by its scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatabaseKind {
    /// `postgres://` or `postgresql://`.
    Postgres,
    /// `sqlite://path` or `sqlite:path` (a file; `sqlite::memory:` for tests).
    Sqlite,
}

impl DatabaseKind {
    /// The kind `url`'s scheme names, if any.
    pub fn of_url(url: &str) -> Option<DatabaseKind> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(DatabaseKind::Postgres)
        } else if url.starts_with("sqlite:") {
            Some(DatabaseKind::Sqlite)
        } else {
            None
        }
    }

    fn schemes(self) -> &'static [&'static str] {
        match self {
            DatabaseKind::Postgres => &["postgres://", "postgresql://"],
            DatabaseKind::Sqlite => &["sqlite:"],
        }
    }
}

/// A `[database]` value that parses but cannot work; the message starts with the key.
#[derive(Debug, thiserror::Error)]
pub enum DatabaseConfigError {
    /// Only the scheme is shown, as `scheme://...`; `expected` lists the accepted schemes.
    #[error("database.url must start with {expected}, got `{got}`")]
    Scheme { expected: String, got: String },
    #[error("database.url is not a valid PostgreSQL URL")]
    Url(#[source] sqlx::Error),
    #[error("database.url is not a valid SQLite URL")]
    SqliteUrl(#[source] sqlx::Error),
    #[error("database.max_connections must be at least 1")]
    MaxConnections,
}

impl DatabaseConfig {
    /// A pool of up to `max_connections` to `url`, connected once before it is returned.
    pub async fn connect(&self) -> Result<PgPool, sqlx::Error> {
        PgPoolOptions::new()
            .max_connections(self.max_connections)
            .connect(&self.url)
            .await
    }

    /// For the services on PostgreSQL only.
    pub fn validate(&self) -> Result<(), DatabaseConfigError> {
        self.validate_for(&[DatabaseKind::Postgres]).map(|_| ())
    }

    /// As [`DatabaseConfig::validate`], for a service that runs on any of `accepted`;
    /// returns the kind `url` names.
    pub fn validate_for(
        &self,
        accepted: &[DatabaseKind],
    ) -> Result<DatabaseKind, DatabaseConfigError> {
        let kind = check_url_for(&self.url, accepted)?;
        if self.max_connections == 0 {
            return Err(DatabaseConfigError::MaxConnections);
        }
        Ok(kind)
    }
}

/// A PostgreSQL URL: the scheme, then what the driver will parse when it connects.
pub fn check_url(url: &str) -> Result<(), DatabaseConfigError> {
    check_url_for(url, &[DatabaseKind::Postgres]).map(|_| ())
}

/// A URL of one of the `accepted` kinds: the scheme, then what the driver will parse when
/// it connects. Returns the kind.
pub fn check_url_for(
    url: &str,
    accepted: &[DatabaseKind],
) -> Result<DatabaseKind, DatabaseConfigError> {
    let Some(kind) = DatabaseKind::of_url(url).filter(|kind| accepted.contains(kind)) else {
        let shown = url
            .split_once("://")
            .map_or("(no scheme)", |(scheme, _)| scheme);
        return Err(DatabaseConfigError::Scheme {
            expected: expected_schemes(accepted),
            got: format!("{shown}://..."),
        });
    };
    match kind {
        DatabaseKind::Postgres => {
            url.parse::<sqlx::postgres::PgConnectOptions>()
                .map_err(DatabaseConfigError::Url)?;
        }
        DatabaseKind::Sqlite => {
            url.parse::<sqlx::sqlite::SqliteConnectOptions>()
                .map_err(DatabaseConfigError::SqliteUrl)?;
        }
    }
    Ok(kind)
}

/// "postgres:// or postgresql://", "postgres://, postgresql:// or sqlite:".
fn expected_schemes(accepted: &[DatabaseKind]) -> String {
    let schemes: Vec<&str> = accepted
        .iter()
        .flat_map(|kind| kind.schemes().iter().copied())
        .collect();
    match schemes.split_last() {
        Some((last, [])) => (*last).to_owned(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => "a supported scheme".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_is_valid() {
        DatabaseConfig::default().validate().unwrap();
    }

    #[test]
    fn bad_values_name_their_key_and_never_the_password() {
        for (url, expected) in [
            (
                "mysql://root:hunter2@db/vexil",
                "database.url must start with postgres:// or postgresql://, got `mysql://...`",
            ),
            ("hunter2", "database.url must start with postgres:// or postgresql://, got `(no scheme)://...`"),
            ("postgres://root:hunter2@db:notaport/vexil", "database.url is not a valid PostgreSQL URL"),
        ] {
            let message = check_url(url).unwrap_err().to_string();
            assert_eq!(message, expected);
            assert!(!message.contains("hunter2"));
        }
        let config = DatabaseConfig {
            max_connections: 0,
            ..DatabaseConfig::default()
        };
        assert_eq!(
            config.validate().unwrap_err().to_string(),
            "database.max_connections must be at least 1"
        );
    }

    #[test]
    fn postgres_only_services_refuse_sqlite_urls() {
        let config = DatabaseConfig {
            url: "sqlite://./vexil-data/analytics.db".into(),
            ..DatabaseConfig::default()
        };
        assert_eq!(
            config.validate().unwrap_err().to_string(),
            "database.url must start with postgres:// or postgresql://, got `sqlite://...`"
        );
    }

    #[test]
    fn services_on_both_accept_either_and_name_every_scheme() {
        let both = [DatabaseKind::Postgres, DatabaseKind::Sqlite];
        for (url, kind) in [
            (
                "postgres://postgres@127.0.0.1/vexil",
                DatabaseKind::Postgres,
            ),
            (
                "postgresql://postgres@127.0.0.1/vexil",
                DatabaseKind::Postgres,
            ),
            ("sqlite://./vexil-data/analytics.db", DatabaseKind::Sqlite),
            ("sqlite:vexil-data/analytics.db", DatabaseKind::Sqlite),
        ] {
            assert_eq!(check_url_for(url, &both).unwrap(), kind, "{url}");
        }
        assert_eq!(
            check_url_for("mysql://root:hunter2@db/vexil", &both)
                .unwrap_err()
                .to_string(),
            "database.url must start with postgres://, postgresql:// or sqlite:, got `mysql://...`"
        );
        assert_eq!(
            check_url_for("sqlite://analytics.db?mode=nonsense", &both)
                .unwrap_err()
                .to_string(),
            "database.url is not a valid SQLite URL"
        );
    }
}
