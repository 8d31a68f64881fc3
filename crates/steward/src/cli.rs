//! The command line: `serve` (default), `worker`, `migrate`, `org create|list`,
//! `api-key create`, `demo`, `audit`, `files migrate`, `jobs`.

use std::io::Read;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use steward_core::time::Timestamp;
use steward_server::FileStorage;
use steward_server::mail::Postbox;
use steward_server::services::{Ctx, api_keys, audit, demo, organizations, people, setup};
use steward_store::{Db, migrations};

use crate::config::{self, Overrides, Settings, redact_url};
use crate::credits_cli::{self, CreditsCommand};
use crate::jobs_cli::{self, JobsCommand};
use crate::serve;

#[derive(Debug, Parser)]
#[command(
    name = "steward",
    version,
    about = "Steward: the organization control plane — server and operator CLI.",
    long_about = "Steward runs the organization control plane: the web console, the JSON API under /api/v1, and the \
    operator commands below. Without a command it runs `serve`.\n\nSettings come from steward.toml, STEWARD_* \
    environment variables and these flags (flags win)."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Configuration file (default: ./steward.toml when present).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Address to listen on [env: STEWARD_LISTEN] [default: 127.0.0.1:8080].
    #[arg(long, global = true, value_name = "ADDR")]
    pub listen: Option<String>,
    /// Folder for the SQLite database and files [env: STEWARD_DATA_DIR] [default: ./data].
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// postgres://… to use PostgreSQL instead of SQLite [env: STEWARD_DATABASE_URL].
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,
    /// The URL people reach Steward at, for links [env: STEWARD_PUBLIC_URL] [default: http://<listen>].
    #[arg(long, global = true, value_name = "URL")]
    pub public_url: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server (console and API) and a background job worker. The default command.
    Serve(ServeArgs),
    /// Run only background jobs (no HTTP server), e.g. beside `serve --no-worker`.
    Worker {
        /// How many jobs run at once.
        #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=256))]
        concurrency: u16,
        /// How long a claimed job stays this worker's without a renewal; after
        /// a crash, its jobs run again once it has passed. For tests.
        #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=3600), hide = true)]
        lease_secs: u64,
        /// Serve `/metrics` (jobs, queue depth) on this address, e.g. 127.0.0.1:9091;
        /// default none, since `metrics_listen` is the server's on the same host.
        #[arg(long, default_value = "off")]
        metrics_listen: String,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Manage organizations.
    #[command(subcommand)]
    Org(OrgCommand),
    /// Manage API keys.
    #[command(subcommand, name = "api-key")]
    ApiKey(ApiKeyCommand),
    /// Demo data.
    #[command(subcommand)]
    Demo(DemoCommand),
    /// The audit trail: verify its hash chain, purge by retention.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Uploaded files (logos, media): copy them between storage backends.
    #[command(subcommand)]
    Files(FilesCommand),
    /// Background jobs: list them, retry a failed or dead one, cancel one.
    #[command(subcommand)]
    Jobs(JobsCommand),
    /// Credits: grant them to an organization.
    #[command(subcommand)]
    Credits(CreditsCommand),
}

#[derive(Debug, Default, Args)]
pub struct ServeArgs {
    /// Serve HTTP only; leave background jobs to `steward worker` processes.
    #[arg(long)]
    pub no_worker: bool,
}

