//! API keys of the organization (API-1): shown once, stored as SHA-256.

use serde::Deserialize;
use serde_json::json;
use steward_core::audit::{Changes, target};
use steward_core::authz::Credential;
use steward_core::ids::{ApiKeyId, UserId};
use steward_core::messages::rule;
use steward_core::pagination::{self, Page};
use steward_core::permissions::{self, KeyGrantError, Permission, PermissionSet};
use steward_core::time::Timestamp;
use steward_core::tokens::{api_key_display_prefix, api_key_last4, hash_secret, new_api_key};
use steward_core::validate::{self, Fields};
use steward_core::{Error, Result};
use steward_store::api_keys::{self, ApiKey};
use steward_store::{Db, OrgScope, audit};

use super::{Ctx, EventExt};

pub async fn list(db: &Db, ctx: &Ctx, page: &Page) -> Result<(Vec<ApiKey>, Option<String>)> {
    let org = ctx.authorize(Permission::ApiKeysRead)?;
    let mut c = db.conn().await?;
    let rows = api_keys::list(&mut c, &org, page).await?;
    Ok(pagination::finish(rows, page, |k| k.id.to_string()))
}

/// A key's limit when none is given, in requests a minute.
pub const DEFAULT_RATE_LIMIT: i64 = 600;
/// The highest limit a key may have.
pub const MAX_RATE_LIMIT: i64 = 100_000;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateApiKey {
    /// What the key is for ("CI deploys").
    #[schema(max_length = 100)]
    pub name: String,
    /// Permission names (`people:read`, `credits:debit`; see `GET /api/v1/permissions`),
    /// or the bundles `admin` (every permission a key may hold) and `read` (every `…:read`).
    #[schema(value_type = Vec<String>, example = json!(["people:read", "audit:read"]))]
    pub scopes: Vec<String>,
    /// Requests a minute the key may make, 1–100,000 (default 600). Past it,
    /// `429 rate_limited` until the minute ends.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 100_000)]
    pub rate_limit_per_minute: Option<i64>,
    /// When the key stops working; never when absent.
    #[serde(default)]
    pub expires_at: Option<Timestamp>,
}

/// Changes to a key; absent fields stay as they are. Its secret never changes.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyPatch {
    #[schema(max_length = 100)]
    pub name: Option<String>,
    #[schema(value_type = Option<Vec<String>>)]
    pub scopes: Option<Vec<String>>,
    #[schema(minimum = 1, maximum = 100_000)]
    pub rate_limit_per_minute: Option<i64>,
    /// A new expiry, or `null` for none.
    #[serde(default, deserialize_with = "super::nullable")]
    #[schema(value_type = Option<Timestamp>)]
    pub expires_at: Option<Option<Timestamp>>,
}

/// A key just created, with its secret (shown this once).
#[derive(Debug)]
pub struct CreatedKey {
    pub key: ApiKey,
    pub secret: String,
}

struct ValidKey {
    name: String,
    scopes: Vec<String>,
    rate_limit_per_minute: i64,
    expires_at: Option<Timestamp>,
}

/// A key holds at most what its creator holds, so no key can mint a stronger one.
fn check_scopes(fields: &mut Fields, given: &[String], creator: PermissionSet) -> Vec<String> {
    let mut scopes = Vec::new();
    if given.is_empty() {
        fields.push("scopes", &rule::NO_PERMISSION_GIVEN, &[]);
    }
    for (i, s) in given.iter().enumerate() {
        let field = format!("scopes[{i}]");
        match permissions::for_key(s) {
            Ok(set) if set.iter().any(|p| !creator.contains(p)) => {
                fields.push(&field, &rule::NOT_HELD, &[("value", s)])
            }
            Ok(_) if !scopes.contains(s) => scopes.push(s.clone()),
            Ok(_) => {}
            Err(KeyGrantError::Unknown) => fields.push(&field, &rule::UNKNOWN_PERMISSION, &[("value", s)]),
            Err(KeyGrantError::OperatorOnly) => fields.push(&field, &rule::NOT_ASSIGNABLE, &[("value", s)]),
        }
    }
    scopes
}

fn check_limit(fields: &mut Fields, limit: i64) -> i64 {
    if !(1..=MAX_RATE_LIMIT).contains(&limit) {
        fields.push("rate_limit_per_minute", &rule::OUT_OF_RANGE, &[("range", &"1 to 100,000 requests a minute")]);
    }
    limit
}

fn check_expiry(fields: &mut Fields, expires_at: Option<Timestamp>, now: Timestamp) {
    if expires_at.is_some_and(|t| t <= now) {
        fields.push("expires_at", &rule::NOT_IN_FUTURE, &[]);
    }
}

fn validate_key(input: &CreateApiKey, creator: PermissionSet, now: Timestamp) -> Result<ValidKey> {
    let mut fields = Fields::new();
    let name = fields.check(validate::name("name", &input.name));
    let scopes = check_scopes(&mut fields, &input.scopes, creator);
    let rate_limit_per_minute = check_limit(&mut fields, input.rate_limit_per_minute.unwrap_or(DEFAULT_RATE_LIMIT));
    check_expiry(&mut fields, input.expires_at, now);
    fields.finish()?;
    Ok(ValidKey { name: name.unwrap_or_default(), scopes, rate_limit_per_minute, expires_at: input.expires_at })
}

