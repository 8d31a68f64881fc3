//! Outgoing mail end to end: use cases post letters in their transaction, the
//! `mail` job renders them (text and HTML, the organization's name and logo)
//! and hands them to a real SMTP server (aiosmtpd) or the outbox folder;
//! retries while the server is away, stops at a permanent refusal.

mod common;
#[path = "common/prometheus.rs"]
mod prometheus;
#[path = "common/smtp.rs"]
mod smtp;

use axum::body::Body;
use axum::http::{Method, Request};
use common::{Auth, Org, PASSWORD, TestApp};
use http_body_util::BodyExt;
use mail_parser::{MessageParser, MimeHeaders};
use serde_json::json;
use smtp::Smtp;
use steward_server::jobs::worker::Outcome;
use steward_server::mail::Mailer;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tower::ServiceExt;

const FROM: &str = "Steward <steward@steward.test>";

/// What a test reads of one message.
#[derive(Debug)]
struct Read {
    to: String,
    to_name: String,
    from: String,
    subject: String,
    text: String,
    html: String,
    message_id: String,
    /// Content types of the parts, in order.
    parts: Vec<String>,
    inline_logo: bool,
}

fn read(raw: &[u8]) -> Read {
    let m = MessageParser::default().parse(raw).expect("a message mail-parser reads");
    let to = m.to().and_then(|a| a.first()).expect("a recipient");
    let parts = m
        .parts
        .iter()
        .filter_map(|p| p.content_type().map(|c| format!("{}/{}", c.ctype(), c.subtype().unwrap_or_default())))
        .collect();
    let inline_logo = m
        .parts
        .iter()
        .any(|p| p.content_id() == Some("logo") && p.content_type().is_some_and(|c| c.subtype() == Some("png")));
    Read {
        to: to.address().unwrap_or_default().to_owned(),
        to_name: to.name().unwrap_or_default().to_owned(),
        from: m.from().and_then(|a| a.first()).and_then(|a| a.address()).unwrap_or_default().to_owned(),
        subject: m.subject().unwrap_or_default().to_owned(),
        text: m.body_text(0).unwrap_or_default().into_owned(),
        html: m.body_html(0).unwrap_or_default().into_owned(),
        message_id: m.message_id().unwrap_or_default().to_owned(),
        parts,
        inline_logo,
    }
}

fn only_to<'a>(messages: &'a [Read], to: &str) -> &'a Read {
    let found: Vec<&Read> = messages.iter().filter(|m| m.to == to).collect();
    assert_eq!(found.len(), 1, "one message to {to}: {messages:#?}");
    found[0]
}

/// The link of the letter's button, from its text part.
fn link(text: &str) -> String {
    text.lines().find(|l| l.starts_with("http://steward.test/")).expect("a link on its own line").trim().to_owned()
}

async fn invite(app: &TestApp, org: &Org, email: &str) -> String {
    let r =
        app.post("/api/v1/users", Auth::Bearer(&org.admin_token), json!({ "email": email, "name": "Nia New" })).await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.json["user"]["id"].as_str().unwrap().to_owned()
}

fn done(outcomes: &[Outcome]) -> usize {
    outcomes.iter().filter(|o| **o == Outcome::Done).count()
}

fn smtp_mailer(url: &str) -> Mailer {
    Mailer::smtp(url, FROM.parse().unwrap()).expect("a valid smtp_url")
}

#[tokio::test]
async fn an_invitation_reaches_a_real_smtp_server_and_its_link_accepts_the_invitation() {
    for app in TestApp::all().await {
        let Some(server) = Smtp::start() else { return };
        let app = app.with_mailer(smtp_mailer(&server.url()));
        let org = app.org("acme").await;
        invite(&app, &org, "nia@acme.example").await;
        assert!(server.received().is_empty(), "nothing is sent inside the request");
        let outcomes = app.run_jobs().await;
        assert_eq!(done(&outcomes), 2, "the fixture's member and Nia: {outcomes:?}");

        let messages: Vec<Read> = server.received().iter().map(|m| read(m)).collect();
        let m = only_to(&messages, "nia@acme.example");
        assert_eq!((m.to_name.as_str(), m.from.as_str()), ("Nia New", "steward@steward.test"));
        assert_eq!(m.subject, "You're invited to join Org acme on Steward");
        assert_eq!(m.parts, ["multipart/alternative", "text/plain", "text/html"], "{m:#?}");
        assert!(m.message_id.ends_with("@steward.test") && m.message_id.starts_with("job_"), "{}", m.message_id);
        assert!(m.text.contains("Ada Admin invited you to join Org acme on Steward"), "{}", m.text);
        assert!(m.text.contains("If you did not expect this invitation"), "{}", m.text);
        let url = link(&m.text);
        assert!(url.starts_with("http://steward.test/invitations/"), "{url}");
        assert!(m.html.contains(&format!("href=\"{url}\"")) && m.html.contains("Accept the invitation"), "{}", m.html);
        assert!(m.html.contains("<h1") && m.html.contains("Org acme"), "{}", m.html);

        // The link opens the console's page, and its token accepts the invitation.
        let path = url.trim_start_matches("http://steward.test");
        assert_eq!(app.get(path, Auth::None).await.status, 200);
        let token = path.rsplit('/').next().unwrap();
        let r =
            app.post(&format!("/api/v1/invitations/{token}/accept"), Auth::None, json!({ "password": PASSWORD })).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(app.login("nia@acme.example", PASSWORD).await.status, 201);
    }
}

