//! `mail`: delivers one letter. Retried while the SMTP server is away or
//! answers "try later" (4xx); dead at once when it refuses the message for
//! good (5xx) or the letter can't be built. The Message-ID is the job's, so
//! a repeat after a lost acknowledgement can be recognised by the receiver.

use lettre::message::Mailbox;
use serde::{Deserialize, Serialize};
use steward_core::authz::Principal;
use steward_store::{OrgScope, organizations};

use super::{Job, JobCtx, JobError};
use crate::mail::Letter;
use crate::mail::render::{self, Envelope};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mail {
    pub to: String,
    pub to_name: String,
    pub letter: Letter,
    /// The letter's link, sealed for [`link_context`]`(to)`.
    pub sealed_link: String,
}

/// What a link is sealed for: its recipient, so it opens only in their letter.
pub fn link_context(to: &str) -> String {
    format!("mail-link:{to}")
}

const SENT: &str = "steward_mail_sent_total";
const SENT_HELP: &str = "Messages accepted by the SMTP server (or written to the outbox), by template.";
const FAILED: &str = "steward_mail_failed_total";
const FAILED_HELP: &str = "Delivery attempts that failed, by template and whether the job will retry.";

impl Job for Mail {
    const KIND: &'static str = "mail";
    /// About three and a half hours of retries with the backoff (10 s
    /// doubling, at most an hour between tries).
    const MAX_ATTEMPTS: i64 = 12;

    async fn run(self, ctx: JobCtx) -> Result<(), JobError> {
        let template = self.letter.template();
        let result = deliver(&self, &ctx).await;
        let metrics = &ctx.app.metrics;
        match &result {
            Ok(()) => {
                metrics.add(SENT, SENT_HELP, &[("template", template)], 1);
                tracing::info!(job = %ctx.id, template, "mail sent");
            }
            Err(e) => {
                let outcome = if e.permanent { "dead" } else { "retry" };
                metrics.add(FAILED, FAILED_HELP, &[("template", template), ("outcome", outcome)], 1);
            }
        }
        result
    }
}

async fn deliver(mail: &Mail, ctx: &JobCtx) -> Result<(), JobError> {
    let app = &ctx.app;
    let link = app
        .sealer
        .open(&mail.sealed_link, &link_context(&mail.to))
        .ok_or_else(|| JobError::permanent("the letter's link does not open with this deployment's secret_key"))?;
    let org_id = ctx.org_id.clone().ok_or_else(|| JobError::permanent("a mail job names no organization"))?;
    let scope = OrgScope::of(&Principal::system("mail").in_org(org_id))?;
    let org = {
        let mut c = app.db.conn().await?;
        organizations::get(&mut c, &scope).await?
    };
    // The organization was deleted since: nobody is left to write for.
    let Some(org) = org else { return Err(JobError::permanent("the organization no longer exists")) };
    let logo_png = match crate::services::logo::stored(&app.files, &scope).await {
        Some(("image/png", bytes)) => Some(bytes),
        _ => None, // SVG shows in too few mail readers; the name stands alone.
    };
    let address = mail
        .to
        .parse()
        .map_err(|e| JobError::permanent(format!("`{}` is not an address mail can go to: {e}", mail.to)))?;
    let mailer = &app.mailer;
    let envelope = Envelope {
        from: mailer.from(),
        to: Mailbox::new(Some(mail.to_name.clone()), address),
        message_id: format!("<{}@{}>", ctx.id, mailer.from().email.domain()),
        org: &org.name,
        logo_png,
    };
    let message = render::message(envelope, &mail.letter.compose(&org.name, &link)).map_err(JobError::permanent)?;
    mailer.send(ctx.id.as_str(), message).await.map_err(|e| JobError { message: e.message, permanent: e.permanent })
}
