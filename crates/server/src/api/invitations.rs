//! `POST /invitations/{token}/accept`: an invited person sets a password.

use axum::Json;
use axum::extract::{Path, State};
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::sessions::OrganizationSummary;
use super::views::UserView;
use crate::error::{ApiResult, Problem};
use crate::extract::{ApiJson, Meta};
use crate::services::invitations::{self, AcceptInvitation};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(accept_invitation))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AcceptedView {
    pub user: UserView,
    pub organization: OrganizationSummary,
}

/// Accept an invitation with the token from its link; the user becomes active
/// and can sign in with `POST /sessions`.
#[utoipa::path(post, path = "/invitations/{token}/accept", tag = "people", extensions(("x-permission" = json!("none"))), request_body = AcceptInvitation, security(()),
    params(("token" = String, Path, description = "the token at the end of `invite_url`")),
    responses((status = 200, body = AcceptedView), (status = 404, body = Problem, description = "invitation_not_found"),
        (status = 410, body = Problem, description = "invitation_expired"), (status = 422, body = Problem)))]
async fn accept_invitation(
    State(s): State<AppState>,
    Meta(meta): Meta,
    Path(token): Path<String>,
    ApiJson(body): ApiJson<AcceptInvitation>,
) -> ApiResult<Json<AcceptedView>> {
    let (user, org) = invitations::accept(&s.db, &meta, s.now(), &token, body).await?;
    Ok(Json(AcceptedView {
        user: UserView::from(&user),
        organization: OrganizationSummary { id: org.id, name: org.name, slug: org.slug },
    }))
}
