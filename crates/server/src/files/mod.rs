//! Files behind one boundary: logos, media, and later exports, invoices and
//! reports are stored and read by key, whatever keeps the bytes.
//!
//! Keys are relative slash paths (`logos/org_….png`, `media/org_…/ws_…/med_…`).
//! Two backends implement the five operations: [`Local`](Backend::Local), a
//! folder (the default on SQLite), and [`Database`](Backend::Database), chunked
//! rows in the application's database (the default on PostgreSQL, so every
//! instance on one database sees the same files without a shared volume). An
//! S3-compatible backend would be a third variant with object keys = our keys.

mod local;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use steward_core::time::Timestamp;
use steward_store::{Db, StoreError};

/// Which backend keeps the files (`file_storage` in the configuration).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileStorage {
    Local,
    Database,
}

impl FileStorage {
    pub const NAMES: [&'static str; 2] = ["local", "database"];

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "local" => Some(FileStorage::Local),
            "database" => Some(FileStorage::Database),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            FileStorage::Local => "local",
            FileStorage::Database => "database",
        }
    }
}

/// A file operation that failed. Use cases turn it into a logged 500 (a 503
/// when the database backend's database is away).
#[derive(Debug)]
pub enum FileError {
    /// The key is not a relative slash path of plain segments.
    InvalidKey(String),
    Io(std::io::Error),
    Store(StoreError),
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FileError::InvalidKey(k) => write!(f, "invalid file key {k:?}"),
            FileError::Io(e) => write!(f, "file storage: {e}"),
            FileError::Store(e) => write!(f, "file storage: {e}"),
        }
    }
}

impl std::error::Error for FileError {}

impl From<std::io::Error> for FileError {
    fn from(e: std::io::Error) -> Self {
        FileError::Io(e)
    }
}

impl From<StoreError> for FileError {
    fn from(e: StoreError) -> Self {
        FileError::Store(e)
    }
}

impl From<FileError> for steward_core::Error {
    fn from(e: FileError) -> Self {
        // The database backend's outage is the database's: 503, to retry.
        let e = match e {
            FileError::Store(s) => return s.into(),
            other => other,
        };
        tracing::error!(error = %e, "file storage failed");
        steward_core::Error::internal()
    }
}

pub type FileResult<T> = Result<T, FileError>;

/// How much a copy between backends moved.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Copied {
    pub files: u64,
    pub bytes: u64,
}

/// The file store; cheap to clone.
#[derive(Clone)]
pub struct Files {
    backend: Backend,
}

#[derive(Clone)]
enum Backend {
    /// Files under a folder, one per key.
    Local { root: Arc<PathBuf> },
    /// Chunked rows in the database (`steward_store::files`).
    Database { db: Db },
}

impl fmt::Debug for Files {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.backend {
            Backend::Local { root } => write!(f, "Files::Local({})", root.display()),
            Backend::Database { db } => write!(f, "Files::Database({})", db.engine().name()),
        }
    }
}

impl Files {
    /// Files in a folder (created on the first write).
    pub fn local(root: impl Into<PathBuf>) -> Self {
        Self { backend: Backend::Local { root: Arc::new(root.into()) } }
    }

    /// Files in the database's `stored_files` tables.
    pub fn database(db: Db) -> Self {
        Self { backend: Backend::Database { db } }
    }

    /// The backend `kind` names: the folder for `local`, `db` for `database`.
    pub fn of_kind(kind: FileStorage, root: &Path, db: &Db) -> Self {
        match kind {
            FileStorage::Local => Self::local(root),
            FileStorage::Database => Self::database(db.clone()),
        }
    }

    pub fn kind(&self) -> FileStorage {
        match &self.backend {
            Backend::Local { .. } => FileStorage::Local,
            Backend::Database { .. } => FileStorage::Database,
        }
    }

    /// Stores `bytes` under `key`, replacing any earlier file; readers see the
    /// old file or the new one, never a part.
    pub async fn put(&self, key: &str, bytes: &[u8]) -> FileResult<()> {
        check_key(key)?;
        match &self.backend {
            Backend::Local { root } => local::put(root, key, bytes).await,
            Backend::Database { db } => {
                Ok(steward_store::files::put(db, key, bytes, Timestamp::now_utc().millis()).await?)
            }
        }
    }

