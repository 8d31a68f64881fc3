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
use crate::charts::UsageChart;
use crate::services::credits::{self, AlertSetting, AlertSettings, GroupBy};
use crate::state::AppState;

const BASE: &str = "/settings/billing/credits";
const DAY_MS: i64 = 86_400_000;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(BASE, get(show))
        .route("/settings/billing/credits/alerts", post(save_alerts))
        .route("/settings/billing/credits/budgets", post(save_budget))
}

struct UsageRow {
    name: String,
    used: String,
    share: String,
}

struct BudgetRow {
    workspace: String,
    slug: String,
    monthly: String,
    used: String,
    percent: i64,
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
    /// The consumption chart (plotters' SVG, drawn here), empty if it could not be drawn.
    chart: String,
    period: &'static str,
    trend: String,
    entries: Vec<EntryRow>,
    kind: String,
    first_day: String,
    last_day: String,
    balance_alert: String,
    days_alert: String,
    can_set_alerts: bool,
    budgets: Vec<BudgetRow>,
    can_set_budgets: bool,
    sort: &'static str,
    errors: HashMap<String, String>,
    error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PageQuery {
    notice: Option<String>,
    kind: String,
    period: String,
    /// The usage table's order: `used` (most first, the default) or `name`.
    sort: String,
    /// The history's first and last day (UTC, both included), `YYYY-MM-DD`.
    from: String,
    to: String,
}

async fn show(State(s): State<AppState>, session: ConsoleSession, Query(q): Query<PageQuery>) -> Response {
    if !session.can(Permission::CreditsRead) {
        return ask_admin(&s, &session).await;
    }
    let view = View { kind: &q.kind, period: &q.period, sort: &q.sort, from: &q.from, to: &q.to };
    render(&s, &session, view, None, notice_text(q.notice.as_deref())).await
}

fn threshold_of(alerts: &[AlertSetting], kind: &str) -> String {
    alerts.iter().find(|a| a.kind == kind).map(|a| a.threshold.to_string()).unwrap_or_default()
}

/// What the page is asked to show: the history's type, the chart's period, the usage table's order.
#[derive(Default, Clone, Copy)]
struct View<'a> {
    kind: &'a str,
    period: &'a str,
    sort: &'a str,
    from: &'a str,
    to: &'a str,
}

async fn render(
    s: &AppState,
    session: &ConsoleSession,
    view: View<'_>,
    error: Option<&steward_core::Error>,
    notice: Option<String>,
) -> Response {
    let ctx = session.ctx();
    let (from, to) =
        (Timestamp::from_millis(ctx.now.millis() - 30 * DAY_MS), Timestamp::from_millis(ctx.now.millis() + 1));
    let View { kind, period, sort, from: first_day, to: last_day } = view;
    let (group, span_days, ahead) = match period {
        "week" => (GroupBy::Week, 7 * 12, 4),
        "month" => (GroupBy::Month, 365, 3),
        _ => (GroupBy::Day, 30, 7),
    };
    let chart_from = Timestamp::from_millis(to.millis() - span_days * DAY_MS);
    let filter = EntryFilter {
        kind: EntryKind::parse(kind),
        from: format::day_start(first_day, "UTC", 0),
        to: format::day_start(last_day, "UTC", 1),
        ..EntryFilter::default()
    };
    let loaded = async {
        let summary = credits::summary(&s.db, &ctx).await?;
        let by_workspace = credits::usage_by_workspace(&s.db, &ctx, from, to).await?;
        let days = credits::daily_usage(&s.db, &ctx, chart_from, to).await?;
        let (entries, _) = credits::transactions(&s.db, &ctx, &filter, &Page { limit: 50, after: None }).await?;
        let alerts = credits::get_alerts(&s.db, &ctx).await?;
        let budgets = credits::budgets_named(&s.db, &ctx).await?;
        Ok::<_, steward_core::Error>((summary, by_workspace, days, entries, alerts, budgets))
    };
    let (summary, mut by_workspace, days, entries, alerts, budgets) = match loaded.await {
        Ok(v) => v,
        Err(e) => return error_page(&e),
    };
    if sort == "name" {
        by_workspace.sort_by_key(|(_, name, _)| name.to_lowercase());
    }
    let total: i64 = by_workspace.iter().map(|(_, _, used)| used).sum();
    let periods = credits::every_period(&days, group, chart_from, to);
    let chart = trend_chart(&summary, periods, group, ahead);
    let trend = trend_text(&summary, &chart, ctx.now);
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
                share: if total > 0 {
                    format!("{} %", steward_core::reports::share(used, total))
                } else {
                    "—".into()
                },
            })
            .collect(),
        chart: chart.svg_for_page(720, 260).unwrap_or_default(),
        period: match group {
            GroupBy::Week => "week",
            GroupBy::Month => "month",
            _ => "day",
        },
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
        first_day: first_day.to_owned(),
        last_day: last_day.to_owned(),
        balance_alert: threshold_of(&alerts.alerts, "balance"),
        days_alert: threshold_of(&alerts.alerts, "days_left"),
        can_set_alerts: session.can(Permission::CreditsAlerts),
        budgets: budgets
            .into_iter()
            .map(|(b, name, slug)| BudgetRow {
                workspace: name,
                slug,
                monthly: format::int(b.monthly),
                used: format::int(b.used_this_month),
                percent: (b.used_this_month.saturating_mul(100) / b.monthly.max(1)).min(100),
            })
            .collect(),
        can_set_budgets: session.can(Permission::CreditsBudgets),
        sort: if sort == "name" { "name" } else { "used" },
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
        Err(e) if e.status < 500 => render(&s, &session, View::default(), Some(&e), None).await,
        Err(e) => error_page(&e),
    }
}

