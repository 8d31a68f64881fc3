//! Debits from the platform's services, exactly once per `Idempotency-Key`,
//! and refunds of them. A debit takes no organization lock and writes no
//! audit event: the ledger entry is its record. It queues on the account's
//! row, so concurrent debits never overdraw and each knows its balance after.

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::{Value, json};
use steward_core::credits::{self as rules, Category, EntryKind, Lot};
use steward_core::ids::{CampaignId, CreditEntryId, GrantId, UserId, WorkspaceId};
use steward_core::messages::{problem, rule};
use steward_core::permissions::Permission;
use steward_core::validate::{self, Fields};
use steward_core::workspaces::WorkspaceStatus;
use steward_core::{Error, Result};
use steward_store::credits::alerts::Alert;
use steward_store::credits::idempotency;
use steward_store::credits::usage::{self, Dimension};
use steward_store::credits::{self as store, Entry, Grant};
use steward_store::{Db, OrgScope, WriteTx, audit};

use super::batch::{Debits, Waiting};
use super::{EntryView, after_change, after_change_with, ledger_entry};
use crate::services::{Ctx, EventExt};

/// The longest `Idempotency-Key` kept.
pub const KEY_MAX: usize = 255;

#[derive(Debug, Clone, Deserialize, serde::Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DebitRequest {
    /// The workspace whose usage this is (`ws_…`); it must be active.
    pub workspace_id: String,
    /// Whole credits, 1 to 10^12.
    #[schema(minimum = 1, maximum = 1_000_000_000_000_i64)]
    pub amount: i64,
    /// The person the usage is for (`usr_…`), a member of the workspace.
    pub user_id: Option<String>,
    /// The campaign it is for (`cmp_…`), in the workspace.
    pub campaign_id: Option<String>,
    /// What it was for, shown in the transaction history.
    #[schema(max_length = 200)]
    pub reason: String,
    /// Anything the service wants to keep with the entry (an object).
    pub metadata: Option<Value>,
}

/// An answer to send, as the first request with the key got it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub body: String,
    /// Whether this is a stored answer sent again.
    pub replayed: bool,
}

fn hash_of(body: &DebitRequest) -> String {
    // serde_json's maps sort their keys, so equal bodies hash alike whatever their order.
    let canonical = serde_json::to_value(body).map(|v| v.to_string()).unwrap_or_default();
    steward_core::tokens::hash_secret(&canonical)
}

/// Debits credits for `body`, once per `key`: queued for the organization's
/// next ledger transaction ([`super::batch`]).
pub async fn debit(debits: &Debits, ctx: &Ctx, key: Option<&str>, body: DebitRequest) -> Result<Answer> {
    let org = ctx.authorize(Permission::CreditsDebit)?;
    let key = key.ok_or_else(|| Error::bad_request(&problem::IDEMPOTENCY_KEY_REQUIRED, &[]))?;
    if key.is_empty() || key.len() > KEY_MAX || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Error::field("Idempotency-Key", &rule::INVALID_IDEMPOTENCY_KEY, &[("max", &KEY_MAX)]));
    }
    let hash = hash_of(&body);
    debits.submit(&org, Waiting { ctx: ctx.clone(), key: key.to_owned(), hash, body }).await
}

