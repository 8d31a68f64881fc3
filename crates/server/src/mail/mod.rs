//! Outgoing mail: letters (what each message says, [`letters`]), rendered
//! from text and HTML templates ([`render`]), handed to SMTP or written to the
//! outbox folder ([`Mailer`]). Use cases never send directly: they post a
//! letter with [`Postbox::post`] in their write transaction, and the durable
//! `mail` job (`jobs/mail.rs`) delivers it, retrying while the server is away.

pub mod letters;
pub mod render;

use std::path::{Path, PathBuf};
use std::time::Duration;

use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use steward_core::Result;
use steward_core::sealing::Sealer;
use steward_core::time::Timestamp;
use steward_store::users::User;
use steward_store::{OrgScope, WriteTx};

pub use letters::Letter;

use crate::jobs::{self, Enqueue};

/// How long one SMTP exchange may take before the attempt counts as failed.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// Where mail goes: an SMTP server (`smtp_url`), or with none configured the
/// outbox folder, one `.eml` file per message.
#[derive(Clone)]
pub struct Mailer {
    from: Mailbox,
    transport: Transport,
}

#[derive(Clone)]
enum Transport {
    Smtp { relay: AsyncSmtpTransport<Tokio1Executor>, shown: String },
    Outbox(PathBuf),
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Mailer({})", self.describe())
    }
}

/// Why a message was not delivered. Permanent: the server refused it for
/// good (a 5xx reply), so trying again would only be refused again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendError {
    pub message: String,
    pub permanent: bool,
}

impl Mailer {
    /// Mail written to `dir` instead of sent.
    pub fn outbox(dir: impl Into<PathBuf>, from: Mailbox) -> Self {
        Mailer { from, transport: Transport::Outbox(dir.into()) }
    }

    /// Mail sent through the server `smtp_url` names:
    /// `smtp://[user:pass@]host[:port][?tls=required|opportunistic]` or
    /// `smtps://…` (TLS from the first byte). The error names the setting.
    pub fn smtp(smtp_url: &str, from: Mailbox) -> std::result::Result<Self, String> {
        let url = url::Url::parse(smtp_url)
            .map_err(|e| format!("smtp_url: {e}; expected smtp://user:password@host:port or smtps://…"))?;
        if !matches!(url.scheme(), "smtp" | "smtps") {
            return Err(format!("smtp_url: the scheme must be smtp:// or smtps://, not {}://", url.scheme()));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err("smtp_url: names no host; expected smtp://user:password@host:port".into());
        }
        if let Some((_, tls)) = url.query_pairs().find(|(k, _)| k == "tls")
            && !(url.scheme() == "smtp" && matches!(tls.as_ref(), "required" | "opportunistic"))
        {
            return Err(format!(
                "smtp_url: tls={tls} is not understood; with smtp:// use tls=required (STARTTLS) or tls=opportunistic, or use smtps://"
            ));
        }
        let relay = AsyncSmtpTransport::<Tokio1Executor>::from_url(smtp_url)
            .map_err(|e| format!("smtp_url: {e}"))?
            .timeout(Some(SMTP_TIMEOUT))
            .build();
        let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
        let shown = format!("{}://{}{port}", url.scheme(), url.host_str().unwrap_or_default());
        Ok(Mailer { from, transport: Transport::Smtp { relay, shown } })
    }

    /// From the settings: SMTP when `smtp_url` is set, else the outbox folder.
    pub fn from_settings(smtp_url: Option<&str>, mail_from: &str, outbox: &Path) -> std::result::Result<Self, String> {
        let from: Mailbox = mail_from.parse().map_err(|e| {
            format!("mail_from: `{mail_from}` is not an email address ({e}); write `Name <address@example.com>` or `address@example.com`")
        })?;
        match smtp_url.map(str::trim).filter(|u| !u.is_empty()) {
            Some(url) => Mailer::smtp(url, from),
            None => Ok(Mailer::outbox(outbox, from)),
        }
    }

    pub fn from(&self) -> &Mailbox {
        &self.from
    }

    /// Where mail goes, for the start-up log (never the SMTP password).
    pub fn describe(&self) -> String {
        match &self.transport {
            Transport::Smtp { shown, .. } => format!("SMTP server {shown}"),
            Transport::Outbox(dir) => format!("outbox folder {} (one .eml file per message)", dir.display()),
        }
    }

    /// The outbox folder, when mail is not sent.
    pub fn outbox_dir(&self) -> Option<&Path> {
        match &self.transport {
            Transport::Outbox(dir) => Some(dir),
            Transport::Smtp { .. } => None,
        }
    }

    /// Delivers `message`. `name` names it in the outbox (`<name>.eml`): the
    /// job's id, so a job that runs twice writes the same file twice.
    pub async fn send(&self, name: &str, message: Message) -> std::result::Result<(), SendError> {
        match &self.transport {
            Transport::Smtp { relay, .. } => relay.send(message).await.map(|_| ()).map_err(|e| SendError {
                permanent: e.is_permanent(),
                message: format!("the SMTP server did not take the message: {e}"),
            }),
            Transport::Outbox(dir) => write_eml(dir, name, &message.formatted()).await.map_err(|e| SendError {
                permanent: false,
                message: format!("cannot write to the outbox {}: {e}", dir.display()),
            }),
        }
    }
}

/// Writes beside and renames, so a reader of the folder never sees half a message.
async fn write_eml(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    tokio::fs::create_dir_all(dir).await?;
    let partial = dir.join(format!(".{name}.eml.partial"));
    tokio::fs::write(&partial, bytes).await?;
    tokio::fs::rename(&partial, dir.join(format!("{name}.eml"))).await
}

/// What a use case needs to post a letter: links point at `public_url`, and
/// a link that grants something (an invitation) is sealed in the job's
/// payload, so the jobs table never holds it in the clear.
#[derive(Debug, Clone)]
pub struct Postbox {
    sealer: Sealer,
    public_url: String,
}

impl Postbox {
    pub fn new(sealer: Sealer, public_url: &str) -> Self {
        Postbox { sealer, public_url: public_url.trim_end_matches('/').to_owned() }
    }

    /// Enqueues `letter` to `to` in the caller's transaction: it is sent only
    /// if the change commits. `path` is the page the letter's button opens.
    pub async fn post(
        &self,
        tx: &mut WriteTx,
        org: &OrgScope,
        to: &User,
        letter: Letter,
        path: &str,
        now: Timestamp,
    ) -> Result<()> {
        let link = format!("{}{path}", self.public_url);
        let job = jobs::mail::Mail {
            to: to.email.clone(),
            to_name: to.name.clone(),
            sealed_link: self.sealer.seal(&link, &jobs::mail::link_context(&to.email)),
            letter,
        };
        jobs::enqueue(tx, &job, Enqueue { org: Some(org.id().clone()), ..Enqueue::default() }, now).await?;
        Ok(())
    }
}
