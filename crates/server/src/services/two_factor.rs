//! Two-factor authentication (SEC-3): TOTP enrollment with a QR code, single-use
//! recovery codes, the second step of sign-in, and a Super Admin's reset.

use serde_json::json;
use steward_core::audit::target;
use steward_core::authz::Credential;
use steward_core::ids::UserId;
use steward_core::messages::{problem, rule};
use steward_core::permissions::Permission;
use steward_core::sealing::Sealer;
use steward_core::security::TwoFactorMode;
use steward_core::time::Timestamp;
use steward_core::two_factor::{self as totp, parse_code, recovery_hash};
use steward_core::{Error, Result, password};
use steward_store::users::User;
use steward_store::{Conn, Db, OrgScope, audit, organizations, security, sessions, two_factor, users};

use super::{Ctx, EventExt};
use crate::mail::{Letter, Postbox};

pub struct Enrollment {
    pub secret: String,
    pub otpauth_url: String,
    pub qr_svg: String,
}

fn signed_in_user(ctx: &Ctx) -> Result<&UserId> {
    match &ctx.principal.credential {
        Credential::Session { user_id, .. } => Ok(user_id),
        _ => Err(Error::forbidden(&problem::USER_REQUIRED, &[("what", &"Two-factor authentication")])),
    }
}

fn unix_secs(t: Timestamp) -> u64 {
    (t.millis().max(0) / 1000) as u64
}

/// Where a person's TOTP secret is sealed for (see `core::sealing`).
fn seal_context(user: &UserId) -> String {
    format!("totp:{user}")
}

/// The stored factor with its secret opened. A secret that does not open was
/// altered or sealed under another key: that is corrupt data, not a wrong code.
async fn factor(c: &mut Conn, sealer: &Sealer, org: &OrgScope, user: &UserId) -> Result<Option<two_factor::Factor>> {
    let Some(mut f) = two_factor::get(c, org, user).await? else { return Ok(None) };
    f.secret = sealer.open(&f.secret, &seal_context(user)).ok_or_else(|| {
        tracing::error!(user = %user, "a TOTP secret does not open with this deployment's key");
        Error::internal()
    })?;
    Ok(Some(f))
}

/// What the key check seals: any fixed text does.
const KEY_CHECK: (&str, &str) = ("steward", "sealing-key-check");

/// Makes sure `sealer` holds the key this database was set up with (recording
/// it on first use), then seals TOTP secrets stored before sealing existed.
/// Returns how many were sealed. Run at start, before serving.
pub async fn prepare_sealing(db: &Db, sealer: &Sealer, now: Timestamp) -> Result<usize> {
    let mut c = db.conn().await?;
    if two_factor::key_check(&mut c).await?.is_none() {
        two_factor::set_key_check(&mut c, &sealer.seal(KEY_CHECK.0, KEY_CHECK.1), now).await?;
    }
    let check = two_factor::key_check(&mut c).await?.unwrap_or_default();
    if sealer.open(&check, KEY_CHECK.1).as_deref() != Some(KEY_CHECK.0) {
        return Err(Error::conflict(&problem::SEALING_KEY_MISMATCH, &[]));
    }
    let legacy = two_factor::plaintext_secrets(&mut c).await?;
    for (user, secret) in &legacy {
        two_factor::seal_secret(&mut c, user, secret, &sealer.seal(secret, &seal_context(user))).await?;
    }
    Ok(legacy.len())
}

/// Starts enrollment: a new secret, its `otpauth://` URL and QR code.
pub async fn start(db: &Db, sealer: &Sealer, ctx: &Ctx) -> Result<Enrollment> {
    let user_id = signed_in_user(ctx)?;
    let org = ctx.org()?;
    let mut tx = db.write(&org).await?;
    if two_factor::get(&mut tx, &org, user_id).await?.is_some_and(|f| f.confirmed) {
        return Err(Error::conflict(&problem::TWO_FACTOR_ALREADY_ENABLED, &[]));
    }
    let user = users::get(&mut tx, &org, user_id).await?.ok_or_else(Error::internal)?;
    let organization = organizations::get(&mut tx, &org).await?.ok_or_else(Error::internal)?;
    let secret = totp::new_secret();
    two_factor::start(&mut tx, &org, user_id, &sealer.seal(&secret, &seal_context(user_id)), ctx.now).await?;
    let done = audit::append(&mut tx, ctx.event(&org, "two_factor.enrollment_started", target::USER, user_id)).await?;
    tx.commit(done).await?;
    let (otpauth_url, qr_svg) = totp::enrollment(&secret, &format!("Steward ({})", organization.name), &user.email)?;
    Ok(Enrollment { secret, otpauth_url, qr_svg })
}

