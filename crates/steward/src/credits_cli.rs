//! `steward credits grant`: the platform operator adds credits to an
//! organization (Super Admins cannot).

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
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum GrantCategory {
    Paid,
    Promotional,
}

pub async fn run(db: &Db, cmd: CreditsCommand) -> Result<(), String> {
    let CreditsCommand::Grant { org, amount, category, expires, priority, reason } = cmd;
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
