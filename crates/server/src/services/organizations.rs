//! The caller's organization: read and edit its details (ORG-1, ORG-4).

use serde::Deserialize;
use steward_core::audit::{Changes, target};
use steward_core::messages::{problem, rule};
use steward_core::permissions::Permission;
use steward_core::validate::{self, Fields};
use steward_core::{Error, FieldError, Result};
use steward_store::organizations::{self, Organization};
use steward_store::{Db, audit};

use super::{Ctx, EventExt};

pub async fn get(db: &Db, ctx: &Ctx) -> Result<Organization> {
    let org = ctx.authorize(Permission::OrganizationRead)?;
    let mut c = db.conn().await?;
    organizations::get(&mut c, &org).await?.ok_or_else(|| Error::not_found("organization"))
}

/// A partial update: absent fields stay, `null` clears an optional field.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrganizationPatch {
    #[schema(max_length = 100)]
    pub name: Option<String>,
    /// URL-friendly and unique: 2–63 of `a-z 0-9 -`.
    pub slug: Option<String>,
    #[serde(default, deserialize_with = "super::nullable")]
    #[schema(max_length = 1000, value_type = Option<String>)]
    pub description: Option<Option<String>>,
    /// An http(s) URL.
    #[serde(default, deserialize_with = "super::nullable")]
    #[schema(value_type = Option<String>)]
    pub website: Option<Option<String>>,
    /// IANA time zone for the dashboard's periods (default UTC).
    pub timezone: Option<String>,
}

pub async fn update(db: &Db, ctx: &Ctx, patch: OrganizationPatch) -> Result<Organization> {
    let org = ctx.authorize(Permission::OrganizationWrite)?;
    let mut fields = Fields::new();
    let name = patch.name.as_deref().map(|n| fields.check(validate::name("name", n)));
    let slug = patch.slug.as_deref().map(|s| fields.check(validate::slug("slug", s)));
    let description =
        patch.description.as_ref().map(|d| fields.check(validate::description("description", d.as_deref())));
    let website = patch.website.as_ref().map(|w| fields.check(validate::website("website", w.as_deref())));
    let timezone =
        patch.timezone.as_deref().and_then(|t| fields.check(steward_core::workspaces::timezone("timezone", t)));
    fields.finish()?;

    let mut tx = db.write(&org).await?;
    let before = organizations::get(&mut tx, &org).await?.ok_or_else(|| Error::not_found("organization"))?;
    let mut after = before.clone();
    if let Some(Some(name)) = name {
        after.name = name;
    }
    if let Some(Some(slug)) = slug {
        if slug != before.slug && organizations::slug_taken(&mut tx, &slug, Some(&before.id)).await? {
            return Err(slug_taken(&slug));
        }
        after.slug = slug;
    }
    if let Some(Some(description)) = description {
        after.description = description;
    }
    if let Some(Some(website)) = website {
        after.website = website;
    }
    if let Some(timezone) = timezone {
        after.timezone = timezone;
    }
    let mut changes = Changes::new();
    changes
        .field("name", &before.name, &after.name)
        .field("slug", &before.slug, &after.slug)
        .field("description", &before.description, &after.description)
        .field("website", &before.website, &after.website)
        .field("timezone", &before.timezone, &after.timezone);
    if changes.is_empty() {
        return Ok(before);
    }
    after.updated_at = ctx.now;
    organizations::update(&mut tx, &org, &after)
        .await
        .map_err(|e| if e.is_unique_violation() { slug_taken(&after.slug) } else { e.into() })?;
    let done = audit::append(
        &mut tx,
        ctx.event(&org, "organization.updated", target::ORGANIZATION, &after.id).changes(changes.into_value()),
    )
    .await?;
    tx.commit(done).await?;
    Ok(after)
}

pub fn slug_taken(slug: &str) -> Error {
    Error::conflict(&problem::SLUG_TAKEN, &[("owner", &"organization"), ("slug", &slug)]).with_field(FieldError::new(
        "slug",
        &rule::TAKEN,
        &[("by", &"another organization")],
    ))
}

/// Every organization of the deployment, by slug (the operator's list).
pub async fn list_all(db: &Db, ctx: &Ctx) -> Result<Vec<Organization>> {
    ctx.authorize_deployment(Permission::OrganizationsManage)?;
    let mut c = db.conn().await?;
    Ok(organizations::list(&mut c).await?)
}

/// The organization with this slug, for the operator's commands (`--org SLUG`).
pub async fn find(db: &Db, ctx: &Ctx, slug: &str) -> Result<Organization> {
    ctx.authorize_deployment(Permission::OrganizationsManage)?;
    let mut c = db.conn().await?;
    organizations::by_slug(&mut c, slug).await?.ok_or_else(|| {
        let what = format!("an organization of this deployment (none has the slug `{slug}`)");
        Error::not_found("organization").with_field(FieldError::new("org", &rule::NOT_FOUND, &[("what", &what)]))
    })
}

/// The platform operator sets how many (non-archived) workspaces the
/// organization may have; `None` lifts the limit.
pub async fn set_workspace_limit(db: &Db, ctx: &Ctx, limit: Option<i64>) -> Result<Organization> {
    let org = ctx.authorize(Permission::LimitsDecide)?;
    if limit.is_some_and(|l| !(0..=1_000_000).contains(&l)) {
        return Err(Error::field("workspace_limit", &rule::OUT_OF_RANGE, &[("range", &"0 to 1,000,000 (or none)")]));
    }
    let mut tx = db.write(&org).await?;
    let before = organizations::get(&mut tx, &org).await?.ok_or_else(|| Error::not_found("organization"))?;
    let mut after = before.clone();
    after.workspace_limit = limit;
    let mut changes = Changes::new();
    changes.field("workspace_limit", &before.workspace_limit, &after.workspace_limit);
    if changes.is_empty() {
        return Ok(before);
    }
    after.updated_at = ctx.now;
    organizations::update(&mut tx, &org, &after).await?;
    let e =
        ctx.event(&org, "organization.limits_changed", target::ORGANIZATION, org.id()).changes(changes.into_value());
    let done = audit::append(&mut tx, e).await?;
    tx.commit(done).await?;
    Ok(after)
}
