//! Integrations → API: the organization's API keys (API-1). A key is made with
//! the permissions it needs (or the `read` / `admin` presets) and a limit a
//! minute; its secret is shown once, on the page that made it.

use std::collections::HashMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use steward_core::ids::ApiKeyId;
use steward_core::permissions::Permission;
use steward_core::time::Timestamp;

use super::organization::{ask_admin, layout};
use super::session::{ConsoleSession, notice_text, see_other};
use super::{dialogs, error_page, field_errors, format};
use crate::services::api_keys::{self, ApiKeyPatch, CreateApiKey, DEFAULT_RATE_LIMIT};
use crate::state::AppState;

const BASE: &str = "/settings/integrations/api";

pub fn router() -> Router<AppState> {
    Router::new()
        .route(BASE, get(show).post(create))
        .route("/settings/integrations/api/{id}", post(update))
        .route("/settings/integrations/api/{id}/revoke", post(revoke))
}

struct KeyRow {
    id: String,
    name: String,
    shown_as: String,
    permissions: String,
    limit: String,
    limit_value: i64,
    last_used: String,
    expires: String,
    expires_date: String,
    created: String,
}

/// One permission a key may be given, with whether the form ticked it.
struct Choice {
    name: &'static str,
    about: &'static str,
    checked: bool,
}

#[derive(Default)]
struct Form {
    name: String,
    preset: String,
    limit: String,
    expires: String,
    chosen: Vec<String>,
}

impl Form {
    /// The create form as it opens: read-only, the default limit.
    fn blank() -> Self {
        Form { preset: "read".into(), limit: DEFAULT_RATE_LIMIT.to_string(), ..Form::default() }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "api_keys.html")]
struct ApiKeysPage {
    layout: super::session::Layout,
    keys: Vec<KeyRow>,
    choices: Vec<Choice>,
    form: Form,
    errors: HashMap<String, String>,
    error: Option<String>,
    /// The secret of the key just made: this page is the only place it shows.
    secret: Option<(String, String)>,
}

async fn render(
    s: &AppState,
    session: &ConsoleSession,
    form: Form,
    error: Option<&steward_core::Error>,
    secret: Option<(String, String)>,
    notice: Option<String>,
) -> Response {
    let ctx = session.ctx();
    let page = steward_core::pagination::Page { limit: 200, after: None };
    let keys = match api_keys::list(&s.db, &ctx, &page).await {
        Ok((keys, _)) => keys,
        Err(e) => return error_page(&e),
    };
    let tz = "UTC";
    let rows: Vec<KeyRow> = keys
        .iter()
        .map(|k| KeyRow {
            id: k.id.to_string(),
            name: k.name.clone(),
            shown_as: format!("{}…{}", k.prefix, k.last4),
            permissions: k.scopes.join(", "),
            limit: format!("{} a minute", format::int(k.rate_limit_per_minute)),
            limit_value: k.rate_limit_per_minute,
            last_used: k.last_used_at.map(|t| format::ago(t, ctx.now)).unwrap_or_else(|| "Never".into()),
            expires: k.expires_at.map(|t| format::date(t, tz).0).unwrap_or_else(|| "Never".into()),
            expires_date: k.expires_at.map(|t| t.utc_date()).unwrap_or_default(),
            created: format!(
                "{} by {}",
                format::date(k.created_at, tz).0,
                k.created_by_name.clone().unwrap_or_else(|| "—".into())
            ),
        })
        .collect();
    let confirms = keys.iter().map(|k| dialogs::revoke_key(k.id.as_str(), &k.name, &k.prefix));
    let choices = Permission::ALL
        .iter()
        .filter(|p| p.key_assignable())
        .map(|p| Choice { name: p.name(), about: p.description(), checked: form.chosen.iter().any(|c| c == p.name()) })
        .collect();
    let status = super::refusals::status(error);
    let page = ApiKeysPage {
        layout: layout(s, session, "API keys", "api").await.with_notice(notice).with_confirms(confirms),
        keys: rows,
        choices,
        errors: error.map(field_errors).unwrap_or_default(),
        error: error.map(super::refusals::banner),
        form,
        secret,
    };
    (status, page).into_response()
}

