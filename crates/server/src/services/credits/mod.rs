//! Credits (BILL-2, BILL-3): the organization's one balance, grants from the
//! platform operator, the transaction history, usage and alerts. Debits and
//! refunds are in [`debits`].

pub mod adjustments;
pub mod batch;
mod consumption;
pub mod debits;

pub use consumption::{GroupBy, bucket_days, daily_usage, every_period, periods_after, usage, usage_page};

use serde::{Deserialize, Serialize};
use serde_json::json;
use steward_core::credits::{self as rules, Category, EntryKind};
use steward_core::ids::{CreditAlertId, CreditEntryId, GrantId};
use steward_core::messages::rule;
use steward_core::pagination::{self, Page};
use steward_core::permissions::Permission;
use steward_core::time::Timestamp;
use steward_core::validate::{self, Fields};
use steward_core::{Error, Result};
use steward_store::credits::alerts::{self, Alert};
use steward_store::credits::usage;
use steward_store::credits::{self as store, Entry, EntryFilter, Grant};
use steward_store::{Db, OrgScope, WriteTx, audit};

use super::{Ctx, EventExt};
use crate::jobs::credits::CreditAlert;
use crate::jobs::{self, Enqueue};

const DAY_MS: i64 = 86_400_000;

/// A ledger entry as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EntryView {
    pub id: CreditEntryId,
    pub kind: EntryKind,
    /// Signed: a debit or expiry is negative.
    pub amount: i64,
    pub balance_after: i64,
    pub workspace_id: Option<String>,
    pub user_id: Option<String>,
    pub campaign_id: Option<String>,
    pub grant_id: Option<String>,
    /// For a refund: the debit it gives back.
    pub refunds_id: Option<String>,
    /// For a debit: how much of it was refunded.
    pub refunded: i64,
    pub reason: String,
    #[schema(value_type = Object)]
    pub metadata: serde_json::Value,
    /// `api_key`, `user`, `operator` or `system`.
    pub actor_type: String,
    pub actor_id: Option<String>,
    pub occurred_at: Timestamp,
}

impl From<&Entry> for EntryView {
    fn from(e: &Entry) -> Self {
        EntryView {
            id: e.id.clone(),
            kind: e.kind,
            amount: e.amount,
            balance_after: e.balance_after,
            workspace_id: e.workspace_id.clone(),
            user_id: e.user_id.clone(),
            campaign_id: e.campaign_id.clone(),
            grant_id: e.grant_id.clone(),
            refunds_id: e.refunds_id.clone(),
            refunded: e.refunded,
            reason: e.reason.clone(),
            metadata: e.metadata.clone(),
            actor_type: e.actor_type.clone(),
            actor_id: e.actor_id.clone(),
            occurred_at: e.occurred_at,
        }
    }
}

/// An entry of `kind` by the caller, now, tied to nothing yet: callers set
/// the workspace, grant or debit it concerns.
fn ledger_entry(org: &OrgScope, ctx: &Ctx, kind: EntryKind, amount: i64, balance_after: i64, reason: String) -> Entry {
    let actor = ctx.principal.actor();
    Entry {
        id: CreditEntryId::new(),
        org_id: org.id().clone(),
        kind,
        amount,
        balance_after,
        workspace_id: None,
        user_id: None,
        campaign_id: None,
        grant_id: None,
        refunds_id: None,
        refunded: 0,
        reason,
        metadata: json!({}),
        actor_type: actor.kind.as_str().to_owned(),
        actor_id: actor.id,
        occurred_at: ctx.now,
    }
}

/// After the balance moved from `before` to `after`: alerts it fell to fire
/// (by a job, so the change waits on nothing), those it rose above re-arm.
async fn after_change(tx: &mut WriteTx, org: &OrgScope, before: i64, after: i64, now: Timestamp) -> Result<()> {
    let list = alerts::list(tx, org).await?;
    after_change_with(tx, org, &list, before, after, now).await
}

