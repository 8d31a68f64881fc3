//! `steward demo seed`: a believable organization to look at (and, at `large`
//! scale, to benchmark against): workspaces in every status, people with roles,
//! campaigns, content published over recent weeks, connections and media.
//! Deterministic: the same scale gives the same shape.

mod audit_trail;
mod credits;

use serde_json::json;
use steward_core::audit::target;
use steward_core::ids::{CampaignId, ConnectionId, ContentId, MediaId, UserId, WorkspaceId};
use steward_core::permissions::Permission;
use steward_core::validate::slugify;
use steward_core::workspaces::{Platform, WorkspaceRole};
use steward_core::{Error, Result};
use steward_store::bulk::{self, Arg};
use steward_store::{Conn, Db, OrgScope, audit, organizations};

use super::{Ctx, EventExt};
use crate::files::Files;

pub use audit_trail::{TrailReport, seed as seed_audit_trail};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    Small,
    Large,
}

struct Sizes {
    workspaces: usize,
    users: usize,
    /// People in a workspace, fewest to most (at most everyone).
    members_per_workspace: (usize, usize),
    /// Campaigns in a workspace, fewest to most.
    campaigns_per_workspace: (usize, usize),
    content_per_campaign: usize,
    media_per_workspace: usize,
    /// Credit debits over the last 90 days.
    debits: usize,
}

impl Scale {
    fn sizes(self) -> Sizes {
        match self {
            Scale::Small => Sizes {
                workspaces: 12,
                users: 40,
                members_per_workspace: (1, 40),
                campaigns_per_workspace: (0, 60),
                content_per_campaign: 12,
                media_per_workspace: 2,
                debits: 3_000,
            },
            Scale::Large => Sizes {
                workspaces: 1_000,
                users: 10_000,
                // Even, so the benchmarks' totals are round: 100,000 campaigns.
                members_per_workspace: (12, 12),
                campaigns_per_workspace: (100, 100),
                content_per_campaign: 10,
                media_per_workspace: 1,
                debits: 100_000,
            },
        }
    }
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SeedReport {
    pub workspaces: usize,
    pub users: usize,
    pub memberships: usize,
    pub campaigns: usize,
    pub content: usize,
    pub connections: usize,
    pub media: usize,
    pub credit_debits: usize,
}

/// xorshift64*: small, fast and repeatable; nothing here needs secrecy.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn pick<'a>(&mut self, items: &'a [&'a str]) -> &'a str {
        items[self.below(items.len())]
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    /// From `lo` to `hi`, both included.
    fn between(&mut self, (lo, hi): (usize, usize)) -> usize {
        lo + self.below(hi.saturating_sub(lo) + 1)
    }
}

/// Names already used, so new ones read like people's and stay unique:
/// `ana.chen`, then `ana.chen2`; `copper-coffee`, then `copper-coffee-2`.
struct Taken(std::collections::HashSet<String>);

impl Taken {
    fn claim(&mut self, base: &str, suffix: impl Fn(usize) -> String) -> String {
        let mut name = base.to_owned();
        let mut n = 1;
        while !self.0.insert(name.clone()) {
            n += 1;
            name = suffix(n);
        }
        name
    }
}

const FIRST: &[&str] = &[
    "Ana", "Ben", "Chloé", "Dev", "Elif", "Femi", "Grace", "Hiro", "Ines", "Jonas", "Kofi", "Lena", "Mateo", "Nadia",
    "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tariq", "Uma", "Vik", "Wen", "Yara", "Zoë",
];
const LAST: &[&str] = &[
    "Almeida", "Brown", "Chen", "Dubois", "Eriksen", "Fischer", "García", "Haddad", "Ivanova", "Jensen", "Kim",
    "López", "Müller", "Nakamura", "Okafor", "Patel", "Rossi", "Schmidt", "Tanaka", "Weber",
];
const BRAND_A: &[&str] = &[
    "Northwind",
    "Blue Harbor",
    "Copper",
    "Evergreen",
    "Lumen",
    "Maple",
    "Nimbus",
    "Orchid",
    "Pioneer",
    "Quartz",
    "Riverside",
    "Summit",
    "Tidal",
    "Urban",
    "Velvet",
    "Willow",
];
const BRAND_B: &[&str] = &[
    "Coffee", "Travel", "Fitness", "Books", "Studio", "Outdoors", "Bakery", "Skincare", "Motors", "Records",
    "Wellness", "Games",
];
const CAMPAIGN: &[&str] = &[
    "Spring Launch",
    "Summer Sale",
    "Back to School",
    "Holiday Gift Guide",
    "Brand Awareness",
    "Product Teaser",
    "Giveaway",
    "Webinar Promo",
    "Customer Stories",
    "New Store Opening",
];
const POSTS: &[&str] = &[
    "Behind the scenes",
    "Meet the team",
    "Tip of the week",
    "Customer spotlight",
    "Sneak peek",
    "Last chance",
    "Thank you!",
    "How it's made",
];
const REASONS: &[&str] = &["Invoice overdue", "Client paused the contract", "Security review in progress"];

