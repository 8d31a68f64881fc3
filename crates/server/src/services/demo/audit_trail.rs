//! `steward demo audit-events`: a long, believable audit trail for one
//! organization, to try the Audit logs page and benchmark its filters and
//! exports. Events go through the same hash chain as real ones, so
//! `steward audit verify` checks them too. Actors, workspaces and targets are
//! made-up ids (with the right prefixes); nothing else in the organization changes.
//!
//! A trail's times never go backwards, so the history must start after the
//! organization's newest event: a new organization is created for it, dated
//! at the start of the history.

use serde_json::{Value, json};
use steward_core::audit::group_of;
use steward_core::authz::{Actor, ActorKind};
use steward_core::messages::{problem, rule};
use steward_core::permissions::Permission;
use steward_core::time::Timestamp;
use steward_core::validate::slugify;
use steward_core::{Error, Result};
use steward_store::audit::{self, NewEvent};
use steward_store::organizations::{self, Organization};
use steward_store::{Db, OrgScope, bulk};

use super::super::Ctx;
use super::super::setup::{NewOrganization, create};
use super::{FIRST, LAST, Rng};

/// Events per transaction: bounded memory whatever the total.
const BATCH: usize = 20_000;

/// Actions and how often they happen, out of 1,000: sign-ins and content work
/// dominate real trails; security changes are rare.
const MIX: &[(&str, u64)] = &[
    ("session.created", 180),
    ("session.ended", 60),
    ("session.failed", 25),
    ("session.reauthenticated", 10),
    ("content.created", 150),
    ("content.updated", 120),
    ("content.deleted", 20),
    ("campaign.created", 40),
    ("campaign.updated", 60),
    ("media.uploaded", 50),
    ("media.deleted", 10),
    ("connection.created", 15),
    ("connection.updated", 15),
    ("workspace.updated", 30),
    ("workspace.member_added", 40),
    ("workspace.member_removed", 10),
    ("workspace.member_role_changed", 10),
    ("workspace.created", 10),
    ("workspace.suspended", 4),
    ("workspace.reactivated", 4),
    ("workspace.archived", 2),
    ("user.invited", 30),
    ("user.updated", 20),
    ("user.role_changed", 8),
    ("user.deactivated", 4),
    ("invitation.accepted", 25),
    ("two_factor.enabled", 12),
    ("two_factor.reset", 2),
    ("api_key.created", 3),
    ("api_key.revoked", 2),
    ("security.settings_updated", 1),
    ("audit.exported", 2),
    ("organization.updated", 6),
];