#[derive(Debug, Subcommand)]
pub enum FilesCommand {
    /// Copy every file from the other backend into this one (the source is left
    /// as it was; running it again is harmless). Then set `file_storage` to it.
    Migrate {
        /// The backend to copy into: `database` (from <data_dir>/files) or
        /// `local` (from the database).
        #[arg(long, value_enum)]
        to: StorageTarget,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum StorageTarget {
    Database,
    Local,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check that no event was changed or removed outside the retention policy.
    /// Exits 1 and names the first broken link when one was.
    Verify {
        /// Only this organization (default: all).
        #[arg(long)]
        org: Option<String>,
    },
    /// Delete events older than the retention period now (the server also does it daily).
    Purge {
        /// Only this organization (default: all).
        #[arg(long)]
        org: Option<String>,
        /// Keep this many days (default 90).
        #[arg(long, default_value_t = 90)]
        days: i64,
    },
}

#[derive(Debug, Subcommand)]
pub enum DemoCommand {
    /// Fill an organization with believable demo data: workspaces in every
    /// status, people with roles, campaigns, content, connections, media.
    Seed {
        /// Slug of the organization to fill.
        #[arg(long)]
        org: String,
        /// `small` to look around; `large` (1,000 workspaces, 10,000 users,
        /// 100,000 campaigns, 1,000,000 content items) for benchmarks.
        #[arg(long, value_enum, default_value = "small")]
        scale: DemoScale,
    },
    /// Give an organization a long audit trail (made-up actors and targets,
    /// real hash chain), to try the Audit logs page or benchmark it. A new slug
    /// creates the organization, dated at the start of the trail.
    AuditEvents {
        /// Slug of the organization (new, or with no events in the period).
        #[arg(long)]
        org: String,
        /// How many events.
        #[arg(long, default_value_t = 10_000)]
        count: usize,
        /// Spread them evenly over this many days up to now.
        #[arg(long, default_value_t = 30)]
        days: i64,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum DemoScale {
    Small,
    Large,
}

#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// Create an organization and its first Super Admin.
    Create {
        /// Display name of the organization.
        #[arg(long)]
        name: String,
        /// URL-friendly identifier (default: made from the name).
        #[arg(long)]
        slug: Option<String>,
        /// Email of the first Super Admin.
        #[arg(long)]
        admin_email: String,
        /// Name of the first Super Admin (default: the part of the email before @).
        #[arg(long)]
        admin_name: Option<String>,
        /// Read the admin's password from standard input. Without it, a one-time
        /// set-password link is printed instead.
        #[arg(long)]
        admin_password_stdin: bool,
    },
    /// List organizations.
    List,
}

#[derive(Debug, Subcommand)]
pub enum ApiKeyCommand {
    /// Create an API key for an organization and print it (once).
    Create {
        /// Slug of the organization.
        #[arg(long)]
        org: String,
        /// What the key is for.
        #[arg(long)]
        name: String,
        /// A permission (`people:read`, `credits:debit`, …) or a bundle: `admin`
        /// (every permission a key may hold) or `read` (every `…:read`); repeat for several.
        #[arg(long, required = true)]
        scope: Vec<String>,
        /// Requests a minute the key may make (1–100,000; default 600).
        #[arg(long)]
        rate_limit: Option<i64>,
    },
}

pub async fn run(cli: Cli) -> Result<(), String> {
    let g = cli.global;
    let overrides =
        Overrides { listen: g.listen, data_dir: g.data_dir, database_url: g.database_url, public_url: g.public_url };
    let settings = config::load(g.config.as_deref(), overrides)?;
    match cli.command.unwrap_or(Command::Serve(ServeArgs::default())) {
        Command::Serve(args) => serve::run(settings, !args.no_worker).await,
        Command::Worker { concurrency, lease_secs, metrics_listen } => {
            let metrics = crate::config::metrics_address("--metrics-listen", &metrics_listen)?;
            serve::run_worker(settings, usize::from(concurrency), Duration::from_secs(lease_secs), metrics).await
        }
        Command::Jobs(cmd) => jobs_cli::run(&ready(&settings).await?, cmd).await,
        Command::Credits(cmd) => credits_cli::run(&ready(&settings).await?, cmd).await,
        Command::Migrate => {
            let db = open(&settings).await?;
            let ran = migrations::run(&db).await.map_err(|e| format!("migration failed: {e}"))?;
            println!("Applied {ran} migration(s) on {}.", db.engine().name());
            Ok(())
        }
        Command::Org(OrgCommand::List) => {
            let db = ready(&settings).await?;
            let orgs = organizations::list_all(&db, &operator()).await.map_err(describe)?;
            if orgs.is_empty() {
                println!("No organizations yet. Create one with: steward org create --name NAME --admin-email EMAIL");
            }
            for o in orgs {
                println!("{}\t{}\t{}\t{}", o.slug, o.id, o.name, o.created_at);
            }
            Ok(())
        }
        Command::Org(OrgCommand::Create { name, slug, admin_email, admin_name, admin_password_stdin }) => {
            let db = ready(&settings).await?;
            let admin_password = if admin_password_stdin { Some(read_password()?) } else { None };
            let input = setup::NewOrganization { name, slug, admin_email, admin_name, admin_password };
            let postbox = Postbox::new(settings.sealer()?, &settings.server.public_url);
            let ttl = settings.server.invitation_ttl_hours;
            let created = setup::create(&db, &operator(), Some(&postbox), input, ttl).await.map_err(describe)?;
            println!(
                "Created organization {} ({}, {}).",
                created.organization.name, created.organization.slug, created.organization.id
            );
            println!("Super Admin: {} ({})", created.admin.email, created.admin.id);
            if let Some((token, _)) = created.invitation {
                let via = match settings.mailer.outbox_dir() {
                    Some(dir) => format!("written to {} (no smtp_url is set)", dir.display()),
                    None => format!("sent through {}", settings.mailer.describe()),
                };
                println!(
                    "A one-time link to set a password (valid {ttl} h) is mailed to {} by the next running worker ({via}):\n  {}",
                    created.admin.email,
                    settings.server.link(&people::invitation_path(&token))
                );
            }
            Ok(())
        }
        Command::Demo(DemoCommand::Seed { org, scale }) => {
            let db = ready(&settings).await?;
            let scale = match scale {
                DemoScale::Small => demo::Scale::Small,
                DemoScale::Large => demo::Scale::Large,
            };
            let started = std::time::Instant::now();
            let files = settings.files(settings.file_storage, &db);
            let r = demo::seed(&db, &operator(), &files, &org, scale).await.map_err(describe)?;
            println!(
                "Seeded {org} in {:.1} s: {} workspaces, {} people, {} memberships, {} campaigns, {} content items, {} connections, {} media files, {} credit debits over 90 days.",
                started.elapsed().as_secs_f64(),
                r.workspaces,
                r.users,
                r.memberships,
                r.campaigns,
                r.content,
                r.connections,
                r.media,
                r.credit_debits
            );
            Ok(())
        }
        Command::Demo(DemoCommand::AuditEvents { org, count, days }) => {
            let db = ready(&settings).await?;
            let started = std::time::Instant::now();
            let ttl = settings.server.invitation_ttl_hours;
            let r = demo::seed_audit_trail(&db, &operator(), &org, count, days, ttl).await.map_err(describe)?;
            let secs = started.elapsed().as_secs_f64();
            println!(
                "Appended {} audit events to {org} in {secs:.1} s ({:.0} events/s).",
                r.events,
                r.events as f64 / secs.max(0.001)
            );
            if let Some((email, token)) = r.invitation {
                println!(
                    "Created {org}; its Super Admin {email} sets a password here (valid {ttl} h):\n  {}",
                    settings.server.link(&people::invitation_path(&token))
                );
            }
            Ok(())
        }
        Command::Audit(cmd) => {
            let db = ready(&settings).await?;
            let all = organizations::list_all(&db, &operator()).await.map_err(describe)?;
            let (slug, verify_mode, days) = match &cmd {
                AuditCommand::Verify { org } => (org.clone(), true, 0),
                AuditCommand::Purge { org, days } => (org.clone(), false, *days),
            };
            let chosen: Vec<_> = all.into_iter().filter(|o| slug.as_ref().is_none_or(|s| &o.slug == s)).collect();
            if let Some(s) = &slug
                && chosen.is_empty()
            {
                return Err(format!("no organization has the slug `{s}`"));
            }
            if !verify_mode && !(1..=3650).contains(&days) {
                return Err("--days must be between 1 and 3650".into());
            }
            let mut broken = false;
            for org in chosen {
                let ctx = operator().in_org(&org.id);
                if verify_mode {
                    match audit::verify(&db, &ctx).await.map_err(describe)? {
                        Ok(n) => println!("{}: intact ({n} events checked)", org.slug),
                        Err(b) => {
                            broken = true;
                            println!("{}: BROKEN at event {}: {}", org.slug, b.seq, b.reason);
                        }
                    }
                } else {
                    let n = audit::purge(&db, &ctx, days).await.map_err(describe)?;
                    println!("{}: purged {n} events older than {days} days", org.slug);
                }
            }
            if broken { Err("the audit trail was tampered with".into()) } else { Ok(()) }
        }
        Command::Files(FilesCommand::Migrate { to }) => {
            let db = ready(&settings).await?;
            let (from, to) = match to {
                StorageTarget::Database => (FileStorage::Local, FileStorage::Database),
                StorageTarget::Local => (FileStorage::Database, FileStorage::Local),
            };
            let started = std::time::Instant::now();
            let copied = settings
                .files(to, &db)
                .copy_from(&settings.files(from, &db))
                .await
                .map_err(|e| format!("copying files failed: {e}"))?;
            println!(
                "Copied {} files ({} bytes) from {} to {} in {:.1} s; the {} copy is unchanged.",
                copied.files,
                copied.bytes,
                from.as_str(),
                to.as_str(),
                started.elapsed().as_secs_f64(),
                from.as_str()
            );
            if settings.file_storage != to {
                println!(
                    "Set file_storage = \"{0}\" (STEWARD_FILE_STORAGE={0}) and restart to serve them.",
                    to.as_str()
                );
            }
            Ok(())
        }
        Command::ApiKey(ApiKeyCommand::Create { org, name, scope, rate_limit }) => {
            let db = ready(&settings).await?;
            let org = organizations::find(&db, &operator(), &org).await.map_err(describe)?;
            let input =
                api_keys::CreateApiKey { name, scopes: scope, rate_limit_per_minute: rate_limit, expires_at: None };
            let created = api_keys::create(&db, &operator().in_org(&org.id), input).await.map_err(describe)?;
            println!(
                "Created API key {} ({}) for {} with scopes {}.",
                created.key.name,
                created.key.id,
                org.slug,
                created.key.scopes.join(", ")
            );
            println!("Store it now; it is not shown again:\n{}", created.secret);
            Ok(())
        }
    }
}

/// The operator at this command line, now.
pub(crate) fn operator() -> Ctx {
    Ctx::operator(Timestamp::now_utc())
}

/// A domain error as sentences; a field is named by its flag.
pub(crate) fn describe(e: steward_core::Error) -> String {
    if e.errors.is_empty() {
        return e.detail;
    }
    let mut s = "Nothing was changed; fix what follows and run the command again:".to_owned();
    for f in &e.errors {
        s.push_str("\n  ");
        s.push_str(&f.message_naming(&format!("--{}", f.field.replace('_', "-"))));
    }
    s
}

fn read_password() -> Result<String, String> {
    let mut buf = String::new();
    std::io::stdin()
        .read_to_string(&mut buf)
        .map_err(|e| format!("cannot read the password from standard input: {e}"))?;
    let password = buf.strip_suffix('\n').map(|s| s.strip_suffix('\r').unwrap_or(s)).unwrap_or(&buf).to_owned();
    if password.is_empty() {
        return Err("standard input held no password".into());
    }
    Ok(password)
}

pub async fn open(settings: &Settings) -> Result<Db, String> {
    Db::connect(&settings.database_url)
        .await
        .map_err(|e| format!("cannot open the database {}: {e}", redact_url(&settings.database_url)))
}

/// Opens and migrates: operator commands work on a fresh data folder too.
async fn ready(settings: &Settings) -> Result<Db, String> {
    let db = open(settings).await?;
    migrations::run(&db).await.map_err(|e| format!("migration failed: {e}"))?;
    Ok(db)
}
