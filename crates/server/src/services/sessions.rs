//! Signing in and out. Sessions are opaque random tokens stored as SHA-256, with
//! an idle timeout (sliding) and an absolute lifetime.

use serde::Deserialize;
use serde_json::json;
use steward_core::audit::target;
use steward_core::authz::{Actor, Credential, Principal};
use steward_core::devices;
use steward_core::ids::SessionId;
use steward_core::messages::{problem, rule};
use steward_core::people::UserStatus;
use steward_core::sealing::Sealer;
use steward_core::security::throttle;
use steward_core::time::Timestamp;
use steward_core::tokens::{hash_secret, random_token};
use steward_core::{Error, Result, password, validate};
use steward_store::organizations::{self, Organization};
use steward_store::sessions::{self, Device, Session};
use steward_store::users::{self, User};
use steward_store::{Db, OrgScope, audit, security};

use super::{Ctx, EventExt, RequestMeta, event};
use crate::mail::{Letter, Postbox};

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
    /// The current code of the authenticator app, when the account uses 2FA.
    #[serde(default)]
    pub totp_code: Option<String>,
    /// Or one of the account's single-use recovery codes.
    #[serde(default)]
    pub recovery_code: Option<String>,
}

#[derive(Debug)]
pub struct NewSession {
    pub token: String,
    pub session: Session,
    pub user: User,
    pub organization: Organization,
}

fn invalid_credentials() -> Error {
    Error::unauthorized(&problem::INVALID_CREDENTIALS, &[])
}

/// The second step of a sign-in, when the account uses 2FA: a code of the
/// authenticator app or a recovery code.
#[derive(Debug, Clone, Copy, Default)]
pub struct SecondFactor<'a> {
    pub totp_code: Option<&'a str>,
    pub recovery_code: Option<&'a str>,
}

impl<'a> SecondFactor<'a> {
    /// What a person typed in the one box of the console: digits are an
    /// authenticator code, anything else a recovery code.
    pub fn typed(code: Option<&'a str>) -> Self {
        match code.map(str::trim).filter(|c| !c.is_empty()) {
            Some(c) if c.chars().all(|ch| ch.is_ascii_digit() || ch.is_whitespace()) => {
                SecondFactor { totp_code: Some(c), recovery_code: None }
            }
            Some(c) => SecondFactor { totp_code: None, recovery_code: Some(c) },
            None => SecondFactor::default(),
        }
    }
}

/// Signs in with email, password and (when the account uses 2FA) a code, in one call.
pub async fn login(
    db: &Db,
    sealer: &Sealer,
    postbox: &Postbox,
    meta: &RequestMeta,
    now: Timestamp,
    input: Login,
) -> Result<NewSession> {
    let user = verify_password(db, meta, now, &input).await?;
    let second = SecondFactor { totp_code: input.totp_code.as_deref(), recovery_code: input.recovery_code.as_deref() };
    start(db, sealer, postbox, meta, now, user, second).await
}

/// The first step: the throttle, the password, the account's status. Returns
/// the person whose password it is.
pub async fn verify_password(db: &Db, meta: &RequestMeta, now: Timestamp, input: &Login) -> Result<User> {
    let email = validate::email("email", &input.email).map_err(|_| invalid_credentials())?;
    if input.password.chars().count() > password::MAX_LENGTH {
        return Err(invalid_credentials());
    }
    // Throttling is per email, whether or not an account has it, so the answers
    // don't tell which emails exist.
    let mut c = db.conn().await?;
    if let Some(a) = security::attempts(&mut c, &email).await? {
        if let Some(until) = a.locked_until.filter(|t| *t > now) {
            let secs = (until.millis() - now.millis() + 999) / 1000;
            return Err(Error::new(429, &problem::ACCOUNT_LOCKED, &[("minutes", &((secs + 59) / 60))])
                .with_extension("retry_after", secs));
        }
        let wait = throttle::delay_secs(a.failures) * 1000 - (now.millis() - a.last_failed_at.millis());
        if a.locked_until.is_none() && wait > 0 {
            let secs = (wait + 999) / 1000;
            return Err(
                Error::new(429, &problem::TOO_MANY_ATTEMPTS, &[("seconds", &secs)]).with_extension("retry_after", secs)
            );
        }
    }
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
        return Err(failed_attempt(db, &email, &[], meta, now).await);
    }
    let (matched, failed): (Vec<User>, Vec<User>) = candidates
        .into_iter()
        .partition(|u| u.password_hash.as_deref().is_some_and(|h| password::verify(&input.password, h)));
    let user = match matched.len() {
        0 => return Err(failed_attempt(db, &email, &failed, meta, now).await),
        1 => matched.into_iter().next().ok_or_else(Error::internal)?,
        _ => {
            let how = "This email belongs to several organizations: add `organization` with the slug of the one to sign in to";
            return Err(Error::conflict(&problem::ORGANIZATION_REQUIRED, &[("how", &how)]));
        }
    };
    if user.status != UserStatus::Active {
        return Err(Error::unauthorized(&problem::ACCOUNT_INACTIVE, &[]));
    }
    // Hashes made with older parameters are replaced while the password is at hand.
    let mut user = user;
    if user.password_hash.as_deref().is_some_and(password::needs_rehash) {
        user.password_hash = Some(password::hash(&input.password)?);
        let org = user_scope(&user)?;
        let mut tx = db.write(&org).await?;
        users::update(&mut tx, &org, &user).await?;
        tx.commit_unaudited().await?;
    }
    Ok(user)
}

