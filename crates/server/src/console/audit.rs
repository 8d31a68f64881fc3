//! Settings → Organization → Audit logs: the four filters of the guide (date
//! range, user, action type, workspace), a readable table, and exports.

use std::collections::HashMap;
use steward_core::permissions::Permission;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

use super::organization::{ask_admin, layout};
use super::session::{ConsoleSession, Layout, urlencode};
use super::{error_page, format};
use crate::services::audit::{self, AuditQuery};
use crate::services::people;
use crate::services::workspaces::{self, ListParams};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/settings/organization/audit", get(show))
}

struct Row {
    when: String,
    utc: String,
    who: String,
    who_kind: &'static str,
    action: String,
    action_words: String,
    workspace: String,
    ip: String,
    details: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "audit.html")]
struct AuditPage {
    layout: Layout,
    timezone: String,
    rows: Vec<Row>,
    people: Vec<(String, String)>,
    workspaces: Vec<(String, String)>,
    groups: Vec<(&'static str, String)>,
    /// "1,234 events match", or why none are shown.
    count: Option<String>,
    from: String,
    to: String,
    actor: String,
    action: String,
    workspace: String,
    /// The page's filters, resolved, for the export links; `None` while a
    /// filter doesn't resolve, so an export never holds more than the page.
    api_query: Option<String>,
    next: Option<String>,
    /// On an older page: the filters without a cursor, to go back to the newest.
    is_later_page: bool,
    first_page: String,
    error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Filters {
    from: String,
    to: String,
    actor: String,
    action: String,
    workspace: String,
    cursor: String,
}

/// How many people and workspaces the filters suggest; more can be typed.
const SUGGESTIONS: u32 = 200;

/// A filter's typed value, if any.
fn typed(value: &str) -> Option<&str> {
    Some(value.trim()).filter(|v| !v.is_empty())
}

async fn show(State(s): State<AppState>, session: ConsoleSession, Query(f): Query<Filters>) -> Response {
    if !session.can(Permission::AuditRead) {
        return ask_admin(&s, &session).await;
    }
    let tz = session.org.timezone.clone();
    let ctx = session.ctx();
    // People and workspaces are typed (email, slug) with suggestions, so the
    // filters work however many an organization has.
    let actor = match typed(&f.actor) {
        Some(v) => Some(audit::resolve_actor(&s.db, &ctx, v).await),
        None => None,
    };
    let workspace = match typed(&f.workspace) {
        Some(v) => Some(audit::resolve_workspace(&s.db, &ctx, v).await),
        None => None,
    };
    let q = AuditQuery {
        from: Some(f.from.clone())
            .filter(|v| !v.is_empty())
            .and_then(|d| format::day_start(&d, &tz, 0))
            .map(|t| t.to_rfc3339()),
        to: Some(f.to.clone())
            .filter(|v| !v.is_empty())
            .and_then(|d| format::day_start(&d, &tz, 1))
            .map(|t| t.to_rfc3339()),
        actor: actor.clone().and_then(|r| r.ok()),
        action: Some(f.action.clone()).filter(|v| !v.is_empty()),
        workspace: workspace.clone().and_then(|r| r.ok()),
        target: None,
        limit: Some(50),
        cursor: Some(f.cursor.clone()).filter(|v| !v.is_empty()),
    };
    let unresolved = [actor, workspace].into_iter().flatten().find_map(|r| r.err());
    let listed = match unresolved {
        Some(e) => Err(e),
        None => audit::list(&s.db, &ctx, &q).await,
    };
    let count = match &listed {
        Ok(_) => audit::count(&s.db, &ctx, &q).await.ok().map(|n| counted(n, q.cursor.is_some())),
        Err(_) => None,
    };
    let (events, next, error) = match listed {
        Ok((rows, next)) => (rows, next, None),
        Err(e) if e.status < 500 => (Vec::new(), None, Some(super::refusals::sentence(&e))),
        Err(e) => return error_page(&e),
    };
    let page = steward_core::pagination::Page { limit: SUGGESTIONS, after: None };
    let people: Vec<(String, String)> = people::list(&s.db, &ctx, &page)
        .await
        .map(|r| r.0)
        .unwrap_or_default()
        .into_iter()
        .map(|u| (u.email, u.name))
        .collect();
    let all =
        ListParams { status: Some("all".into()), q: None, sort: None, limit: Some(SUGGESTIONS.into()), cursor: None };
    let mut workspaces: Vec<(String, String)> = workspaces::list(&s.db, &ctx, &all)
        .await
        .map(|r| r.0)
        .unwrap_or_default()
        .into_iter()
        .map(|w| (w.slug, w.name))
        .collect();
    workspaces.sort_by_key(|w| w.1.to_lowercase());
    // Deleted workspaces are gone from the list but not from the log: offered by id.
    workspaces.extend(audit::deleted_workspaces(&s.db, &ctx, SUGGESTIONS.into()).await.unwrap_or_default());
    let ws: HashMap<String, String> = match audit::workspace_names(&s.db, &ctx, &events).await {
        Ok(names) => names,
        Err(e) => return error_page(&e),
    };
    let rows = events
        .iter()
        .map(|e| {
            let (when, utc) = format::date(e.occurred_at, &tz);
            let time = e.occurred_at.to_datetime();
            let mut details = serde_json::Map::new();
            if !e.changes.is_null() {
                details.insert("changes".into(), e.changes.clone());
            }
            if !e.metadata.is_null() {
                details.insert("metadata".into(), e.metadata.clone());
            }
            if let Some(t) = &e.target_id {
                details.insert("target".into(), serde_json::json!({ "type": e.target_type, "id": t }));
            }
            Row {
                when: format!("{when} {:02}:{:02} UTC", time.hour(), time.minute()),
                utc,
                who: e.actor.name.clone().unwrap_or_else(|| "—".into()),
                who_kind: e.actor.kind.as_str(),
                action: e.action.clone(),
                action_words: format::action(&e.action),
                workspace: e
                    .workspace_id
                    .as_ref()
                    .map(|id| ws.get(id).cloned().unwrap_or_else(|| format!("{id} (deleted)")))
                    .unwrap_or_default(),
                ip: e.ip.clone().unwrap_or_default(),
                details: (!details.is_empty()).then(|| serde_json::to_string_pretty(&details).unwrap_or_default()),
            }
        })
        .collect();
    let base = format!(
        "from={}&to={}&actor={}&action={}&workspace={}",
        urlencode(&f.from),
        urlencode(&f.to),
        urlencode(&f.actor),
        urlencode(&f.action),
        urlencode(&f.workspace)
    );
    let api_query = error.is_none().then(|| {
        format!(
            "from={}&to={}&actor={}&action={}&workspace={}",
            urlencode(q.from.as_deref().unwrap_or("")),
            urlencode(q.to.as_deref().unwrap_or("")),
            urlencode(q.actor.as_deref().unwrap_or("")),
            urlencode(&f.action),
            urlencode(q.workspace.as_deref().unwrap_or(""))
        )
    });
    AuditPage {
        layout: layout(&s, &session, "Audit logs", "audit").await,
        timezone: tz,
        rows,
        people,
        workspaces,
        groups: steward_core::audit::action_groups().into_iter().map(|g| (g, format::action_group(g))).collect(),
        count,
        from: f.from,
        to: f.to,
        actor: f.actor,
        action: f.action,
        workspace: f.workspace,
        api_query,
        next: next.map(|c| format!("{base}&cursor={}", urlencode(&c))),
        is_later_page: !f.cursor.is_empty(),
        first_page: base,
        error,
    }
    .into_response()
}

/// The count line over the table: how many match, and which of them show.
fn counted(n: i64, later_page: bool) -> String {
    let total = match n {
        0 => return "No events match these filters.".to_owned(),
        1 => "1 event matches".to_owned(),
        n if n > audit::COUNT_CAP => format!("More than {} events match", format::int(audit::COUNT_CAP)),
        n => format!("{} events match", format::int(n)),
    };
    let shown = if later_page { "older ones on this page" } else { "newest first" };
    format!("{total}; {shown}, 50 at a time.")
}
