//! The data directory of `vexil up` (`--data-dir`, default `./vexil-data`): what must survive
//! a restart of the process and lives nowhere else. Flags, events and analytics live in the
//! backends; here are only the admin token (config-api stores just its hash) and the demo
//! project's SDK keys (shown once by the API that created them). Both are secrets: the
//! directory is private to the user and the files are written whole, then renamed.

use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};

const ADMIN_TOKEN_FILE: &str = "admin-token";
const DEMO_FILE: &str = "demo.json";

/// The opened data directory.
#[derive(Debug, Clone)]
pub struct DataDir {
    path: PathBuf,
}

/// What the demo project's creation returned, kept for the banner of later starts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DemoKeys {
    pub project: String,
    pub environments: Vec<EnvironmentKeys>,
}

/// One environment's credentials.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnvironmentKeys {
    pub key: String,
    pub sdk_key: String,
    pub mobile_key: String,
    pub client_side_id: String,
}

impl DataDir {
    /// Creates the directory (mode 0700) when missing.
    pub fn open(path: &Path) -> anyhow::Result<DataDir> {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(path)
            .with_context(|| format!("creating the data directory {}", path.display()))?;
        Ok(DataDir {
            path: path.to_owned(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The admin token: the one kept here, or a new one on first start.
    pub fn admin_token(&self) -> anyhow::Result<String> {
        let file = self.path.join(ADMIN_TOKEN_FILE);
        match fs::read_to_string(&file) {
            Ok(token) if !token.trim().is_empty() => Ok(token.trim().to_owned()),
            Ok(_) => anyhow::bail!(
                "{} is empty: delete it to get a new admin token",
                file.display()
            ),
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                let token = vexil_config_api::secrets::new_api_token();
                self.write_private(ADMIN_TOKEN_FILE, format!("{token}\n").as_bytes())?;
                Ok(token)
            }
            Err(error) => Err(error).with_context(|| format!("reading {}", file.display())),
        }
    }

    /// The demo's keys, when the demo was created by an earlier start.
    pub fn demo_keys(&self) -> anyhow::Result<Option<DemoKeys>> {
        let file = self.path.join(DEMO_FILE);
        match fs::read(&file) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .with_context(|| format!("{} is not valid: delete it", file.display())),
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(error).with_context(|| format!("reading {}", file.display())),
        }
    }

    pub fn save_demo_keys(&self, keys: &DemoKeys) -> anyhow::Result<()> {
        let json = serde_json::to_vec_pretty(keys).context("encoding the demo's keys")?;
        self.write_private(DEMO_FILE, &json)
    }

    /// Writes `name` readable by the owner only, atomically.
    fn write_private(&self, name: &str, contents: &[u8]) -> anyhow::Result<()> {
        let target = self.path.join(name);
        let temporary = self.path.join(format!(".{name}.tmp"));
        let write = || -> io::Result<()> {
            let mut file = fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(&temporary)?;
            file.write_all(contents)?;
            file.sync_all()?;
            fs::rename(&temporary, &target)
        };
        write().with_context(|| format!("writing {}", target.display()))
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn the_admin_token_is_made_once_and_kept_private() {
        let directory = tempfile::tempdir().unwrap();
        let data = DataDir::open(&directory.path().join("data")).unwrap();
        let first = data.admin_token().unwrap();
        assert_eq!(data.admin_token().unwrap(), first);
        let mode = fs::metadata(data.path().join(ADMIN_TOKEN_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let mode = fs::metadata(data.path()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
    }

    #[test]
    fn demo_keys_round_trip() {
        let directory = tempfile::tempdir().unwrap();
        let data = DataDir::open(directory.path()).unwrap();
        assert_eq!(data.demo_keys().unwrap(), None);
        let keys = DemoKeys {
            project: "demo".into(),
            environments: vec![EnvironmentKeys {
                key: "test".into(),
                sdk_key: "sdk-1".into(),
                mobile_key: "mob-1".into(),
                client_side_id: "abc".into(),
            }],
        };
        data.save_demo_keys(&keys).unwrap();
        assert_eq!(data.demo_keys().unwrap(), Some(keys));
    }

    #[test]
    fn a_damaged_file_is_an_error_that_says_what_to_do() {
        let directory = tempfile::tempdir().unwrap();
        let data = DataDir::open(directory.path()).unwrap();
        fs::write(directory.path().join(DEMO_FILE), b"{").unwrap();
        let message = format!("{:#}", data.demo_keys().unwrap_err());
        assert!(
            message.contains("demo.json is not valid: delete it"),
            "{message}"
        );
        fs::write(directory.path().join(ADMIN_TOKEN_FILE), b"\n").unwrap();
        let message = format!("{:#}", data.admin_token().unwrap_err());
        assert!(message.contains("is empty"), "{message}");
    }
}