fn build(
    org: &OrgScope,
    v: ValidKey,
    created_by: Option<UserId>,
    created_by_name: Option<String>,
    now: Timestamp,
) -> CreatedKey {
    let secret = new_api_key();
    let key = ApiKey {
        id: ApiKeyId::new(),
        org_id: org.id().clone(),
        name: v.name,
        prefix: api_key_display_prefix(&secret),
        last4: api_key_last4(&secret),
        key_hash: hash_secret(&secret),
        scopes: v.scopes,
        rate_limit_per_minute: v.rate_limit_per_minute,
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
    changes
        .created("name", &key.name)
        .created("scopes", &key.scopes)
        .created("rate_limit_per_minute", &key.rate_limit_per_minute)
        .created("prefix", &key.prefix);
    changes.into_value()
}

pub async fn create(db: &Db, ctx: &Ctx, input: CreateApiKey) -> Result<CreatedKey> {
    let org = ctx.authorize(Permission::ApiKeysWrite)?;
    let v = validate_key(&input, ctx.principal.permissions(), ctx.now)?;
    let mut tx = db.write(&org).await?;
    super::sessions::require_recent_auth(&mut tx, ctx).await?;
    let (by, by_name) = match &ctx.principal.credential {
        Credential::Session { user_id, email, .. } => (Some(user_id.clone()), Some(email.clone())),
        Credential::ApiKey { name, .. } => (None, Some(format!("API key {name}"))),
        Credential::Operator { name } => (None, Some(format!("operator ({name})"))),
        Credential::System { job } => (None, Some(format!("system ({job})"))),
    };
    let created = build(&org, v, by, by_name, ctx.now);
    api_keys::insert(&mut tx, &org, &created.key).await?;
    let done = audit::append(
        &mut tx,
        ctx.event(&org, "api_key.created", target::API_KEY, &created.key.id)
            .changes(created_event_changes(&created.key)),
    )
    .await?;
    tx.commit(done).await?;
    Ok(created)
}

pub async fn get(db: &Db, ctx: &Ctx, id: &ApiKeyId) -> Result<ApiKey> {
    let org = ctx.authorize(Permission::ApiKeysRead)?;
    let mut c = db.conn().await?;
    api_keys::get(&mut c, &org, id).await?.ok_or_else(|| Error::not_found("API key"))
}

/// Renames a key or changes its permissions, limit or expiry. It may only be
/// given what the one changing it holds, as at creation.
pub async fn update(db: &Db, ctx: &Ctx, id: &ApiKeyId, patch: ApiKeyPatch) -> Result<ApiKey> {
    let org = ctx.authorize(Permission::ApiKeysWrite)?;
    let mut fields = Fields::new();
    let name = patch.name.as_deref().and_then(|n| fields.check(validate::name("name", n)));
    let scopes = patch.scopes.as_deref().map(|s| check_scopes(&mut fields, s, ctx.principal.permissions()));
    let limit = patch.rate_limit_per_minute.map(|l| check_limit(&mut fields, l));
    if let Some(expiry) = patch.expires_at {
        check_expiry(&mut fields, expiry, ctx.now);
    }
    fields.finish()?;
    let mut tx = db.write(&org).await?;
    super::sessions::require_recent_auth(&mut tx, ctx).await?;
    let before = api_keys::get(&mut tx, &org, id).await?.ok_or_else(|| Error::not_found("API key"))?;
    let mut after = before.clone();
    after.name = name.unwrap_or(after.name);
    after.scopes = scopes.unwrap_or(after.scopes);
    after.rate_limit_per_minute = limit.unwrap_or(after.rate_limit_per_minute);
    after.expires_at = patch.expires_at.unwrap_or(after.expires_at);
    let mut changes = Changes::new();
    changes
        .field("name", &before.name, &after.name)
        .field("scopes", &before.scopes, &after.scopes)
        .field("rate_limit_per_minute", &before.rate_limit_per_minute, &after.rate_limit_per_minute)
        .field("expires_at", &before.expires_at, &after.expires_at);
    if changes.is_empty() {
        return Ok(before);
    }
    api_keys::update(&mut tx, &org, &after).await?;
    let done = audit::append(
        &mut tx,
        ctx.event(&org, "api_key.updated", target::API_KEY, &after.id).changes(changes.into_value()),
    )
    .await?;
    tx.commit(done).await?;
    Ok(after)
}

pub async fn revoke(db: &Db, ctx: &Ctx, id: &ApiKeyId) -> Result<()> {
    let org = ctx.authorize(Permission::ApiKeysWrite)?;
    let mut tx = db.write(&org).await?;
    let key = api_keys::get(&mut tx, &org, id).await?.ok_or_else(|| Error::not_found("API key"))?;
    api_keys::revoke(&mut tx, &org, id, ctx.now).await?;
    let done = audit::append(
        &mut tx,
        ctx.event(&org, "api_key.revoked", target::API_KEY, &key.id)
            .metadata(json!({ "name": key.name, "prefix": key.prefix })),
    )
    .await?;
    tx.commit(done).await?;
    Ok(())
}
