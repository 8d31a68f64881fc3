//! Connecting, transactions and the engine differences.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyPool, Executor};

use std::sync::Arc;

use crate::StoreResult;
use crate::jobs::Wakeup;
use crate::key_cache::KeyCache;
use crate::scope::OrgScope;

/// How long a request waits for a pooled connection (or a new one) before it
/// answers `503 database_unavailable`: under 2 s, so a client hears about a
/// database that is away within 2 s instead of hanging.
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_millis(1500);

pub type Tx = sqlx::Transaction<'static, Any>;
pub type Conn = sqlx::AnyConnection;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

impl Engine {
    pub fn from_url(url: &str) -> Option<Self> {
        if url.starts_with("sqlite:") {
            Some(Engine::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Engine::Postgres)
        } else {
            None
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Engine::Sqlite => "SQLite",
            Engine::Postgres => "PostgreSQL",
        }
    }

    /// Which engine a connection speaks, for the few statements that differ.
    pub fn of(conn: &Conn) -> Self {
        if conn.backend_name() == "PostgreSQL" { Engine::Postgres } else { Engine::Sqlite }
    }
}

#[derive(Debug, Clone)]
pub struct Db {
    pool: AnyPool,
    engine: Engine,
    keys: Arc<KeyCache>,
    /// Wakes this process's job workers when a job is enqueued (see [`Wakeup`]).
    jobs: Arc<Wakeup>,
}

/// The SQLite URL for a database file inside `data_dir`.
pub fn sqlite_url(data_dir: &Path) -> String {
    format!("sqlite://{}?mode=rwc", data_dir.join("steward.db").display())
}

