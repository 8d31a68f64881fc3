//! The `local` backend: one file per key under a root folder. Writes go to a
//! hidden temporary file beside the target and are renamed over it, so a reader
//! never sees half a file. Keys are checked before they get here, and no key
//! segment starts with `.`, so the temporary files are never listed as keys.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::FileResult;

fn path(root: &Path, key: &str) -> PathBuf {
    key.split('/').fold(root.to_path_buf(), |p, segment| p.join(segment))
}

/// A name no other writer (in this process or another) is using at the same time.
fn temp_name(target: &Path) -> PathBuf {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    target.with_file_name(format!(".{name}.{}-{n}.tmp", std::process::id()))
}

pub(super) async fn put(root: &Path, key: &str, bytes: &[u8]) -> FileResult<()> {
    let target = path(root, key);
    if let Some(dir) = target.parent() {
        tokio::fs::create_dir_all(dir).await?;
    }
    let temp = temp_name(&target);
    let written = async {
        tokio::fs::write(&temp, bytes).await?;
        tokio::fs::rename(&temp, &target).await
    };
    if let Err(e) = written.await {
        let _ = tokio::fs::remove_file(&temp).await;
        return Err(e.into());
    }
    Ok(())
}

pub(super) async fn get(root: &Path, key: &str) -> FileResult<Option<Vec<u8>>> {
    match tokio::fs::read(path(root, key)).await {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.into()),
    }
}

pub(super) async fn delete(root: &Path, key: &str) -> FileResult<bool> {
    match tokio::fs::remove_file(path(root, key)).await {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Removes the folder `prefix` with everything in it; how many files it held.
pub(super) async fn delete_dir(root: &Path, prefix: &str) -> FileResult<u64> {
    let dir = path(root, prefix);
    match tokio::fs::symlink_metadata(&dir).await {
        Ok(m) if m.is_dir() => {}
        Ok(_) => return Ok(0),
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e.into()),
    }
    let count = walk(&dir, prefix).await?.len() as u64;
    match tokio::fs::remove_dir_all(&dir).await {
        Ok(()) => Ok(count),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(count),
        Err(e) => Err(e.into()),
    }
}

pub(super) async fn keys(root: &Path) -> FileResult<Vec<String>> {
    walk(root, "").await
}

/// The keys of the regular files under `dir`, whose key is `base` (`""` for the
/// root). Hidden names (temporary files) and names that aren't UTF-8 are skipped.
async fn walk(dir: &Path, base: &str) -> FileResult<Vec<String>> {
    let mut out = Vec::new();
    let mut pending = vec![(dir.to_path_buf(), base.to_owned())];
    while let Some((dir, base)) = pending.pop() {
        let mut entries = match tokio::fs::read_dir(&dir).await {
            Ok(entries) => entries,
            Err(e) if e.kind() == ErrorKind::NotFound => continue,
            Err(e) => return Err(e.into()),
        };
        while let Some(entry) = entries.next_entry().await? {
            let Ok(name) = entry.file_name().into_string() else { continue };
            if name.starts_with('.') {
                continue;
            }
            let key = if base.is_empty() { name } else { format!("{base}/{name}") };
            let kind = entry.file_type().await?;
            if kind.is_dir() {
                pending.push((entry.path(), key));
            } else if kind.is_file() && super::check_key(&key).is_ok() {
                out.push(key);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use crate::files::Files;

    #[tokio::test]
    async fn local_files_round_trip() {
        let dir = tempfile::tempdir().expect("a folder");
        let files = Files::local(dir.path().join("files"));
        assert_eq!(files.keys().await.expect("keys of a missing folder"), Vec::<String>::new());
        assert_eq!(files.get("logos/org_a.png").await.expect("get"), None);

        files.put("logos/org_a.png", b"first").await.expect("put");
        files.put("logos/org_a.png", b"second, longer").await.expect("overwrite");
        assert_eq!(files.get("logos/org_a.png").await.expect("get").as_deref(), Some(&b"second, longer"[..]));
        files.put("media/org_a/ws_1/med_1", b"one").await.expect("put");
        files.put("media/org_a/ws_1/med_2", b"").await.expect("put empty");
        files.put("media/org_a/ws_10/med_3", b"three").await.expect("put");
        // A leftover temporary file is not a key.
        std::fs::write(dir.path().join("files/logos/.org_a.png.1-1.tmp"), b"x").expect("stray temp");
        assert_eq!(
            files.keys().await.expect("keys"),
            vec!["logos/org_a.png", "media/org_a/ws_1/med_1", "media/org_a/ws_1/med_2", "media/org_a/ws_10/med_3"]
        );
        assert_eq!(files.get("media/org_a/ws_1/med_2").await.expect("get"), Some(Vec::new()));

        assert!(files.delete("logos/org_a.png").await.expect("delete"));
        assert!(!files.delete("logos/org_a.png").await.expect("delete again"));
        assert_eq!(files.delete_prefix("media/org_a/ws_1").await.expect("delete_prefix"), 2);
        assert_eq!(files.delete_prefix("media/org_a/ws_1").await.expect("delete_prefix again"), 0);
        assert!(!dir.path().join("files/media/org_a/ws_1").exists(), "the folder goes too");
        assert_eq!(files.keys().await.expect("keys"), vec!["media/org_a/ws_10/med_3"]);

        assert!(files.put("../escape", b"x").await.is_err());
        assert!(files.get("/etc/passwd").await.is_err());
        assert!(!dir.path().join("escape").exists());
    }

    #[tokio::test]
    async fn copy_between_backends_is_idempotent() {
        let a = tempfile::tempdir().expect("a folder");
        let b = tempfile::tempdir().expect("a folder");
        let (from, to) = (Files::local(a.path()), Files::local(b.path()));
        from.put("logos/org_a.svg", b"<svg/>").await.expect("put");
        from.put("media/org_a/ws_1/med_1", &[7; 3000]).await.expect("put");
        for _ in 0..2 {
            let copied = to.copy_from(&from).await.expect("copy");
            assert_eq!((copied.files, copied.bytes), (2, 3006));
        }
        assert_eq!(to.get("media/org_a/ws_1/med_1").await.expect("get"), Some(vec![7; 3000]));
        assert_eq!(from.keys().await.expect("keys").len(), 2, "the source stays");
    }
}
