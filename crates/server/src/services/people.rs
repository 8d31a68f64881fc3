//! People of the organization (PEOPLE-1, TROUBLE-2): invite, list, change role
//! or status, remove. There is always at least one active Super Admin.

use serde::Deserialize;
use serde_json::json;
use steward_core::audit::{Changes, target};
use steward_core::ids::{InvitationId, UserId};
use steward_core::messages::{problem, rule};
use steward_core::pagination::{self, Page};
use steward_core::people::{OrgRole, UserStatus};
use steward_core::permissions::Permission;
use steward_core::time::Timestamp;
use steward_core::tokens::{hash_secret, random_token};
use steward_core::validate::{self, Fields};
use steward_core::{Error, FieldError, Result, password};
use steward_store::invitations::{self, Invitation};
use steward_store::organizations::OrgSummary;
use steward_store::users::{self, User};
use steward_store::{Conn, Db, OrgScope, WriteTx, audit, organizations, sessions};

use super::{Ctx, EventExt};
use crate::mail::{Letter, Postbox};

pub async fn list(db: &Db, ctx: &Ctx, page: &Page) -> Result<(Vec<User>, Option<String>)> {
    let org = ctx.authorize(Permission::PeopleRead)?;
    let mut c = db.conn().await?;
    let rows = users::list(&mut c, &org, page).await?;
    Ok(pagination::finish(rows, page, |u| u.id.to_string()))
}

pub async fn get(db: &Db, ctx: &Ctx, id: &UserId) -> Result<User> {
    let org = ctx.authorize(Permission::PeopleRead)?;
    let mut c = db.conn().await?;
    users::get(&mut c, &org, id).await?.ok_or_else(|| Error::not_found("user"))
}

