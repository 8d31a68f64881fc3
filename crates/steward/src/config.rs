//! Settings, from lowest to highest precedence: built-in defaults,
//! `steward.toml` (or `--config FILE`), `STEWARD_*` environment variables, flags.
//! Validated once at start; a bad value stops the program with a message that
//! names the setting.

use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use steward_core::sealing::Sealer;
use steward_server::mail::Mailer;
use steward_server::state::DEFAULT_MAIL_FROM;
use steward_server::{FileStorage, Files, ServerConfig};
use steward_store::db::sqlite_url;
use steward_store::{Db, Engine};

/// Keys that may come from the environment as `STEWARD_<KEY>`.
const KEYS: &[&str] = &[
    "listen",
    "data_dir",
    "database_url",
    "public_url",
    "trusted_proxies",
    "invitation_ttl_hours",
    "log",
    "secret_key",
    "file_storage",
    "log_format",
    "metrics_listen",
    "smtp_url",
    "mail_from",
    "redis_url",
    "webhooks_allow_private",
];

/// A setting that must never reach a log or an error message.
#[derive(Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("****")
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Address the HTTP server listens on.
    pub listen: String,
    /// Folder for the SQLite database and uploaded files.
    pub data_dir: PathBuf,
    /// `postgres://…` to use PostgreSQL; empty for SQLite in `data_dir`.
    pub database_url: Option<String>,
    /// The URL people use to reach Steward, for links; defaults to `http://<listen>`.
    pub public_url: Option<String>,
    /// Reverse proxies whose `X-Forwarded-For` is trusted.
    pub trusted_proxies: Vec<String>,
    pub invitation_ttl_hours: i64,
    /// Log filter (`info`, `steward=debug`, …); `RUST_LOG` overrides it.
    pub log: String,
    /// The key that seals secrets at rest (TOTP seeds): 32 bytes of base64.
    /// Unset, `serve` keeps one in `<data_dir>/secret.key`; several instances
    /// on one database must all be given the same key.
    pub secret_key: Option<Secret>,
    /// Where uploaded files are kept: `local` (in `<data_dir>/files`) or
    /// `database`. Unset: `local` on SQLite, `database` on PostgreSQL.
    pub file_storage: Option<String>,
    /// `text` (for people) or `json` (one object a line, for log collectors).
    pub log_format: String,
    /// Where `GET /metrics` is served: an address apart from `listen`, so the
    /// metrics are never public by accident; `off` (or empty) serves none.
    pub metrics_listen: String,
    /// The SMTP server mail goes through: `smtp://user:password@host:port`
    /// (add `?tls=required` for STARTTLS) or `smtps://…`. Unset: mail is
    /// written to `<data_dir>/outbox`, one `.eml` file per message.
    pub smtp_url: Option<Secret>,
    /// The sender of Steward's mail, `Name <address>`; needed with `smtp_url`.
    pub mail_from: Option<String>,
    /// `redis://host:6379` to share API key rate limits between instances;
    /// unset, each instance counts its own. While Redis is away each instance
    /// counts alone (logged, `steward_rate_limit_shared` 0); nothing is refused.
    pub redis_url: Option<Secret>,
    /// Lets webhook endpoints be `http://` addresses on this machine, for
    /// development and tests. Off: only public `https://` receivers.
    pub webhooks_allow_private: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("./data"),
            database_url: None,
            public_url: None,
            trusted_proxies: Vec::new(),
            invitation_ttl_hours: 72,
            log: "info".into(),
            secret_key: None,
            file_storage: None,
            log_format: "text".into(),
            metrics_listen: "127.0.0.1:9090".into(),
            smtp_url: None,
            mail_from: None,
            redis_url: None,
            webhooks_allow_private: false,
        }
    }
}

/// How log lines are written (`log_format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// Flags that override the other sources when given.
#[derive(Debug, Default, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
}

/// A loaded and checked configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    pub config: Config,
    pub listen: SocketAddr,
    pub database_url: String,
    pub server: ServerConfig,
    /// From `secret_key` when it is set.
    pub sealer: Option<Sealer>,
    /// The file backend `file_storage` chose (or the engine's default).
    pub file_storage: FileStorage,
    pub log_format: LogFormat,
    /// `None` when `metrics_listen` is `off`.
    pub metrics_listen: Option<SocketAddr>,
    /// SMTP (`smtp_url`) or the outbox folder.
    pub mailer: Mailer,
}

impl Settings {
    /// The sealing key: `secret_key`, or the one kept in `<data_dir>/secret.key`
    /// (made on first use, readable by the owner only).
    pub fn sealer(&self) -> Result<Sealer, String> {
        match &self.sealer {
            Some(s) => Ok(s.clone()),
            None => key_file(&self.config.data_dir),
        }
    }

    /// The file store of the chosen backend (`kind`), on this deployment's folder or database.
    pub fn files(&self, kind: FileStorage, db: &Db) -> Files {
        Files::of_kind(kind, &self.server.storage_dir, db)
    }
}