async fn show(State(s): State<AppState>, session: ConsoleSession, Query(q): Query<super::NoticeQuery>) -> Response {
    if !session.can(Permission::ApiKeysRead) {
        return ask_admin(&s, &session).await;
    }
    render(&s, &session, Form::blank(), None, None, notice_text(q.notice.as_deref())).await
}

/// The form repeats `permission` for each box ticked, so it is read as pairs.
fn read_form(body: &Bytes) -> (String, Form) {
    let pairs = super::FormPairs::parse(body);
    let get = |k: &str| pairs.get(k);
    let form = Form {
        name: get("name"),
        preset: get("preset"),
        limit: get("rate_limit_per_minute"),
        expires: get("expires"),
        chosen: pairs.all("permission"),
    };
    (get("csrf_token"), form)
}

/// A date from the form as the end of that day, UTC; empty is none.
fn expiry(date: &str) -> Result<Option<Timestamp>, steward_core::Error> {
    let date = date.trim();
    if date.is_empty() {
        return Ok(None);
    }
    Timestamp::parse_rfc3339(&format!("{date}T23:59:59Z"))
        .map(Some)
        .ok_or_else(|| steward_core::Error::field("expires_at", &steward_core::messages::rule::INVALID_DATE_TIME, &[]))
}

fn limit(text: &str) -> Result<Option<i64>, steward_core::Error> {
    match text.trim() {
        "" => Ok(None),
        t => t.parse().map(Some).map_err(|_| {
            steward_core::Error::field("rate_limit_per_minute", &steward_core::messages::rule::NOT_A_WHOLE_NUMBER, &[])
        }),
    }
}

async fn create(State(s): State<AppState>, session: ConsoleSession, body: Bytes) -> Response {
    let (csrf, form) = read_form(&body);
    if let Err(r) = session.check_csrf(&csrf) {
        return r;
    }
    let scopes = match form.preset.as_str() {
        "read" | "admin" => vec![form.preset.clone()],
        _ => form.chosen.clone(),
    };
    let made = async {
        let input = CreateApiKey {
            name: form.name.clone(),
            scopes,
            rate_limit_per_minute: limit(&form.limit)?,
            expires_at: expiry(&form.expires)?,
        };
        api_keys::create(&s.db, &session.ctx(), input).await
    }
    .await;
    match made {
        Ok(created) => {
            let notice = Some(format!("Key “{}” created.", created.key.name));
            render(&s, &session, Form::blank(), None, Some((created.key.name, created.secret)), notice).await
        }
        Err(e) if let Some(r) = super::confirm::reauth_redirect(&e, BASE) => r,
        Err(e) if e.status < 500 => render(&s, &session, form, Some(&e), None, None).await,
        Err(e) => error_page(&e),
    }
}

async fn update(State(s): State<AppState>, session: ConsoleSession, Path(id): Path<String>, body: Bytes) -> Response {
    let (csrf, form) = read_form(&body);
    if let Err(r) = session.check_csrf(&csrf) {
        return r;
    }
    let Ok(id) = id.parse::<ApiKeyId>() else { return super::not_found_page() };
    let changed = async {
        let patch = ApiKeyPatch {
            name: Some(form.name.clone()),
            scopes: None,
            rate_limit_per_minute: limit(&form.limit)?,
            expires_at: Some(expiry(&form.expires)?),
        };
        api_keys::update(&s.db, &session.ctx(), &id, patch).await
    }
    .await;
    match changed {
        Ok(_) => see_other(BASE, "key_saved"),
        Err(e) if let Some(r) = super::confirm::reauth_redirect(&e, BASE) => r,
        Err(e) if e.status < 500 => render(&s, &session, Form::blank(), Some(&e), None, None).await,
        Err(e) => error_page(&e),
    }
}

async fn revoke(State(s): State<AppState>, session: ConsoleSession, Path(id): Path<String>, body: Bytes) -> Response {
    let (csrf, _) = read_form(&body);
    if let Err(r) = session.check_csrf(&csrf) {
        return r;
    }
    let Ok(id) = id.parse::<ApiKeyId>() else { return super::not_found_page() };
    match api_keys::revoke(&s.db, &session.ctx(), &id).await {
        Ok(()) => see_other(BASE, "key_revoked"),
        Err(e) if e.status < 500 => render(&s, &session, Form::blank(), Some(&e), None, None).await,
        Err(e) => error_page(&e),
    }
}
