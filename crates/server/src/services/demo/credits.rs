//! Demo credits: a paid and a promotional grant, and 90 days of debits across
//! the active workspaces, their members and campaigns, busier on weekdays, so
//! Billing → Credits and the reports have something to show. Written in bulk
//! in the seed's transaction, with the same ledger a live debit writes: each
//! entry's balance after, the grants it drew from, the per-day usage.

use std::collections::BTreeMap;

use serde_json::json;
use steward_core::Result;
use steward_core::credits::{self as rules, Category, Lot, day_of};
use steward_core::ids::{CreditEntryId, GrantId};
use steward_core::time::Timestamp;
use steward_store::bulk::{self, Arg};
use steward_store::{OrgScope, WriteTx};

use super::Rng;

const DAY_MS: i64 = 86_400_000;

/// Where a debit's usage can be: an active workspace, its members, its campaigns.
pub struct Target {
    pub workspace: String,
    pub users: Vec<String>,
    pub campaigns: Vec<String>,
}

const GRANT_COLUMNS: [&str; 11] = [
    "id",
    "org_id",
    "category",
    "priority",
    "amount",
    "remaining",
    "effective_at",
    "expires_at",
    "expired_at",
    "reason",
    "created_at",
];
const ENTRY_COLUMNS: [&str; 16] = [
    "id",
    "org_id",
    "kind",
    "amount",
    "balance_after",
    "workspace_id",
    "user_id",
    "campaign_id",
    "grant_id",
    "refunds_id",
    "refunded",
    "reason",
    "metadata",
    "actor_type",
    "actor_id",
    "occurred_at",
];

fn text(v: &str) -> Arg {
    Arg::Text(v.to_owned())
}

fn opt(v: Option<&String>) -> Arg {
    v.map_or(Arg::NullText, |s| Arg::Text(s.clone()))
}

