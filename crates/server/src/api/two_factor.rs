//! `/me/two-factor/…` (one's own TOTP) and `/users/{id}/two-factor/reset`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use steward_core::ids::UserId;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::parse_id;
use crate::error::{ApiResult, Problem};
use crate::extract::ApiJson;
use crate::services::{Ctx, two_factor};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(start_totp))
        .routes(routes!(confirm_totp))
        .routes(routes!(regenerate_recovery_codes))
        .routes(routes!(disable_two_factor))
        .routes(routes!(reset_two_factor))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EnrollmentView {
    /// The secret in base32, to type into an app that can't scan.
    pub secret: String,
    pub otpauth_url: String,
    /// The QR code of `otpauth_url` as SVG markup.
    pub qr_svg: String,
    /// The same QR code as a `data:` URL for an `<img>`.
    pub qr_data_url: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeBody {
    /// The 6 digits the authenticator app shows now.
    pub code: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RecoveryCodesView {
    /// Ten single-use codes for when the phone is lost. Shown only now.
    pub recovery_codes: Vec<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordBody {
    pub password: String,
}

/// Start TOTP enrollment: a new secret, its otpauth URL and QR code.
#[utoipa::path(post, path = "/me/two-factor/totp", tag = "two_factor", extensions(("x-permission" = json!("none"))),
    responses((status = 201, body = EnrollmentView), (status = 409, body = Problem, description = "two_factor_already_enabled")))]
async fn start_totp(State(s): State<AppState>, ctx: Ctx) -> ApiResult<(StatusCode, Json<EnrollmentView>)> {
    let e = two_factor::start(&s.db, &s.sealer, &ctx).await?;
    let qr_data_url = steward_core::two_factor::svg_data_url(&e.qr_svg);
    Ok((
        StatusCode::CREATED,
        Json(EnrollmentView { secret: e.secret, otpauth_url: e.otpauth_url, qr_svg: e.qr_svg, qr_data_url }),
    ))
}

/// Finish enrollment with a code from the app; answers the recovery codes (once).
#[utoipa::path(post, path = "/me/two-factor/totp/confirm", tag = "two_factor", extensions(("x-permission" = json!("none"))), request_body = CodeBody,
    responses((status = 200, body = RecoveryCodesView), (status = 409, body = Problem), (status = 422, body = Problem, description = "wrong code")))]
async fn confirm_totp(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiJson(body): ApiJson<CodeBody>,
) -> ApiResult<Json<RecoveryCodesView>> {
    Ok(Json(RecoveryCodesView { recovery_codes: two_factor::confirm(&s.db, &s.sealer, &ctx, &body.code).await? }))
}

/// New recovery codes (the old ones stop working); needs a current code.
#[utoipa::path(post, path = "/me/two-factor/recovery-codes", tag = "two_factor", extensions(("x-permission" = json!("none"))), request_body = CodeBody,
    responses((status = 200, body = RecoveryCodesView), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn regenerate_recovery_codes(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiJson(body): ApiJson<CodeBody>,
) -> ApiResult<Json<RecoveryCodesView>> {
    Ok(Json(RecoveryCodesView {
        recovery_codes: two_factor::regenerate_codes(&s.db, &s.sealer, &ctx, &body.code).await?,
    }))
}

/// Turn one's own 2FA off (needs the password; refused while the organization requires 2FA).
#[utoipa::path(post, path = "/me/two-factor/disable", tag = "two_factor", extensions(("x-permission" = json!("none"))), request_body = PasswordBody,
    responses((status = 204), (status = 409, body = Problem, description = "two_factor_required_by_organization"), (status = 422, body = Problem)))]
async fn disable_two_factor(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiJson(body): ApiJson<PasswordBody>,
) -> ApiResult<StatusCode> {
    two_factor::disable(&s.db, &ctx, &body.password).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A Super Admin removes someone's 2FA (e.g. a lost phone); their sessions end
/// and they are told by email.
#[utoipa::path(post, path = "/users/{id}/two-factor/reset", tag = "two_factor", extensions(("x-permission" = json!("people:write"))), params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = Problem), (status = 409, body = Problem, description = "two_factor_not_enabled")))]
async fn reset_two_factor(State(s): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> ApiResult<StatusCode> {
    let id: UserId = parse_id(&id, "user")?;
    two_factor::reset(&s.db, &ctx, &s.postbox(), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