pub fn load(file: Option<&Path>, overrides: Overrides) -> Result<Settings, String> {
    let default_file = Path::new("steward.toml");
    let file = match file {
        Some(f) if !f.exists() => return Err(format!("config file {} does not exist", f.display())),
        Some(f) => Some(f.to_path_buf()),
        None => default_file.exists().then(|| default_file.to_path_buf()),
    };
    let mut figment = Figment::from(Serialized::defaults(Config::default()));
    if let Some(f) = &file {
        figment = figment.merge(Toml::file(f));
    }
    figment = figment
        .merge(Env::prefixed("STEWARD_").only(KEYS).map(|k| k.as_str().to_ascii_lowercase().into()).split("__"))
        .merge(Serialized::globals(overrides));
    let config: Config = figment.extract().map_err(|e| format!("invalid configuration: {e}"))?;
    validate(config)
}

fn validate(config: Config) -> Result<Settings, String> {
    let listen: SocketAddr = config
        .listen
        .parse()
        .map_err(|_| format!("listen: `{}` is not an address like 127.0.0.1:8080", config.listen))?;
    let database_url = match config.database_url.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
        None => sqlite_url(&config.data_dir),
        Some(url)
            if url.starts_with("postgres://") || url.starts_with("postgresql://") || url.starts_with("sqlite:") =>
        {
            url.to_owned()
        }
        Some(url) => return Err(format!("database_url: `{}` must start with postgres:// or sqlite:", redact_url(url))),
    };
    let public_url = match &config.public_url {
        Some(u) => {
            let parsed = url::Url::parse(u).map_err(|_| format!("public_url: `{u}` is not a URL"))?;
            if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
                return Err(format!("public_url: `{u}` must be an http:// or https:// URL"));
            }
            u.trim_end_matches('/').to_owned()
        }
        None => {
            let host = if listen.ip().is_unspecified() { "127.0.0.1".to_owned() } else { listen.ip().to_string() };
            let host = if listen.is_ipv6() && !listen.ip().is_unspecified() { format!("[{host}]") } else { host };
            format!("http://{host}:{}", listen.port())
        }
    };
    let trusted_proxies = config
        .trusted_proxies
        .iter()
        .map(|p| p.parse::<IpAddr>().map_err(|_| format!("trusted_proxies: `{p}` is not an IP address")))
        .collect::<Result<Vec<_>, _>>()?;
    if !(1..=24 * 30).contains(&config.invitation_ttl_hours) {
        return Err("invitation_ttl_hours: must be between 1 and 720".into());
    }
    let mut server = ServerConfig::new(&public_url);
    server.trusted_proxies = trusted_proxies;
    server.invitation_ttl_hours = config.invitation_ttl_hours;
    server.webhooks_allow_private = config.webhooks_allow_private;
    if config.webhooks_allow_private {
        tracing::warn!(
            "webhooks_allow_private is on: webhooks may reach this machine over plain http (development only)"
        );
    }
    server.storage_dir = config.data_dir.join("files");
    let sealer = match &config.secret_key {
        Some(Secret(key)) => Some(
            Sealer::from_base64(key)
                .map_err(|e| format!("secret_key: {e}; make one with `openssl rand -base64 32`"))?,
        ),
        None => None,
    };
    let file_storage = match config.file_storage.as_deref().map(str::trim) {
        None | Some("") if Engine::from_url(&database_url) == Some(Engine::Postgres) => FileStorage::Database,
        None | Some("") => FileStorage::Local,
        Some(s) => FileStorage::parse(s).ok_or_else(|| {
            format!("file_storage: `{s}` is not a file storage; use {}", FileStorage::NAMES.join(" or "))
        })?,
    };
    let log_format = match config.log_format.trim() {
        "text" => LogFormat::Text,
        "json" => LogFormat::Json,
        other => return Err(format!("log_format: `{other}` is not a log format; use text or json")),
    };
    let metrics_listen = metrics_address("metrics_listen", &config.metrics_listen)?;
    let smtp_url = config.smtp_url.as_ref().map(|Secret(u)| u.trim()).filter(|u| !u.is_empty());
    let mail_from = match (config.mail_from.as_deref().map(str::trim).filter(|f| !f.is_empty()), smtp_url) {
        (Some(from), _) => from,
        (None, None) => DEFAULT_MAIL_FROM,
        (None, Some(_)) => {
            return Err("mail_from: set the sender of Steward's mail (`Steward <steward@example.com>`), an address your SMTP server accepts".into());
        }
    };
    let mailer = Mailer::from_settings(smtp_url, mail_from, &config.data_dir.join("outbox"))?;
    if let Some(Secret(url)) = config.redis_url.as_ref().filter(|Secret(u)| !u.trim().is_empty())
        && !url.trim().starts_with("redis://")
    {
        let scheme = url.split_once("://").map(|(s, _)| s).unwrap_or("none");
        return Err(format!("redis_url: the scheme must be redis://, not {scheme}://"));
    }
    Ok(Settings { config, listen, database_url, server, sealer, file_storage, log_format, metrics_listen, mailer })
}