impl Db {
    /// Connects to `url` (`sqlite://…` or `postgres://…`). For SQLite the file and
    /// its folder are created, and the database is switched to WAL so readers never
    /// wait for the writer.
    pub async fn connect(url: &str) -> StoreResult<Self> {
        sqlx::any::install_default_drivers();
        let engine = Engine::from_url(url)
            .ok_or_else(|| sqlx::Error::Configuration("database URL must start with sqlite: or postgres://".into()))?;
        if engine == Engine::Sqlite {
            let path = url.trim_start_matches("sqlite://").trim_start_matches("sqlite:");
            let path = path.split('?').next().unwrap_or_default();
            if let Some(parent) = Path::new(path).parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent).map_err(|e| {
                    sqlx::Error::Configuration(format!("cannot create {}: {e}", parent.display()).into())
                })?;
            }
        }
        let options = AnyConnectOptions::from_str(url)?;
        let pool_options = match engine {
            Engine::Sqlite => AnyPoolOptions::new().max_connections(8).after_connect(|conn, _| {
                Box::pin(async move {
                    // Per-connection settings; WAL itself is persistent in the file.
                    conn.execute("PRAGMA synchronous = NORMAL").await?;
                    conn.execute("PRAGMA busy_timeout = 10000").await?;
                    Ok(())
                })
            }),
            Engine::Postgres => AnyPoolOptions::new().max_connections(16),
        };
        // No ping before each acquire: it doubled the round trips of every
        // request, and a connection that broke fails its query and is dropped
        // (sqlx pings it on release), so service resumes when the database does.
        // Right after an outage, though, idle connections are pinged: each one
        // the outage broke would otherwise fail a request of its own.
        let pool = pool_options
            .test_before_acquire(false)
            .before_acquire(|conn, _| {
                Box::pin(async move {
                    if !crate::error::recently_unavailable() {
                        return Ok(true);
                    }
                    Ok(sqlx::Connection::ping(conn).await.is_ok())
                })
            })
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await?;
        let (keys, jobs) = match engine {
            Engine::Sqlite => {
                pool.execute("PRAGMA journal_mode = WAL").await?;
                (KeyCache::local(), Wakeup::local())
            }
            Engine::Postgres => {
                let keys = KeyCache::shared();
                tokio::spawn(crate::key_cache::listen(url.to_owned(), keys.clone()));
                (keys, Wakeup::shared(url))
            }
        };
        Ok(Self { pool, engine, keys, jobs })
    }

    pub fn engine(&self) -> Engine {
        self.engine
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// API keys in memory (see [`KeyCache`]).
    pub fn keys(&self) -> &KeyCache {
        &self.keys
    }

    /// What job workers wait on: enqueues in this process, and on PostgreSQL
    /// (once [`Db::listen_for_jobs`] ran) enqueues by any instance.
    pub fn job_wakeup(&self) -> &Wakeup {
        &self.jobs
    }

    /// Starts listening for jobs enqueued by other instances (PostgreSQL's
    /// `NOTIFY steward_jobs`); once per `Db`, only where a worker runs.
    pub fn listen_for_jobs(&self) {
        crate::jobs::listen(&self.jobs);
    }

    /// A connection for reads outside a transaction.
    pub async fn conn(&self) -> StoreResult<PoolConnection<Any>> {
        Ok(self.pool.acquire().await?)
    }

    /// Starts a transaction. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`), so two writers queue on the busy timeout instead of
    /// failing when a read lock is upgraded; on PostgreSQL writers of one
    /// organization serialize on the row lock [`Db::write`] takes.
    pub(crate) async fn begin(&self) -> StoreResult<Tx> {
        Ok(match self.engine {
            Engine::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Engine::Postgres => self.pool.begin().await?,
        })
    }

    /// A write in one organization: the transaction, holding the
    /// organization's lock until it ends, so rules across rows ("at least one
    /// Super Admin", the audit chain) see no concurrent writer.
    pub async fn write(&self, org: &OrgScope) -> StoreResult<WriteTx> {
        let mut tx = self.write_deployment().await?;
        crate::organizations::lock(&mut tx, org.id()).await?;
        Ok(tx)
    }

    /// A write of deployment-wide data (new organizations, sign-in throttling,
    /// the setup token): no organization's lock; [`audit::append`](crate::audit::append)
    /// takes the lock of the organization it writes to.
    pub async fn write_deployment(&self) -> StoreResult<WriteTx> {
        Ok(WriteTx {
            tx: self.begin().await?,
            keys: self.keys.clone(),
            revoked: Vec::new(),
            jobs: self.jobs.clone(),
            enqueued: false,
        })
    }

    /// Whether the database answers (for `/readyz`).
    pub async fn ping(&self) -> StoreResult<()> {
        let answered = sqlx::query("SELECT 1").execute(&self.pool).await;
        if let Err(e) = answered {
            let e = crate::StoreError::from(e);
            if e.is_unavailable() {
                crate::error::note_unavailable();
            }
            return Err(e);
        }
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// A write transaction, the only kind there is for changes: store functions
/// that change tenant data take it, and [`audit::append`](crate::audit::append)
/// only accepts it. [`WriteTx::commit`] wants the [`Audited`] proof that
/// `append` returns, so a change without its audit event does not compile.
pub struct WriteTx {
    tx: Tx,
    keys: Arc<KeyCache>,
    /// Hashes of keys revoked here, evicted from this process's cache at commit.
    revoked: Vec<String>,
    jobs: Arc<Wakeup>,
    /// Whether a job was enqueued here: this process's workers wake at commit.
    enqueued: bool,
}

/// Proof that an audit event was appended in a transaction.
#[derive(Debug, Clone, Copy)]
pub struct Audited(pub(crate) ());

impl WriteTx {
    /// Commits a change together with its audit event(s).
    pub async fn commit(self, _proof: Audited) -> StoreResult<()> {
        self.finish().await
    }

    /// Commits bookkeeping that is nobody's action and needs no event (a
    /// throttle counter, the setup token, a key check).
    pub async fn commit_unaudited(self) -> StoreResult<()> {
        self.finish().await
    }

    async fn finish(self) -> StoreResult<()> {
        self.tx.commit().await?;
        for hash in &self.revoked {
            self.keys.evict(hash);
        }
        if self.enqueued {
            self.jobs.wake();
        }
        Ok(())
    }

    /// A job enqueued in this transaction: workers wake once it commits (on
    /// PostgreSQL every instance's, by a notice delivered only at commit).
    pub(crate) async fn enqueued_job(&mut self, kind: &str) -> StoreResult<()> {
        // One notice per transaction is enough: a listener only needs to wake.
        if !self.enqueued && Engine::of(&self.tx) == Engine::Postgres {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(crate::jobs::CHANNEL)
                .bind(kind)
                .execute(&mut *self.tx)
                .await?;
        }
        self.enqueued = true;
        Ok(())
    }

    /// A key revoked or changed in this transaction: gone from every instance's cache
    /// once it commits (see [`KeyCache`]).
    pub(crate) async fn key_changed(&mut self, hash: String) -> StoreResult<()> {
        if Engine::of(&self.tx) == Engine::Postgres {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(crate::key_cache::CHANNEL)
                .bind(&hash)
                .execute(&mut *self.tx)
                .await?;
        }
        self.revoked.push(hash);
        Ok(())
    }
}

impl std::ops::Deref for WriteTx {
    type Target = Conn;
    fn deref(&self) -> &Conn {
        &self.tx
    }
}

impl std::ops::DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut Conn {
        &mut self.tx
    }
}
