//! Settings → Organization → Security (SEC-1, SEC-2): the password policy and
//! session timeouts, read and changed with before/after in the audit trail.

use serde::Deserialize;
use steward_core::Result;
use steward_core::audit::Changes;
use steward_core::permissions::Permission;
use steward_core::security::{Complexity, Settings, TwoFactorMode};
use steward_core::validate::Fields;
use steward_store::{Db, audit, security};

use super::{Ctx, EventExt};

pub async fn get(db: &Db, ctx: &Ctx) -> Result<Settings> {
    let org = ctx.authorize(Permission::SecurityRead)?;
    let mut c = db.conn().await?;
    Ok(security::get(&mut c, &org).await?)
}

/// A partial change; absent fields stay as they are.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SecurityPatch {
    /// 8–128 characters.
    pub password_min_length: Option<i64>,
    /// `off`, `strength` or `classes`.
    #[schema(value_type = Option<String>)]
    pub password_complexity: Option<String>,
    /// 5–720 minutes.
    pub session_idle_timeout_minutes: Option<i64>,
    /// 1–720 hours.
    pub session_absolute_timeout_hours: Option<i64>,
    /// `required`, `optional` or `disabled`.
    #[schema(value_type = Option<String>)]
    pub two_factor: Option<String>,
}

pub async fn update(db: &Db, ctx: &Ctx, patch: SecurityPatch) -> Result<Settings> {
    let org = ctx.authorize(Permission::SecurityWrite)?;
    let mut f = Fields::new();
    let complexity =
        patch.password_complexity.as_deref().and_then(|v| f.check(Complexity::parse_field("password_complexity", v)));
    let two_factor = patch.two_factor.as_deref().and_then(|v| f.check(TwoFactorMode::parse_field("two_factor", v)));
    f.finish()?;

    let mut tx = db.write(&org).await?;
    super::sessions::require_recent_auth(&mut tx, ctx).await?;
    let before = security::get(&mut tx, &org).await?;
    let mut after = before.clone();
    if let Some(v) = patch.password_min_length {
        after.password_min_length = v;
    }
    if let Some(v) = complexity {
        after.password_complexity = v;
    }
    if let Some(v) = patch.session_idle_timeout_minutes {
        after.session_idle_timeout_minutes = v;
    }
    if let Some(v) = patch.session_absolute_timeout_hours {
        after.session_absolute_timeout_hours = v;
    }
    if let Some(v) = two_factor {
        after.two_factor = v;
        // The default minimum follows the number of factors (NIST 800-63B rev 4):
        // 15 with a password alone, 8 when a second factor is required. A value
        // the admin chose is left alone.
        if patch.password_min_length.is_none() {
            if v == TwoFactorMode::Required && before.password_min_length == 15 {
                after.password_min_length = 8;
            } else if v != TwoFactorMode::Required
                && before.two_factor == TwoFactorMode::Required
                && before.password_min_length == 8
            {
                after.password_min_length = 15;
            }
        }
    }
    after.validate()?;
    let mut changes = Changes::new();
    changes
        .field("password_min_length", &before.password_min_length, &after.password_min_length)
        .field("password_complexity", &before.password_complexity, &after.password_complexity)
        .field(
            "session_idle_timeout_minutes",
            &before.session_idle_timeout_minutes,
            &after.session_idle_timeout_minutes,
        )
        .field(
            "session_absolute_timeout_hours",
            &before.session_absolute_timeout_hours,
            &after.session_absolute_timeout_hours,
        )
        .field("two_factor", &before.two_factor, &after.two_factor);
    if changes.is_empty() {
        return Ok(before);
    }
    security::put(&mut tx, &org, &after, ctx.now).await?;
    security::apply_to_sessions(&mut tx, &org, &after).await?;
    let done = audit::append(
        &mut tx,
        ctx.event(&org, "security.settings_updated", "organization", org.id()).changes(changes.into_value()),
    )
    .await?;
    tx.commit(done).await?;
    Ok(after)
}
