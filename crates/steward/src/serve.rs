//! `steward serve`: migrate, print where to go, serve (and run a job worker,
//! unless `--no-worker`) until Ctrl-C or SIGTERM. `steward worker`: only the
//! jobs.

use std::net::SocketAddr;
use std::time::Duration;

use steward_core::sealing::Sealer;
use steward_core::time::Timestamp;
use steward_server::jobs::Registry;
use steward_server::jobs::worker::{Worker, WorkerConfig};
use steward_server::services::{setup, two_factor};
use steward_server::{AppState, build_app};
use steward_store::{Db, migrations};
use tokio::sync::watch;
use tracing_subscriber::EnvFilter;

use crate::cli::open;
use crate::config::{LogFormat, Settings, redact_url};

/// Jobs the worker inside `serve` runs at once.
pub const SERVE_CONCURRENCY: usize = 4;

fn init_logs(settings: &Settings) -> Result<(), String> {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&settings.config.log))
        .map_err(|e| format!("log: {e}"))?;
    let logs = tracing_subscriber::fmt().with_env_filter(filter);
    let _ = match settings.log_format {
        // Colours for a terminal only, not in a log file.
        LogFormat::Text => logs.with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout())).try_init(),
        // One JSON object a line, the event's fields at the top level.
        LogFormat::Json => logs.json().flatten_event(true).with_current_span(true).with_span_list(false).try_init(),
    };
    Ok(())
}

async fn open_migrated(settings: &Settings) -> Result<Db, String> {
    let db = open(settings).await?;
    let ran = migrations::run(&db).await.map_err(|e| format!("migration failed: {e}"))?;
    tracing::info!(database = %redact_url(&settings.database_url), engine = db.engine().name(), migrations_applied = ran, "database ready");
    Ok(db)
}

/// Becomes true at Ctrl-C or SIGTERM; the server and the worker both stop on it.
fn stop_on_signal() -> watch::Receiver<bool> {
    let (tx, rx) = watch::channel(false);
    tokio::spawn(async move {
        shutdown_signal().await;
        let _ = tx.send(true);
    });
    rx
}

async fn stopped(mut rx: watch::Receiver<bool>) {
    let _ = rx.wait_for(|stop| *stop).await;
}

/// A worker for this process with every job kind and schedule.
fn worker(app: &AppState, concurrency: usize, lease: Option<Duration>) -> Worker {
    let mut config = WorkerConfig::new(concurrency);
    if let Some(lease) = lease {
        config.lease = lease;
    }
    Worker::new(app.clone(), Registry::standard(), config)
}

/// What handlers and jobs share in this process.
fn app_state(
    settings: &Settings,
    db: &Db,
    server: steward_server::ServerConfig,
    sealer: Sealer,
) -> Result<AppState, String> {
    let files = settings.files(settings.file_storage, db);
    let app = AppState::new(db.clone(), server, sealer).with_files(files).with_mailer(settings.mailer.clone());
    match settings.redis_url() {
        Some(url) => {
            tracing::info!("API key limits are shared through Redis (redis_url)");
            app.with_redis(url)
        }
        None => Ok(app),
    }
}

fn log_mail(settings: &Settings) {
    match settings.mailer.outbox_dir() {
        Some(dir) => {
            tracing::info!(outbox = %dir.display(), "no smtp_url set: mail is written to the outbox folder, one .eml file per message")
        }
        None => tracing::info!(to = %settings.mailer.describe(), "mail ready"),
    }
}

/// `steward worker`: jobs only, until Ctrl-C or SIGTERM; running jobs get a
/// grace period to finish, the rest are given back for another worker.
/// `/metrics` on its own listener, until the task is aborted.
fn serve_metrics(listener: tokio::net::TcpListener, state: steward_server::AppState) -> tokio::task::JoinHandle<()> {
    let router = steward_server::metrics::router(state);
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router).await {
            tracing::error!(error = %e, "metrics listener failed");
        }
    })
}

