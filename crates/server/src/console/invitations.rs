//! `/invitations/{token}`: the page behind an invitation link.

use std::collections::HashMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Form, Router};
use serde::Deserialize;

use super::{error_page, field_errors, message};
use crate::auth::check_same_site;
use crate::extract::Meta;
use crate::services::invitations::{self, AcceptInvitation};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/invitations/{token}", get(show).post(submit))
}

#[derive(Template, WebTemplate)]
#[template(path = "invitation.html")]
struct InvitationPage {
    org_name: String,
    email: String,
    name: String,
    errors: HashMap<String, String>,
    error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct InvitationForm {
    name: String,
    password: String,
}

async fn show(State(s): State<AppState>, Path(token): Path<String>) -> Response {
    match invitations::lookup(&s.db, &token, s.now()).await {
        Ok((user, org)) => InvitationPage {
            org_name: org.name,
            email: user.email,
            name: user.name,
            errors: HashMap::new(),
            error: None,
        }
        .into_response(),
        Err(e) => error_page(&e),
    }
}

async fn submit(
    State(s): State<AppState>,
    Meta(meta): Meta,
    headers: HeaderMap,
    Path(token): Path<String>,
    Form(form): Form<InvitationForm>,
) -> Response {
    if let Err(e) = check_same_site(&headers, &s.config.public_url) {
        return error_page(&e);
    }
    let name = form.name.trim();
    let input = AcceptInvitation { password: form.password, name: (!name.is_empty()).then(|| name.to_owned()) };
    match invitations::accept(&s.db, &meta, s.now(), &token, input).await {
        Ok((user, org)) => message(
            StatusCode::OK,
            "Your account is active",
            &format!("Welcome to {}, {}. Sign in with {} and your new password.", org.name, user.name, user.email),
            Some(("/", "Continue")),
        ),
        Err(e) if !e.errors.is_empty() => match invitations::lookup(&s.db, &token, s.now()).await {
            Ok((user, org)) => {
                let page = InvitationPage {
                    org_name: org.name,
                    email: user.email,
                    name: form.name,
                    errors: field_errors(&e),
                    error: None,
                };
                (StatusCode::UNPROCESSABLE_ENTITY, page).into_response()
            }
            Err(e) => error_page(&e),
        },
        Err(e) => error_page(&e),
    }
}
