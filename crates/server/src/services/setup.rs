//! Creating organizations: the one-time setup of a new deployment (PEOPLE-3),
//! where the setup token stands in for the operator, and the operator's
//! `steward org create`. Both end in [`insert`].

use serde::Deserialize;
use steward_core::audit::{Changes, target};
use steward_core::authz::{Actor, Principal};
use steward_core::ids::{OrgId, UserId};
use steward_core::messages::problem;
use steward_core::people::{OrgRole, UserStatus};
use steward_core::permissions::Permission;
use steward_core::time::Timestamp;
use steward_core::tokens::{hash_secret, random_token};
use steward_core::validate::{self, Fields};
use steward_core::{Error, Result, password};
use steward_store::organizations::{self, Organization};
use steward_store::users::{self, User};
use steward_store::{Audited, Db, OrgScope, WriteTx, audit, setup};

use super::{Ctx, EventExt, RequestMeta, event, organizations::slug_taken, people};
use crate::mail::{Letter, Postbox};

/// While no organization exists, makes a new setup token (replacing any older
/// one) and returns it; once one exists, clears tokens and returns none.
pub async fn prepare_token(db: &Db, now: Timestamp) -> Result<Option<String>> {
    let mut tx = db.write_deployment().await?;
    if organizations::count(&mut tx).await? > 0 {
        setup::clear(&mut tx).await?;
        tx.commit_unaudited().await?;
        return Ok(None);
    }
    let token = random_token();
    setup::replace_token(&mut tx, &hash_secret(&token), now).await?;
    tx.commit_unaudited().await?;
    Ok(Some(token))
}

