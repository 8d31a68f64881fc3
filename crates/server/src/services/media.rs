//! Media files (DOMAIN-4): bytes in the file store under
//! `media/<org>/<workspace>/<id>`, a row per file, and the workspace's byte
//! counter moved in the same transaction as the row.

use steward_core::ids::{MediaId, OrgId, WorkspaceId};
use steward_core::messages::rule;
use steward_core::pagination::{self, Page};
use steward_core::permissions::Permission;
use steward_core::workspaces as rules;
use steward_core::{Error, Result};
use steward_store::media::{self, Media};
use steward_store::{Db, WorkspaceScope, audit};

use crate::files::Files;

use super::{Ctx, EventExt};

const TARGET: &str = "media";
/// Largest single upload.
pub const MAX_BYTES: usize = 25 * 1024 * 1024;

/// The folder key holding a workspace's files (for [`Files::delete_prefix`]).
pub fn workspace_prefix(ws: &WorkspaceScope) -> String {
    format!("media/{}/{}", ws.org_id(), ws.id())
}

fn file_key(ws: &WorkspaceScope, id: &MediaId) -> String {
    key_of(ws.org_id(), ws.id(), id)
}

/// Where a media file's bytes are kept (the demo seeder writes them in bulk).
pub(crate) fn key_of(org: &OrgId, ws: &WorkspaceId, id: &MediaId) -> String {
    format!("media/{org}/{ws}/{id}")
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
        return Err(Error::field("filename", &rule::INVALID_FILENAME, &[]));
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
    files: &Files,
    ws: &WorkspaceId,
    filename: Option<&str>,
    content_type: Option<&str>,
    bytes: &[u8],
) -> Result<Media> {
    let filename = clean_filename(filename)?;
    if bytes.is_empty() {
        return Err(Error::field("body", &rule::REQUIRED, &[]));
    }
    // Refused before anything is stored.
    let scope = {
        let mut c = db.conn().await?;
        let w = ctx.workspace(&mut c, ws, Permission::WorkspacesWrite).await?;
        rules::require_active_for_changes(w.workspace.status, w.workspace.status_reason.as_deref())?;
        w.scope
    };
    // The file before the transaction: a row must never point at bytes that
    // aren't there, and the database backend writes on its own connection
    // (SQLite has one writer). It is removed again unless the row commits.
    let id = MediaId::new();
    let key = file_key(&scope, &id);
    let stored = files.put_pending(&key, bytes).await.map_err(|e| {
        tracing::error!(error = %e, key, "cannot store an upload");
        Error::internal()
    })?;
    let mut tx = db.write(scope.org()).await?;
    // Checked again inside the write: the workspace may have changed meanwhile.
    let w = ctx.workspace(&mut tx, ws, Permission::WorkspacesWrite).await?;
    rules::require_active_for_changes(w.workspace.status, w.workspace.status_reason.as_deref())?;
    let m = Media {
        id,
        org_id: w.scope.org_id().clone(),
        workspace_id: w.scope.id().clone(),
        filename,
        content_type: clean_content_type(content_type),
        bytes: bytes.len() as i64,
        created_by: ctx.principal.actor().id,
        created_at: ctx.now,
    };
    media::insert(&mut tx, &w.scope, &m).await?;
    let meta = serde_json::json!({ "filename": m.filename, "content_type": m.content_type, "bytes": m.bytes });
    let e = ctx.ws_event(&w.scope, "media.uploaded", TARGET, &m.id).metadata(meta);
    let done = audit::append(&mut tx, e).await?;
    tx.commit(done).await?;
    stored.keep();
    Ok(m)
}

/// The file's record and bytes.
pub async fn download(db: &Db, ctx: &Ctx, files: &Files, ws: &WorkspaceId, id: &MediaId) -> Result<(Media, Vec<u8>)> {
    let mut c = db.conn().await?;
    let w = ctx.workspace(&mut c, ws, Permission::WorkspacesRead).await?;
    let m = media::get(&mut c, &w.scope, id).await?.ok_or_else(|| Error::not_found("media file"))?;
    let bytes = files.get(&file_key(&w.scope, &m.id)).await?.ok_or_else(|| {
        tracing::error!(media = %m.id, "a media file is missing from storage");
        Error::internal()
    })?;
    Ok((m, bytes))
}

pub async fn delete(db: &Db, ctx: &Ctx, files: &Files, ws: &WorkspaceId, id: &MediaId) -> Result<()> {
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
    if let Err(e) = files.delete(&file_key(&w.scope, &m.id)).await {
        tracing::warn!(error = %e, media = %m.id, "could not remove a deleted media file");
    }
    Ok(())
}