/// The second step (a 2FA code when the account has one) and the new
/// session; a sign-in from a device the person never used is mailed to them.
pub async fn start(
    db: &Db,
    sealer: &Sealer,
    postbox: &Postbox,
    meta: &RequestMeta,
    now: Timestamp,
    user: User,
    second: SecondFactor<'_>,
) -> Result<NewSession> {
    let SecondFactor { totp_code, recovery_code } = second;
    let email = user.email.clone();
    let org = user_scope(&user)?;
    let mut tx = db.write(&org).await?;
    // The second step: inside the transaction, so a code is spent only with a session.
    if let Err(e) = super::two_factor::second_step(&mut tx, sealer, &org, &user, totp_code, recovery_code, now).await {
        drop(tx);
        return Err(if e.code == "invalid_two_factor_code" {
            failed_attempt(db, &email, std::slice::from_ref(&user), meta, now).await.into_two_factor()
        } else {
            e
        });
    }
    security::clear_attempts(&mut tx, &email).await?;
    let organization = organizations::get(&mut tx, &org).await?.ok_or_else(Error::internal)?;
    let settings = security::get(&mut tx, &org).await?;
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
        idle_expires_at: now.plus_seconds(settings.idle_secs()),
        absolute_expires_at: now.plus_seconds(settings.absolute_secs()),
        idle_secs: settings.idle_secs(),
        reauth_at: now,
    };
    sessions::insert(&mut tx, &org, &session).await?;
    let device_key = devices::key(meta.user_agent.as_deref());
    if sessions::remember_device(&mut tx, &org, &user.id, &device_key, now).await? == Device::New {
        let device = devices::describe(meta.user_agent.as_deref());
        let letter = Letter::NewSignIn { at: now, ip: meta.ip.clone(), device };
        postbox.post(&mut tx, &org, &user, letter, "/account", now).await?;
    }
    let mut user = user;
    user.last_login_at = Some(now);

    users::update(&mut tx, &org, &user).await?;
    let e = event(&user.org_id, "session.created", Actor::user(&user.id, &user.email), meta, now)
        .target(target::SESSION, &session.id);
    let done = audit::append(&mut tx, e).await?;
    tx.commit(done).await?;
    Ok(NewSession { token, session, user, organization })
}

