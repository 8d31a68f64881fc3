//! `steward credits grant` and `adjust`: the platform operator adds credits
//! to an organization, or corrects its balance (Super Admins cannot).

use clap::{Subcommand, ValueEnum};
use steward_core::credits::Category;
use steward_core::time::Timestamp;
use steward_server::services::credits::{self, GrantRequest};
use steward_server::services::organizations;
use steward_store::Db;

use crate::cli::{describe, operator};

#[derive(Debug, Subcommand)]
pub enum CreditsCommand {
    /// Grant credits to an organization; prints the balance after.
    Grant {
        /// Slug of the organization.
        #[arg(long)]
        org: String,
        /// Whole credits, 1 to 10^12.
        #[arg(long)]
        amount: i64,
        #[arg(long, value_enum)]
        category: GrantCategory,
        /// When what is left of them is written off (RFC 3339); default never.
        #[arg(long)]
        expires: Option<String>,
        /// Lower is used first (0–100, default 50).
        #[arg(long)]
        priority: Option<i64>,
        /// Shown in the transaction history.
        #[arg(long)]
        reason: Option<String>,
    },
    /// Correct an organization's balance by hand: a positive amount adds paid
    /// credits, a negative one takes credits away; prints the balance after.
    Adjust {
        /// Slug of the organization.
        #[arg(long)]
        org: String,
        /// Whole credits, -10^12 to 10^12, not 0.
        #[arg(long, allow_negative_numbers = true)]
        amount: i64,
        /// Why (required): shown in the transaction history and the audit trail.
        #[arg(long)]
        reason: String,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum GrantCategory {
    Paid,
    Promotional,
}

pub async fn run(db: &Db, cmd: CreditsCommand) -> Result<(), String> {
    let (org, amount, category, expires, priority, reason) = match cmd {
        CreditsCommand::Grant { org, amount, category, expires, priority, reason } => {
            (org, amount, category, expires, priority, reason)
        }
        CreditsCommand::Adjust { org, amount, reason } => return adjust(db, &org, amount, reason).await,
    };
    let expires_at = match expires.as_deref() {
        Some(t) => Some(Timestamp::parse_rfc3339(t).ok_or_else(|| {
            format!("--expires is not a time: {t}. Write it as RFC 3339, such as 2027-06-30T00:00:00Z.")
        })?),
        None => None,
    };
    let org = organizations::find(db, &operator(), &org).await.map_err(describe)?;
    let category = match category {
        GrantCategory::Paid => Category::Paid,
        GrantCategory::Promotional => Category::Promotional,
    };
    let input = GrantRequest { amount, category, priority, effective_at: None, expires_at, reason };
    let entry = credits::grant(db, &operator().in_org(&org.id), input).await.map_err(describe)?;
    println!(
        "Granted {amount} {} credits to {} ({}); the balance is now {}.",
        category.as_str(),
        org.slug,
        entry.grant_id.unwrap_or_default(),
        entry.balance_after
    );
    Ok(())
}

async fn adjust(db: &Db, slug: &str, amount: i64, reason: String) -> Result<(), String> {
    let org = organizations::find(db, &operator(), slug).await.map_err(describe)?;
    let input = credits::adjustments::AdjustmentRequest { amount, reason };
    let entry = credits::adjustments::adjust(db, &operator().in_org(&org.id), input).await.map_err(describe)?;
    println!("Adjusted {} by {amount} credits ({}); the balance is now {}.", org.slug, entry.id, entry.balance_after);
    Ok(())
}
