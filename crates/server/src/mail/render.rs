//! A letter laid out as a message: a plain-text part and an HTML part from
//! the templates `mail/letter.txt` and `mail/letter.html`, with the
//! organization's logo shown inline in the HTML when it has a PNG one.

use askama::Template;
use lettre::Message;
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};

use super::letters::Content;

/// The content id of the inline logo (`cid:logo` in the HTML).
const LOGO_CID: &str = "logo";

#[derive(Template)]
#[template(path = "mail/letter.txt")]
struct Text<'a> {
    org: &'a str,
    c: &'a Content,
}

#[derive(Template)]
#[template(path = "mail/letter.html")]
struct Html<'a> {
    org: &'a str,
    c: &'a Content,
    logo: bool,
}

/// What a message is about beyond its words.
pub struct Envelope<'a> {
    pub from: &'a Mailbox,
    pub to: Mailbox,
    /// `<…@…>`: the same on every attempt, so a receiver can drop a repeat.
    pub message_id: String,
    /// The organization's name.
    pub org: &'a str,
    /// A PNG logo, shown at the top of the HTML part.
    pub logo_png: Option<Vec<u8>>,
}

pub fn message(envelope: Envelope<'_>, content: &Content) -> Result<Message, String> {
    let text = Text { org: envelope.org, c: content }.render().map_err(|e| format!("text template: {e}"))?;
    let html = Html { org: envelope.org, c: content, logo: envelope.logo_png.is_some() }
        .render()
        .map_err(|e| format!("HTML template: {e}"))?;
    let plain = SinglePart::plain(text);
    let html = SinglePart::html(html);
    let body = match envelope.logo_png {
        // The logo travels with the HTML that shows it.
        Some(png) => {
            let logo = Attachment::new_inline(LOGO_CID.to_owned())
                .body(png, ContentType::parse("image/png").map_err(|e| e.to_string())?);
            MultiPart::alternative().singlepart(plain).multipart(MultiPart::related().singlepart(html).singlepart(logo))
        }
        None => MultiPart::alternative().singlepart(plain).singlepart(html),
    };
    Message::builder()
        .from(envelope.from.clone())
        .to(envelope.to)
        .subject(&content.subject)
        .message_id(Some(envelope.message_id))
        .multipart(body)
        .map_err(|e| format!("cannot build the message: {e}"))
}
