//! The `[database]` section of the services on PostgreSQL (config-api, analytics-worker) and
//! its checks, also used by `vexil up` for `--database-url`. A database URL is never printed:
//! it may hold a password.

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

/// A `[database]` value that parses but cannot work; the message starts with the key.
#[derive(Debug, thiserror::Error)]
pub enum DatabaseConfigError {
    /// Only the scheme is shown, as `scheme://...`.
    #[error("database.url must start with postgres:// or postgresql://, got `{0}`")]
    Scheme(String),
    #[error("database.url is not a valid PostgreSQL URL")]
    Url(#[source] sqlx::Error),
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

    pub fn validate(&self) -> Result<(), DatabaseConfigError> {
        check_url(&self.url)?;
        if self.max_connections == 0 {
            return Err(DatabaseConfigError::MaxConnections);
        }
        Ok(())
    }
}

/// A PostgreSQL URL: the scheme, then what the driver will parse when it connects.
pub fn check_url(url: &str) -> Result<(), DatabaseConfigError> {
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        let shown = url
            .split_once("://")
            .map_or("(no scheme)", |(scheme, _)| scheme);
        return Err(DatabaseConfigError::Scheme(format!("{shown}://...")));
    }
    url.parse::<sqlx::postgres::PgConnectOptions>()
        .map_err(DatabaseConfigError::Url)?;
    Ok(())
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
}
