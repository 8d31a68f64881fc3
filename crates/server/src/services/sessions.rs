//! Signing in and out. Sessions are opaque random tokens stored as SHA-256, with
//! an idle timeout (sliding) and an absolute lifetime.

use serde::Deserialize;
use serde_json::json;
use steward_core::audit::target;
use steward_core::authz::{Actor, Credential};
use steward_core::ids::SessionId;
use steward_core::people::UserStatus;
use steward_core::time::Timestamp;
use steward_core::tokens::{hash_secret, random_token};
use steward_core::{Error, Result, password, validate};
use steward_store::organizations::{self, Organization};
use steward_store::sessions::{self, Session};
use steward_store::users::{self, User};
use steward_store::{Db, audit, commit};

use super::{Ctx, EventExt, RequestMeta, event};

/// Idle timeout: a session unused this long ends (NIST 800-63B AAL2: 30 min).
pub const IDLE_TIMEOUT_SECS: i64 = 30 * 60;
/// Absolute lifetime, however active the session (12 h).
pub const ABSOLUTE_TIMEOUT_SECS: i64 = 12 * 3600;
/// `last_seen_at` is written at most this often, so reads stay reads.
pub const TOUCH_INTERVAL_MS: i64 = 60_000;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Login {
    pub email: String,
    pub password: String,
    /// The organization's slug; needed only when the email belongs to several
    /// organizations with the same password.
    pub organization: Option<String>,
}

#[derive(Debug)]
pub struct NewSession {
    pub token: String,
    pub session: Session,
    pub user: User,
    pub organization: Organization,
}

fn invalid_credentials() -> Error {
    Error::unauthorized("invalid_credentials", "The email or password is not correct.")
}

pub async fn login(db: &Db, meta: &RequestMeta, now: Timestamp, input: Login) -> Result<NewSession> {
    let email = validate::email("email", &input.email).map_err(|_| invalid_credentials())?;
    if input.password.chars().count() > password::MAX_LENGTH {
        return Err(invalid_credentials());
    }
    let mut c = db.conn().await?;
    let mut candidates = users::by_email_everywhere(&mut c, &email).await?;
    if let Some(slug) = input.organization.as_deref() {
        let org = organizations::by_slug(&mut c, slug).await?;
        candidates.retain(|u| org.as_ref().is_some_and(|o| o.id == u.org_id));
    }
    drop(c);
    candidates.retain(|u| u.password_hash.is_some());
    if candidates.is_empty() {
        // Same work as a real check, so timing doesn't tell which emails exist.
        password::waste_equal_time(&input.password);
        return Err(invalid_credentials());
    }
    let (matched, failed): (Vec<User>, Vec<User>) = candidates
        .into_iter()
        .partition(|u| u.password_hash.as_deref().is_some_and(|h| password::verify(&input.password, h)));
    let user = match matched.len() {
        0 => {
            let mut tx = db.begin().await?;
            for u in &failed {
                let e = event(&u.org_id, "session.failed", Actor::anonymous(), meta, now)
                    .target(target::USER, &u.id)
                    .metadata(json!({ "email": u.email, "reason": "wrong_password" }));
                audit::append(&mut tx, e).await?;
            }
            commit(tx).await?;
            return Err(invalid_credentials());
        }
        1 => matched.into_iter().next().ok_or_else(Error::internal)?,
        _ => {
            return Err(Error::conflict(
                "organization_required",
                "This email belongs to several organizations. Add `organization` with the slug of the one to sign in to.",
            ));
        }
    };
    if user.status != UserStatus::Active {
        return Err(Error::unauthorized(
            "account_inactive",
            "Your account is deactivated. Ask a Super Admin of your organization to reactivate it.",
        ));
    }
    let mut tx = db.begin().await?;
    let org = organizations::get(&mut tx, &user.org_id).await?.ok_or_else(Error::internal)?;
    let token = random_token();
    let session = Session {
        id: SessionId::new(),
        org_id: user.org_id.clone(),
        user_id: user.id.clone(),
        token_hash: hash_secret(&token),
        csrf_token: random_token(),
        ip: meta.ip.clone(),
        user_agent: meta.user_agent.clone(),
        created_at: now,
        last_seen_at: now,
        idle_expires_at: now.plus_seconds(IDLE_TIMEOUT_SECS),
        absolute_expires_at: now.plus_seconds(ABSOLUTE_TIMEOUT_SECS),
    };
    sessions::insert(&mut tx, &session).await?;
    let mut user = user;
    user.last_login_at = Some(now);
    users::update(&mut tx, &user).await?;
    let e = event(&user.org_id, "session.created", Actor::user(&user.id, &user.email), meta, now)
        .target(target::SESSION, &session.id);
    audit::append(&mut tx, e).await?;
    commit(tx).await?;
    Ok(NewSession { token, session, user, organization: org })
}

/// Ends the caller's own session.
pub async fn logout(db: &Db, ctx: &Ctx) -> Result<()> {
    let Credential::Session { session_id, .. } = &ctx.principal.credential else {
        return Err(Error::conflict(
            "not_a_session",
            "This request is authenticated with an API key, which has no session to end. Revoke the key instead.",
        ));
    };
    let mut tx = db.begin().await?;
    sessions::delete(&mut tx, ctx.org_id(), session_id).await?;
    audit::append(&mut tx, ctx.event("session.ended", target::SESSION, session_id)).await?;
    commit(tx).await?;
    Ok(())
}