/// [`after_change`] with the thresholds already read (a batch of debits reads them once).
async fn after_change_with(
    tx: &mut WriteTx,
    org: &OrgScope,
    list: &[Alert],
    before: i64,
    after: i64,
    now: Timestamp,
) -> Result<()> {
    for a in list.iter().filter(|a| a.kind == "balance") {
        if rules::crossed_down(a.threshold, before, after) && alerts::set_fired(tx, org, &a.id, Some(now)).await? {
            let job = CreditAlert { alert_id: a.id.clone(), balance: after };
            jobs::enqueue(tx, &job, Enqueue { org: Some(org.id().clone()), run_at: None, dedupe_key: None }, now)
                .await?;
        } else if rules::crossed_up(a.threshold, before, after) {
            alerts::set_fired(tx, org, &a.id, None).await?;
        }
    }
    Ok(())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantRequest {
    #[schema(minimum = 1, maximum = 1_000_000_000_000_i64)]
    pub amount: i64,
    pub category: Category,
    /// Lower is used first (default 50).
    #[schema(minimum = 0, maximum = 100)]
    pub priority: Option<i64>,
    /// When the credits may be used from (default now).
    pub effective_at: Option<Timestamp>,
    /// When what is left of them is written off (default never).
    pub expires_at: Option<Timestamp>,
    #[schema(max_length = 100)]
    pub reason: Option<String>,
}

/// The platform operator adds credits to an organization. Super Admins
/// cannot: `operator:credits` is the operator's.
pub async fn grant(db: &Db, ctx: &Ctx, input: GrantRequest) -> Result<EntryView> {
    let org = ctx.authorize(Permission::CreditsGrant)?;
    let mut f = Fields::new();
    let amount = f.check(rules::amount("amount", input.amount));
    let priority = input.priority.unwrap_or(50);
    if !(0..=100).contains(&priority) {
        f.push("priority", &rule::OUT_OF_RANGE, &[("range", &"0 to 100")]);
    }
    let effective_at = input.effective_at.unwrap_or(ctx.now);
    if input.expires_at.is_some_and(|t| t <= effective_at.max(ctx.now)) {
        f.push("expires_at", &rule::NOT_IN_FUTURE, &[]);
    }
    let reason = match input.reason.as_deref() {
        Some(r) => f.check(validate::name("reason", r)),
        None => Some(format!("{} credits", input.category.as_str())),
    };
    f.finish()?;
    let (Some(amount), Some(reason)) = (amount, reason) else { return Err(Error::internal()) };
    let g = Grant {
        id: GrantId::new(),
        org_id: org.id().clone(),
        category: input.category,
        priority,
        amount,
        remaining: amount,
        effective_at,
        expires_at: input.expires_at,
        expired_at: None,
        reason: reason.clone(),
        created_at: ctx.now,
    };
    let mut tx = db.write(&org).await?;
    store::insert_grant(&mut tx, &g).await?;
    let balance_after = store::change_balance(&mut tx, &org, amount, ctx.now).await?.ok_or_else(Error::internal)?;
    let before = balance_after - amount;
    let entry = Entry {
        grant_id: Some(g.id.to_string()),
        metadata: json!({ "category": g.category, "priority": priority, "expires_at": g.expires_at }),
        ..ledger_entry(&org, ctx, EntryKind::Grant, amount, balance_after, reason)
    };
    store::insert_entry(&mut tx, &entry, &[(g.id.to_string(), amount)]).await?;
    after_change(&mut tx, &org, before, balance_after, ctx.now).await?;
    let event = ctx.event(&org, "credits.granted", "credit_grant", &g.id).metadata(json!({
        "amount": amount, "category": g.category, "priority": priority, "expires_at": g.expires_at, "balance_after": balance_after
    }));
    let done = audit::append(&mut tx, event).await?;
    tx.commit(done).await?;
    Ok(EntryView::from(&entry))
}

/// While an alert has fired: the sentence the console's banner shows.
pub async fn fired_alert(db: &Db, ctx: &Ctx) -> Result<Option<String>> {
    let org = ctx.authorize(Permission::CreditsRead)?;
    let mut c = db.conn().await?;
    let list = alerts::list(&mut c, &org).await?;
    let Some(a) = list.iter().find(|a| a.fired_at.is_some()) else { return Ok(None) };
    let balance = store::balance(&mut c, &org).await?;
    Ok(Some(match a.kind.as_str() {
        "days_left" => format!(
            "Credits are running low: at the current rate the balance of {balance} lasts {} days or fewer.",
            a.threshold
        ),
        _ if balance == 0 => "The organization has run out of credits: debits are refused until more are added.".into(),
        _ => format!("Credits are running low: the balance is {balance}, at or below your alert of {}.", a.threshold),
    }))
}

/// The balance alone, for the dashboard's tile (whoever may see the dashboard).
pub async fn balance(db: &Db, ctx: &Ctx) -> Result<i64> {
    let org = ctx.authorize(Permission::OrganizationRead)?;
    let mut c = db.conn().await?;
    Ok(store::balance(&mut c, &org).await?)
}

/// Credits used per workspace from `from` to `to`, most first, with each
/// workspace's name (a deleted one's id stands in).
pub async fn usage_by_workspace(
    db: &Db,
    ctx: &Ctx,
    from: Timestamp,
    to: Timestamp,
) -> Result<Vec<(String, String, i64)>> {
    let rows = usage(db, ctx, GroupBy::Workspace, from, to).await?;
    let org = ctx.authorize(Permission::CreditsRead)?;
    let mut c = db.conn().await?;
    let ids: Vec<String> = rows.iter().map(|(id, _)| id.clone()).collect();
    let names = steward_store::workspaces::names(&mut c, &org, &ids).await?;
    Ok(rows
        .into_iter()
        .map(|(id, used)| {
            let name = names.iter().find(|(i, _)| *i == id).map_or_else(|| id.clone(), |(_, n)| n.clone());
            (id, name, used)
        })
        .collect())
}

/// The balance and what it is made of.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Summary {
    pub balance: i64,
    pub paid: i64,
    pub promotional: i64,
    /// Credits that expire in the next 30 days if unused.
    pub expiring_30_days: i64,
    /// Credits used in the last 30 days.
    pub burn_30_days: i64,
    /// Days the balance lasts at the last 30 days' rate; `null` when nothing was used.
    pub days_left: Option<f64>,
}