/// Confirms enrollment with a code from the app; returns the recovery codes (shown once).
pub async fn confirm(db: &Db, sealer: &Sealer, ctx: &Ctx, code: &str) -> Result<Vec<String>> {
    let user_id = signed_in_user(ctx)?;
    let org = ctx.org()?;
    let code = parse_code("code", code)?;
    let mut tx = db.write(&org).await?;
    let factor = factor(&mut tx, sealer, &org, user_id)
        .await?
        .ok_or_else(|| Error::conflict(&problem::ENROLLMENT_NOT_STARTED, &[]))?;
    if factor.confirmed {
        return Err(Error::conflict(&problem::TWO_FACTOR_ALREADY_ENABLED, &[]));
    }
    let step = totp::verify(&factor.secret, &code, unix_secs(ctx.now), factor.last_used_step).ok_or_else(wrong_code)?;
    if !two_factor::use_step(&mut tx, &org, user_id, step).await? {
        return Err(wrong_code());
    }
    two_factor::confirm(&mut tx, &org, user_id, ctx.now).await?;
    let codes = totp::new_recovery_codes();
    let hashes: Vec<String> = codes.iter().map(|(_, h)| h.clone()).collect();
    two_factor::set_recovery_codes(&mut tx, &org, user_id, &hashes).await?;
    let done = audit::append(&mut tx, ctx.event(&org, "two_factor.enabled", target::USER, user_id)).await?;
    tx.commit(done).await?;
    Ok(codes.into_iter().map(|(c, _)| c).collect())
}

fn wrong_code() -> Error {
    Error::field("code", &rule::WRONG_CODE, &[])
}

/// New recovery codes (the old ones stop working); needs a current code.
pub async fn regenerate_codes(db: &Db, sealer: &Sealer, ctx: &Ctx, code: &str) -> Result<Vec<String>> {
    let user_id = signed_in_user(ctx)?;
    let org = ctx.org()?;
    let code = parse_code("code", code)?;
    let mut tx = db.write(&org).await?;
    let factor = factor(&mut tx, sealer, &org, user_id).await?.filter(|f| f.confirmed).ok_or_else(not_enabled)?;
    let step = totp::verify(&factor.secret, &code, unix_secs(ctx.now), factor.last_used_step).ok_or_else(wrong_code)?;
    if !two_factor::use_step(&mut tx, &org, user_id, step).await? {
        return Err(wrong_code());
    }
    let codes = totp::new_recovery_codes();
    let hashes: Vec<String> = codes.iter().map(|(_, h)| h.clone()).collect();
    two_factor::set_recovery_codes(&mut tx, &org, user_id, &hashes).await?;
    let done =
        audit::append(&mut tx, ctx.event(&org, "two_factor.recovery_codes_regenerated", target::USER, user_id)).await?;
    tx.commit(done).await?;
    Ok(codes.into_iter().map(|(c, _)| c).collect())
}

fn not_enabled() -> Error {
    Error::conflict(&problem::TWO_FACTOR_NOT_ENABLED, &[])
}

/// Turns one's own 2FA off: needs the password again, and the organization must not require 2FA.
pub async fn disable(db: &Db, ctx: &Ctx, current_password: &str) -> Result<()> {
    let user_id = signed_in_user(ctx)?;
    let org = ctx.org()?;
    let mut tx = db.write(&org).await?;
    if security::get(&mut tx, &org).await?.two_factor == TwoFactorMode::Required {
        return Err(Error::conflict(&problem::TWO_FACTOR_REQUIRED_BY_ORGANIZATION, &[]));
    }
    let user = users::get(&mut tx, &org, user_id).await?.ok_or_else(Error::internal)?;
    if !user.password_hash.as_deref().is_some_and(|h| password::verify(current_password, h)) {
        return Err(Error::field("password", &rule::WRONG_PASSWORD, &[]));
    }
    if !two_factor::remove(&mut tx, &org, user_id).await? {
        return Err(not_enabled());
    }
    let done = audit::append(&mut tx, ctx.event(&org, "two_factor.disabled", target::USER, user_id)).await?;
    tx.commit(done).await?;
    Ok(())
}

/// A Super Admin removes someone's 2FA (a lost phone); their sessions end,
/// and they are told by mail.
pub async fn reset(db: &Db, ctx: &Ctx, postbox: &Postbox, user_id: &UserId) -> Result<()> {
    let org = ctx.authorize(Permission::PeopleWrite)?;
    let mut tx = db.write(&org).await?;
    let user = users::get(&mut tx, &org, user_id).await?.ok_or_else(|| Error::not_found("user"))?;
    if !two_factor::remove(&mut tx, &org, user_id).await? {
        return Err(not_enabled());
    }
    let ended = sessions::delete_for_user(&mut tx, &org, user_id).await?;
    let letter = Letter::TwoFactorReset { by: ctx.person_name().unwrap_or_else(|| "A Super Admin".into()) };
    postbox.post(&mut tx, &org, &user, letter, "/login", ctx.now).await?;
    let e = ctx
        .event(&org, "two_factor.reset", target::USER, user_id)
        .metadata(json!({ "email": user.email, "sessions_ended": ended }));
    let done = audit::append(&mut tx, e).await?;
    tx.commit(done).await?;
    Ok(())
}