/// One debit in the batch's transaction: its key, its checks and writes, its
/// stored answer. The inner result is the debit's answer; the outer error
/// is the transaction's (the batch starts over one debit at a time).
pub(super) async fn step(tx: &mut WriteTx, org: &OrgScope, w: &Waiting, shared: &mut Shared) -> Result<Result<Answer>> {
    if !idempotency::hold(tx, org, &w.key).await? {
        return Ok(Err(Error::conflict(&problem::IDEMPOTENCY_KEY_IN_USE, &[])));
    }
    if let Some(first) = idempotency::stored(tx, org, &w.key).await? {
        if first.request_hash != w.hash {
            return Ok(Err(Error::new(422, &problem::IDEMPOTENCY_KEY_REUSED, &[])));
        }
        return Ok(Ok(Answer { status: first.status, body: first.response, replayed: true }));
    }
    let now = w.ctx.now;
    match apply(tx, org, &w.ctx, &w.body, shared).await {
        Ok(view) => {
            let answer = serde_json::to_string(&view).map_err(|_| Error::internal())?;
            idempotency::record(tx, org, &w.key, &w.hash, 201, &answer, now).await?;
            Ok(Ok(Answer { status: 201, body: answer, replayed: false }))
        }
        // A refusal is the key's answer too, as Stripe keeps it; it wrote nothing else.
        Err(e) if e.status < 500 => {
            idempotency::record(tx, org, &w.key, &w.hash, e.status, &crate::error::problem_json(&e), now).await?;
            Ok(Err(e))
        }
        Err(e) => Err(e),
    }
}

/// What the debits of one transaction read once: their workspaces' states,
/// the alert thresholds, the usable grants as the batch leaves them, and
/// the usage they add (written once, before the commit).
#[derive(Default)]
pub(super) struct Shared {
    workspaces: HashMap<WorkspaceId, Option<(WorkspaceStatus, Option<String>)>>,
    /// A workspace's monthly budget and what it has used this month, as the batch goes.
    budgets: HashMap<WorkspaceId, Option<(i64, i64)>>,
    alerts: Option<Vec<Alert>>,
    lots: Option<Vec<Lot>>,
    usage: HashMap<(Dimension, String, i64), i64>,
}

impl Shared {
    /// Writes the usage the batch's debits added.
    pub(super) async fn flush(&mut self, tx: &mut WriteTx, org: &OrgScope) -> Result<()> {
        for ((dimension, key, day), used) in self.usage.drain() {
            usage::add_day(tx, org, dimension, &key, day, used).await?;
        }
        Ok(())
    }
}

