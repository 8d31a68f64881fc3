//! Integrations → Webhooks: add an endpoint, pick its events, press Test and
//! read each delivery with its attempts (API-2). A new secret shows once, on
//! the page that made it.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use steward_core::ids::{DeliveryId, WebhookId};
use steward_core::permissions::Permission;
use steward_core::webhooks::EVENT_TYPES;
use steward_store::webhooks::Endpoint;

use super::organization::{ask_admin, layout};
use super::session::{ConsoleSession, Layout, notice_text, see_other};
use super::{dialogs, error_page, field_errors, format};
use crate::services::webhooks::{self, CreateWebhook, Resend, WebhookPatch};
use crate::state::AppState;

const BASE: &str = "/settings/integrations/webhooks";

pub fn router() -> Router<AppState> {
    Router::new()
        .route(BASE, get(list).post(create))
        .route("/settings/integrations/webhooks/{id}", get(show))
        .route("/settings/integrations/webhooks/{id}/{action}", post(act))
}

struct Row {
    id: String,
    url: String,
    events: String,
    enabled: bool,
    status: &'static str,
    status_label: &'static str,
    note: String,
}

fn row(e: &Endpoint, now: steward_core::time::Timestamp) -> Row {
    let enabled = e.disabled_at.is_none();
    let note = match (&e.disabled_reason, e.failing_since) {
        (Some(r), _) => r.clone(),
        (None, Some(t)) => format!("Failing since {}", format::ago(t, now)),
        _ => String::new(),
    };
    Row {
        id: e.id.to_string(),
        url: e.url.clone(),
        events: if e.event_types.is_empty() { "All events".into() } else { e.event_types.join(", ") },
        enabled,
        status: if enabled { "active" } else { "deactivated" },
        status_label: if enabled { "Enabled" } else { "Disabled" },
        note,
    }
}

struct Choice {
    name: &'static str,
    about: &'static str,
    checked: bool,
}

#[derive(Default)]
struct Form {
    url: String,
    description: String,
    all: bool,
    chosen: Vec<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "webhooks.html")]
struct ListPage {
    layout: Layout,
    rows: Vec<Row>,
    choices: Vec<Choice>,
    form: Form,
    errors: std::collections::HashMap<String, String>,
    error: Option<String>,
    /// The secret just made (new endpoint or rotation): shown this once.
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
    let endpoints = match webhooks::list(&s.db, &ctx, &page).await {
        Ok((rows, _)) => rows,
        Err(e) => return error_page(&e),
    };
    let confirms = endpoints.iter().flat_map(|e| {
        [dialogs::delete_webhook(e.id.as_str(), &e.url), dialogs::rotate_webhook_secret(e.id.as_str(), &e.url)]
    });
    let choices = EVENT_TYPES
        .iter()
        .map(|t| Choice { name: t.name, about: t.description, checked: form.chosen.iter().any(|c| c == t.name) })
        .collect();
    let status = super::refusals::status(error);
    let page = ListPage {
        layout: layout(s, session, "Webhooks", "webhooks").await.with_notice(notice).with_confirms(confirms),
        rows: endpoints.iter().map(|e| row(e, ctx.now)).collect(),
        choices,
        errors: error.map(field_errors).unwrap_or_default(),
        error: error.map(super::refusals::banner),
        form,
        secret,
    };
    (status, page).into_response()
}

fn blank() -> Form {
    Form { all: true, ..Form::default() }
}

async fn list(State(s): State<AppState>, session: ConsoleSession, Query(q): Query<super::NoticeQuery>) -> Response {
    if !session.can(Permission::WebhooksRead) {
        return ask_admin(&s, &session).await;
    }
    render(&s, &session, blank(), None, None, notice_text(q.notice.as_deref())).await
}

fn read_form(body: &Bytes) -> (String, Form) {
    let pairs = super::FormPairs::parse(body);
    let get = |k: &str| pairs.get(k);
    let form = Form {
        url: get("url"),
        description: get("description"),
        all: get("events") != "chosen",
        chosen: pairs.all("event_type"),
    };
    (get("csrf_token"), form)
}

async fn create(State(s): State<AppState>, session: ConsoleSession, body: Bytes) -> Response {
    let (csrf, form) = read_form(&body);
    if let Err(r) = session.check_csrf(&csrf) {
        return r;
    }
    let input = CreateWebhook {
        url: form.url.clone(),
        description: Some(form.description.clone()),
        event_types: if form.all { Vec::new() } else { form.chosen.clone() },
        enabled: None,
    };
    match webhooks::create(&s.db, &session.ctx(), &s.sealer, s.config.webhooks_allow_private, input).await {
        Ok((e, secret)) => {
            let notice = Some("Endpoint added. Press Test to send it an event.".to_owned());
            render(&s, &session, blank(), None, Some((e.url, secret)), notice).await
        }
        Err(e) if e.status < 500 => render(&s, &session, form, Some(&e), None, None).await,
        Err(e) => error_page(&e),
    }
}