/// What sign-in needs beyond the password: `Ok(())` when no second factor is
/// set up or the given one is right. `Err` says which answer to give.
pub async fn second_step(
    c: &mut steward_store::WriteTx,
    sealer: &Sealer,
    org: &OrgScope,
    user: &User,
    totp_code: Option<&str>,
    recovery_code: Option<&str>,
    now: Timestamp,
) -> Result<()> {
    let Some(factor) = factor(c, sealer, org, &user.id).await?.filter(|f| f.confirmed) else { return Ok(()) };
    let refused = || Error::unauthorized(&problem::INVALID_TWO_FACTOR_CODE, &[]);
    if let Some(code) = totp_code {
        let code = parse_code("totp_code", code).map_err(|_| refused())?;
        let step = totp::verify(&factor.secret, &code, unix_secs(now), factor.last_used_step).ok_or_else(refused)?;
        // The conditional update is what makes a replay fail, even in parallel.
        return if two_factor::use_step(c, org, &user.id, step).await? { Ok(()) } else { Err(refused()) };
    }
    if let Some(code) = recovery_code {
        return if two_factor::use_recovery_code(c, org, &user.id, &recovery_hash(code), now).await? {
            Ok(())
        } else {
            Err(refused())
        };
    }
    Err(Error::unauthorized(&problem::TWO_FACTOR_REQUIRED, &[]))
}

/// Where a person stands: enrolled, enrolling (with the pending QR code), or neither.
pub enum Status {
    On { unused_recovery_codes: i64 },
    Enrolling(Enrollment),
    Off,
}

pub async fn status(db: &Db, sealer: &Sealer, ctx: &Ctx) -> Result<Status> {
    let user_id = signed_in_user(ctx)?;
    let org = ctx.org()?;
    let mut c = db.conn().await?;
    match factor(&mut c, sealer, &org, user_id).await? {
        Some(f) if f.confirmed => {
            Ok(Status::On { unused_recovery_codes: two_factor::unused_recovery_codes(&mut c, &org, user_id).await? })
        }
        Some(f) => {
            let user = users::get(&mut c, &org, user_id).await?.ok_or_else(Error::internal)?;
            let organization = organizations::get(&mut c, &org).await?.ok_or_else(Error::internal)?;
            let (otpauth_url, qr_svg) =
                totp::enrollment(&f.secret, &format!("Steward ({})", organization.name), &user.email)?;
            Ok(Status::Enrolling(Enrollment { secret: f.secret, otpauth_url, qr_svg }))
        }
        None => Ok(Status::Off),
    }
}

/// Ids of the people of the organization who have 2FA on (the People page).
pub async fn enrolled_people(db: &Db, ctx: &Ctx) -> Result<Vec<String>> {
    let org = ctx.authorize(Permission::PeopleRead)?;
    let mut c = db.conn().await?;
    Ok(two_factor::users_with_factor(&mut c, &org).await?)
}

pub async fn required(db: &Db, ctx: &Ctx) -> Result<bool> {
    let org = ctx.org()?;
    let mut c = db.conn().await?;
    Ok(security::get(&mut c, &org).await?.two_factor == TwoFactorMode::Required)
}

/// How long the console waits for the code after a right password.
const CHALLENGE_SECS: i64 = 5 * 60;

/// After a right password: when the person has 2FA, a challenge token for the
/// code page; none when they don't.
pub async fn begin_challenge(db: &Db, user: &User, now: Timestamp) -> Result<Option<String>> {
    let org = OrgScope::of(&steward_core::authz::Principal::system("sign-in").in_org(user.org_id.clone()))?;
    let mut c = db.conn().await?;
    if !two_factor::get(&mut c, &org, &user.id).await?.is_some_and(|f| f.confirmed) {
        return Ok(None);
    }
    let token = steward_core::tokens::random_token();
    two_factor::create_challenge(
        &mut c,
        &steward_core::tokens::hash_secret(&token),
        &user.org_id,
        &user.id,
        now.plus_seconds(CHALLENGE_SECS),
    )
    .await?;
    Ok(Some(token))
}

/// The person a challenge stands for, while it is valid.
pub async fn challenge_user(db: &Db, token: &str, now: Timestamp) -> Result<Option<User>> {
    let mut c = db.conn().await?;
    let Some((org, user)) = two_factor::challenge(&mut c, &steward_core::tokens::hash_secret(token), now).await? else {
        return Ok(None);
    };
    let org = OrgScope::of(&steward_core::authz::Principal::system("sign-in").in_org(org))?;
    Ok(users::get(&mut c, &org, &user).await?.filter(|u| u.status == steward_core::people::UserStatus::Active))
}

pub async fn end_challenge(db: &Db, token: &str) -> Result<()> {
    let mut c = db.conn().await?;
    two_factor::delete_challenge(&mut c, &steward_core::tokens::hash_secret(token)).await?;
    Ok(())
}
