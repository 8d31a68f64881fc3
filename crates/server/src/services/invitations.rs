//! Accepting an invitation: the invited person sets a password and becomes active.

use serde::Deserialize;
use steward_core::audit::target;
use steward_core::authz::{Actor, Principal};
use steward_core::messages::problem;
use steward_core::people::UserStatus;
use steward_core::time::Timestamp;
use steward_core::tokens::hash_secret;
use steward_core::{Error, Result, password, validate};
use steward_store::organizations::{self, Organization};
use steward_store::users::{self, User};
use steward_store::{Db, OrgScope, audit, invitations};

use super::{EventExt, RequestMeta, event};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptInvitation {
    /// 8–128 characters.
    pub password: String,
    /// Optionally correct the name the inviter typed.
    #[schema(max_length = 100)]
    pub name: Option<String>,
}

pub fn invitation_not_found() -> Error {
    Error::new(404, &problem::INVITATION_NOT_FOUND, &[])
}

/// The invitation a token names, if it can still be used, with its user and org.
pub async fn lookup(db: &Db, token: &str, now: Timestamp) -> Result<(User, Organization)> {
    let mut c = db.conn().await?;
    let inv = invitations::by_token_hash(&mut c, &hash_secret(token)).await?.ok_or_else(invitation_not_found)?;
    if inv.accepted_at.is_some() {
        return Err(invitation_not_found());
    }
    if inv.expires_at <= now {
        return Err(Error::gone(&problem::INVITATION_EXPIRED, &[]));
    }
    // The token proves the invitation: its organization is where the invitee acts.
    let scope = OrgScope::of(&Principal::system("invitation").in_org(inv.org_id.clone()))?;
    let user = users::get(&mut c, &scope, &inv.user_id).await?.ok_or_else(invitation_not_found)?;
    let org = organizations::get(&mut c, &scope).await?.ok_or_else(invitation_not_found)?;
    Ok((user, org))
}

pub async fn accept(
    db: &Db,
    meta: &RequestMeta,
    now: Timestamp,
    token: &str,
    input: AcceptInvitation,
) -> Result<(User, Organization)> {
    let (user, org) = lookup(db, token, now).await?;
    let scope = OrgScope::of(&Principal::system("invitation").in_org(org.id.clone()))?;
    let settings = {
        let mut c = db.conn().await?;
        steward_store::security::get(&mut c, &scope).await?
    };
    let mut fields = validate::Fields::new();
    let words = [org.name.as_str(), org.slug.as_str(), user.email.as_str(), user.name.as_str()];
    fields.check(steward_core::security::check_password(&settings, "password", &input.password, &words));
    let name = input.name.as_deref().and_then(|n| fields.check(validate::name("name", n)));
    fields.finish()?;
    if user.status == UserStatus::Deactivated {
        return Err(Error::forbidden(&problem::ACCOUNT_INACTIVE, &[]));
    }
    let hash = password::hash(&input.password)?;

    let mut tx = db.write(&scope).await?;
    let inv = invitations::by_token_hash(&mut tx, &hash_secret(token)).await?.ok_or_else(invitation_not_found)?;
    // Single use, even when two requests race with the same link.
    if !invitations::mark_accepted(&mut tx, &inv.id, now).await? {
        return Err(invitation_not_found());
    }
    let mut user = users::get(&mut tx, &scope, &user.id).await?.ok_or_else(invitation_not_found)?;
    user.password_hash = Some(hash);
    user.status = UserStatus::Active;
    if let Some(name) = name {
        user.name = name;
    }
    user.updated_at = now;
    users::update(&mut tx, &scope, &user).await?;
    let e = event(&org.id, "invitation.accepted", Actor::user(&user.id, &user.email), meta, now)
        .target(target::USER, &user.id);
    let done = audit::append(&mut tx, e).await?;
    tx.commit(done).await?;
    Ok((user, org))
}