const AGENTS: &[&str] = &[
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/131.0 Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "campaign-scheduler/2.4",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrailReport {
    pub events: usize,
    /// When the organization was created for the trail: its Super Admin's
    /// email and set-password token (valid until `invitation_ttl_hours` from now).
    pub invitation: Option<(String, String)>,
}

/// Appends `count` events spread evenly over the `days` before `now`.
pub async fn seed(
    db: &Db,
    ctx: &Ctx,
    org_slug: &str,
    count: usize,
    days: i64,
    invitation_ttl_hours: i64,
) -> Result<TrailReport> {
    ctx.authorize_deployment(Permission::OrganizationsManage)?;
    let now = ctx.now;
    if days < 1 {
        return Err(Error::field("days", &rule::TOO_SMALL, &[("min", &1)]));
    }
    let span_ms = days * 86_400_000;
    let start = now.millis() - span_ms;
    let (org, invitation) =
        organization_at(db, ctx, org_slug, Timestamp::from_millis(start), days * 24 + invitation_ttl_hours).await?;
    let scope = OrgScope::of(&ctx.principal.clone().in_org(org.id.clone()))?;
    let mut rng = Rng(0xA0D1_7000_0000_0001 ^ count as u64);
    let id = |rng: &mut Rng, prefix: &str| format!("{prefix}_{:016x}{:016x}", rng.next(), rng.next());
    let users: Vec<(String, String)> = (0..2_000)
        .map(|i| {
            let (first, last) = (rng.pick(FIRST), rng.pick(LAST));
            (id(&mut rng, "usr"), format!("{}.{}{i}@{}.demo", slugify(first), slugify(last), org.slug))
        })
        .collect();
    let keys: Vec<String> = (0..20).map(|_| id(&mut rng, "key")).collect();
    let workspaces: Vec<String> = (0..1_000).map(|_| id(&mut rng, "ws")).collect();
    // Objects acted on, per kind: a fixed pool so some ids recur, as real ones do.
    let objects: Vec<String> = (0..100_000).map(|i| format!("{:016x}{:016x}", i as u64, rng.next())).collect();
    let total_weight: u64 = MIX.iter().map(|(_, w)| w).sum();

    let mut made = 0;
    while made < count {
        let n = BATCH.min(count - made);
        let mut events = Vec::with_capacity(n);
        for i in made..made + n {
            let at = start + (i as i128 * span_ms as i128 / count.max(1) as i128) as i64;
            let mut roll = rng.next() % total_weight;
            let action = MIX
                .iter()
                .find(|(_, w)| {
                    let hit = roll < *w;
                    roll = roll.saturating_sub(*w);
                    hit
                })
                .map_or("session.created", |(a, _)| *a);
            let by_key = action.starts_with("content.") && rng.chance(20);
            let actor = if by_key {
                Actor {
                    kind: ActorKind::ApiKey,
                    id: Some(keys[rng.below(keys.len())].clone()),
                    name: Some("Scheduler".into()),
                }
            } else {
                let (user, email) = &users[rng.below(users.len())];
                Actor { kind: ActorKind::User, id: Some(user.clone()), name: Some(email.clone()) }
            };
            let workspace = workspaces[rng.below(workspaces.len())].clone();
            let (target_type, target_id, in_workspace) = target_of(action, &mut rng, &objects, &users, &workspace);
            events.push(NewEvent {
                org_id: org.id.clone(),
                action,
                actor,
                target_type: Some(target_type),
                target_id: Some(target_id),
                workspace_id: in_workspace.then_some(workspace),
                ip: Some(format!("203.0.113.{}", rng.below(250) + 1)),
                user_agent: Some(rng.pick(AGENTS).to_owned()),
                changes: changes_of(action, &mut rng),
                metadata: Value::Null,
                occurred_at: Timestamp::from_millis(at),
            });
        }
        let mut tx = db.write(&scope).await?;
        let done = audit::append_many(&mut tx, &scope, events).await?;
        tx.commit(done).await?;
        made += n;
    }
    let mut c = db.conn().await?;
    bulk::analyze(&mut c).await?;
    Ok(TrailReport { events: made, invitation })
}

/// The organization, created at `start` when it doesn't exist yet (with its
/// admin's invitation), or an existing one with no events after `start`.
async fn organization_at(
    db: &Db,
    ctx: &Ctx,
    slug: &str,
    start: Timestamp,
    ttl_hours: i64,
) -> Result<(Organization, Option<(String, String)>)> {
    let mut c = db.conn().await?;
    if let Some(org) = organizations::by_slug(&mut c, slug).await? {
        let scope = OrgScope::of(&ctx.principal.clone().in_org(org.id.clone()))?;
        let newest = audit::search(&mut c, &scope, &audit::Filter::default(), 1).await?;
        if let Some(e) = newest.first().filter(|e| e.occurred_at > start) {
            let until = e.occurred_at.to_rfc3339();
            return Err(Error::conflict(&problem::TRAIL_NOT_EMPTY, &[("slug", &slug), ("until", &until)]));
        }
        return Ok((org, None));
    }
    drop(c);
    let input = NewOrganization {
        name: format!("{slug} (demo)"),
        slug: Some(slug.to_owned()),
        admin_email: format!("admin@{slug}.demo"),
        admin_name: None,
        admin_password: None,
    };
    let created = create(db, &Ctx { now: start, ..ctx.clone() }, None, input, ttl_hours).await?;
    let invitation = created.invitation.map(|(token, _)| (created.admin.email, token));
    Ok((created.organization, invitation))
}

/// What an action acts on: (kind, id, whether the event belongs to a workspace).
fn target_of(
    action: &str,
    rng: &mut Rng,
    objects: &[String],
    users: &[(String, String)],
    workspace: &str,
) -> (&'static str, String, bool) {
    let object = |rng: &mut Rng, prefix: &str| format!("{prefix}_{}", objects[rng.below(objects.len())]);
    match group_of(action) {
        "content" => ("content", object(rng, "cnt"), true),
        "campaign" => ("campaign", object(rng, "cmp"), true),
        "media" => ("media", object(rng, "med"), true),
        "connection" => ("connection", object(rng, "con"), true),
        "workspace" => ("workspace", workspace.to_owned(), true),
        "session" => ("session", object(rng, "ses"), false),
        "invitation" => ("invitation", object(rng, "inv"), false),
        "api_key" => ("api_key", object(rng, "key"), false),
        "organization" | "security" | "audit" => ("organization", "org".into(), false),
        _ => ("user", users[rng.below(users.len())].0.clone(), false),
    }
}

fn changes_of(action: &str, rng: &mut Rng) -> Value {
    match action {
        "content.updated" | "campaign.updated" => {
            json!({ "title": { "before": format!("Draft {}", rng.below(1_000)), "after": format!("Post {}", rng.below(1_000)) } })
        }
        "user.role_changed" | "workspace.member_role_changed" => {
            json!({ "role": { "before": "member", "after": "admin" } })
        }
        "workspace.updated" => json!({ "name": { "before": "Northwind Coffee", "after": "Northwind Coffee Co" } }),
        _ => Value::Null,
    }
}
