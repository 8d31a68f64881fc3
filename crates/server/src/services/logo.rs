//! The organization's logo (ORG-5): checked by content, cropped, 200×200,
//! stored as one file in the storage folder (`logos/<org>.png` or `.svg`).

use std::path::{Path, PathBuf};

use serde_json::json;
use steward_core::audit::target;
use steward_core::authz::Access;
use steward_core::ids::OrgId;
use steward_core::images::{self, Crop, Logo};
use steward_core::{Error, Result};
use steward_store::{Db, audit, commit, organizations};

use super::{Ctx, EventExt};

const EXTENSIONS: [(&str, &str); 2] = [("png", "image/png"), ("svg", "image/svg+xml")];

fn path(storage: &Path, org: &OrgId, ext: &str) -> PathBuf {
    storage.join("logos").join(format!("{org}.{ext}"))
}

fn io_error(e: std::io::Error) -> Error {
    tracing::error!(error = %e, "logo storage failed");
    Error::internal()
}

/// The stored logo: its content type and bytes.
pub async fn read(storage: &Path, org: &OrgId) -> Option<(&'static str, Vec<u8>)> {
    for (ext, ct) in EXTENSIONS {
        if let Ok(bytes) = tokio::fs::read(path(storage, org, ext)).await {
            return Some((ct, bytes));
        }
    }
    None
}

pub async fn exists(storage: &Path, org: &OrgId) -> bool {
    for (ext, _) in EXTENSIONS {
        if tokio::fs::try_exists(path(storage, org, ext)).await.unwrap_or(false) {
            return true;
        }
    }
    false
}

/// Checks, crops and stores a new logo, replacing the old one.
pub async fn set(db: &Db, ctx: &Ctx, storage: &Path, bytes: &[u8], crop: Option<Crop>) -> Result<Logo> {
    ctx.principal.require(Access::OrgWrite)?;
    let logo = images::process_logo(bytes, crop)?;
    let ext = if logo.content_type == "image/svg+xml" { "svg" } else { "png" };
    let final_path = path(storage, ctx.org_id(), ext);
    let temp = final_path.with_extension(format!("{ext}.uploading"));
    if let Some(dir) = final_path.parent() {
        tokio::fs::create_dir_all(dir).await.map_err(io_error)?;
    }
    tokio::fs::write(&temp, &logo.bytes).await.map_err(io_error)?;
    let recorded = async {
        let mut tx = db.begin().await?;
        organizations::lock(&mut tx, ctx.org_id()).await?;
        let meta =
            json!({ "content_type": logo.content_type, "bytes": logo.bytes.len(), "uploaded_bytes": bytes.len() });
        audit::append(
            &mut tx,
            ctx.event("organization.logo_updated", target::ORGANIZATION, ctx.org_id()).metadata(meta),
        )
        .await?;
        commit(tx).await
    };
    if let Err(e) = recorded.await {
        let _ = tokio::fs::remove_file(&temp).await;
        return Err(e.into());
    }
    for (other, _) in EXTENSIONS.iter().filter(|(e, _)| *e != ext) {
        let _ = tokio::fs::remove_file(path(storage, ctx.org_id(), other)).await;
    }
    tokio::fs::rename(&temp, &final_path).await.map_err(io_error)?;
    Ok(logo)
}

pub async fn remove(db: &Db, ctx: &Ctx, storage: &Path) -> Result<()> {
    ctx.principal.require(Access::OrgWrite)?;
    if !exists(storage, ctx.org_id()).await {
        return Err(Error::not_found("logo"));
    }
    let mut tx = db.begin().await?;
    organizations::lock(&mut tx, ctx.org_id()).await?;
    audit::append(&mut tx, ctx.event("organization.logo_removed", target::ORGANIZATION, ctx.org_id())).await?;
    commit(tx).await?;
    for (ext, _) in EXTENSIONS {
        let _ = tokio::fs::remove_file(path(storage, ctx.org_id(), ext)).await;
    }
    Ok(())
}