/// The operator fills an organization (found by slug) with demo data.
pub async fn seed(db: &Db, ctx: &Ctx, files: &Files, org_slug: &str, scale: Scale) -> Result<SeedReport> {
    ctx.authorize_deployment(Permission::OrganizationsManage)?;
    let now = ctx.now;
    let sizes = scale.sizes();
    let mut rng = Rng(0x5EED_0000_0000_0001 ^ sizes.workspaces as u64);
    let org = {
        let mut c = db.conn().await?;
        organizations::by_slug(&mut c, org_slug)
            .await?
            .ok_or_else(|| Error::not_found("organization").with_extension("slug", org_slug))?
    };
    let scope = OrgScope::of(&ctx.principal.clone().in_org(org.id.clone()))?;
    let mut tx = db.write(&scope).await?;
    let org_id = org.id.to_string();
    let day = 86_400_i64;
    let mut report = SeedReport::default();
    // Media files are written after the commit: the database backend writes on
    // its own connection, and SQLite has one writer.
    let mut media_files: Vec<(String, usize)> = Vec::new();
    let domain = format!("{}.demo", org.slug);
    // Seeds can run twice: ids are new, and names already taken get a number.
    let (emails, slugs) = bulk::taken_names(&mut tx, &scope).await?;
    let (mut emails, mut slugs) = (Taken(emails), Taken(slugs));

    // People.
    let mut user_ids = Vec::with_capacity(sizes.users);
    let mut rows = Vec::with_capacity(sizes.users);
    for _ in 0..sizes.users {
        let id = UserId::new();
        let (first, last) = (rng.pick(FIRST), rng.pick(LAST));
        let status = if rng.chance(3) {
            "deactivated"
        } else if rng.chance(2) {
            "invited"
        } else {
            "active"
        };
        let created = now.plus_seconds(-(rng.below(365) as i64) * day);
        rows.push(vec![
            Arg::Text(id.to_string()),
            Arg::Text(org_id.clone()),
            Arg::Text({
                let local = format!("{}.{}", slugify(first), slugify(last)).replace('-', "");
                emails.claim(&format!("{local}@{domain}"), |n| format!("{local}{n}@{domain}"))
            }),
            Arg::Text(format!("{first} {last}")),
            Arg::Text("member".into()),
            Arg::Text(status.into()),
            Arg::Int(created.millis()),
            Arg::Int(created.millis()),
        ]);
        user_ids.push(id);
    }
    bulk::insert(
        &mut tx,
        "users",
        &["id", "org_id", "email", "name", "role", "status", "created_at", "updated_at"],
        rows,
    )
    .await?;
    report.users = sizes.users;

    let (mut campaigns, mut content, mut members, mut connections, mut media) =
        (vec![], vec![], vec![], vec![], vec![]);
    let mut spenders = Vec::new();
    for w in 0..sizes.workspaces {
        let ws = WorkspaceId::new();
        let name = format!("{} {}", rng.pick(BRAND_A), rng.pick(BRAND_B));
        let base = slugify(&name);
        let slug = slugs.claim(&base, |n| format!("{base}-{n}"));
        // Small: of the last four, two suspended and two archived. Large: 5 % each.
        let kind = match scale {
            Scale::Small => match sizes.workspaces - w {
                3 | 4 => "suspended",
                1 | 2 => "archived",
                _ => "active",
            },
            Scale::Large => match rng.below(100) {
                0..=4 => "suspended",
                5..=9 => "archived",
                _ => "active",
            },
        };
        let (status, reason, paused_by) = match kind {
            "suspended" => ("suspended", Some(rng.pick(REASONS)), Some("suspension")),
            "archived" => ("archived", None, Some("archive")),
            _ => ("active", None, None),
        };
        let created = now.plus_seconds(-(30 + rng.below(700) as i64) * day);

        // Members: distinct people, the first one the workspace's admin.
        let mut chosen: Vec<usize> = Vec::new();
        let size = rng.between(sizes.members_per_workspace).min(sizes.users);
        while chosen.len() < size {
            let u = rng.below(sizes.users);
            if !chosen.contains(&u) {
                chosen.push(u);
            }
        }
        for (k, u) in chosen.iter().enumerate() {
            let role = match k {
                0 => WorkspaceRole::Admin,
                _ if rng.chance(60) => WorkspaceRole::Editor,
                _ => WorkspaceRole::Viewer,
            };
            members.push(vec![
                Arg::Text(ws.to_string()),
                Arg::Text(user_ids[*u].to_string()),
                Arg::Text(org_id.clone()),
                Arg::Text(role.as_str().into()),
                Arg::Int(created.millis()),
                Arg::Int(created.millis()),
            ]);
        }

        // Campaigns and their content.
        let campaign_count = rng.between(sizes.campaigns_per_workspace);
        let mut campaign_ids = Vec::new();
        for _ in 0..campaign_count {
            let cid = CampaignId::new();
            campaign_ids.push(cid.to_string());
            let c_created = now.plus_seconds(-(rng.below(180) as i64) * day - rng.below(86_400) as i64);
            let mut c_status = match rng.below(100) {
                0..=29 => "active",
                30..=49 => "draft",
                50..=64 => "paused",
                _ => "completed",
            };
            let mut c_paused_by = Arg::NullText;
            if c_status == "active"
                && let Some(by) = paused_by
            {
                c_status = "paused";
                c_paused_by = Arg::Text(by.into());
            }
            campaigns.push(vec![
                Arg::Text(cid.to_string()),
                Arg::Text(org_id.clone()),
                Arg::Text(ws.to_string()),
                Arg::Text(format!("{} {}", rng.pick(CAMPAIGN), 2025 + rng.below(2))),
                Arg::Text(c_status.into()),
                c_paused_by,
                Arg::Int(10 + rng.below(5_000) as i64),
                Arg::Int(c_created.millis()),
                Arg::Int(c_created.millis()),
            ]);
            for _ in 0..sizes.content_per_campaign {
                let (st, scheduled, published) = match rng.below(100) {
                    0..=69 => (
                        "published",
                        Arg::NullInt,
                        Arg::Int(now.plus_seconds(-(rng.below(90 * 86_400) as i64)).millis()),
                    ),
                    70..=79 => (
                        "scheduled",
                        Arg::Int(now.plus_seconds(3600 + rng.below(30 * 86_400) as i64).millis()),
                        Arg::NullInt,
                    ),
                    _ => ("draft", Arg::NullInt, Arg::NullInt),
                };
                let deleted = if rng.chance(2) {
                    Arg::Int(now.plus_seconds(-(rng.below(40) as i64) * day).millis())
                } else {
                    Arg::NullInt
                };
                content.push(vec![
                    Arg::Text(ContentId::new().to_string()),
                    Arg::Text(org_id.clone()),
                    Arg::Text(ws.to_string()),
                    Arg::Text(cid.to_string()),
                    Arg::Text(rng.pick(POSTS).into()),
                    Arg::Text(st.into()),
                    scheduled,
                    published,
                    deleted,
                    Arg::Int(c_created.millis()),
                    Arg::Int(c_created.millis()),
                ]);
            }
        }

        for _ in 0..1 + rng.below(4) {
            let platform = Platform::ALL[rng.below(Platform::ALL.len())];
            let st = match rng.below(10) {
                0 => "expired",
                1 => "revoked",
                _ => "active",
            };
            connections.push(vec![
                Arg::Text(ConnectionId::new().to_string()),
                Arg::Text(org_id.clone()),
                Arg::Text(ws.to_string()),
                Arg::Text(platform.as_str().into()),
                Arg::Text(format!("@{}", slugify(&name).replace('-', ""))),
                Arg::Text(st.into()),
                Arg::Int(created.millis()),
                Arg::Int(created.millis()),
            ]);
        }

        // Real files, small ones: the byte counter must match what is on disk.
        let mut storage_bytes = 0_i64;
        for m in 0..sizes.media_per_workspace {
            let id = MediaId::new();
            let size = 1_024 + rng.below(48 * 1_024);
            media_files.push((super::media::key_of(&org.id, &ws, &id), size));
            storage_bytes += size as i64;
            media.push(vec![
                Arg::Text(id.to_string()),
                Arg::Text(org_id.clone()),
                Arg::Text(ws.to_string()),
                Arg::Text(format!("asset-{m}.bin")),
                Arg::Text("application/octet-stream".into()),
                Arg::Int(size as i64),
                Arg::Int(created.millis()),
            ]);
        }

        let changed = if status == "active" {
            Arg::NullInt
        } else {
            Arg::Int(now.plus_seconds(-(rng.below(20) as i64) * day).millis())
        };
        let restore = if status == "archived" { Arg::Text("active".into()) } else { Arg::NullText };
        bulk::insert(
            &mut tx,
            "workspaces",
            &[
                "id",
                "org_id",
                "name",
                "sort_name",
                "slug",
                "description",
                "timezone",
                "default_language",
                "status",
                "status_reason",
                "status_changed_at",
                "restore_status",
                "member_count",
                "campaign_count",
                "storage_bytes",
                "created_at",
                "updated_at",
            ],
            vec![vec![
                Arg::Text(ws.to_string()),
                Arg::Text(org_id.clone()),
                Arg::Text(name.clone()),
                Arg::Text(steward_store::workspaces::sort_name(&name)),
                Arg::Text(slug),
                Arg::Text(format!("Social campaigns for {name}.")),
                Arg::Text(org.timezone.clone()),
                Arg::Text("en".into()),
                Arg::Text(status.into()),
                reason.map(|r| Arg::Text(r.into())).unwrap_or(Arg::NullText),
                changed,
                restore,
                Arg::Int(chosen.len() as i64),
                Arg::Int(campaign_count as i64),
                Arg::Int(storage_bytes),
                Arg::Int(created.millis()),
                Arg::Int(created.millis()),
            ]],
        )
        .await?;
        report.workspaces += 1;
        if kind == "active" {
            let users = chosen.iter().map(|u| user_ids[*u].to_string()).collect();
            spenders.push(credits::Target { workspace: ws.to_string(), users, campaigns: campaign_ids });
        }
        report.memberships += members.len();
        report.campaigns += campaigns.len();
        report.content += content.len();
        report.connections += connections.len();
        report.media += media.len();
        flush(&mut tx, &mut members, &mut campaigns, &mut content, &mut connections, &mut media).await?;
    }

    report.credit_debits = credits::seed(&mut tx, &scope, &spenders, &mut rng, now, sizes.debits).await?;
    let e = ctx.event(&scope, "demo.seeded", target::ORGANIZATION, &org.id).metadata(json!({
        "scale": if scale == Scale::Large { "large" } else { "small" },
        "workspaces": report.workspaces, "users": report.users, "campaigns": report.campaigns, "content": report.content, "credit_debits": report.credit_debits,
    }));
    let done = audit::append(&mut tx, e).await?;
    // The bulk rows bypassed the rollups: compute them once from the rows.
    steward_store::activity::rebuild(&mut tx, &scope).await?;
    tx.commit(done).await?;
    for (key, size) in media_files {
        let bytes: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
        files.put(&key, &bytes).await.map_err(|e| {
            tracing::error!(error = %e, "cannot write demo media");
            Error::internal()
        })?;
    }
    let mut c = db.conn().await?;
    bulk::analyze(&mut c).await?;
    Ok(report)
}

