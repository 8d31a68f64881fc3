//! Billing → Credits (BILL-3): the balance and what it is made of, the last
//! 30 days by workspace and by day, the transaction history, and the alert
//! thresholds. The same figures as `GET /api/v1/credits…`.

use std::collections::HashMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use steward_core::credits::EntryKind;
use steward_core::pagination::Page;
use steward_core::permissions::Permission;
use steward_core::time::Timestamp;
use steward_store::credits::EntryFilter;

use super::organization::{ask_admin, layout};
use super::session::{ConsoleSession, notice_text, see_other};
use super::{error_page, field_errors, format};
use crate::services::credits::{self, AlertSetting, AlertSettings, GroupBy};
use crate::state::AppState;

const BASE: &str = "/settings/billing/credits";
const DAY_MS: i64 = 86_400_000;

pub fn router() -> Router<AppState> {
    Router::new().route(BASE, get(show)).route("/settings/billing/credits/alerts", post(save_alerts))
}

struct UsageRow {
    name: String,
    used: String,
    share: String,
}

struct DayBar {
    label: String,
    used: i64,
    /// Height in the chart, 0–100.
    height: i64,
    x: i64,
}

struct EntryRow {
    when: String,
    kind: &'static str,
    amount: String,
    balance_after: String,
    reason: String,
    workspace: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "credits.html")]
struct CreditsPage {
    layout: super::session::Layout,
    balance: String,
    paid: String,
    promotional: String,
    expiring: String,
    burn: String,
    days_left: String,
    by_workspace: Vec<UsageRow>,
    days: Vec<DayBar>,
    peak: String,
    trend: String,
    entries: Vec<EntryRow>,
    kind: String,
    balance_alert: String,
    days_alert: String,
    can_set_alerts: bool,
    errors: HashMap<String, String>,
    error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PageQuery {
    notice: Option<String>,
    kind: String,
}

async fn show(State(s): State<AppState>, session: ConsoleSession, Query(q): Query<PageQuery>) -> Response {
    if !session.can(Permission::CreditsRead) {
        return ask_admin(&s, &session).await;
    }
    render(&s, &session, &q.kind, None, notice_text(q.notice.as_deref())).await
}

fn threshold_of(alerts: &[AlertSetting], kind: &str) -> String {
    alerts.iter().find(|a| a.kind == kind).map(|a| a.threshold.to_string()).unwrap_or_default()
}

async fn render(
    s: &AppState,
    session: &ConsoleSession,
    kind: &str,
    error: Option<&steward_core::Error>,
    notice: Option<String>,
) -> Response {
    let ctx = session.ctx();
    let (from, to) =
        (Timestamp::from_millis(ctx.now.millis() - 30 * DAY_MS), Timestamp::from_millis(ctx.now.millis() + 1));
    let filter = EntryFilter { kind: EntryKind::parse(kind), ..EntryFilter::default() };
    let loaded = async {
        let summary = credits::summary(&s.db, &ctx).await?;
        let by_workspace = credits::usage_by_workspace(&s.db, &ctx, from, to).await?;
        let days = credits::usage(&s.db, &ctx, GroupBy::Day, from, to).await?;
        let (entries, _) = credits::transactions(&s.db, &ctx, &filter, &Page { limit: 50, after: None }).await?;
        let alerts = credits::get_alerts(&s.db, &ctx).await?;
        Ok::<_, steward_core::Error>((summary, by_workspace, days, entries, alerts))
    };
    let (summary, by_workspace, days, entries, alerts) = match loaded.await {
        Ok(v) => v,
        Err(e) => return error_page(&e),
    };
    let total: i64 = by_workspace.iter().map(|(_, _, used)| used).sum();
    let peak = days.iter().map(|(_, used)| *used).max().unwrap_or(0);
    let bars = days
        .iter()
        .enumerate()
        .map(|(i, (label, used))| DayBar {
            label: label.clone(),
            used: *used,
            height: if peak > 0 { used * 100 / peak } else { 0 },
            x: i as i64 * 20,
        })
        .collect::<Vec<_>>();
    let trend = match (days.first(), days.last()) {
        (Some((first, _)), Some((last, _))) => format!(
            "{} credits used from {first} to {last} on {} days with use; the most on one day was {}.",
            format::int(summary.burn_30_days),
            days.len(),
            format::int(peak)
        ),
        _ => "No credits were used in the last 30 days.".into(),
    };
    let page = CreditsPage {
        layout: layout(s, session, "Credits", "credits").await.with_notice(notice),
        balance: format::int(summary.balance),
        paid: format::int(summary.paid),
        promotional: format::int(summary.promotional),
        expiring: format::int(summary.expiring_30_days),
        burn: format::int(summary.burn_30_days),
        days_left: summary.days_left.map(|d| format!("{d:.0} days")).unwrap_or_else(|| "—".into()),
        by_workspace: by_workspace
            .into_iter()
            .map(|(_, name, used)| UsageRow {
                name,
                used: format::int(used),
                share: if total > 0 { format!("{:.1} %", used as f64 * 100.0 / total as f64) } else { "—".into() },
            })
            .collect(),
        days: bars,
        peak: format::int(peak),
        trend,
        entries: entries
            .iter()
            .map(|e| EntryRow {
                when: format::date(e.occurred_at, "UTC").0,
                kind: e.kind.as_str(),
                amount: if e.amount > 0 {
                    format!("+{}", format::int(e.amount))
                } else {
                    format!("−{}", format::int(-e.amount))
                },
                balance_after: format::int(e.balance_after),
                reason: e.reason.clone(),
                workspace: e.workspace_id.clone().unwrap_or_default(),
            })
            .collect(),
        kind: kind.to_owned(),
        balance_alert: threshold_of(&alerts.alerts, "balance"),
        days_alert: threshold_of(&alerts.alerts, "days_left"),
        can_set_alerts: session.can(Permission::CreditsAlerts),
        errors: error.map(field_errors).unwrap_or_default(),
        error: error.map(super::refusals::banner),
    };
    let status = super::refusals::status(error);
    (status, page).into_response()
}

/// The alert form: a balance and a days-left threshold, each optional.
async fn save_alerts(State(s): State<AppState>, session: ConsoleSession, body: Bytes) -> Response {
    let pairs = super::FormPairs::parse(&body);
    if let Err(r) = session.check_csrf(&pairs.get("csrf_token")) {
        return r;
    }
    let mut alerts = Vec::new();
    let mut bad = steward_core::validate::Fields::new();
    for (kind, field) in [("balance", "balance_alert"), ("days_left", "days_alert")] {
        let raw = pairs.get(field);
        let raw = raw.trim().replace([',', ' '], "");
        if raw.is_empty() {
            continue;
        }
        match raw.parse::<i64>() {
            Ok(threshold) => alerts.push(AlertSetting { kind: kind.into(), threshold, fired_at: None }),
            Err(_) => bad.push(field, &steward_core::messages::rule::NOT_A_WHOLE_NUMBER, &[]),
        }
    }
    let saved = match bad.finish() {
        Ok(()) => credits::put_alerts(&s.db, &session.ctx(), AlertSettings { alerts }).await,
        Err(e) => Err(e),
    };
    match saved {
        Ok(_) => see_other(BASE, "credit_alerts_saved"),
        Err(e) if e.status < 500 => render(&s, &session, "", Some(&e), None).await,
        Err(e) => error_page(&e),
    }
}
