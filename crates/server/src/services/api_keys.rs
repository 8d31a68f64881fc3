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

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateApiKey {
    /// What the key is for ("CI deploys").
    pub name: String,
    /// Permission names (`people:read`, `credits:debit`; see `GET /api/v1/permissions`),
    /// or the bundles `admin` (every permission a key may hold) and `read` (every `…:read`).
    #[schema(value_type = Vec<String>, example = json!(["people:read", "audit:read"]))]
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
    scopes: Vec<String>,
    expires_at: Option<Timestamp>,
}

/// A key holds at most what its creator holds, so no key can mint a stronger one.
fn validate_key(input: &CreateApiKey, creator: PermissionSet, now: Timestamp) -> Result<ValidKey> {
    let mut fields = Fields::new();
    let name = fields.check(validate::name("name", &input.name));
    let mut scopes = Vec::new();
    if input.scopes.is_empty() {
        fields.push("scopes", &rule::NO_PERMISSION_GIVEN, &[]);
    }
    for (i, s) in input.scopes.iter().enumerate() {
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
    if input.expires_at.is_some_and(|t| t <= now) {
        fields.push("expires_at", &rule::NOT_IN_FUTURE, &[]);
    }
    fields.finish()?;
    Ok(ValidKey { name: name.unwrap_or_default(), scopes, expires_at: input.expires_at })
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