struct DeliveryRow {
    id: String,
    event_type: String,
    when: String,
    status: &'static str,
    status_label: &'static str,
    attempts: Vec<String>,
    failed: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "webhook.html")]
struct EndpointPage {
    layout: Layout,
    endpoint: Row,
    deliveries: Vec<DeliveryRow>,
}

async fn show(
    State(s): State<AppState>,
    session: ConsoleSession,
    Path(id): Path<String>,
    Query(q): Query<super::NoticeQuery>,
) -> Response {
    if !session.can(Permission::WebhooksRead) {
        return ask_admin(&s, &session).await;
    }
    let Ok(id) = id.parse::<WebhookId>() else { return super::not_found_page() };
    let ctx = session.ctx();
    let endpoint = match webhooks::get(&s.db, &ctx, &id).await {
        Ok(e) => e,
        Err(e) => return error_page(&e),
    };
    let page = steward_core::pagination::Page { limit: 50, after: None };
    let rows = match webhooks::deliveries(&s.db, &ctx, &id, &page).await {
        Ok((rows, _)) => rows,
        Err(e) => return error_page(&e),
    };
    let deliveries = rows
        .iter()
        .map(|(d, attempts)| DeliveryRow {
            id: d.id.to_string(),
            event_type: d.event_type.clone(),
            when: format::ago(d.created_at, ctx.now),
            status: match d.status.as_str() {
                "succeeded" => "active",
                "pending" => "scheduled",
                _ => "failed",
            },
            status_label: match d.status.as_str() {
                "succeeded" => "Delivered",
                "pending" => "Pending",
                _ => "Failed",
            },
            attempts: attempts
                .iter()
                .map(|a| {
                    let answer = match (a.status_code, &a.error) {
                        (Some(code), _) => format!("HTTP {code}"),
                        (None, Some(e)) => e.clone(),
                        _ => "no answer".into(),
                    };
                    let body = a.response.as_deref().map(|r| format!(": {}", r.chars().take(200).collect::<String>()));
                    format!("#{} {} in {} ms{}", a.attempt, answer, a.duration_ms, body.unwrap_or_default())
                })
                .collect(),
            failed: d.status.as_str() == "failed",
        })
        .collect();
    let layout =
        layout(&s, &session, "Webhook endpoint", "webhooks").await.with_notice(notice_text(q.notice.as_deref()));
    EndpointPage { layout, endpoint: row(&endpoint, ctx.now), deliveries }.into_response()
}

/// The buttons of an endpoint: test, enable/disable, rotate, delete, retry one delivery.
async fn act(
    State(s): State<AppState>,
    session: ConsoleSession,
    Path((id, action)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let pairs = super::FormPairs::parse(&body);
    let get = |k: &str| pairs.get(k);
    if let Err(r) = session.check_csrf(&get("csrf_token")) {
        return r;
    }
    let Ok(id) = id.parse::<WebhookId>() else { return super::not_found_page() };
    let ctx = session.ctx();
    let page = format!("{BASE}/{id}");
    let done = match action.as_str() {
        "test" => webhooks::send_test(&s.db, &ctx, &id).await.map(|_| (page, "webhook_tested")),
        "enable" | "disable" => {
            let patch = WebhookPatch { enabled: Some(action == "enable"), ..WebhookPatch::default() };
            webhooks::update(&s.db, &ctx, s.config.webhooks_allow_private, &id, patch)
                .await
                .map(|_| (page, "webhook_saved"))
        }
        "delete" => webhooks::delete(&s.db, &ctx, &id).await.map(|_| (BASE.to_owned(), "webhook_deleted")),
        "retry" => match get("delivery_id").parse::<DeliveryId>() {
            Ok(d) => webhooks::resend(&s.db, &ctx, &id, Resend::One(d)).await.map(|_| (page, "webhook_resent")),
            Err(_) => return super::not_found_page(),
        },
        "rotate" => {
            return match webhooks::rotate_secret(&s.db, &ctx, &s.sealer, &id).await {
                Ok((e, secret)) => {
                    let notice = Some("New secret made. The old one keeps signing beside it for 24 hours.".to_owned());
                    render(&s, &session, blank(), None, Some((e.url, secret)), notice).await
                }
                Err(e) => error_page(&e),
            };
        }
        _ => return super::not_found_page(),
    };
    match done {
        Ok((to, notice)) => see_other(&to, notice),
        Err(e) => error_page(&e),
    }
}