/// The checks and the writes of one debit, in the caller's transaction.
async fn apply(
    tx: &mut WriteTx,
    org: &OrgScope,
    ctx: &Ctx,
    body: &DebitRequest,
    shared: &mut Shared,
) -> Result<EntryView> {
    let mut f = Fields::new();
    let amount = f.check(rules::amount("amount", body.amount));
    let reason = f.check(validate::name("reason", &body.reason));
    // Another organization's workspace is no different from none: a 404, as everywhere.
    let ws: Option<WorkspaceId> = f.check(body.workspace_id.parse().map_err(|_| Error::not_found("workspace")));
    let user: Option<Option<UserId>> =
        f.check(body.user_id.as_deref().map(str::parse).transpose().map_err(|_| not_found("user_id", "person")));
    let campaign: Option<Option<CampaignId>> = f.check(
        body.campaign_id.as_deref().map(str::parse).transpose().map_err(|_| not_found("campaign_id", "campaign")),
    );
    if body.metadata.as_ref().is_some_and(|m| !m.is_object() || m.as_object().is_some_and(|o| o.len() > 50)) {
        f.push("metadata", &rule::WRONG_TYPE, &[("detail", &"an object of at most 50 keys")]);
    }
    f.finish()?;
    let (Some(amount), Some(reason), Some(ws), Some(user), Some(campaign)) = (amount, reason, ws, user, campaign)
    else {
        return Err(Error::internal());
    };
    let state = match shared.workspaces.get(&ws) {
        Some(known) => known.clone(),
        None => {
            let w = steward_store::workspaces::get(tx, org, &ws).await?;
            let state = w.map(|w| (w.status, w.status_reason));
            shared.workspaces.insert(ws.clone(), state.clone());
            state
        }
    };
    let (status, status_reason) = state.ok_or_else(|| Error::not_found("workspace"))?;
    steward_core::workspaces::require_active_for_changes(status, status_reason.as_deref())?;
    if !shared.budgets.contains_key(&ws) {
        let budget = match store::budgets::get(tx, org, ws.as_str()).await? {
            Some(monthly) => {
                let used = store::budgets::used_since(tx, org, ws.as_str(), rules::month_of(ctx.now)).await?;
                Some((monthly, used))
            }
            None => None,
        };
        shared.budgets.insert(ws.clone(), budget);
    }
    if let Some(Some((budget, used))) = shared.budgets.get(&ws)
        && used + amount > *budget
    {
        let (budget, used) = (*budget, *used);
        return Err(Error::forbidden(
            &problem::WORKSPACE_BUDGET_EXCEEDED,
            &[("used", &used), ("budget", &budget), ("amount", &amount)],
        )
        .with_extension("budget", budget)
        .with_extension("used", used));
    }
    if let Some(u) = &user
        && !steward_store::workspaces::is_member(tx, org, &ws, u).await?
    {
        return Err(not_found("user_id", "member of this workspace"));
    }
    if let Some(c) = &campaign
        && !store::campaign_in(tx, org, &ws, c).await?
    {
        return Err(not_found("campaign_id", "campaign of this workspace"));
    }

    let Some(balance_after) = store::change_balance(tx, org, -amount, ctx.now).await? else {
        return Err(insufficient(store::balance(tx, org).await?, amount));
    };
    // Read once the account's row is held: no other transaction changes the grants meanwhile.
    if shared.lots.is_none() {
        shared.lots = Some(store::usable_grants(tx, org, ctx.now).await?.iter().map(|g| g.lot()).collect());
    }
    let lots = shared.lots.as_mut().ok_or_else(Error::internal)?;
    let Some(taken) = rules::allocate(lots, amount, ctx.now) else {
        // The balance counts grants that have expired but are not yet written
        // off: put it back (a refusal writes nothing; others share this transaction).
        store::change_balance(tx, org, amount, ctx.now).await?;
        let usable = lots.iter().filter(|l| l.usable(ctx.now)).map(|l| l.remaining).sum();
        return Err(insufficient(usable, amount));
    };
    for (grant, take) in &taken {
        if !store::adjust_grant(tx, org, grant, -take).await? {
            return Err(Error::internal()); // the account's row lock makes this unreachable
        }
        if let Some(lot) = lots.iter_mut().find(|l| &l.id == grant) {
            lot.remaining -= take;
        }
    }
    let entry = Entry {
        workspace_id: Some(ws.to_string()),
        user_id: user.as_ref().map(ToString::to_string),
        campaign_id: campaign.as_ref().map(ToString::to_string),
        metadata: body.metadata.clone().unwrap_or_else(|| json!({})),
        ..ledger_entry(org, ctx, EntryKind::Debit, -amount, balance_after, reason)
    };
    store::insert_entry(tx, &entry, &taken).await?;
    if let Some(Some((_, used))) = shared.budgets.get_mut(&ws) {
        *used += amount;
    }
    let day = steward_core::credits::day_of(ctx.now);
    for (dimension, key) in std::iter::once((Dimension::Org, "")).chain(dimensions(&entry)) {
        *shared.usage.entry((dimension, key.to_owned(), day)).or_default() += amount;
    }
    if shared.alerts.is_none() {
        shared.alerts = Some(steward_store::credits::alerts::list(tx, org).await?);
    }
    let list = shared.alerts.as_deref().unwrap_or_default();
    after_change_with(tx, org, list, balance_after + amount, balance_after, ctx.now).await?;
    Ok(EntryView::from(&entry))
}

fn dimensions(e: &Entry) -> Vec<(Dimension, &str)> {
    [(Dimension::Workspace, &e.workspace_id), (Dimension::User, &e.user_id), (Dimension::Campaign, &e.campaign_id)]
        .into_iter()
        .filter_map(|(d, v)| v.as_deref().map(|v| (d, v)))
        .collect()
}

fn not_found(field: &str, what: &str) -> Error {
    Error::field(field, &rule::UNKNOWN_OBJECT, &[("what", &what)])
}