pub async fn summary(db: &Db, ctx: &Ctx) -> Result<Summary> {
    let org = ctx.authorize(Permission::CreditsRead)?;
    let mut c = db.conn().await?;
    let balance = store::balance(&mut c, &org).await?;
    let grants = store::open_grants(&mut c, &org).await?;
    let sum = |cat: Category| grants.iter().filter(|g| g.category == cat).map(|g| g.remaining).sum();
    let soon = Timestamp::from_millis(ctx.now.millis() + 30 * DAY_MS);
    let expiring = grants.iter().filter(|g| g.expires_at.is_some_and(|t| t <= soon)).map(|g| g.remaining).sum();
    let month_ago = Timestamp::from_millis(ctx.now.millis() - 30 * DAY_MS);
    let burn: i64 = usage::by_day(&mut c, &org, month_ago, ctx.now).await?.iter().map(|(_, used)| used).sum();
    Ok(Summary {
        balance,
        paid: sum(Category::Paid),
        promotional: sum(Category::Promotional),
        expiring_30_days: expiring,
        burn_30_days: burn,
        days_left: rules::days_left(balance, burn as f64 / 30.0).map(|d| (d * 10.0).round() / 10.0),
    })
}

/// The transaction history, newest first.
pub async fn transactions(db: &Db, ctx: &Ctx, f: &EntryFilter, page: &Page) -> Result<(Vec<Entry>, Option<String>)> {
    let org = ctx.authorize(Permission::CreditsRead)?;
    if let (Some(from), Some(to)) = (f.from, f.to) {
        rules::range(from, to)?;
    }
    let mut c = db.conn().await?;
    let rows = store::entries(&mut c, &org, f, page).await?;
    Ok(pagination::finish(rows, page, |e| e.id.to_string()))
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertSetting {
    /// `balance`: when the balance falls to `threshold` credits;
    /// `days_left`: when it lasts `threshold` days or fewer at the current rate.
    pub kind: String,
    #[schema(minimum = 0, maximum = 1_000_000_000_000_i64)]
    pub threshold: i64,
    /// When it last fired; `null` while armed.
    #[serde(default, skip_deserializing)]
    pub fired_at: Option<Timestamp>,
}

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertSettings {
    #[schema(max_items = 10)]
    pub alerts: Vec<AlertSetting>,
}

pub async fn get_alerts(db: &Db, ctx: &Ctx) -> Result<AlertSettings> {
    let org = ctx.authorize(Permission::CreditsRead)?;
    let mut c = db.conn().await?;
    let alerts = alerts::list(&mut c, &org).await?;
    Ok(AlertSettings {
        alerts: alerts
            .into_iter()
            .map(|a| AlertSetting { kind: a.kind, threshold: a.threshold, fired_at: a.fired_at })
            .collect(),
    })
}

/// Replaces the thresholds. One already below the balance's level starts
/// fired, so setting it does not send an alert for a fall that came before.
pub async fn put_alerts(db: &Db, ctx: &Ctx, input: AlertSettings) -> Result<AlertSettings> {
    let org = ctx.authorize(Permission::CreditsAlerts)?;
    let mut f = Fields::new();
    if input.alerts.len() > 10 {
        f.push("alerts", &rule::OUT_OF_RANGE, &[("range", &"0 to 10 alerts")]);
    }
    for (i, a) in input.alerts.iter().enumerate() {
        if a.kind != "balance" && a.kind != "days_left" {
            f.push(&format!("alerts[{i}].kind"), &rule::NOT_ONE_OF, &[("allowed", &"balance, days_left")]);
        }
        if !(0..=rules::MAX_AMOUNT).contains(&a.threshold) {
            f.push(&format!("alerts[{i}].threshold"), &rule::OUT_OF_RANGE, &[("range", &"0 to 10^12")]);
        }
    }
    f.finish()?;
    let mut tx = db.write(&org).await?;
    let balance = store::balance(&mut tx, &org).await?;
    let rows: Vec<Alert> = input
        .alerts
        .iter()
        .map(|a| Alert {
            id: CreditAlertId::new(),
            kind: a.kind.clone(),
            threshold: a.threshold,
            fired_at: (a.kind == "balance" && balance <= a.threshold).then_some(ctx.now),
            created_at: ctx.now,
        })
        .collect();
    alerts::replace(&mut tx, &org, &rows).await?;
    let summary: Vec<_> = input.alerts.iter().map(|a| json!({ "kind": a.kind, "threshold": a.threshold })).collect();
    let event =
        ctx.event(&org, "credits.alerts_updated", "organization", org.id()).metadata(json!({ "alerts": summary }));
    let done = audit::append(&mut tx, event).await?;
    tx.commit(done).await?;
    Ok(AlertSettings {
        alerts: rows
            .into_iter()
            .map(|a| AlertSetting { kind: a.kind, threshold: a.threshold, fired_at: a.fired_at })
            .collect(),
    })
}

/// Writes off what is left of grants past their expiry, one `expiry` entry
/// each; how many grants. The ledger is the record, as for debits.
pub async fn expire(db: &Db, ctx: &Ctx) -> Result<usize> {
    let org = ctx.authorize(Permission::CreditsGrant)?;
    let mut c = db.conn().await?;
    let due = store::expired_grants(&mut c, &org, ctx.now, 500).await?;
    // Idempotency keys are kept a day; this hourly pass lets older ones go.
    store::idempotency::forget_old(&mut c, &org, ctx.now).await?;
    drop(c);
    let mut written_off = 0;
    for g in due {
        let mut tx = db.write_deployment().await?;
        // The account's row first, as every change of the ledger takes it.
        let Some(before) = store::change_balance(&mut tx, &org, 0, ctx.now).await? else { continue };
        let Some(left) = store::write_off(&mut tx, &org, &g.id, ctx.now).await? else { continue };
        if left > 0 {
            let after = store::change_balance(&mut tx, &org, -left, ctx.now).await?.ok_or_else(Error::internal)?;
            let reason = format!("{left} of {} expired unused", g.reason);
            let entry = Entry {
                grant_id: Some(g.id.to_string()),
                metadata: json!({ "expires_at": g.expires_at }),
                ..ledger_entry(&org, ctx, EntryKind::Expiry, -left, after, reason)
            };
            store::insert_entry(&mut tx, &entry, &[(g.id.to_string(), -left)]).await?;
            after_change(&mut tx, &org, before, after, ctx.now).await?;
            written_off += 1;
        }
        tx.commit_unaudited().await?;
    }
    Ok(written_off)
}

/// Days-left alerts, checked hourly: each fires when the balance lasts its
/// threshold in days or fewer at the last 30 days' rate, and re-arms above.
pub async fn check_days_left(db: &Db, ctx: &Ctx) -> Result<usize> {
    let org = ctx.authorize(Permission::CreditsRead)?;
    let s = summary(db, ctx).await?;
    let mut tx = db.write_deployment().await?;
    let mut fired = 0;
    for a in alerts::list(&mut tx, &org).await?.into_iter().filter(|a| a.kind == "days_left") {
        let below = s.days_left.is_some_and(|d| d <= a.threshold as f64);
        if below && alerts::set_fired(&mut tx, &org, &a.id, Some(ctx.now)).await? {
            let job = CreditAlert { alert_id: a.id.clone(), balance: s.balance };
            let opts = Enqueue { org: Some(org.id().clone()), run_at: None, dedupe_key: None };
            jobs::enqueue(&mut tx, &job, opts, ctx.now).await?;
            fired += 1;
        } else if !below {
            alerts::set_fired(&mut tx, &org, &a.id, None).await?;
        }
    }
    tx.commit_unaudited().await?;
    Ok(fired)
}

/// A workspace's monthly budget and what it used this month.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BudgetView {
    pub workspace_id: String,
    pub monthly: i64,
    pub used_this_month: i64,
}

