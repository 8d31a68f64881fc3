//! Several instances as operators run them: two `steward serve` instances on
//! one PostgreSQL with separate data folders (no shared volume) serve each
//! other's uploads, a deletion through one is seen by both, and a key or a
//! session ended through one stops working on the other at once. On SQLite,
//! `steward files migrate` moves files written locally into the database.

mod common;

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use common::BIN;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const PASSWORD: &str = "correct horse battery staple";
/// 32 bytes of base64: both instances seal with the same key.
const SECRET_KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

fn steward(args: &[&str], stdin: Option<&str>) -> Output {
    common::steward(args, &[("STEWARD_SECRET_KEY", SECRET_KEY)], stdin)
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// A server on a free port; killed when dropped. Returns it and its `host:port`.
async fn serve(db_url: &str, data_dir: &Path) -> (tokio::process::Child, String) {
    let data = data_dir.display().to_string();
    common::serve(&["--database-url", db_url, "--data-dir", &data], &[("STEWARD_SECRET_KEY", SECRET_KEY)]).await
}

/// One HTTP/1.1 request with a raw body; the status and the raw response body.
async fn http(addr: &str, method: &str, path: &str, token: Option<&str>, body: (&str, &[u8])) -> (u16, Vec<u8>) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    let (content_type, bytes) = body;
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: {content_type}\r\n{auth}Content-Length: {}\r\n\r\n",
        bytes.len()
    );
    stream.write_all(head.as_bytes()).await.expect("send the head");
    stream.write_all(bytes).await.expect("send the body");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.expect("read the answer");
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("a header block");
    let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
    assert!(!head.contains("transfer-encoding: chunked"), "answers carry a length: {head}");
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, raw[split + 4..].to_vec())
}

async fn json_call(addr: &str, method: &str, path: &str, token: Option<&str>, body: Value) -> (u16, Value) {
    let (status, raw) = http(addr, method, path, token, ("application/json", body.to_string().as_bytes())).await;
    (status, serde_json::from_slice(&raw).unwrap_or(Value::Null))
}

fn png() -> Vec<u8> {
    let img = image::RgbImage::from_fn(64, 64, |x, y| image::Rgb([(x * 4) as u8, (y * 4) as u8, 90]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).expect("encode a PNG");
    out.into_inner()
}

#[tokio::test]
async fn two_instances_on_one_postgres_share_files() {
    let Some(pg) = steward_store::testing::postgres().await else {
        eprintln!("skipping two_instances_on_one_postgres_share_files: it needs PostgreSQL");
        return;
    };
    let (dir_a, dir_b) = (tempfile::tempdir().expect("folder A"), tempfile::tempdir().expect("folder B"));
    let o = steward(
        &[
            "--database-url",
            &pg.url,
            "--data-dir",
            &dir_a.path().display().to_string(),
            "org",
            "create",
            "--name",
            "Shared",
            "--slug",
            "shared",
            "--admin-email",
            "ada@shared.example",
            "--admin-password-stdin",
        ],
        Some(PASSWORD),
    );
    assert!(o.status.success(), "{}", text(&o));
    let (_a, a) = serve(&pg.url, dir_a.path()).await;
    let (_b, b) = serve(&pg.url, dir_b.path()).await;

    let signin = json!({ "email": "ada@shared.example", "password": PASSWORD });
    let (status, session) = json_call(&a, "POST", "/api/v1/sessions", None, signin).await;
    assert_eq!(status, 201, "{session}");
    let token = session["token"].as_str().expect("a session token").to_owned();
    let t = Some(token.as_str());

    // Uploads through A.
    let (status, logo) = http(&a, "PUT", "/api/v1/organization/logo", t, ("image/png", &png())).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&logo));
    let (status, stored_logo) = http(&a, "GET", "/api/v1/organization/logo", t, ("text/plain", b"")).await;
    assert_eq!(status, 200);
    let (status, ws) = json_call(&a, "POST", "/api/v1/workspaces", t, json!({ "name": "Client" })).await;
    assert_eq!(status, 201, "{ws}");
    let ws_id = ws["id"].as_str().expect("a workspace id").to_owned();
    let content: Vec<u8> = (0..700_000_u32).map(|i| (i * 7 % 251) as u8).collect(); // several chunks
    let upload = format!("/api/v1/workspaces/{ws_id}/media?filename=a.txt");
    let (status, media) = http(&a, "POST", &upload, t, ("text/plain", &content)).await;
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&media));
    let media: Value = serde_json::from_slice(&media).expect("the media record");
    let media_path = format!("/api/v1/workspaces/{ws_id}/media/{}", media["id"].as_str().expect("a media id"));

    // Served by B, byte for byte.
    let (status, got) = http(&b, "GET", "/api/v1/organization/logo", t, ("text/plain", b"")).await;
    assert_eq!((status, got == stored_logo), (200, true), "B serves A's logo");
    let (status, got) = http(&b, "GET", &media_path, t, ("text/plain", b"")).await;
    assert_eq!((status, got.len()), (200, content.len()));
    assert!(got == content, "B serves A's media file unchanged");
    // Nothing went to either data folder.
    assert!(!dir_a.path().join("files").exists() && !dir_b.path().join("files").exists());

    // Deleted through B: gone for A.
    assert_eq!(http(&b, "DELETE", "/api/v1/organization/logo", t, ("text/plain", b"")).await.0, 204);
    assert_eq!(http(&b, "DELETE", &media_path, t, ("text/plain", b"")).await.0, 204);
    assert_eq!(http(&a, "GET", "/api/v1/organization/logo", t, ("text/plain", b"")).await.0, 404);
    assert_eq!(http(&a, "GET", &media_path, t, ("text/plain", b"")).await.0, 404);

    // Deleting a workspace through B removes the files it still held.
    let (status, _) = http(&a, "POST", &upload, t, ("text/plain", b"second file")).await;
    assert_eq!(status, 201);
    assert_eq!(steward_store::files::keys(&pg.db).await.expect("keys").len(), 1);
    let slug = ws["slug"].as_str().expect("a slug");
    let delete = format!("/api/v1/workspaces/{ws_id}?confirm={slug}");
    assert_eq!(http(&b, "DELETE", &delete, t, ("text/plain", b"")).await.0, 204);
    assert_eq!(steward_store::files::keys(&pg.db).await.expect("keys"), Vec::<String>::new());
}