/// Everyone in the organization, every page (the console's pickers).
pub async fn list_all(db: &Db, ctx: &Ctx) -> Result<Vec<User>> {
    let org = ctx.authorize(Permission::PeopleRead)?;
    let mut c = db.conn().await?;
    let mut page = Page { limit: 200, after: None };
    let mut all = Vec::new();
    loop {
        let rows = users::list(&mut c, &org, &page).await?;
        let done = (rows.len() as i64) <= i64::from(page.limit);
        let rows: Vec<User> = rows.into_iter().take(page.limit as usize).collect();
        page.after = rows.last().map(|u| u.id.to_string());
        all.extend(rows);
        if done {
            return Ok(all);
        }
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InviteUser {
    pub email: String,
    /// Defaults to the part of the email before `@`.
    #[schema(max_length = 100)]
    pub name: Option<String>,
    /// `super_admin` or `member` (default).
    #[schema(value_type = Option<String>, example = "member")]
    pub role: Option<String>,
}

/// A user just invited, with the secret token of the invitation link.
#[derive(Debug)]
pub struct Invited {
    pub user: User,
    pub token: String,
    pub expires_at: Timestamp,
}

/// Invites someone and mails them the link (PEOPLE-1).
pub async fn invite(db: &Db, ctx: &Ctx, postbox: &Postbox, input: InviteUser, ttl_hours: i64) -> Result<Invited> {
    let org = ctx.authorize(Permission::PeopleWrite)?;
    let mut fields = Fields::new();
    let email = fields.check(validate::email("email", &input.email));
    let name = match (&input.name, &email) {
        (Some(n), _) => fields.check(validate::name("name", n)),
        (None, Some(e)) => Some(e.split('@').next().unwrap_or(e).to_owned()),
        (None, None) => None,
    };
    let role = match input.role.as_deref() {
        Some(r) => fields.check(OrgRole::parse_field("role", r)),
        None => Some(OrgRole::Member),
    };
    fields.finish()?;
    let (Some(email), Some(name), Some(role)) = (email, name, role) else { return Err(Error::internal()) };

    let mut tx = db.write(&org).await?;
    if users::by_email(&mut tx, &org, &email).await?.is_some() {
        return Err(email_taken());
    }
    let user = User {
        id: UserId::new(),
        org_id: org.id().clone(),
        email,
        name,
        role,
        status: UserStatus::Invited,
        password_hash: None,
        created_at: ctx.now,
        updated_at: ctx.now,
        last_login_at: None,
    };
    users::insert(&mut tx, &org, &user)
        .await
        .map_err(|e| if e.is_unique_violation() { email_taken() } else { e.into() })?;
    let (token, expires_at) =
        new_invitation(&mut tx, &org, &user, ctx.principal.actor().id, ctx.now, ttl_hours).await?;
    let letter = Letter::Invitation { invited_by: ctx.person_name(), expires_at, resent: false };
    postbox.post(&mut tx, &org, &user, letter, &invitation_path(&token), ctx.now).await?;
    let mut changes = Changes::new();
    changes.created("email", &user.email).created("name", &user.name).created("role", &user.role);
    let done =
        audit::append(&mut tx, ctx.event(&org, "user.invited", target::USER, &user.id).changes(changes.into_value()))
            .await?;
    tx.commit(done).await?;
    Ok(Invited { user, token, expires_at })
}

/// Replaces a user's pending invitations with a new one; returns its token.
pub(crate) async fn new_invitation(
    c: &mut WriteTx,
    org: &OrgScope,
    user: &User,
    created_by: Option<String>,
    now: Timestamp,
    ttl_hours: i64,
) -> Result<(String, Timestamp)> {
    invitations::delete_pending_for_user(c, org, &user.id).await?;
    let token = random_token();
    let expires_at = now.plus_seconds(ttl_hours * 3600);
    let inv = Invitation {
        id: InvitationId::new(),
        org_id: org.id().clone(),
        user_id: user.id.clone(),
        token_hash: hash_secret(&token),
        created_by,
        created_at: now,
        expires_at,
        accepted_at: None,
    };
    invitations::insert(c, org, &inv).await?;
    Ok((token, expires_at))
}

/// Where an invitation (or set-password) link points.
pub fn invitation_path(token: &str) -> String {
    format!("/invitations/{token}")
}

/// Mails a fresh invitation link to someone who hasn't accepted yet; the
/// earlier links stop working.
pub async fn resend_invitation(db: &Db, ctx: &Ctx, postbox: &Postbox, id: &UserId, ttl_hours: i64) -> Result<Invited> {
    let org = ctx.authorize(Permission::PeopleWrite)?;
    let mut tx = db.write(&org).await?;
    let user = users::get(&mut tx, &org, id).await?.ok_or_else(|| Error::not_found("user"))?;
    if user.status != UserStatus::Invited {
        return Err(Error::conflict(&problem::NOT_INVITED, &[("email", &user.email)])
            .with_extension("current_status", user.status.as_str()));
    }
    let (token, expires_at) =
        new_invitation(&mut tx, &org, &user, ctx.principal.actor().id, ctx.now, ttl_hours).await?;
    let letter = Letter::Invitation { invited_by: ctx.person_name(), expires_at, resent: true };
    postbox.post(&mut tx, &org, &user, letter, &invitation_path(&token), ctx.now).await?;
    let done = audit::append(&mut tx, ctx.event(&org, "user.invitation_resent", target::USER, &user.id)).await?;
    tx.commit(done).await?;
    Ok(Invited { user, token, expires_at })
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    #[schema(max_length = 100)]
    pub name: Option<String>,
    /// `super_admin` or `member`.
    #[schema(value_type = Option<String>)]
    pub role: Option<String>,
    /// `active` or `deactivated`.
    #[schema(value_type = Option<String>)]
    pub status: Option<String>,
}

pub async fn update(db: &Db, ctx: &Ctx, id: &UserId, patch: UserPatch) -> Result<User> {
    let org = ctx.authorize(Permission::PeopleWrite)?;
    let mut fields = Fields::new();
    let name = patch.name.as_deref().and_then(|n| fields.check(validate::name("name", n)));
    let role = patch.role.as_deref().and_then(|r| fields.check(OrgRole::parse_field("role", r)));
    let status = match patch.status.as_deref() {
        None => None,
        Some("active") => Some(UserStatus::Active),
        Some("deactivated") => Some(UserStatus::Deactivated),
        Some(_) => {
            fields.push("status", &rule::NOT_ONE_OF, &[("allowed", &"active, deactivated")]);
            None
        }
    };
    fields.finish()?;

    let mut tx = db.write(&org).await?;
    let before = users::get(&mut tx, &org, id).await?.ok_or_else(|| Error::not_found("user"))?;
    let mut after = before.clone();
    if let Some(name) = name {
        after.name = name;
    }
    if let Some(role) = role.filter(|r| *r != before.role) {
        super::sessions::require_recent_auth(&mut tx, ctx).await?;
        after.role = role;
    }
    if let Some(status) = status.filter(|s| *s != before.status) {
        if status == UserStatus::Active && before.status == UserStatus::Invited {
            return Err(Error::conflict(&problem::INVITATION_PENDING, &[]));
        }
        after.status = status;
    }
    let losing_admin = before.role == OrgRole::SuperAdmin
        && before.status == UserStatus::Active
        && (after.role != OrgRole::SuperAdmin || after.status != UserStatus::Active);
    if losing_admin {
        ensure_another_super_admin(&mut tx, &org, &before).await?;
    }
    let mut changes = Changes::new();
    changes.field("name", &before.name, &after.name).field("role", &before.role, &after.role).field(
        "status",
        &before.status,
        &after.status,
    );
    if changes.is_empty() {
        return Ok(before);
    }
    after.updated_at = ctx.now;
    users::update(&mut tx, &org, &after).await?;
    let action = if before.status != after.status {
        if after.status == UserStatus::Deactivated { "user.deactivated" } else { "user.reactivated" }
    } else if before.role != after.role {
        "user.role_changed"
    } else {
        "user.updated"
    };
    let mut ended = 0;
    // Deactivation ends sessions; so does a role change, so that the person's
    // next session starts (with a new token) at the new privilege level.
    if (after.status == UserStatus::Deactivated && before.status != UserStatus::Deactivated)
        || after.role != before.role
    {
        ended = sessions::delete_for_user(&mut tx, &org, &after.id).await?;
    }
    let event = ctx.event(&org, action, target::USER, &after.id).changes(changes.into_value());
    let event = if ended > 0 { event.metadata(json!({ "sessions_ended": ended })) } else { event };
    let done = audit::append(&mut tx, event).await?;
    tx.commit(done).await?;
    Ok(after)
}

pub async fn delete(db: &Db, ctx: &Ctx, id: &UserId) -> Result<()> {
    let org = ctx.authorize(Permission::PeopleWrite)?;
    let mut tx = db.write(&org).await?;
    let user = users::get(&mut tx, &org, id).await?.ok_or_else(|| Error::not_found("user"))?;
    if user.role == OrgRole::SuperAdmin && user.status == UserStatus::Active {
        ensure_another_super_admin(&mut tx, &org, &user).await?;
    }
    steward_store::workspaces::forget_user(&mut tx, &org, id).await?;
    users::delete(&mut tx, &org, id).await?;
    let event = ctx
        .event(&org, "user.deleted", target::USER, &user.id)
        .metadata(json!({ "email": user.email, "role": user.role }));
    let done = audit::append(&mut tx, event).await?;
    tx.commit(done).await?;
    Ok(())
}

/// TROUBLE-2: the last active Super Admin can't be demoted, deactivated or removed.
async fn ensure_another_super_admin(c: &mut Conn, org: &OrgScope, user: &User) -> Result<()> {
    if users::count_active_super_admins(c, org).await? <= 1 {
        return Err(Error::conflict(&problem::LAST_SUPER_ADMIN, &[("email", &user.email)]));
    }
    Ok(())
}

fn email_taken() -> Error {
    Error::conflict(&problem::EMAIL_TAKEN, &[]).with_field(FieldError::new(
        "email",
        &rule::TAKEN,
        &[("by", &"a member of this organization")],
    ))
}

/// A person edits their own name.
pub async fn rename_self(db: &Db, ctx: &Ctx, name: &str) -> Result<User> {
    let user_id =
        ctx.principal.user_id().ok_or_else(|| Error::forbidden(&problem::USER_REQUIRED, &[("what", &"A name")]))?;
    let name = validate::name("name", name)?;
    let org = ctx.org()?;
    let mut tx = db.write(&org).await?;
    let before = users::get(&mut tx, &org, user_id).await?.ok_or_else(|| Error::not_found("user"))?;
    if before.name == name {
        return Ok(before);
    }
    let mut after = before.clone();
    after.name = name;
    after.updated_at = ctx.now;
    users::update(&mut tx, &org, &after).await?;
    let mut changes = Changes::new();
    changes.field("name", &before.name, &after.name);
    let done =
        audit::append(&mut tx, ctx.event(&org, "user.updated", target::USER, &after.id).changes(changes.into_value()))
            .await?;
    tx.commit(done).await?;
    Ok(after)
}

/// A person changes their own password; their other sessions end.
pub async fn change_own_password(db: &Db, ctx: &Ctx, current: &str, new: &str) -> Result<()> {
    let steward_core::authz::Credential::Session { user_id, session_id, .. } = &ctx.principal.credential else {
        return Err(Error::forbidden(&problem::USER_REQUIRED, &[("what", &"A password")]));
    };
    let org = ctx.org()?;
    let mut c = db.conn().await?;
    let user = users::get(&mut c, &org, user_id).await?.ok_or_else(|| Error::not_found("user"))?;
    let settings = steward_store::security::get(&mut c, &org).await?;
    let organization = organizations::get(&mut c, &org).await?.ok_or_else(Error::internal)?;
    drop(c);
    let words = [organization.name.as_str(), organization.slug.as_str(), user.email.as_str(), user.name.as_str()];
    steward_core::security::check_password(&settings, "new_password", new, &words)?;
    if !user.password_hash.as_deref().is_some_and(|h| password::verify(current, h)) {
        return Err(Error::field("current_password", &rule::WRONG_PASSWORD, &[]));
    }
    let hash = password::hash(new)?;
    let mut tx = db.write(&org).await?;
    let mut user = users::get(&mut tx, &org, user_id).await?.ok_or_else(|| Error::not_found("user"))?;
    user.password_hash = Some(hash);
    user.updated_at = ctx.now;
    users::update(&mut tx, &org, &user).await?;
    let ended = sessions::delete_others(&mut tx, &org, user_id, session_id).await?;
    let done = audit::append(
        &mut tx,
        ctx.event(&org, "user.password_changed", target::USER, user_id)
            .metadata(json!({ "other_sessions_ended": ended })),
    )
    .await?;
    tx.commit(done).await?;
    Ok(())
}

/// Who the caller is: their organization and, for a person, their account.
/// Authentication reads it with the credential (one query), so a request
/// that only needs it asks nothing more of the database.
#[derive(Debug, Clone)]
pub struct Identity {
    pub organization: OrgSummary,
    pub user: Option<User>,
}

/// `GET /me`: any caller, about itself.
pub async fn me(db: &Db, ctx: &Ctx) -> Result<Identity> {
    if let Some(known) = &ctx.identity {
        return Ok((**known).clone());
    }
    let org = ctx.org()?;
    let mut c = db.conn().await?;
    let o = organizations::get(&mut c, &org).await?.ok_or_else(Error::internal)?;
    let user = match ctx.principal.user_id() {
        Some(id) => Some(users::get(&mut c, &org, id).await?.ok_or_else(Error::internal)?),
        None => None,
    };
    Ok(Identity { organization: OrgSummary { id: o.id, name: o.name, slug: o.slug }, user })
}

/// What every console page shows around its content.
pub struct ConsoleFrame {
    pub user: Option<User>,
    pub organization: steward_store::organizations::Organization,
    /// The organization's idle timeout, for the sign-out warning.
    pub idle_secs: i64,
}

pub async fn console_frame(db: &Db, ctx: &Ctx) -> Result<ConsoleFrame> {
    let user = me(db, ctx).await?.user;
    let org = ctx.org()?;
    let mut c = db.conn().await?;
    let organization = organizations::get(&mut c, &org).await?.ok_or_else(Error::internal)?;
    let idle_secs = steward_store::security::get(&mut c, &org).await?.idle_secs();
    Ok(ConsoleFrame { user, organization, idle_secs })
}

/// The organization's active Super Admins, for "whom to ask": anyone in the
/// organization may see their names and emails.
pub async fn super_admins(db: &Db, ctx: &Ctx) -> Result<Vec<User>> {
    let org = ctx.org()?;
    let mut c = db.conn().await?;
    Ok(users::active_super_admins(&mut c, &org).await?)
}
