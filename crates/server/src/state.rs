//! What every handler can reach: the database, the files, the settings, and the clock.

use crate::rate_limit::RateLimiter;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;

use steward_core::sealing::Sealer;
use steward_core::time::{Clock, SystemClock, Timestamp};
use steward_store::Db;

use crate::files::Files;
use crate::mail::{Mailer, Postbox};
use crate::metrics::Metrics;

/// Server settings, validated by the binary before the server starts.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The address people use to reach this server, for links in output and mail
    /// (`http://127.0.0.1:8080`). No trailing slash.
    pub public_url: String,
    /// Peers whose `X-Forwarded-For` is believed (reverse proxies).
    pub trusted_proxies: Vec<IpAddr>,
    /// How long an invitation link stays valid.
    pub invitation_ttl_hours: i64,
    /// The folder of the `local` file backend (one per deployment).
    pub storage_dir: PathBuf,
    /// Lets webhook endpoints be `http://` on this machine (development,
    /// tests); otherwise only public https addresses are reached.
    pub webhooks_allow_private: bool,
}

impl ServerConfig {
    pub fn new(public_url: &str) -> Self {
        Self {
            public_url: public_url.trim_end_matches('/').to_owned(),
            trusted_proxies: Vec::new(),
            invitation_ttl_hours: 72,
            storage_dir: PathBuf::from("./data/files"),
            webhooks_allow_private: false,
        }
    }

    /// Cookies get `Secure` and the `__Host-` prefix when served over TLS.
    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }

    pub fn session_cookie_name(&self) -> &'static str {
        if self.secure_cookies() { "__Host-steward_session" } else { "steward_session" }
    }

    pub fn link(&self, path: &str) -> String {
        format!("{}{}", self.public_url, path)
    }
}

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub config: Arc<ServerConfig>,
    pub clock: Arc<dyn Clock>,
    /// Seals secrets kept at rest (TOTP seeds) under the deployment's key.
    pub sealer: Sealer,
    /// Where uploaded files are kept (`file_storage`).
    pub files: Files,
    /// Served on the metrics listener; other parts add their series here.
    pub metrics: Metrics,
    /// Where the `mail` job sends letters (`smtp_url`, or the outbox folder).
    pub mailer: Mailer,
    /// Counts each API key's requests against its limit (`redis_url` shares the counts).
    pub limiter: Arc<RateLimiter>,
    /// Credit debits waiting for their organization's next ledger transaction.
    pub debits: crate::services::credits::batch::Debits,
}

/// The sender when `mail_from` is not set.
pub const DEFAULT_MAIL_FROM: &str = "Steward <steward@localhost>";

fn default_sender() -> lettre::message::Mailbox {
    DEFAULT_MAIL_FROM.parse().unwrap_or_else(|_| unreachable!("the default sender is an address"))
}

impl AppState {
    /// Files default to the `local` backend in `config.storage_dir`; see [`with_files`](Self::with_files).
    pub fn new(db: Db, config: ServerConfig, sealer: Sealer) -> Self {
        let files = Files::local(config.storage_dir.clone());
        // Beside the files folder, as `serve` puts it: `<data_dir>/outbox`.
        let mailer = Mailer::outbox(config.storage_dir.with_file_name("outbox"), default_sender());
        let config = Arc::new(config);
        let metrics = Metrics::default();
        let limiter = Arc::new(RateLimiter::local(metrics.clone()));
        let debits = crate::services::credits::batch::Debits::new(db.clone());
        Self { db, config, clock: Arc::new(SystemClock), sealer, files, metrics, mailer, limiter, debits }
    }

    /// Shares API key limits with every instance through Redis at `url`.
    pub fn with_redis(mut self, url: &str) -> Result<Self, String> {
        self.limiter = Arc::new(RateLimiter::shared(url, self.metrics.clone())?);
        Ok(self)
    }

    pub fn with_mailer(mut self, mailer: Mailer) -> Self {
        self.mailer = mailer;
        self
    }

    /// Where use cases post letters.
    pub fn postbox(&self) -> Postbox {
        Postbox::new(self.sealer.clone(), &self.config.public_url)
    }

    pub fn with_files(mut self, files: Files) -> Self {
        self.files = files;
        self
    }

    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }
}