impl Settings {
    /// `redis_url` when set; its scheme was checked at load.
    pub fn redis_url(&self) -> Option<&str> {
        self.config.redis_url.as_ref().map(|Secret(u)| u.trim()).filter(|u| !u.is_empty())
    }
}

fn key_file(data_dir: &Path) -> Result<Sealer, String> {
    let path = data_dir.join("secret.key");
    match std::fs::read_to_string(&path) {
        Ok(key) => Sealer::from_base64(&key).map_err(|e| format!("{}: {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(data_dir).map_err(|e| format!("cannot create {}: {e}", data_dir.display()))?;
            let key = Sealer::generate_key();
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&path)
                .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
            file.write_all(format!("{key}\n").as_bytes())
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            tracing::info!(path = %path.display(), "made a new secret key; instances sharing this database need the same one (secret_key)");
            Sealer::from_base64(&key)
        }
        Err(e) => Err(format!("cannot read {}: {e}", path.display())),
    }
}

/// A database URL with its password replaced, fit for logs.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("****"));
            u.to_string()
        }
        _ => url.to_owned(),
    }
}

/// An address to serve `/metrics` on, or `None` for `off` (or empty);
/// `setting` names the setting or flag in the refusal.
pub fn metrics_address(setting: &str, value: &str) -> Result<Option<SocketAddr>, String> {
    match value.trim() {
        "" | "off" => Ok(None),
        addr => addr.parse::<SocketAddr>().map(Some).map_err(|_| {
            format!("{setting}: `{addr}` is not an address like 127.0.0.1:9090 (or `off` to serve no metrics)")
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_point_at_sqlite_in_data() {
        let s = validate(Config::default()).unwrap();
        assert_eq!(s.listen.to_string(), "127.0.0.1:8080");
        assert!(s.database_url.starts_with("sqlite://./data/steward.db"));
        assert_eq!(s.server.public_url, "http://127.0.0.1:8080");
        assert_eq!(s.file_storage, FileStorage::Local);
        assert_eq!(s.log_format, LogFormat::Text);
        assert_eq!(s.metrics_listen.map(|a| a.to_string()).as_deref(), Some("127.0.0.1:9090"));
    }

    #[test]
    fn metrics_and_log_format_settings() {
        let off = Config { metrics_listen: "off".into(), log_format: "json".into(), ..Config::default() };
        let s = validate(off).unwrap();
        assert_eq!((s.metrics_listen, s.log_format), (None, LogFormat::Json));
        assert_eq!(validate(Config { metrics_listen: " ".into(), ..Config::default() }).unwrap().metrics_listen, None);
        let bad = validate(Config { metrics_listen: "localhost".into(), ..Config::default() }).unwrap_err();
        assert!(bad.starts_with("metrics_listen: `localhost`"), "{bad}");
        let bad = validate(Config { log_format: "xml".into(), ..Config::default() }).unwrap_err();
        assert!(bad.starts_with("log_format: `xml`"), "{bad}");
    }

    #[test]
    fn file_storage_defaults_to_the_database_on_postgres() {
        let pg = Config { database_url: Some("postgres://db/steward".into()), ..Config::default() };
        assert_eq!(validate(pg.clone()).unwrap().file_storage, FileStorage::Database);
        let local = Config { file_storage: Some("local".into()), ..pg };
        assert_eq!(validate(local).unwrap().file_storage, FileStorage::Local);
        let db = Config { file_storage: Some("database".into()), ..Config::default() };
        assert_eq!(validate(db).unwrap().file_storage, FileStorage::Database);
    }

    #[test]
    fn bad_values_are_named() {
        let bad = |c: Config| validate(c).unwrap_err();
        assert!(bad(Config { listen: "nowhere".into(), ..Config::default() }).starts_with("listen:"));
        assert!(
            bad(Config { database_url: Some("mysql://x".into()), ..Config::default() }).starts_with("database_url:")
        );
        assert!(bad(Config { public_url: Some("ftp://x".into()), ..Config::default() }).starts_with("public_url:"));
        assert!(
            bad(Config { trusted_proxies: vec!["proxy".into()], ..Config::default() }).starts_with("trusted_proxies:")
        );
        let s3 = bad(Config { file_storage: Some("s3".into()), ..Config::default() });
        assert!(s3.starts_with("file_storage:") && s3.contains("`s3`"), "{s3}");
        let short = Config { secret_key: Some(Secret("c2hvcnQ=".into())), ..Config::default() };
        assert!(bad(short.clone()).starts_with("secret_key:") && !bad(short.clone()).contains("c2hvcnQ"));
        assert!(!format!("{short:?}").contains("c2hvcnQ"), "the key never shows in debug output");
        let good = Config { secret_key: Some(Secret(Sealer::generate_key())), ..Config::default() };
        assert!(validate(good).unwrap().sealer.is_some());
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(redact_url("postgres://app:s3cret@db:5432/steward"), "postgres://app:****@db:5432/steward");
        assert_eq!(redact_url("postgres://db/steward"), "postgres://db/steward");
    }
}
