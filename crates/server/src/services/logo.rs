//! The organization's logo (ORG-5): checked by content, cropped, 200×200,
//! stored as one file in the storage folder (`logos/<org>.png` or `.svg`).

use std::path::{Path, PathBuf};

use serde_json::json;
use steward_core::audit::target;
use steward_core::images::{self, Crop, Logo};
use steward_core::permissions::Permission;
use steward_core::{Error, Result};
use steward_store::{Db, OrgScope, audit};

use super::{Ctx, EventExt};

const EXTENSIONS: [(&str, &str); 2] = [("png", "image/png"), ("svg", "image/svg+xml")];

fn path(storage: &Path, org: &OrgScope, ext: &str) -> PathBuf {
    storage.join("logos").join(format!("{}.{ext}", org.id()))
}

fn io_error(e: std::io::Error) -> Error {
    tracing::error!(error = %e, "logo storage failed");
    Error::internal()
}

/// The organization's logo, for readers of the organization.
pub async fn get(ctx: &Ctx, storage: &Path) -> Result<Option<(&'static str, Vec<u8>)>> {
    let org = ctx.authorize(Permission::OrganizationRead)?;
    Ok(read(storage, &org).await)
}

/// The logo in the frame of the caller's own console: anyone signed in to the
/// organization sees it.
pub async fn read_own(ctx: &Ctx, storage: &Path) -> Result<Option<(&'static str, Vec<u8>)>> {
    Ok(read(storage, &ctx.org()?).await)
}

pub async fn exists_own(ctx: &Ctx, storage: &Path) -> bool {
    match ctx.org() {
        Ok(org) => exists(storage, &org).await,
        Err(_) => false,
    }
}

/// The stored logo: its content type and bytes.
async fn read(storage: &Path, org: &OrgScope) -> Option<(&'static str, Vec<u8>)> {
    for (ext, ct) in EXTENSIONS {
        if let Ok(bytes) = tokio::fs::read(path(storage, org, ext)).await {
            return Some((ct, bytes));
        }
    }
    None
}

async fn exists(storage: &Path, org: &OrgScope) -> bool {
    for (ext, _) in EXTENSIONS {
        if tokio::fs::try_exists(path(storage, org, ext)).await.unwrap_or(false) {
            return true;
        }
    }
    false
}

/// Checks, crops and stores a new logo, replacing the old one.
pub async fn set(db: &Db, ctx: &Ctx, storage: &Path, bytes: &[u8], crop: Option<Crop>) -> Result<Logo> {
    let org = ctx.authorize(Permission::OrganizationWrite)?;
    let logo = images::process_logo(bytes, crop)?;
    let ext = if logo.content_type == "image/svg+xml" { "svg" } else { "png" };
    let final_path = path(storage, &org, ext);
    let temp = final_path.with_extension(format!("{ext}.uploading"));
    if let Some(dir) = final_path.parent() {
        tokio::fs::create_dir_all(dir).await.map_err(io_error)?;
    }
    tokio::fs::write(&temp, &logo.bytes).await.map_err(io_error)?;
    let recorded = async {
        let mut tx = db.write(&org).await?;
        let meta =
            json!({ "content_type": logo.content_type, "bytes": logo.bytes.len(), "uploaded_bytes": bytes.len() });
        let e = ctx.event(&org, "organization.logo_updated", target::ORGANIZATION, org.id()).metadata(meta);
        let done = audit::append(&mut tx, e).await?;
        tx.commit(done).await
    };
    if let Err(e) = recorded.await {
        let _ = tokio::fs::remove_file(&temp).await;
        return Err(e.into());
    }
    for (other, _) in EXTENSIONS.iter().filter(|(e, _)| *e != ext) {
        let _ = tokio::fs::remove_file(path(storage, &org, other)).await;
    }
    tokio::fs::rename(&temp, &final_path).await.map_err(io_error)?;
    Ok(logo)
}

pub async fn remove(db: &Db, ctx: &Ctx, storage: &Path) -> Result<()> {
    let org = ctx.authorize(Permission::OrganizationWrite)?;
    if !exists(storage, &org).await {
        return Err(Error::not_found("logo"));
    }
    let mut tx = db.write(&org).await?;
    let done =
        audit::append(&mut tx, ctx.event(&org, "organization.logo_removed", target::ORGANIZATION, org.id())).await?;
    tx.commit(done).await?;
    for (ext, _) in EXTENSIONS {
        let _ = tokio::fs::remove_file(path(storage, &org, ext)).await;
    }
    Ok(())
}