/// Writes what a workspace produced (the workspace row itself first, for the foreign keys).
async fn flush(
    c: &mut Conn,
    members: &mut Vec<Vec<Arg>>,
    campaigns: &mut Vec<Vec<Arg>>,
    content: &mut Vec<Vec<Arg>>,
    connections: &mut Vec<Vec<Arg>>,
    media: &mut Vec<Vec<Arg>>,
) -> Result<()> {
    bulk::insert(
        c,
        "workspace_members",
        &["workspace_id", "user_id", "org_id", "role", "created_at", "updated_at"],
        std::mem::take(members),
    )
    .await?;
    bulk::insert(
        c,
        "campaigns",
        &["id", "org_id", "workspace_id", "name", "status", "paused_by", "cost_credits", "created_at", "updated_at"],
        std::mem::take(campaigns),
    )
    .await?;
    bulk::insert(
        c,
        "content_items",
        &[
            "id",
            "org_id",
            "workspace_id",
            "campaign_id",
            "title",
            "status",
            "scheduled_at",
            "published_at",
            "deleted_at",
            "created_at",
            "updated_at",
        ],
        std::mem::take(content),
    )
    .await?;
    bulk::insert(
        c,
        "platform_connections",
        &["id", "org_id", "workspace_id", "platform", "account_name", "status", "created_at", "updated_at"],
        std::mem::take(connections),
    )
    .await?;
    bulk::insert(
        c,
        "media",
        &["id", "org_id", "workspace_id", "filename", "content_type", "bytes", "created_at"],
        std::mem::take(media),
    )
    .await?;
    Ok(())
}