pub async fn budgets(db: &Db, ctx: &Ctx) -> Result<Vec<BudgetView>> {
    let org = ctx.authorize(Permission::CreditsRead)?;
    let mut c = db.conn().await?;
    let month = rules::month_of(ctx.now);
    let mut out = Vec::new();
    for (workspace_id, monthly) in store::budgets::list(&mut c, &org).await? {
        let used_this_month = store::budgets::used_since(&mut c, &org, &workspace_id, month).await?;
        out.push(BudgetView { workspace_id, monthly, used_this_month });
    }
    Ok(out)
}

/// The budgets with each workspace's name and slug (the console's table).
pub async fn budgets_named(db: &Db, ctx: &Ctx) -> Result<Vec<(BudgetView, String, String)>> {
    let list = budgets(db, ctx).await?;
    let org = ctx.authorize(Permission::CreditsRead)?;
    let mut c = db.conn().await?;
    let mut out = Vec::with_capacity(list.len());
    for b in list {
        let id: steward_core::ids::WorkspaceId = b.workspace_id.parse().map_err(|_| Error::internal())?;
        let (name, slug) = match steward_store::workspaces::get(&mut c, &org, &id).await? {
            Some(w) => (w.name, w.slug),
            None => (b.workspace_id.clone(), String::new()),
        };
        out.push((b, name, slug));
    }
    Ok(out)
}