#[tokio::test]
async fn a_key_revoked_or_a_session_ended_on_one_instance_stops_on_the_other_at_once() {
    let Some(pg) = steward_store::testing::postgres().await else {
        eprintln!("skipping the revocation test: it needs PostgreSQL");
        return;
    };
    let (dir_a, dir_b) = (tempfile::tempdir().expect("folder A"), tempfile::tempdir().expect("folder B"));
    let data_a = dir_a.path().display().to_string();
    let args = ["--database-url", &pg.url, "--data-dir", &data_a, "org", "create", "--name", "Keys", "--slug", "keys"];
    let o = steward(
        &[&args[..], &["--admin-email", "ada@keys.example", "--admin-password-stdin"]].concat(),
        Some(PASSWORD),
    );
    assert!(o.status.success(), "{}", text(&o));
    let (_a, a) = serve(&pg.url, dir_a.path()).await;
    let (_b, b) = serve(&pg.url, dir_b.path()).await;
    let signin = json!({ "email": "ada@keys.example", "password": PASSWORD });
    let (_, session) = json_call(&a, "POST", "/api/v1/sessions", None, signin.clone()).await;
    let admin = session["token"].as_str().expect("a session token").to_owned();
    let (status, key) =
        json_call(&a, "POST", "/api/v1/api-keys", Some(&admin), json!({ "name": "svc", "scopes": ["read"] })).await;
    assert_eq!(status, 201, "{key}");
    let secret = key["secret"].as_str().expect("the key").to_owned();
    let key_id = key["api_key"]["id"].as_str().expect("its id").to_owned();
    // B has the key in memory after using it a few times.
    for _ in 0..3 {
        assert_eq!(json_call(&b, "GET", "/api/v1/me", Some(&secret), Value::Null).await.0, 200);
    }
    let (status, _) = json_call(&a, "DELETE", &format!("/api/v1/api-keys/{key_id}"), Some(&admin), Value::Null).await;
    assert_eq!(status, 204);
    // Revoked through A: B refuses it within moments (the notice crosses the database).
    let mut refused_after = None;
    for attempt in 0..50 {
        if json_call(&b, "GET", "/api/v1/me", Some(&secret), Value::Null).await.0 == 401 {
            refused_after = Some(attempt);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(refused_after.is_some_and(|n| n < 10), "B refused the revoked key after {refused_after:?} tries");
    assert_eq!(json_call(&a, "GET", "/api/v1/me", Some(&secret), Value::Null).await.0, 401);

    // A session signed out through A is over on B at the next request.
    let (_, other) = json_call(&a, "POST", "/api/v1/sessions", None, signin).await;
    let other = other["token"].as_str().expect("a session token").to_owned();
    assert_eq!(json_call(&b, "GET", "/api/v1/me", Some(&other), Value::Null).await.0, 200);
    assert_eq!(json_call(&a, "DELETE", "/api/v1/sessions/current", Some(&other), Value::Null).await.0, 204);
    assert_eq!(json_call(&b, "GET", "/api/v1/me", Some(&other), Value::Null).await.0, 401);
}

#[tokio::test]
async fn files_migrate_copies_local_files_into_the_database() {
    let dir = tempfile::tempdir().expect("a folder");
    let data = dir.path().display().to_string();
    let o = steward(&["--data-dir", &data, "migrate"], None);
    assert!(o.status.success(), "{}", text(&o));
    // Files as the local backend keeps them: <data_dir>/files/<key>.
    let files = dir.path().join("files");
    std::fs::create_dir_all(files.join("logos")).expect("logos folder");
    std::fs::create_dir_all(files.join("media/org_a/ws_b")).expect("media folder");
    std::fs::write(files.join("logos/org_a.png"), b"logo bytes").expect("a logo");
    let big: Vec<u8> = (0..600_000_u32).map(|i| (i % 253) as u8).collect();
    std::fs::write(files.join("media/org_a/ws_b/med_c"), &big).expect("a media file");

    for _ in 0..2 {
        let o = steward(&["--data-dir", &data, "files", "migrate", "--to", "database"], None);
        assert!(o.status.success(), "{}", text(&o));
        assert!(text(&o).contains("Copied 2 files (600010 bytes) from local to database"), "{}", text(&o));
        assert!(text(&o).contains("STEWARD_FILE_STORAGE=database"), "{}", text(&o));
    }
    assert!(files.join("logos/org_a.png").exists(), "the source stays");

    let db = steward_store::Db::connect(&steward_store::db::sqlite_url(dir.path())).await.expect("open SQLite");
    let through_db = steward_server::Files::database(db.clone());
    assert_eq!(through_db.keys().await.expect("keys"), vec!["logos/org_a.png", "media/org_a/ws_b/med_c"]);
    assert_eq!(through_db.get("media/org_a/ws_b/med_c").await.expect("get"), Some(big));
    db.close().await;

    // And back: into an empty folder.
    std::fs::remove_dir_all(&files).expect("clear the folder");
    let o = steward(&["--data-dir", &data, "files", "migrate", "--to", "local"], None);
    assert!(o.status.success() && text(&o).contains("Copied 2 files"), "{}", text(&o));
    assert_eq!(std::fs::read(files.join("logos/org_a.png")).expect("copied back"), b"logo bytes");

    let o = steward(&["--data-dir", &data, "files", "migrate", "--to", "s3"], None);
    assert!(!o.status.success(), "{}", text(&o));
}

#[test]
fn an_unknown_file_storage_stops_the_server_naming_the_setting() {
    let dir = tempfile::tempdir().expect("a folder");
    let o = Command::new(BIN)
        .args(["--data-dir", &dir.path().display().to_string(), "serve", "--listen", "127.0.0.1:0"])
        .env_remove("STEWARD_DATABASE_URL")
        .env("STEWARD_FILE_STORAGE", "s3")
        .output()
        .expect("run steward");
    assert!(!o.status.success());
    assert!(text(&o).contains("file_storage: `s3`"), "{}", text(&o));
}

#[test]
fn help_describes_files_migrate() {
    let o = steward(&["--help"], None);
    assert!(o.status.success() && text(&o).contains("files"), "{}", text(&o));
    let o = steward(&["files", "migrate", "--help"], None);
    assert!(text(&o).contains("--to") && text(&o).contains("database") && text(&o).contains("local"), "{}", text(&o));
}
