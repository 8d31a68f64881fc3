//! Campaigns (DOMAIN-1): draft → active ⇄ paused → completed, with a cost in credits.

use serde::Deserialize;
use steward_core::audit::Changes;
use steward_core::ids::{CampaignId, WorkspaceId};
use steward_core::messages::{problem, rule};
use steward_core::pagination::{self, Page};
use steward_core::permissions::Permission;
use steward_core::validate::{self, Fields};
use steward_core::workspaces::{self as rules, CampaignStatus};
use steward_core::{Error, FieldError, Result};
use steward_store::campaigns::{self, Campaign};
use steward_store::{Db, audit};

use super::{Ctx, EventExt};

const TARGET: &str = "campaign";

pub async fn list(db: &Db, ctx: &Ctx, ws: &WorkspaceId, page: &Page) -> Result<(Vec<Campaign>, Option<String>)> {
    let mut c = db.conn().await?;
    let w = ctx.workspace(&mut c, ws, Permission::WorkspacesRead).await?;
    let rows = campaigns::list(&mut c, &w.scope, page.after.as_deref(), page.fetch_limit()).await?;
    Ok(pagination::finish(rows, page, |x| x.id.to_string()))
}

pub async fn get(db: &Db, ctx: &Ctx, ws: &WorkspaceId, id: &CampaignId) -> Result<Campaign> {
    let mut c = db.conn().await?;
    let w = ctx.workspace(&mut c, ws, Permission::WorkspacesRead).await?;
    campaigns::get(&mut c, &w.scope, id).await?.ok_or_else(|| Error::not_found("campaign"))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCampaign {
    #[schema(max_length = 100)]
    pub name: String,
    /// `draft` (default) or `active`.
    #[schema(value_type = Option<String>)]
    pub status: Option<String>,
    /// Cost in credits (whole, ≥ 0).
    pub cost_credits: Option<i64>,
}

fn check_cost(f: &mut Fields, cost: Option<i64>) {
    if cost.is_some_and(|c| !(0..=1_000_000_000).contains(&c)) {
        f.push("cost_credits", &rule::OUT_OF_RANGE, &[("range", &"0 to 1,000,000,000")]);
    }
}

pub async fn create(db: &Db, ctx: &Ctx, ws: &WorkspaceId, input: CreateCampaign) -> Result<Campaign> {
    let mut f = Fields::new();
    let name = f.check(validate::name("name", &input.name));
    let status = match input.status.as_deref() {
        None => Some(CampaignStatus::Draft),
        Some(s) => f.check(CampaignStatus::parse_field("status", s)),
    };
    if matches!(status, Some(CampaignStatus::Paused | CampaignStatus::Completed)) {
        f.push("status", &rule::NOT_ONE_OF, &[("allowed", &"draft, active (a new campaign starts as one of them)")]);
    }
    check_cost(&mut f, input.cost_credits);
    f.finish()?;
    let (Some(name), Some(status)) = (name, status) else { return Err(Error::internal()) };

    let mut tx = db.write(&ctx.org()?).await?;
    let w = ctx.workspace(&mut tx, ws, Permission::ContentWrite).await?;
    rules::require_active_for_changes(w.workspace.status, w.workspace.status_reason.as_deref())?;
    let x = Campaign {
        id: CampaignId::new(),
        org_id: w.scope.org_id().clone(),
        workspace_id: w.scope.id().clone(),
        name,
        status,
        paused_by: None,
        cost_credits: input.cost_credits.unwrap_or(0),
        created_by: ctx.principal.actor().id,
        created_at: ctx.now,
        updated_at: ctx.now,
    };
    campaigns::insert(&mut tx, &w.scope, &x).await?;
    let mut changes = Changes::new();
    changes.created("name", &x.name).created("status", &x.status).created("cost_credits", &x.cost_credits);
    let e = ctx.ws_event(&w.scope, "campaign.created", TARGET, &x.id).changes(changes.into_value());
    let done = audit::append(&mut tx, e).await?;
    tx.commit(done).await?;
    Ok(x)
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CampaignPatch {
    #[schema(max_length = 100)]
    pub name: Option<String>,
    /// `active`, `paused` or `completed`, along the allowed transitions.
    #[schema(value_type = Option<String>)]
    pub status: Option<String>,
    pub cost_credits: Option<i64>,
}

pub async fn update(db: &Db, ctx: &Ctx, ws: &WorkspaceId, id: &CampaignId, patch: CampaignPatch) -> Result<Campaign> {
    let mut f = Fields::new();
    let name = patch.name.as_deref().and_then(|n| f.check(validate::name("name", n)));
    let status = patch.status.as_deref().and_then(|s| f.check(CampaignStatus::parse_field("status", s)));
    check_cost(&mut f, patch.cost_credits);
    f.finish()?;

    let mut tx = db.write(&ctx.org()?).await?;
    let w = ctx.workspace(&mut tx, ws, Permission::ContentWrite).await?;
    rules::require_active_for_changes(w.workspace.status, w.workspace.status_reason.as_deref())?;
    let before = campaigns::get(&mut tx, &w.scope, id).await?.ok_or_else(|| Error::not_found("campaign"))?;
    let mut after = before.clone();
    if let Some(n) = name {
        after.name = n;
    }
    if let Some(s) = status.filter(|s| *s != before.status) {
        if !before.status.can_become(s) {
            let change = format!("become {s}");
            let next: Vec<&str> =
                CampaignStatus::ALL.iter().filter(|n| before.status.can_become(**n)).map(|n| n.as_str()).collect();
            let allowed = match next.as_slice() {
                [] => format!("Nothing follows {}", before.status),
                _ => format!("From {} it can become {}", before.status, next.join(" or ")),
            };
            return Err(Error::conflict(
                &problem::INVALID_STATUS_TRANSITION,
                &[("what", &"campaign"), ("from", &before.status), ("change", &change)],
            )
            .with_extension("current_status", before.status.as_str())
            .with_field(FieldError::new(
                "status",
                &rule::NOT_ALLOWED_TRANSITION,
                &[("from", &before.status), ("to", &s), ("allowed", &allowed)],
            )));
        }
        after.status = s;
        // A campaign changed by hand is no longer the lifecycle's to resume.
        after.paused_by = None;
    }
    if let Some(cost) = patch.cost_credits {
        after.cost_credits = cost;
    }
    let mut changes = Changes::new();
    changes.field("name", &before.name, &after.name).field("status", &before.status, &after.status).field(
        "cost_credits",
        &before.cost_credits,
        &after.cost_credits,
    );
    if changes.is_empty() {
        return Ok(before);
    }
    after.updated_at = ctx.now;
    campaigns::update(&mut tx, &w.scope, &after).await?;
    let e = ctx.ws_event(&w.scope, "campaign.updated", TARGET, &after.id).changes(changes.into_value());
    let done = audit::append(&mut tx, e).await?;
    tx.commit(done).await?;
    Ok(after)
}