#[tokio::test]
async fn with_the_smtp_server_away_the_mail_job_retries_and_sends_when_it_returns() {
    for app in TestApp::all().await {
        let port = smtp::free_port();
        let app = app.with_mailer(smtp_mailer(&format!("smtp://127.0.0.1:{port}")));
        let org = app.org("acme").await;
        let outcomes = app.run_jobs().await;
        assert!(matches!(outcomes.as_slice(), [Outcome::Retry(_)]), "connection refused: retry, {outcomes:?}");
        assert!(app.run_jobs().await.is_empty(), "not due again before its backoff");

        let Some(server) = Smtp::start_on(port) else { return };
        app.clock.advance_seconds(60);
        assert_eq!(app.run_jobs().await, vec![Outcome::Done]);
        let messages: Vec<Read> = server.received().iter().map(|m| read(m)).collect();
        assert_eq!(only_to(&messages, "member@acme.example").subject, "You're invited to join Org acme on Steward");
        let r = app.get("/api/v1/users", Auth::Bearer(&org.admin_token)).await;
        assert_eq!(r.status, 200);

        let sent = metric(&app, "steward_mail_sent_total", &[("template", "invitation")]).await;
        let retried =
            metric(&app, "steward_mail_failed_total", &[("template", "invitation"), ("outcome", "retry")]).await;
        assert_eq!((sent, retried), (1.0, 1.0));
    }
}

/// An SMTP server that refuses every recipient for good (550).
async fn refusing_server() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read).lines();
                let _ = write.write_all(b"220 refuser ESMTP\r\n").await;
                while let Ok(Some(line)) = lines.next_line().await {
                    let verb = line.split_whitespace().next().unwrap_or_default().to_ascii_uppercase();
                    let reply: &[u8] = match verb.as_str() {
                        "EHLO" | "HELO" => b"250 refuser\r\n",
                        "MAIL" | "RSET" | "NOOP" => b"250 OK\r\n",
                        "RCPT" => b"550 5.1.1 No such mailbox here\r\n",
                        "QUIT" => b"221 Bye\r\n",
                        _ => b"503 5.5.1 Bad sequence\r\n",
                    };
                    if write.write_all(reply).await.is_err() || verb == "QUIT" {
                        break;
                    }
                }
            });
        }
    });
    port
}

#[tokio::test]
async fn a_permanent_refusal_makes_the_mail_job_dead_at_once() {
    for app in TestApp::all().await {
        let port = refusing_server().await;
        let app = app.with_mailer(smtp_mailer(&format!("smtp://127.0.0.1:{port}")));
        app.org("acme").await;
        let outcomes = app.run_jobs().await;
        let [Outcome::Dead(error)] = outcomes.as_slice() else { panic!("dead at the first 5xx: {outcomes:?}") };
        assert!(error.contains("550") && error.contains("No such mailbox"), "{error}");
        let dead = metric(&app, "steward_mail_failed_total", &[("template", "invitation"), ("outcome", "dead")]).await;
        assert_eq!(dead, 1.0);
    }
}

async fn put_logo(app: &TestApp, org: &Org) {
    let img = image::RgbImage::from_fn(240, 240, |_, _| image::Rgb([20, 120, 200]));
    let mut png = std::io::Cursor::new(Vec::new());
    img.write_to(&mut png, image::ImageFormat::Png).unwrap();
    let req = Request::builder()
        .method(Method::PUT)
        .uri("/api/v1/organization/logo")
        .header("content-type", "image/png")
        .header("authorization", format!("Bearer {}", org.admin_token))
        .body(Body::from(png.into_inner()))
        .unwrap();
    let res = app.router.clone().oneshot(req).await.unwrap();
    assert_eq!(res.status(), 200, "{:?}", res.into_body().collect().await.unwrap().to_bytes());
}

