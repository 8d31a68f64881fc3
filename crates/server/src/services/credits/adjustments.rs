//! Adjustments: the platform operator corrects a balance by hand (a goodwill
//! credit, a mistake undone), always with a reason. Adding credits grants
//! them (paid, default priority, no expiry) so debits can draw on them;
//! taking them away draws from the grants in the order a debit would. Either
//! is an `adjustment` entry of the ledger and audited as `credits.adjusted`.
//! Neither is usage.

use serde::Deserialize;
use serde_json::json;
use steward_core::credits::{self as rules, Category, EntryKind};
use steward_core::ids::GrantId;
use steward_core::permissions::Permission;
use steward_core::validate::{self, Fields};
use steward_core::{Error, Result};
use steward_store::credits::{self as store, Entry, Grant};
use steward_store::{Db, audit};

use super::{EntryView, after_change, debits, ledger_entry};
use crate::services::{Ctx, EventExt};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdjustmentRequest {
    /// Credits to add (positive) or take away (negative); not 0, at most 10^12 either way.
    #[schema(minimum = -1_000_000_000_000_i64, maximum = 1_000_000_000_000_i64)]
    pub amount: i64,
    /// Why: shown in the transaction history and the audit trail.
    #[schema(min_length = 1, max_length = 100)]
    pub reason: String,
}

pub async fn adjust(db: &Db, ctx: &Ctx, input: AdjustmentRequest) -> Result<EntryView> {
    let org = ctx.authorize(Permission::CreditsGrant)?;
    let mut f = Fields::new();
    // Either way at most 10^12, and never 0.
    let size = f.check(rules::amount("amount", input.amount.saturating_abs()));
    let reason = f.check(validate::name("reason", &input.reason));
    f.finish()?;
    let (Some(size), Some(reason)) = (size, reason) else { return Err(Error::internal()) };
    let mut tx = db.write(&org).await?;
    let (entry, touched) = if input.amount > 0 {
        let g = Grant {
            id: GrantId::new(),
            org_id: org.id().clone(),
            category: Category::Paid,
            priority: 50,
            amount: size,
            remaining: size,
            effective_at: ctx.now,
            expires_at: None,
            expired_at: None,
            reason: reason.clone(),
            created_at: ctx.now,
        };
        store::insert_grant(&mut tx, &g).await?;
        let after = store::change_balance(&mut tx, &org, size, ctx.now).await?.ok_or_else(Error::internal)?;
        let entry = Entry {
            grant_id: Some(g.id.to_string()),
            ..ledger_entry(&org, ctx, EntryKind::Adjustment, size, after, reason.clone())
        };
        (entry, vec![(g.id.to_string(), size)])
    } else {
        let Some(after) = store::change_balance(&mut tx, &org, -size, ctx.now).await? else {
            return Err(debits::insufficient(store::balance(&mut tx, &org).await?, size));
        };
        let lots: Vec<_> = store::usable_grants(&mut tx, &org, ctx.now).await?.iter().map(|g| g.lot()).collect();
        // None: the balance counts grants expired but not yet written off.
        let Some(taken) = rules::allocate(&lots, size, ctx.now) else {
            let usable = lots.iter().filter(|l| l.usable(ctx.now)).map(|l| l.remaining).sum();
            return Err(debits::insufficient(usable, size));
        };
        for (grant, take) in &taken {
            if !store::adjust_grant(&mut tx, &org, grant, -take).await? {
                return Err(Error::internal());
            }
        }
        let touched = taken.iter().map(|(g, take)| (g.clone(), -take)).collect();
        (ledger_entry(&org, ctx, EntryKind::Adjustment, -size, after, reason.clone()), touched)
    };
    store::insert_entry(&mut tx, &entry, &touched).await?;
    after_change(&mut tx, &org, entry.balance_after - entry.amount, entry.balance_after, ctx.now).await?;
    let event = ctx.event(&org, "credits.adjusted", "credit_entry", &entry.id).metadata(json!({
        "amount": entry.amount, "reason": reason, "balance_after": entry.balance_after,
    }));
    let done = audit::append(&mut tx, event).await?;
    tx.commit(done).await?;
    Ok(EntryView::from(&entry))
}