/// Counts a failed sign-in for `email` (locking it after too many), audits it in
/// the organizations of the accounts it was tried on, and returns the answer.
async fn failed_attempt(db: &Db, email: &str, tried: &[User], meta: &RequestMeta, now: Timestamp) -> Error {
    let record = async {
        let mut tx = db.write_deployment().await?;
        let previous = security::attempts(&mut tx, email).await?;
        let fresh = previous.filter(|a| {
            now.millis() - a.first_failed_at.millis() <= throttle::WINDOW_SECS * 1000
                && a.locked_until.is_none_or(|t| t > now)
        });
        let mut a = fresh.unwrap_or(security::Attempts {
            failures: 0,
            first_failed_at: now,
            last_failed_at: now,
            locked_until: None,
        });
        a.failures += 1;
        a.last_failed_at = now;
        let locks = a.failures >= throttle::LOCK_AFTER && a.locked_until.is_none();
        if locks {
            a.locked_until = Some(now.plus_seconds(throttle::LOCK_SECS));
        }
        security::save_attempts(&mut tx, email, &a).await?;
        let mut audited = None;
        for u in tried {
            let e = event(&u.org_id, "session.failed", Actor::anonymous(), meta, now)
                .target(target::USER, &u.id)
                .metadata(json!({ "email": u.email, "reason": "wrong_password", "failures": a.failures }));
            audited = Some(audit::append(&mut tx, e).await?);
            if locks {
                let e = event(&u.org_id, "session.locked", Actor::anonymous(), meta, now)
                    .target(target::USER, &u.id)
                    .metadata(
                        json!({ "email": u.email, "failures": a.failures, "locked_for_seconds": throttle::LOCK_SECS }),
                    );
                audit::append(&mut tx, e).await?;
            }
        }
        // An email no account has leaves only the throttle's count.
        match audited {
            Some(done) => tx.commit(done).await?,
            None => tx.commit_unaudited().await?,
        }
        Ok::<_, Error>(())
    };
    match record.await {
        Ok(()) => invalid_credentials(),
        Err(e) => e,
    }
}

trait TwoFactorAnswer {
    fn into_two_factor(self) -> Error;
}

impl TwoFactorAnswer for Error {
    /// A wrong code is counted like a wrong password but answered as what it is.
    fn into_two_factor(self) -> Error {
        if self.code == "invalid_credentials" {
            Error::unauthorized(&problem::INVALID_TWO_FACTOR_CODE, &[])
        } else {
            self
        }
    }
}

/// The organization of someone who just proved who they are (a right
/// password): sign-in acts there as that person.
fn user_scope(user: &User) -> Result<OrgScope> {
    OrgScope::of(&Principal::system("sign-in").in_org(user.org_id.clone()))
}

/// Seconds the browser should keep the session cookie.
pub fn cookie_max_age(new: &NewSession) -> i64 {
    (new.session.absolute_expires_at.millis() - new.session.created_at.millis()) / 1000
}

/// Ends the caller's own session.
pub async fn logout(db: &Db, ctx: &Ctx) -> Result<()> {
    let Credential::Session { session_id, .. } = &ctx.principal.credential else {
        return Err(Error::conflict(
            &problem::NOT_A_SESSION,
            &[("what", &"signing out"), ("instead", &"To stop the key working, revoke it under Integrations → API")],
        ));
    };
    let org = ctx.org()?;
    let mut tx = db.write(&org).await?;
    sessions::delete(&mut tx, &org, session_id).await?;
    let done = audit::append(&mut tx, ctx.event(&org, "session.ended", target::SESSION, session_id)).await?;
    tx.commit(done).await?;
    Ok(())
}

/// How long a proof of identity counts for sensitive actions (Kanidm: 10 min).
pub const REAUTH_WINDOW_SECS: i64 = 10 * 60;