/// Seeds the history; how many debits it wrote.
pub async fn seed(
    tx: &mut WriteTx,
    org: &OrgScope,
    targets: &[Target],
    rng: &mut Rng,
    now: Timestamp,
    debits: usize,
) -> Result<usize> {
    // A second seed of the organization leaves its ledger as it is: a
    // history begins once.
    if targets.is_empty() || steward_store::credits::has_entries(tx, org).await? {
        return Ok(0);
    }
    let org_id = org.id().to_string();
    let start = Timestamp::from_millis(day_of(now) - 90 * DAY_MS);
    let mut lots = vec![
        Lot {
            id: GrantId::new().to_string(),
            category: Category::Paid,
            priority: 50,
            remaining: 400_000,
            effective_at: start,
            expires_at: None,
            created_at: start,
        },
        Lot {
            id: GrantId::new().to_string(),
            category: Category::Promotional,
            priority: 50,
            remaining: 25_000,
            effective_at: start,
            expires_at: Some(Timestamp::from_millis(now.millis() + 60 * DAY_MS)),
            created_at: start,
        },
    ];
    let mut balance = 0;
    let (mut grants, mut entries, mut drawn) = (Vec::new(), Vec::new(), Vec::new());
    for (lot, reason) in lots.iter().zip(["Annual plan credits", "Welcome bonus"]) {
        balance += lot.remaining;
        grants.push(vec![
            text(&lot.id),
            text(&org_id),
            text(lot.category.as_str()),
            Arg::Int(lot.priority),
            Arg::Int(lot.remaining),
            Arg::Int(lot.remaining), // what is left is set at the end
            Arg::Int(lot.effective_at.millis()),
            lot.expires_at.map_or(Arg::NullInt, |t| Arg::Int(t.millis())),
            Arg::NullInt,
            text(reason),
            Arg::Int(lot.created_at.millis()),
        ]);
        let id = CreditEntryId::new().to_string();
        entries.push(vec![
            text(&id),
            text(&org_id),
            text("grant"),
            Arg::Int(lot.remaining),
            Arg::Int(balance),
            Arg::NullText,
            Arg::NullText,
            Arg::NullText,
            text(&lot.id),
            Arg::NullText,
            Arg::Int(0),
            text(reason),
            text(&json!({ "category": lot.category }).to_string()),
            text("operator"),
            Arg::NullText,
            Arg::Int(lot.created_at.millis()),
        ]);
        drawn.push(vec![text(&id), text(&lot.id), text(&org_id), Arg::Int(lot.remaining)]);
    }

    // Debit times in order, more on weekdays; ids sort by creation, so they are made in time order.
    let span = now.millis() - start.millis();
    let mut times: Vec<i64> = (0..debits)
        .map(|_| {
            let t = start.millis() + (rng.next() % span as u64) as i64;
            let weekday = (t / DAY_MS + 3) % 7 < 5; // 1970-01-01 was a Thursday
            if weekday || rng.chance(40) { t } else { t - DAY_MS }
        })
        .filter(|t| *t > start.millis())
        .collect();
    times.sort_unstable();
    let mut usage: BTreeMap<(&'static str, String, i64), i64> = BTreeMap::new();
    let mut written = 0;
    for t in times {
        let target = &targets[rng.below(targets.len())];
        let amount = 5 + rng.below(120) as i64;
        let at = Timestamp::from_millis(t);
        let Some(taken) = rules::allocate(&lots, amount, at) else { break };
        balance -= amount;
        for (lot_id, take) in &taken {
            if let Some(l) = lots.iter_mut().find(|l| &l.id == lot_id) {
                l.remaining -= take;
            }
        }
        let user = (!target.users.is_empty()).then(|| &target.users[rng.below(target.users.len())]);
        let campaign = (!target.campaigns.is_empty()).then(|| &target.campaigns[rng.below(target.campaigns.len())]);
        let id = CreditEntryId::new().to_string();
        entries.push(vec![
            text(&id),
            text(&org_id),
            text("debit"),
            Arg::Int(-amount),
            Arg::Int(balance),
            text(&target.workspace),
            opt(user),
            opt(campaign),
            Arg::NullText,
            Arg::NullText,
            Arg::Int(0),
            text(if campaign.is_some() { "Campaign run" } else { "Scheduled posts" }),
            text("{}"),
            text("api_key"),
            Arg::NullText,
            Arg::Int(t),
        ]);
        for (lot_id, take) in taken {
            drawn.push(vec![text(&id), text(&lot_id), text(&org_id), Arg::Int(take)]);
        }
        let day = day_of(at);
        *usage.entry(("org", String::new(), day)).or_default() += amount;
        *usage.entry(("workspace", target.workspace.clone(), day)).or_default() += amount;
        if let Some(u) = user {
            *usage.entry(("user", u.clone(), day)).or_default() += amount;
        }
        if let Some(c) = campaign {
            *usage.entry(("campaign", c.clone(), day)).or_default() += amount;
        }
        written += 1;
    }
    // What each grant has left, now that the history drew from them.
    for (row, lot) in grants.iter_mut().zip(&lots) {
        row[5] = Arg::Int(lot.remaining);
    }
    bulk::insert(tx, "credit_grants", &GRANT_COLUMNS, grants).await?;
    bulk::insert(tx, "credit_entries", &ENTRY_COLUMNS, entries).await?;
    bulk::insert(tx, "credit_entry_grants", &["entry_id", "grant_id", "org_id", "amount"], drawn).await?;
    let rows = usage
        .into_iter()
        .map(|((dimension, key, day), used)| {
            vec![text(&org_id), text(dimension), Arg::Text(key), Arg::Int(day), Arg::Int(used)]
        })
        .collect();
    bulk::insert(tx, "credit_usage", &["org_id", "dimension", "key", "day", "used"], rows).await?;
    steward_store::credits::add_to_balance(tx, org, balance, now).await?;
    Ok(written)
}