/// The chart: usage per period, then the next `ahead` periods at the last 30
/// days' daily rate, each no more than what the balance still holds.
fn trend_chart(summary: &credits::Summary, periods: Vec<(String, i64)>, group: GroupBy, ahead: usize) -> UsageChart {
    let per_day = summary.burn_30_days as f64 / 30.0;
    let days_in = match group {
        GroupBy::Week => 7.0,
        GroupBy::Month => 30.4,
        _ => 1.0,
    };
    let mut left = summary.balance;
    let next = periods.last().map(|(l, _)| credits::periods_after(l, group, ahead)).unwrap_or_default();
    let projected = next
        .into_iter()
        .map(|label| {
            let used = ((per_day * days_in).round() as i64).min(left);
            left -= used;
            (label, used)
        })
        .collect();
    UsageChart { periods, projected, x_name: crate::services::reports::x_name(group).into() }
}

/// The chart in words, for everyone and for screen readers.
fn trend_text(summary: &credits::Summary, chart: &UsageChart, now: Timestamp) -> String {
    let used: i64 = chart.periods.iter().map(|(_, v)| v).sum();
    let (Some((first, _)), Some((last, _))) = (chart.periods.first(), chart.periods.last()) else {
        return "No credits were used in this period.".into();
    };
    let peak = chart.periods.iter().max_by_key(|(_, v)| *v).map(|(l, v)| (l.clone(), *v)).unwrap_or_default();
    let mut out = format!("{} credits used from {first} to {last}", format::int(used));
    if peak.1 > 0 {
        out.push_str(&format!("; the most, {}, in the period from {}", format::int(peak.1), peak.0));
    }
    out.push('.');
    match summary.days_left {
        Some(d) => {
            let until = Timestamp::from_millis(now.millis() + (d * DAY_MS as f64) as i64);
            out.push_str(&format!(
                " At the last 30 days' rate ({} a day) the balance lasts about {d:.0} days, until {}; the lighter bars show that projection.",
                format::int(summary.burn_30_days / 30),
                format::date(until, "UTC").0
            ));
        }
        None => out.push_str(" Nothing was used in the last 30 days, so there is no projection."),
    }
    out
}

/// The budget form: a workspace (by its slug) and its monthly credits; empty removes it.
async fn save_budget(State(s): State<AppState>, session: ConsoleSession, body: Bytes) -> Response {
    let pairs = super::FormPairs::parse(&body);
    if let Err(r) = session.check_csrf(&pairs.get("csrf_token")) {
        return r;
    }
    let raw = pairs.get("monthly").trim().replace([',', ' '], "");
    let monthly = match raw.as_str() {
        "" => Ok(None),
        n => n
            .parse::<i64>()
            .map(Some)
            .map_err(|_| steward_core::Error::field("monthly", &steward_core::messages::rule::NOT_A_WHOLE_NUMBER, &[])),
    };
    let ctx = session.ctx();
    let saved = match monthly {
        Ok(monthly) => match credits::workspace_by_slug(&s.db, &ctx, &pairs.get("workspace")).await {
            Ok(ws) => credits::set_budget(&s.db, &ctx, &ws, credits::BudgetRequest { monthly }).await.map(|_| ()),
            Err(e) => Err(e),
        },
        Err(e) => Err(e),
    };
    match saved {
        Ok(()) => see_other(BASE, "budget_saved"),
        Err(e) if e.status < 500 => render(&s, &session, View::default(), Some(&e), None).await,
        Err(e) => error_page(&e),
    }
}
