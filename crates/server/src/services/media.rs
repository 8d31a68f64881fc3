//! Media files (DOMAIN-4): bytes in the storage folder under
//! `media/<org>/<workspace>/<id>`, a row per file, and the workspace's byte
//! counter moved in the same transaction as the row.

use std::path::{Path, PathBuf};

use steward_core::ids::{MediaId, OrgId, WorkspaceId};
use steward_core::pagination::{self, Page};
use steward_core::permissions::Permission;
use steward_core::workspaces as rules;
use steward_core::{Error, FieldError, Result};
use steward_store::media::{self, Media};
use steward_store::{Db, audit};

use super::{Ctx, EventExt};

const TARGET: &str = "media";
/// Largest single upload.
pub const MAX_BYTES: usize = 25 * 1024 * 1024;

pub fn workspace_dir(storage: &Path, org: &OrgId, ws: &WorkspaceId) -> PathBuf {
    storage.join("media").join(org.as_str()).join(ws.as_str())
}

fn file_path(storage: &Path, m: &Media) -> PathBuf {
    workspace_dir(storage, &m.org_id, &m.workspace_id).join(m.id.as_str())
}

pub async fn list(db: &Db, ctx: &Ctx, ws: &WorkspaceId, page: &Page) -> Result<(Vec<Media>, Option<String>)> {
    let mut c = db.conn().await?;
    let w = ctx.workspace(&mut c, ws, Permission::WorkspacesRead).await?;
    let rows = media::list(&mut c, &w.scope, page.after.as_deref(), page.fetch_limit()).await?;
    Ok(pagination::finish(rows, page, |x| x.id.to_string()))
}

/// A file name safe to store and to send back in a header.
fn clean_filename(raw: Option<&str>) -> Result<String> {
    let name = raw.map(str::trim).filter(|n| !n.is_empty()).unwrap_or("upload");
    let bad = name.len() > 255
        || name.contains(['/', '\\', '"'])
        || name.chars().any(char::is_control)
        || name == "."
        || name == "..";
    if bad {
        return Err(Error::validation(vec![FieldError::new(
            "filename",
            "invalid",
            "must be a plain file name of at most 255 characters",
        )]));
    }
    Ok(name.to_owned())
}

/// `type/subtype` only; anything else is stored as octet-stream.
fn clean_content_type(raw: Option<&str>) -> String {
    let ct = raw.unwrap_or("").split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    let ok = ct.split_once('/').is_some_and(|(a, b)| {
        !a.is_empty()
            && !b.is_empty()
            && ct.len() <= 100
            && ct.bytes().all(|c| c.is_ascii_alphanumeric() || b"/+-.".contains(&c))
    });
    if ok { ct } else { "application/octet-stream".into() }
}

pub async fn upload(
    db: &Db,
    ctx: &Ctx,
    storage: &Path,
    ws: &WorkspaceId,
    filename: Option<&str>,
    content_type: Option<&str>,
    bytes: &[u8],
) -> Result<Media> {
    let filename = clean_filename(filename)?;
    if bytes.is_empty() {
        return Err(Error::validation(vec![FieldError::new("body", "required", "the upload is empty")]));
    }
    let mut tx = db.write(&ctx.org()?).await?;
    let w = ctx.workspace(&mut tx, ws, Permission::WorkspacesWrite).await?;
    rules::require_active_for_changes(w.workspace.status, w.workspace.status_reason.as_deref())?;
    let m = Media {
        id: MediaId::new(),
        org_id: w.scope.org_id().clone(),
        workspace_id: w.scope.id().clone(),
        filename,
        content_type: clean_content_type(content_type),
        bytes: bytes.len() as i64,
        created_by: ctx.principal.actor().id,
        created_at: ctx.now,
    };
    // The file first: a row must never point at bytes that aren't there.
    let path = file_path(storage, &m);
    let write = async {
        if let Some(dir) = path.parent() {
            tokio::fs::create_dir_all(dir).await?;
        }
        tokio::fs::write(&path, bytes).await
    };
    write.await.map_err(|e| {
        tracing::error!(error = %e, path = %path.display(), "cannot store an upload");
        Error::internal()
    })?;
    let saved = async {
        media::insert(&mut tx, &w.scope, &m).await?;
        let meta = serde_json::json!({ "filename": m.filename, "content_type": m.content_type, "bytes": m.bytes });
        let e = ctx.ws_event(&w.scope, "media.uploaded", TARGET, &m.id).metadata(meta);
        let done = audit::append(&mut tx, e).await?;
        tx.commit(done).await
    };
    if let Err(e) = saved.await {
        let _ = tokio::fs::remove_file(&path).await;
        return Err(e.into());
    }
    Ok(m)
}

/// The file's record and bytes.
pub async fn download(db: &Db, ctx: &Ctx, storage: &Path, ws: &WorkspaceId, id: &MediaId) -> Result<(Media, Vec<u8>)> {
    let mut c = db.conn().await?;
    let w = ctx.workspace(&mut c, ws, Permission::WorkspacesRead).await?;
    let m = media::get(&mut c, &w.scope, id).await?.ok_or_else(|| Error::not_found("media file"))?;
    let bytes = tokio::fs::read(file_path(storage, &m)).await.map_err(|e| {
        tracing::error!(error = %e, "a media file is missing from storage");
        Error::internal()
    })?;
    Ok((m, bytes))
}

pub async fn delete(db: &Db, ctx: &Ctx, storage: &Path, ws: &WorkspaceId, id: &MediaId) -> Result<()> {
    let mut tx = db.write(&ctx.org()?).await?;
    let w = ctx.workspace(&mut tx, ws, Permission::WorkspacesWrite).await?;
    rules::require_active_for_changes(w.workspace.status, w.workspace.status_reason.as_deref())?;
    let m = media::get(&mut tx, &w.scope, id).await?.ok_or_else(|| Error::not_found("media file"))?;
    media::delete(&mut tx, &w.scope, &m).await?;
    let e = ctx
        .ws_event(&w.scope, "media.deleted", TARGET, &m.id)
        .metadata(serde_json::json!({ "filename": m.filename, "bytes": m.bytes }));
    let done = audit::append(&mut tx, e).await?;
    tx.commit(done).await?;
    let _ = tokio::fs::remove_file(file_path(storage, &m)).await;
    Ok(())
}