pub(super) fn insufficient(balance: i64, amount: i64) -> Error {
    let shortfall = (amount - balance).max(1);
    Error::new(
        402,
        &problem::INSUFFICIENT_CREDITS,
        &[("balance", &balance), ("amount", &amount), ("shortfall", &shortfall)],
    )
    .with_extension("balance", balance)
    .with_extension("shortfall", shortfall)
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefundRequest {
    /// Credits to give back; all that is left to refund when absent.
    #[schema(minimum = 1, maximum = 1_000_000_000_000_i64)]
    pub amount: Option<i64>,
    #[schema(max_length = 100)]
    pub reason: Option<String>,
}

/// Gives back all or part of a debit, to the grants it drew from; never more
/// than was debited, however the refunds are split.
pub async fn refund(db: &Db, ctx: &Ctx, id: &CreditEntryId, body: RefundRequest) -> Result<EntryView> {
    let org = ctx.authorize(Permission::CreditsDebit)?;
    let reason = match body.reason.as_deref() {
        Some(r) => validate::name("reason", r)?,
        None => "Refund".to_owned(),
    };
    let mut tx = db.write(&org).await?;
    let debit = store::get_entry(&mut tx, &org, id).await?.ok_or_else(|| Error::not_found("credit entry"))?;
    if debit.kind != EntryKind::Debit {
        return Err(Error::conflict(&problem::NOT_A_DEBIT, &[("id", &id), ("kind", &debit.kind.as_str())]));
    }
    let left = -debit.amount - debit.refunded;
    let amount = rules::amount("amount", body.amount.unwrap_or(left.max(1)))?;
    if amount > left || !store::note_refund(&mut tx, &org, id, amount).await? {
        return Err(Error::field("amount", &rule::OVER_REFUNDABLE, &[("left", &left)]));
    }
    let balance_after = store::change_balance(&mut tx, &org, amount, ctx.now).await?.ok_or_else(Error::internal)?;
    let before = balance_after - amount;
    // Back to the grants in the reverse of the order they were drawn from.
    let drawn = store::entry_grants(&mut tx, &org, id).await?;
    let given_back = store::refunded_to(&mut tx, &org, id).await?;
    let mut owed = amount;
    let mut back = Vec::new();
    for (grant, took) in drawn.iter().rev() {
        let already = given_back.iter().filter(|(g, _)| g == grant).map(|(_, a)| a).sum::<i64>();
        let give = (took - already).min(owed);
        if give > 0 && store::give_back(&mut tx, &org, grant, give, ctx.now).await? {
            back.push((grant.clone(), give));
            owed -= give;
        }
    }
    // What came from grants that have expired since goes into a grant of its
    // own (paid, never expiring): the balance stays what the grants hold.
    if owed > 0 {
        let g = Grant {
            id: GrantId::new(),
            org_id: org.id().clone(),
            category: Category::Paid,
            priority: 50,
            amount: owed,
            remaining: owed,
            effective_at: ctx.now,
            expires_at: None,
            expired_at: None,
            reason: format!("Refund of {id}, whose credits had expired"),
            created_at: ctx.now,
        };
        store::insert_grant(&mut tx, &g).await?;
        back.push((g.id.to_string(), owed));
    }
    let entry = Entry {
        workspace_id: debit.workspace_id.clone(),
        user_id: debit.user_id.clone(),
        campaign_id: debit.campaign_id.clone(),
        refunds_id: Some(id.to_string()),
        ..ledger_entry(&org, ctx, EntryKind::Refund, amount, balance_after, reason)
    };
    store::insert_entry(&mut tx, &entry, &back).await?;
    usage::add(&mut tx, &org, debit.occurred_at, &dimensions(&debit), -amount).await?;
    after_change(&mut tx, &org, before, balance_after, ctx.now).await?;
    let event = ctx
        .event(&org, "credits.refunded", "credit_entry", &entry.id)
        .metadata(json!({ "debit": id, "amount": amount, "balance_after": balance_after }));
    let done = audit::append(&mut tx, event).await?;
    tx.commit(done).await?;
    Ok(EntryView::from(&entry))
}
