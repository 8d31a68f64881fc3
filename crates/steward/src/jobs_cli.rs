//! `steward jobs list|retry|cancel`: the operator's hands on background jobs.

use clap::Subcommand;
use steward_server::services::jobs;
use steward_store::Db;
use steward_store::jobs::{Job, JobState};

use crate::cli::{describe, operator};

#[derive(Debug, Subcommand)]
pub enum JobsCommand {
    /// Jobs, newest first: id, kind, state, attempts/max, next run, organization, last error.
    List {
        /// Only jobs in this state (`failed`: waiting for a retry; `dead`: out of attempts).
        #[arg(long, value_parser = state_names())]
        state: Option<String>,
        /// Only jobs of this kind (`audit_retention`, `rollup_upkeep`, …).
        #[arg(long)]
        kind: Option<String>,
        /// Show at most this many.
        #[arg(long, default_value_t = 100)]
        limit: i64,
    },
    /// Run a failed, dead or cancelled job again now, with its attempts reset.
    Retry {
        /// The job's id (`job_…`).
        id: String,
    },
    /// Stop a pending or failed job from running.
    Cancel {
        /// The job's id (`job_…`).
        id: String,
    },
}

/// What `--state` takes: the store's own state names, so the lists can't drift.
fn state_names() -> clap::builder::PossibleValuesParser {
    clap::builder::PossibleValuesParser::new(JobState::ALL.map(JobState::as_str))
}

pub async fn run(db: &Db, cmd: JobsCommand) -> Result<(), String> {
    match cmd {
        JobsCommand::List { state, kind, limit } => {
            let state = state.as_deref();
            let list = jobs::list(db, &operator(), state, kind.as_deref(), limit).await.map_err(describe)?;
            if list.is_empty() {
                println!("No jobs.");
            }
            for job in &list {
                println!("{}", line(job));
            }
            Ok(())
        }
        JobsCommand::Retry { id } => {
            let job = jobs::retry(db, &operator(), &id).await.map_err(describe)?;
            println!("Job {} ({}) is pending again and runs now.", job.id, job.kind);
            Ok(())
        }
        JobsCommand::Cancel { id } => {
            let job = jobs::cancel(db, &operator(), &id).await.map_err(describe)?;
            println!("Job {} ({}) is cancelled.", job.id, job.kind);
            Ok(())
        }
    }
}

/// One tab-separated line; the error on one line, shortened.
fn line(job: &Job) -> String {
    let error: String = job.last_error.as_deref().unwrap_or("").replace(['\n', '\t'], " ").chars().take(200).collect();
    format!(
        "{}\t{}\t{}\t{}/{}\t{}\t{}\t{}",
        job.id,
        job.kind,
        job.state.as_str(),
        job.attempts,
        job.max_attempts,
        job.run_at,
        job.org_id.as_ref().map(|o| o.as_str()).unwrap_or("-"),
        error
    )
}
