//! API keys of the organization (API-1): shown once, stored as SHA-256.

use serde::Deserialize;
use serde_json::json;
use steward_core::audit::{Changes, target};
use steward_core::authz::{Access, Actor, Credential};
use steward_core::ids::{ApiKeyId, UserId};
use steward_core::pagination::{self, Page};
use steward_core::people::ApiScope;
use steward_core::time::Timestamp;
use steward_core::tokens::{api_key_display_prefix, api_key_last4, hash_secret, new_api_key};
use steward_core::validate::{self, Fields};
use steward_core::{Error, FieldError, Result};
use steward_store::api_keys::{self, ApiKey};
use steward_store::organizations::Organization;
use steward_store::{Db, audit, commit, organizations};

use super::{Ctx, EventExt, RequestMeta, event};

pub async fn list(db: &Db, ctx: &Ctx, page: &Page) -> Result<(Vec<ApiKey>, Option<String>)> {
    ctx.principal.require(Access::OrgRead)?;
    let mut c = db.conn().await?;
    let rows = api_keys::list(&mut c, ctx.org_id(), page).await?;
    Ok(pagination::finish(rows, page, |k| k.id.to_string()))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateApiKey {
    /// What the key is for ("CI deploys").
    pub name: String,
    /// `admin` and/or `read`.
    #[schema(value_type = Vec<String>, example = json!(["read"]))]
    pub scopes: Vec<String>,
    /// When the key stops working; never when absent.
    pub expires_at: Option<Timestamp>,
}

/// A key just created, with its secret (shown this once).
#[derive(Debug)]
pub struct CreatedKey {
    pub key: ApiKey,
    pub secret: String,
}

struct ValidKey {
    name: String,
    scopes: Vec<ApiScope>,
    expires_at: Option<Timestamp>,
}

fn validate_key(input: &CreateApiKey, now: Timestamp) -> Result<ValidKey> {
    let mut fields = Fields::new();
    let name = fields.check(validate::name("name", &input.name));
    let mut scopes = Vec::new();
    if input.scopes.is_empty() {
        fields.push("scopes", "required", "name at least one scope: admin or read");
    }
    for (i, s) in input.scopes.iter().enumerate() {
        if let Some(scope) = fields.check(ApiScope::parse_field(&format!("scopes[{i}]"), s))
            && !scopes.contains(&scope)
        {
            scopes.push(scope);
        }
    }
    if input.expires_at.is_some_and(|t| t <= now) {
        fields.push("expires_at", "invalid", "must be in the future");
    }
    fields.finish()?;
    Ok(ValidKey { name: name.unwrap_or_default(), scopes, expires_at: input.expires_at })
}

fn build(
    org: &Organization,
    v: ValidKey,
    created_by: Option<UserId>,
    created_by_name: Option<String>,
    now: Timestamp,
) -> CreatedKey {
    let secret = new_api_key();
    let key = ApiKey {
        id: ApiKeyId::new(),
        org_id: org.id.clone(),
        name: v.name,
        prefix: api_key_display_prefix(&secret),
        last4: api_key_last4(&secret),
        key_hash: hash_secret(&secret),
        scopes: v.scopes,
        created_by,
        created_by_name,
        created_at: now,
        last_used_at: None,
        expires_at: v.expires_at,
        revoked_at: None,
    };
    CreatedKey { key, secret }
}

fn created_event_changes(key: &ApiKey) -> serde_json::Value {
    let mut changes = Changes::new();
    changes.created("name", &key.name).created("scopes", &key.scopes).created("prefix", &key.prefix);
    changes.into_value()
}

pub async fn create(db: &Db, ctx: &Ctx, input: CreateApiKey) -> Result<CreatedKey> {
    ctx.principal.require(Access::OrgWrite)?;
    let v = validate_key(&input, ctx.now)?;
    let mut tx = db.begin().await?;
    organizations::lock(&mut tx, ctx.org_id()).await?;
    super::sessions::require_recent_auth(&mut tx, ctx).await?;
    let org = organizations::get(&mut tx, ctx.org_id()).await?.ok_or_else(Error::internal)?;
    let (by, by_name) = match &ctx.principal.credential {
        Credential::Session { user_id, email, .. } => (Some(user_id.clone()), Some(email.clone())),
        Credential::ApiKey { name, .. } => (None, Some(format!("API key {name}"))),
    };
    let created = build(&org, v, by, by_name, ctx.now);
    api_keys::insert(&mut tx, &created.key).await?;
    audit::append(
        &mut tx,
        ctx.event("api_key.created", target::API_KEY, &created.key.id).changes(created_event_changes(&created.key)),
    )
    .await?;
    commit(tx).await?;
    Ok(created)
}

/// The operator's CLI: a key for any organization, created by "system".
pub async fn create_as_operator(
    db: &Db,
    org_slug: &str,
    name: &str,
    scopes: &[String],
    now: Timestamp,
) -> Result<(Organization, CreatedKey)> {
    let v = validate_key(&CreateApiKey { name: name.to_owned(), scopes: scopes.to_vec(), expires_at: None }, now)?;
    let mut tx = db.begin().await?;
    let org = organizations::by_slug(&mut tx, org_slug).await?.ok_or_else(|| {
        Error::not_found("organization").with_field(FieldError::new(
            "org",
            "not_found",
            format!("no organization has the slug `{org_slug}`"),
        ))
    })?;
    organizations::lock(&mut tx, &org.id).await?;
    let created = build(&org, v, None, Some("operator (CLI)".into()), now);
    api_keys::insert(&mut tx, &created.key).await?;
    let e = event(&org.id, "api_key.created", Actor::system("cli"), &RequestMeta::default(), now)
        .target(target::API_KEY, &created.key.id)
        .changes(created_event_changes(&created.key));
    audit::append(&mut tx, e).await?;
    commit(tx).await?;
    Ok((org, created))
}

pub async fn revoke(db: &Db, ctx: &Ctx, id: &ApiKeyId) -> Result<()> {
    ctx.principal.require(Access::OrgWrite)?;
    let mut tx = db.begin().await?;
    organizations::lock(&mut tx, ctx.org_id()).await?;
    let key = api_keys::get(&mut tx, ctx.org_id(), id).await?.ok_or_else(|| Error::not_found("API key"))?;
    api_keys::revoke(&mut tx, ctx.org_id(), id, ctx.now).await?;
    audit::append(
        &mut tx,
        ctx.event("api_key.revoked", target::API_KEY, &key.id)
            .metadata(json!({ "name": key.name, "prefix": key.prefix })),
    )
    .await?;
    commit(tx).await?;
    Ok(())
}