pub async fn run_worker(
    settings: Settings,
    concurrency: usize,
    lease: Duration,
    metrics_listen: Option<SocketAddr>,
) -> Result<(), String> {
    init_logs(&settings)?;
    let db = open_migrated(&settings).await?;
    let app = app_state(&settings, &db, settings.server.clone(), settings.sealer()?)?;
    log_mail(&settings);
    let metrics = match metrics_listen {
        Some(addr) => Some(tokio::net::TcpListener::bind(addr).await.map_err(|e| {
            format!("--metrics-listen: cannot listen on {addr}: {e} (choose another address, or `off`)")
        })?),
        None => None,
    };
    let stop = stop_on_signal();
    println!("Steward worker running up to {concurrency} jobs at once ({}).", db.engine().name());
    if let Some(l) = &metrics {
        println!("Metrics: http://{}/metrics", l.local_addr().map_err(|e| e.to_string())?);
    }
    // The queue's gauges too, as the server's /metrics has them.
    steward_server::jobs::gauges::register(&app.metrics, app.db.clone(), app.clock.clone());
    let metrics_server = metrics.map(|l| serve_metrics(l, app.clone()));
    worker(&app, concurrency, Some(lease)).run(stopped(stop)).await;
    if let Some(task) = metrics_server {
        task.abort();
    }
    db.close().await;
    println!("Steward worker stopped.");
    Ok(())
}

pub async fn run(settings: Settings, with_worker: bool) -> Result<(), String> {
    init_logs(&settings)?;
    let db = open_migrated(&settings).await?;

    let sealer = settings.sealer()?;
    let sealed = two_factor::prepare_sealing(&db, &sealer, Timestamp::now_utc()).await.map_err(|e| e.detail)?;
    if sealed > 0 {
        tracing::info!(sealed, "sealed TOTP secrets stored before sealing existed");
    }

    match settings.file_storage {
        steward_server::FileStorage::Local => {
            tracing::info!(file_storage = "local", folder = %settings.server.storage_dir.display(), "files ready");
        }
        steward_server::FileStorage::Database => tracing::info!(file_storage = "database", "files ready"),
    }
    log_mail(&settings);

    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", settings.listen))?;
    let bound = listener.local_addr().map_err(|e| e.to_string())?;
    // Bound before anything is printed, so a taken port stops the start.
    let metrics_listener =
        match settings.metrics_listen {
            Some(addr) => Some(tokio::net::TcpListener::bind(addr).await.map_err(|e| {
                format!("metrics_listen: cannot listen on {addr}: {e} (choose another address, or `off`)")
            })?),
            None => None,
        };
    // With port 0 the OS picks one; links must name the real port.
    let mut server_config = settings.server.clone();
    if settings.listen.port() == 0 && settings.config.public_url.is_none() {
        server_config = steward_server::ServerConfig { public_url: format!("http://{bound}"), ..server_config };
    }

    println!("Steward is running on {} ({}).", server_config.public_url, db.engine().name());
    println!("Console: {}/", server_config.public_url);
    println!("API:     {}/api/v1 (description at /api/v1/openapi.json)", server_config.public_url);
    if let Some(l) = &metrics_listener {
        println!("Metrics: http://{}/metrics", l.local_addr().map_err(|e| e.to_string())?);
    }
    match setup::prepare_token(&db, Timestamp::now_utc()).await.map_err(|e| e.detail)? {
        Some(token) => {
            println!();
            println!("No organization exists yet. Create the first one and its Super Admin at this one-time link:");
            println!("  {}/setup?token={token}", server_config.public_url);
            println!("or from a shell: steward org create --name \"Acme\" --admin-email you@example.com");
        }
        None => println!("Sign in with POST /api/v1/sessions; operators add organizations with `steward org create`."),
    }

    // Background jobs (the daily audit retention pass, hourly rollup upkeep,
    // …) run in this process unless `--no-worker` leaves them to `steward worker`.
    let stop = stop_on_signal();
    let state = app_state(&settings, &db, server_config, sealer)?;
    let jobs = with_worker.then(|| tokio::spawn(worker(&state, SERVE_CONCURRENCY, None).run(stopped(stop.clone()))));
    let metrics_server = metrics_listener.map(|l| serve_metrics(l, state.clone()));
    let app = build_app(state);
    let served = axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(stopped(stop))
        .await
        .map_err(|e| format!("server error: {e}"));
    // A scrape has nothing to finish; stop it with the server.
    if let Some(task) = metrics_server {
        task.abort();
    }
    if let Some(jobs) = jobs {
        if served.is_ok() {
            // The worker saw the same signal; wait while it finishes or gives back its jobs.
            let _ = jobs.await;
        } else {
            // No signal will come; the leases of its jobs run out for another worker.
            jobs.abort();
        }
    }
    served?;
    db.close().await;
    println!("Steward stopped.");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
