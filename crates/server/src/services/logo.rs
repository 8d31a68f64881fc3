//! The organization's logo (ORG-5): checked by content, cropped, 200×200,
//! stored as one file behind the files boundary (`logos/<org>.png` or `.svg`).

use serde_json::json;
use steward_core::audit::target;
use steward_core::images::{self, Crop, Logo};
use steward_core::permissions::Permission;
use steward_core::{Error, Result};
use steward_store::{Db, OrgScope, audit};

use super::{Ctx, EventExt};
use crate::files::Files;

const EXTENSIONS: [(&str, &str); 2] = [("png", "image/png"), ("svg", "image/svg+xml")];

fn key(org: &OrgScope, ext: &str) -> String {
    format!("logos/{}.{ext}", org.id())
}

/// The organization's logo, for readers of the organization.
pub async fn get(ctx: &Ctx, files: &Files) -> Result<Option<(&'static str, Vec<u8>)>> {
    let org = ctx.authorize(Permission::OrganizationRead)?;
    Ok(stored(files, &org).await)
}

/// The logo in the frame of the caller's own console: anyone signed in to the
/// organization sees it.
pub async fn read_own(ctx: &Ctx, files: &Files) -> Result<Option<(&'static str, Vec<u8>)>> {
    Ok(stored(files, &ctx.org()?).await)
}

pub async fn exists_own(ctx: &Ctx, files: &Files) -> bool {
    match ctx.org() {
        Ok(org) => stored(files, &org).await.is_some(),
        Err(_) => false,
    }
}

/// The stored logo: its content type and bytes (also for mail).
pub(crate) async fn stored(files: &Files, org: &OrgScope) -> Option<(&'static str, Vec<u8>)> {
    for (ext, ct) in EXTENSIONS {
        match files.get(&key(org, ext)).await {
            Ok(Some(bytes)) => return Some((ct, bytes)),
            Ok(None) => {}
            Err(e) => tracing::error!(error = %e, "cannot read a logo"),
        }
    }
    None
}

/// Checks, crops and stores a new logo, replacing the old one.
pub async fn set(db: &Db, ctx: &Ctx, files: &Files, bytes: &[u8], crop: Option<Crop>) -> Result<Logo> {
    let org = ctx.authorize(Permission::OrganizationWrite)?;
    let logo = images::process_logo(bytes, crop)?;
    let ext = if logo.content_type == "image/svg+xml" { "svg" } else { "png" };
    let recorded = async {
        let mut tx = db.write(&org).await?;
        let meta =
            json!({ "content_type": logo.content_type, "bytes": logo.bytes.len(), "uploaded_bytes": bytes.len() });
        let e = ctx.event(&org, "organization.logo_updated", target::ORGANIZATION, org.id()).metadata(meta);
        let done = audit::append(&mut tx, e).await?;
        tx.commit(done).await
    };
    recorded.await?;
    // The new file replaces the old one whole (on every backend); then the
    // other type's file, if any, goes.
    files.put(&key(&org, ext), &logo.bytes).await?;
    for (other, _) in EXTENSIONS.iter().filter(|(e, _)| *e != ext) {
        if let Err(e) = files.delete(&key(&org, other)).await {
            tracing::warn!(error = %e, "could not remove the previous logo");
        }
    }
    Ok(logo)
}

pub async fn remove(db: &Db, ctx: &Ctx, files: &Files) -> Result<()> {
    let org = ctx.authorize(Permission::OrganizationWrite)?;
    if stored(files, &org).await.is_none() {
        return Err(Error::not_found("logo"));
    }
    let mut tx = db.write(&org).await?;
    let done =
        audit::append(&mut tx, ctx.event(&org, "organization.logo_removed", target::ORGANIZATION, org.id())).await?;
    tx.commit(done).await?;
    for (ext, _) in EXTENSIONS {
        if let Err(e) = files.delete(&key(&org, ext)).await {
            tracing::warn!(error = %e, "could not remove a logo");
        }
    }
    Ok(())
}