/// Sensitive actions (deleting a workspace, changing security settings,
/// creating API keys, changing roles) need the password or a 2FA code entered
/// within the last 10 minutes. API keys are their own proof.
pub async fn require_recent_auth(c: &mut steward_store::Conn, ctx: &Ctx) -> Result<()> {
    let Credential::Session { session_id, .. } = &ctx.principal.credential else { return Ok(()) };
    let s = sessions::get(c, &ctx.org()?, session_id).await?.ok_or_else(Error::internal)?;
    if ctx.now.millis() - s.reauth_at.millis() > REAUTH_WINDOW_SECS * 1000 {
        return Err(Error::forbidden(&problem::REAUTHENTICATION_REQUIRED, &[]));
    }
    Ok(())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reauthenticate {
    pub password: Option<String>,
    /// Or the current code of the authenticator app.
    pub totp_code: Option<String>,
}

/// A fresh proof of identity for the current session.
pub async fn reauthenticate(db: &Db, sealer: &Sealer, ctx: &Ctx, input: Reauthenticate) -> Result<()> {
    let Credential::Session { session_id, user_id, .. } = &ctx.principal.credential else {
        return Err(Error::conflict(
            &problem::NOT_A_SESSION,
            &[("what", &"re-authenticating"), ("instead", &"An API key is its own proof; send the request with it")],
        ));
    };
    let org = ctx.org()?;
    let mut tx = db.write(&org).await?;
    let user = users::get(&mut tx, &org, user_id).await?.ok_or_else(Error::internal)?;
    let proved = match (&input.password, &input.totp_code) {
        (Some(p), _) => user.password_hash.as_deref().is_some_and(|h| password::verify(p, h)),
        (None, Some(code)) => {
            super::two_factor::second_step(&mut tx, sealer, &org, &user, Some(code), None, ctx.now).await.is_ok()
                && steward_store::two_factor::get(&mut tx, &org, user_id).await?.is_some_and(|f| f.confirmed)
        }
        (None, None) => false,
    };
    if !proved {
        return Err(if input.password.is_some() || input.totp_code.is_none() {
            Error::field("password", &rule::WRONG_PASSWORD, &[])
        } else {
            Error::field("totp_code", &rule::WRONG_CODE, &[])
        });
    }
    sessions::reauthenticated(&mut tx, &org, session_id, ctx.now).await?;
    let done = audit::append(&mut tx, ctx.event(&org, "session.reauthenticated", target::SESSION, session_id)).await?;
    tx.commit(done).await?;
    Ok(())
}

/// The caller's own sessions, and which one is the current.
pub async fn mine(db: &Db, ctx: &Ctx) -> Result<(Vec<Session>, Option<SessionId>)> {
    let Credential::Session { session_id, user_id, .. } = &ctx.principal.credential else {
        return Err(Error::conflict(
            &problem::NOT_A_SESSION,
            &[("what", &"a list of sessions"), ("instead", &"Sign in as the person whose sessions these are")],
        ));
    };
    let org = ctx.org()?;
    let mut c = db.conn().await?;
    Ok((sessions::for_user(&mut c, &org, user_id).await?, Some(session_id.clone())))
}

/// Ends one of the caller's own sessions, or all but the current one (`None`).
pub async fn end_mine(db: &Db, ctx: &Ctx, which: Option<&SessionId>) -> Result<u64> {
    let Credential::Session { session_id, user_id, .. } = &ctx.principal.credential else {
        return Err(Error::conflict(
            &problem::NOT_A_SESSION,
            &[("what", &"a list of sessions"), ("instead", &"Sign in as the person whose sessions these are")],
        ));
    };
    let org = ctx.org()?;
    let mut tx = db.write(&org).await?;
    let ended = match which {
        Some(id) => {
            let s = sessions::get(&mut tx, &org, id)
                .await?
                .filter(|s| &s.user_id == user_id)
                .ok_or_else(|| Error::not_found("session"))?;
            u64::from(sessions::delete(&mut tx, &org, &s.id).await?)
        }
        None => sessions::delete_others(&mut tx, &org, user_id, session_id).await?,
    };
    let e = ctx.event(&org, "session.ended", target::USER, user_id).metadata(json!({ "sessions_ended": ended }));
    let done = audit::append(&mut tx, e).await?;
    tx.commit(done).await?;
    Ok(ended)
}

/// A Super Admin ends every session of someone in the organization; they are
/// told by mail.
pub async fn end_all_of(db: &Db, ctx: &Ctx, postbox: &Postbox, user: &steward_core::ids::UserId) -> Result<u64> {
    let org = ctx.authorize(steward_core::permissions::Permission::PeopleWrite)?;
    let mut tx = db.write(&org).await?;
    let person = users::get(&mut tx, &org, user).await?.ok_or_else(|| Error::not_found("user"))?;
    let ended = sessions::delete_for_user(&mut tx, &org, user).await?;
    let letter = Letter::SignedOutEverywhere { by: ctx.person_name().unwrap_or_else(|| "Someone".into()) };
    postbox.post(&mut tx, &org, &person, letter, "/login", ctx.now).await?;
    let e = ctx.event(&org, "user.sessions_ended", target::USER, user).metadata(json!({ "sessions_ended": ended }));
    let done = audit::append(&mut tx, e).await?;
    tx.commit(done).await?;
    Ok(ended)
}
