//! The organization's logo (ORG-5): checked by content, cropped, 200×200,
//! stored as one file (`logos/<org>.png` or `.svg`).

use serde_json::json;
use steward_core::audit::target;
use steward_core::authz::Access;
use steward_core::ids::OrgId;
use steward_core::images::{self, Crop, Logo};
use steward_core::{Error, Result};
use steward_store::{Db, audit, commit, organizations};

use super::{Ctx, EventExt};
use crate::files::Files;

const EXTENSIONS: [(&str, &str); 2] = [("png", "image/png"), ("svg", "image/svg+xml")];

fn key(org: &OrgId, ext: &str) -> String {
    format!("logos/{org}.{ext}")
}

/// The stored logo: its content type and bytes.
pub async fn read(files: &Files, org: &OrgId) -> Option<(&'static str, Vec<u8>)> {
    for (ext, ct) in EXTENSIONS {
        match files.get(&key(org, ext)).await {
            Ok(Some(bytes)) => return Some((ct, bytes)),
            Ok(None) => {}
            Err(e) => tracing::error!(error = %e, "cannot read a logo"),
        }
    }
    None
}

pub async fn exists(files: &Files, org: &OrgId) -> bool {
    read(files, org).await.is_some()
}

/// Checks, crops and stores a new logo, replacing the old one.
pub async fn set(db: &Db, ctx: &Ctx, files: &Files, bytes: &[u8], crop: Option<Crop>) -> Result<Logo> {
    ctx.principal.require(Access::OrgWrite)?;
    let logo = images::process_logo(bytes, crop)?;
    let ext = if logo.content_type == "image/svg+xml" { "svg" } else { "png" };
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
    recorded.await?;
    // The new file replaces the old one whole (on every backend); then the
    // other type's file, if any, goes.
    files.put(&key(ctx.org_id(), ext), &logo.bytes).await?;
    for (other, _) in EXTENSIONS.iter().filter(|(e, _)| *e != ext) {
        if let Err(e) = files.delete(&key(ctx.org_id(), other)).await {
            tracing::warn!(error = %e, "could not remove the previous logo");
        }
    }
    Ok(logo)
}

pub async fn remove(db: &Db, ctx: &Ctx, files: &Files) -> Result<()> {
    ctx.principal.require(Access::OrgWrite)?;
    if !exists(files, ctx.org_id()).await {
        return Err(Error::not_found("logo"));
    }
    let mut tx = db.begin().await?;
    organizations::lock(&mut tx, ctx.org_id()).await?;
    audit::append(&mut tx, ctx.event("organization.logo_removed", target::ORGANIZATION, ctx.org_id())).await?;
    commit(tx).await?;
    for (ext, _) in EXTENSIONS {
        if let Err(e) = files.delete(&key(ctx.org_id(), ext)).await {
            tracing::warn!(error = %e, "could not remove a logo");
        }
    }
    Ok(())
}