pub async fn is_complete(db: &Db) -> Result<bool> {
    let mut c = db.conn().await?;
    Ok(organizations::count(&mut c).await? > 0)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetupRequest {
    /// The token from the setup link the server printed.
    pub token: String,
    pub organization_name: String,
    /// Derived from the name when absent.
    pub organization_slug: Option<String>,
    pub admin_name: String,
    pub admin_email: String,
    /// 8–128 characters.
    pub admin_password: String,
}

/// What a new organization starts with.
pub struct NewOrganization {
    pub name: String,
    pub slug: Option<String>,
    pub admin_email: String,
    pub admin_name: Option<String>,
    /// Without a password the admin is invited and gets a set-password link.
    pub admin_password: Option<String>,
}

pub struct CreatedOrganization {
    pub organization: Organization,
    pub admin: User,
    /// The set-password (invitation) token and when it expires, when no
    /// password was given.
    pub invitation: Option<(String, Timestamp)>,
}

pub async fn complete(db: &Db, meta: &RequestMeta, now: Timestamp, req: SetupRequest) -> Result<CreatedOrganization> {
    let input = NewOrganization {
        name: req.organization_name,
        slug: req.organization_slug,
        admin_email: req.admin_email,
        admin_name: Some(req.admin_name),
        admin_password: Some(req.admin_password),
    };
    let valid = validate_new(&input)?;
    let mut tx = db.write_deployment().await?;
    if organizations::count(&mut tx).await? > 0 {
        return Err(Error::conflict(&problem::SETUP_ALREADY_COMPLETED, &[]));
    }
    if !setup::consume(&mut tx, &hash_secret(&req.token)).await? {
        return Err(Error::forbidden(&problem::INVALID_SETUP_TOKEN, &[]));
    }
    let (created, done) = insert(&mut tx, valid, meta, now, None, 0).await?;
    tx.commit(done).await?;
    Ok(created)
}

/// The operator creates an organization (any time, any number). Without a
/// password the admin is mailed a set-password link through `postbox` (none:
/// demo organizations, whose addresses reach nobody).
pub async fn create(
    db: &Db,
    ctx: &Ctx,
    postbox: Option<&Postbox>,
    input: NewOrganization,
    ttl_hours: i64,
) -> Result<CreatedOrganization> {
    ctx.authorize_deployment(Permission::OrganizationsManage)?;
    let valid = validate_new(&input)?;
    let mut tx = db.write_deployment().await?;
    let actor = Some(ctx.principal.actor());
    let (created, done) = insert(&mut tx, valid, &ctx.meta, ctx.now, actor, ttl_hours).await?;
    if let (Some(postbox), Some((token, expires_at))) = (postbox, &created.invitation) {
        let scope = OrgScope::of(&Principal::system("setup").in_org(created.organization.id.clone()))?;
        let letter = Letter::SetPassword { expires_at: *expires_at };
        postbox.post(&mut tx, &scope, &created.admin, letter, &people::invitation_path(token), ctx.now).await?;
    }
    setup::clear(&mut tx).await?;
    tx.commit(done).await?;
    Ok(created)
}

struct ValidNew {
    name: String,
    slug: String,
    email: String,
    admin_name: String,
    password_hash: Option<String>,
}

fn validate_new(input: &NewOrganization) -> Result<ValidNew> {
    let mut f = Fields::new();
    let name = f.check(validate::name("organization_name", &input.name));
    let slug = match (&input.slug, &name) {
        (Some(s), _) => f.check(validate::slug("organization_slug", s)),
        (None, Some(n)) => Some(validate::slugify(n)),
        (None, None) => None,
    };
    let email = f.check(validate::email("admin_email", &input.admin_email));
    let admin_name = match (&input.admin_name, &email) {
        (Some(n), _) => f.check(validate::name("admin_name", n)),
        (None, Some(e)) => Some(e.split('@').next().unwrap_or(e).to_owned()),
        (None, None) => None,
    };
    if let Some(p) = &input.admin_password {
        // A new organization starts with the default policy.
        let words: Vec<&str> = [
            Some(input.name.as_str()),
            input.slug.as_deref(),
            Some(input.admin_email.as_str()),
            input.admin_name.as_deref(),
        ]
        .into_iter()
        .flatten()
        .collect();
        f.check(steward_core::security::check_password(&Default::default(), "admin_password", p, &words));
    }
    f.finish()?;
    let password_hash = input.admin_password.as_deref().map(password::hash).transpose()?;
    match (name, slug, email, admin_name) {
        (Some(name), Some(slug), Some(email), Some(admin_name)) => {
            Ok(ValidNew { name, slug, email, admin_name, password_hash })
        }
        _ => Err(Error::internal()),
    }
}

/// The organization, its first Super Admin and their events; `actor` is
/// who creates it (none: the admin themselves, at setup).
async fn insert(
    c: &mut WriteTx,
    v: ValidNew,
    meta: &RequestMeta,
    now: Timestamp,
    actor: Option<Actor>,
    ttl_hours: i64,
) -> Result<(CreatedOrganization, Audited)> {
    if organizations::slug_taken(c, &v.slug, None).await? {
        return Err(slug_taken(&v.slug));
    }
    let org = Organization {
        id: OrgId::new(),
        name: v.name,
        slug: v.slug,
        description: None,
        website: None,
        timezone: "UTC".into(),
        workspace_limit: None,
        created_at: now,
        updated_at: now,
    };
    organizations::insert(c, &org)
        .await
        .map_err(|e| if e.is_unique_violation() { slug_taken(&org.slug) } else { e.into() })?;
    // The organization exists from here on: its first writes are made in it.
    let scope = OrgScope::of(&Principal::system("setup").in_org(org.id.clone()))?;
    let invited = v.password_hash.is_none();
    let admin = User {
        id: UserId::new(),
        org_id: org.id.clone(),
        email: v.email,
        name: v.admin_name,
        role: OrgRole::SuperAdmin,
        status: if invited { UserStatus::Invited } else { UserStatus::Active },
        password_hash: v.password_hash,
        created_at: now,
        updated_at: now,
        last_login_at: None,
    };
    users::insert(c, &scope, &admin).await?;
    let actor = actor.unwrap_or_else(|| Actor::user(&admin.id, &admin.email));
    let mut changes = Changes::new();
    changes.created("name", &org.name).created("slug", &org.slug);
    audit::append(
        c,
        event(&org.id, "organization.created", actor.clone(), meta, now)
            .target(target::ORGANIZATION, &org.id)
            .changes(changes.into_value()),
    )
    .await?;
    let mut changes = Changes::new();
    changes.created("email", &admin.email).created("role", &admin.role);
    let action = if invited { "user.invited" } else { "user.created" };
    let done = audit::append(
        c,
        event(&org.id, action, actor, meta, now).target(target::USER, &admin.id).changes(changes.into_value()),
    )
    .await?;
    let invitation = if invited {
        Some(people::new_invitation(c, &scope, &admin, Some("operator".into()), now, ttl_hours).await?)
    } else {
        None
    };
    Ok((CreatedOrganization { organization: org, admin, invitation }, done))
}