/// The workspace a budget form names by its slug (or id).
pub async fn workspace_by_slug(db: &Db, ctx: &Ctx, input: &str) -> Result<steward_core::ids::WorkspaceId> {
    let org = ctx.authorize(Permission::CreditsBudgets)?;
    let input = input.trim();
    if let Ok(id) = input.parse() {
        return Ok(id);
    }
    let mut c = db.conn().await?;
    match steward_store::workspaces::by_slug(&mut c, &org, &input.to_lowercase()).await? {
        Some(w) => Ok(w.id),
        None => Err(Error::field("workspace", &rule::UNKNOWN_WORKSPACE, &[("slug", &input)])),
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BudgetRequest {
    /// Credits the workspace may use in a calendar month (UTC); `null` removes the budget.
    #[schema(minimum = 1, maximum = 1_000_000_000_000_i64)]
    pub monthly: Option<i64>,
}

/// Sets or removes a workspace's monthly budget: past it, its debits are
/// refused with `403 workspace_budget_exceeded` until the month ends.
pub async fn set_budget(
    db: &Db,
    ctx: &Ctx,
    ws: &steward_core::ids::WorkspaceId,
    input: BudgetRequest,
) -> Result<Option<BudgetView>> {
    let org = ctx.authorize(Permission::CreditsBudgets)?;
    if let Some(m) = input.monthly {
        rules::amount("monthly", m)?;
    }
    let mut tx = db.write(&org).await?;
    steward_store::workspaces::get(&mut tx, &org, ws).await?.ok_or_else(|| Error::not_found("workspace"))?;
    store::budgets::set(&mut tx, &org, ws.as_str(), input.monthly, ctx.now).await?;
    let used_this_month = store::budgets::used_since(&mut tx, &org, ws.as_str(), rules::month_of(ctx.now)).await?;
    let event = ctx.event(&org, "credits.budget_set", "workspace", ws).metadata(json!({ "monthly": input.monthly }));
    let done = audit::append(&mut tx, event).await?;
    tx.commit(done).await?;
    Ok(input.monthly.map(|monthly| BudgetView { workspace_id: ws.to_string(), monthly, used_this_month }))
}