#[tokio::test]
async fn without_smtp_each_message_is_a_parseable_eml_in_the_outbox_with_the_logo_inline() {
    for app in TestApp::all().await {
        let org = app.org("acme").await;
        put_logo(&app, &org).await;
        let id = invite(&app, &org, "nia@acme.example").await;
        // A rolled-back change posts nothing: the same email again is refused.
        let again =
            app.post("/api/v1/users", Auth::Bearer(&org.admin_token), json!({ "email": "nia@acme.example" })).await;
        assert_eq!(again.code(), "email_taken");
        assert_eq!(done(&app.run_jobs().await), 2);

        let messages: Vec<Read> = app.outbox_messages().iter().map(|m| read(m)).collect();
        assert_eq!(messages.len(), 2, "{messages:#?}");
        let m = only_to(&messages, "nia@acme.example");
        assert!(m.inline_logo && m.html.contains("src=\"cid:logo\""), "{m:#?}");
        let related = ["multipart/alternative", "text/plain", "multipart/related", "text/html", "image/png"];
        assert_eq!(m.parts, related, "the logo travels with the HTML");
        assert!(link(&m.text).starts_with("http://steward.test/invitations/"));

        // A resend mails a new link; the first one stops working.
        let first = link(&m.text);
        let r = app.post(&format!("/api/v1/users/{id}/invitation"), Auth::Bearer(&org.admin_token), json!({})).await;
        assert_eq!(r.status, 201, "{}", r.text);
        assert_eq!(done(&app.run_jobs().await), 1);
        let messages: Vec<Read> = app.outbox_messages().iter().map(|m| read(m)).collect();
        let resent: Vec<&Read> = messages.iter().filter(|m| m.to == "nia@acme.example").collect();
        assert_eq!(resent.len(), 2);
        let second = link(&resent[1].text);
        assert!(second != first && resent[1].text.contains("Links sent to you earlier no longer work"));
        let token = |url: &str| url.rsplit('/').next().unwrap().to_owned();
        let r = app
            .post(&format!("/api/v1/invitations/{}/accept", token(&first)), Auth::None, json!({ "password": PASSWORD }))
            .await;
        assert_eq!(r.code(), "invitation_not_found");
        let r = app
            .post(
                &format!("/api/v1/invitations/{}/accept", token(&second)),
                Auth::None,
                json!({ "password": PASSWORD }),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
}

#[tokio::test]
async fn security_events_are_mailed_to_the_person_they_happened_to() {
    for app in TestApp::all().await {
        let org = app.org("acme").await;
        app.run_jobs().await;
        let before = app.outbox_messages().len();
        let member = "member@acme.example";

        // The fixture signed the member in once, from the harness's client: a
        // sign-in from that client again is not news; a new browser is.
        assert_eq!(app.login(member, PASSWORD).await.status, 201);
        app.run_jobs().await;
        assert_eq!(app.outbox_messages().len(), before, "a known device mails nothing");
        let firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";
        assert_eq!(app.login_from(firefox, member, PASSWORD).await.status, 201);
        assert_eq!(app.login_from(firefox, member, PASSWORD).await.status, 201);
        app.run_jobs().await;
        let messages: Vec<Read> = app.outbox_messages()[before..].iter().map(|m| read(m)).collect();
        let m = only_to(&messages, member);
        assert_eq!(m.subject, "New sign-in to your Org acme account");
        assert!(m.text.contains("Device: Firefox on Linux") && m.text.contains("from 203.0.113.7"), "{}", m.text);
        assert!(m.text.contains("If this wasn't you") && link(&m.text) == "http://steward.test/account", "{}", m.text);

        // A Super Admin signs them out everywhere.
        let url = format!("/api/v1/users/{}/sessions/end", org.member_id);
        assert_eq!(app.post(&url, Auth::Bearer(&org.admin_token), json!({})).await.status, 200);
        app.run_jobs().await;
        let m = read(app.outbox_messages().last().unwrap());
        assert_eq!((m.to.as_str(), m.subject.as_str()), (member, "You were signed out of Org acme everywhere"));
        assert!(m.text.contains("Ada Admin, a Super Admin of Org acme, ended all your sessions"), "{}", m.text);

        // ... and resets their two-factor authentication.
        let session = app.login(member, PASSWORD).await.json["token"].as_str().unwrap().to_owned();
        let me = Auth::Bearer(&session);
        let secret =
            app.post("/api/v1/me/two-factor/totp", me, json!({})).await.json["secret"].as_str().unwrap().to_owned();
        let now = (app.clock_now().millis() / 1000) as u64;
        let code = steward_core::two_factor::code_at(&secret, now).unwrap();
        let r = app.post("/api/v1/me/two-factor/totp/confirm", me, json!({ "code": code })).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let url = format!("/api/v1/users/{}/two-factor/reset", org.member_id);
        assert_eq!(app.post(&url, Auth::Bearer(&org.admin_token), json!({})).await.status, 204);
        app.run_jobs().await;
        let m = read(app.outbox_messages().last().unwrap());
        assert_eq!(
            (m.to.as_str(), m.subject.as_str()),
            (member, "Your two-factor authentication for Org acme was reset")
        );
        assert!(m.text.contains("your account may be at risk"), "{}", m.text);
        assert_eq!(link(&m.text), "http://steward.test/login");
    }
}

/// A counter on the app's `/metrics`, 0 when absent.
async fn metric(app: &TestApp, name: &str, labels: &[(&str, &str)]) -> f64 {
    let router = steward_server::metrics::router(app.state.clone());
    let res = router.oneshot(Request::get("/metrics").body(Body::empty()).unwrap()).await.unwrap();
    let text = String::from_utf8(res.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
    let samples = prometheus::parse(&text).expect("Prometheus text");
    samples
        .iter()
        .find(|s| s.name == name && labels.iter().all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v)))
        .map(|s| s.value)
        .unwrap_or(0.0)
}