    /// [`put`](Self::put), to be undone unless the caller [keeps](Pending::keep) it.
    pub async fn put_pending(&self, key: &str, bytes: &[u8]) -> FileResult<Pending> {
        self.put(key, bytes).await?;
        Ok(Pending { files: self.clone(), key: Some(key.to_owned()) })
    }

    /// The file's bytes, or `None` when nothing is stored under `key`.
    pub async fn get(&self, key: &str) -> FileResult<Option<Vec<u8>>> {
        check_key(key)?;
        match &self.backend {
            Backend::Local { root } => local::get(root, key).await,
            Backend::Database { db } => Ok(steward_store::files::get(db, key).await?),
        }
    }

    /// Removes the file; whether there was one.
    pub async fn delete(&self, key: &str) -> FileResult<bool> {
        check_key(key)?;
        match &self.backend {
            Backend::Local { root } => local::delete(root, key).await,
            Backend::Database { db } => Ok(steward_store::files::delete(db, key).await?),
        }
    }

    /// Removes every file under the folder `prefix` (keys starting `prefix/`);
    /// how many went.
    pub async fn delete_prefix(&self, prefix: &str) -> FileResult<u64> {
        check_key(prefix)?;
        match &self.backend {
            Backend::Local { root } => local::delete_dir(root, prefix).await,
            Backend::Database { db } => Ok(steward_store::files::delete_prefix(db, &format!("{prefix}/")).await?),
        }
    }

    /// Every key stored, sorted (for copying between backends).
    pub async fn keys(&self) -> FileResult<Vec<String>> {
        let mut keys = match &self.backend {
            Backend::Local { root } => local::keys(root).await?,
            Backend::Database { db } => steward_store::files::keys(db).await?,
        };
        keys.sort_unstable();
        Ok(keys)
    }

    /// Copies every file of `from` into `self`, replacing files with the same
    /// key (so running it twice is harmless); `from` is left as it was.
    pub async fn copy_from(&self, from: &Files) -> FileResult<Copied> {
        let mut copied = Copied::default();
        for key in from.keys().await? {
            // A file deleted since the listing is simply skipped.
            let Some(bytes) = from.get(&key).await? else { continue };
            self.put(&key, &bytes).await?;
            copied.files += 1;
            copied.bytes += bytes.len() as u64;
        }
        Ok(copied)
    }
}

/// A file written ahead of the transaction that records it: removed again when
/// dropped, unless [`keep`](Self::keep) says the record committed.
#[must_use = "dropping it removes the file"]
pub struct Pending {
    files: Files,
    key: Option<String>,
}

impl Pending {
    /// The record committed: the file stays.
    pub fn keep(mut self) {
        self.key = None;
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        let Some(key) = self.key.take() else { return };
        let files = self.files.clone();
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                if let Err(e) = files.delete(&key).await {
                    tracing::warn!(error = %e, key, "could not remove an unrecorded file");
                }
            });
        }
    }
}

/// A key is a relative slash path of plain segments: no empty, `.`-leading
/// (which also rules out `.` and `..`) or over-long segment, no backslash or
/// control character, at most 1,024 bytes.
pub fn check_key(key: &str) -> FileResult<()> {
    let segment_ok = |s: &str| {
        !s.is_empty() && !s.starts_with('.') && s.len() <= 255 && !s.chars().any(|c| c == '\\' || c.is_control())
    };
    if key.len() <= 1024 && key.split('/').all(segment_ok) {
        Ok(())
    } else {
        Err(FileError::InvalidKey(key.chars().take(100).collect()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_plain_relative_paths() {
        for good in ["logos/org_1.png", "media/org_a/ws_b/med_c", "a", "exports/2026-01/report v2.csv"] {
            assert!(check_key(good).is_ok(), "{good}");
        }
        let long = "a".repeat(256);
        for bad in
            ["", "/abs", "a//b", "a/", "../x", "a/../b", "a/./b", ".", "..", "a\\b", "a/.hidden", "a\nb", "a\0b", &long]
        {
            assert!(matches!(check_key(bad), Err(FileError::InvalidKey(_))), "{bad:?}");
        }
    }

    #[test]
    fn storage_names_parse() {
        for name in FileStorage::NAMES {
            assert_eq!(FileStorage::parse(name).map(FileStorage::as_str), Some(name));
        }
        assert_eq!(FileStorage::parse("s3"), None);
        assert_eq!(FileStorage::parse("Local"), None);
    }
}
