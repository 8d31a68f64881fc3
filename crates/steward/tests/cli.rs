//! The binary as an operator uses it: real processes, a real server on
//! 127.0.0.1, on SQLite and (when configured) PostgreSQL.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

const BIN: &str = env!("CARGO_BIN_EXE_steward");

fn steward(db_args: &[String], args: &[&str], stdin: Option<&str>) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(db_args)
        .args(args)
        .env_remove("STEWARD_DATABASE_URL")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("run steward");
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().expect("steward finishes")
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// `--data-dir` for SQLite; `--database-url` for PostgreSQL, with its own
/// data folder for files and the key file.
async fn database_args(dir: &Path) -> Vec<(String, Vec<String>, Option<steward_store::testing::TestDb>)> {
    let mut out = vec![("SQLite".to_owned(), vec!["--data-dir".to_owned(), dir.display().to_string()], None)];
    if let Some(pg) = steward_store::testing::postgres().await {
        let url = pg.url.clone();
        let files = dir.join("pg").display().to_string();
        out.push((
            "PostgreSQL".to_owned(),
            vec!["--database-url".to_owned(), url, "--data-dir".to_owned(), files],
            Some(pg),
        ));
    }
    out
}

/// (action, actor type, actor name) of an organization's events, oldest
/// first, read from the database the commands used.
async fn events_of(db_args: &[String], slug: &str) -> Vec<(String, String, String)> {
    let flag = |name: &str| db_args.iter().position(|a| a == name).map(|i| db_args[i + 1].clone());
    let url = match flag("--database-url") {
        Some(url) => url,
        None => steward_store::db::sqlite_url(Path::new(&flag("--data-dir").unwrap())),
    };
    let db = steward_store::Db::connect(&url).await.unwrap();
    let mut c = db.conn().await.unwrap();
    let org = steward_store::organizations::by_slug(&mut c, slug).await.unwrap().unwrap();
    let scope = steward_store::OrgScope::of(&steward_core::authz::Principal::system("test").in_org(org.id)).unwrap();
    let page = steward_core::pagination::Page { limit: 200, after: None };
    let mut events = steward_store::audit::list(&mut c, &scope, &page).await.unwrap();
    events.reverse();
    let kind = |e: &steward_store::audit::AuditEvent| e.actor.kind.as_str().to_owned();
    events.iter().map(|e| (e.action.clone(), kind(e), e.actor.name.clone().unwrap_or_default())).collect()
}

#[test]
fn help_lists_every_command() {
    let o = steward(&[], &["--help"], None);
    assert!(o.status.success());
    let t = text(&o);
    for word in ["serve", "worker", "jobs", "migrate", "org", "api-key", "--listen", "--data-dir", "--database-url"] {
        assert!(t.contains(word), "--help mentions {word}");
    }
    let t = text(&steward(&[], &["org", "create", "--help"], None));
    assert!(t.contains("--admin-password-stdin") && t.contains("--admin-email"));
    assert!(text(&steward(&[], &["serve", "--help"], None)).contains("--no-worker"));
    assert!(text(&steward(&[], &["worker", "--help"], None)).contains("--concurrency"));
}

#[test]
fn bad_configuration_is_refused_with_the_setting_named() {
    let o = steward(&[], &["--listen", "nowhere", "migrate"], None);
    assert!(!o.status.success());
    assert!(text(&o).contains("listen: `nowhere`"), "{}", text(&o));
    let o = steward(&["--database-url".into(), "mysql://u:secret@db/x".into()], &["migrate"], None);
    assert!(!o.status.success());
    let t = text(&o);
    assert!(t.contains("database_url") && !t.contains("secret"), "the password is redacted: {t}");

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("steward.toml"), "listen = \"127.0.0.1:9\"\nlisen = \"typo\"\n").unwrap();
    let o = Command::new(BIN).current_dir(dir.path()).arg("migrate").output().unwrap();
    assert!(!o.status.success());
    assert!(text(&o).contains("lisen"), "the unknown key is named: {}", text(&o));

    // Mail settings.
    let with_env = |vars: &[(&str, &str)]| {
        let mut cmd = Command::new(BIN);
        cmd.arg("migrate").arg("--data-dir").arg(dir.path()).env_remove("STEWARD_DATABASE_URL");
        for (k, v) in vars {
            cmd.env(k, v);
        }
        text(&cmd.output().unwrap())
    };
    let t = with_env(&[("STEWARD_SMTP_URL", "http://mail.example:25"), ("STEWARD_MAIL_FROM", "s@example.com")]);
    assert!(t.contains("smtp_url: the scheme must be smtp:// or smtps://, not http://"), "{t}");
    let t = with_env(&[("STEWARD_SMTP_URL", "smtp://user:hunter2@"), ("STEWARD_MAIL_FROM", "s@example.com")]);
    assert!(t.contains("smtp_url:") && !t.contains("hunter2"), "a malformed URL is named, its password never: {t}");
    let t =
        with_env(&[("STEWARD_SMTP_URL", "smtp://mail.example:2525?tls=maybe"), ("STEWARD_MAIL_FROM", "s@example.com")]);
    assert!(t.contains("tls=maybe is not understood"), "{t}");
    let t = with_env(&[("STEWARD_SMTP_URL", "smtp://mail.example:2525")]);
    assert!(t.contains("mail_from: set the sender"), "{t}");
    let t = with_env(&[("STEWARD_MAIL_FROM", "not an address")]);
    assert!(t.contains("mail_from: `not an address` is not an email address"), "{t}");
}

/// The first `.eml` in `dir`, waiting up to `secs` for one to appear.
fn first_eml(dir: &Path, secs: u64) -> Option<Vec<u8>> {
    let begun = std::time::Instant::now();
    while begun.elapsed() < Duration::from_secs(secs) {
        let found = std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|x| x == "eml"));
        if let Some(p) = found {
            return std::fs::read(p).ok();
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

#[tokio::test]
async fn org_create_mails_the_set_password_link_through_a_worker() {
    let dir = tempfile::tempdir().unwrap();
    for (engine, db, _guard) in database_args(dir.path()).await {
        let o = steward(&db, &["org", "create", "--name", "Initech", "--admin-email", "bill@initech.example"], None);
        assert!(o.status.success(), "{engine}: {}", text(&o));
        let printed = text(&o);
        let data_dir = Path::new(&db[db.iter().position(|a| a == "--data-dir").unwrap() + 1]).to_path_buf();
        let outbox = data_dir.join("outbox");
        assert!(printed.contains(&format!("written to {}", outbox.display())), "{engine}: {printed}");
        let link = printed.lines().map(str::trim).find(|l| l.contains("/invitations/")).unwrap().to_owned();
        assert!(first_eml(&outbox, 0).is_none(), "the command only enqueues; a worker sends");

        let mut worker = Command::new(BIN)
            .args(&db)
            .args(["worker", "--concurrency", "1"])
            .env_remove("STEWARD_DATABASE_URL")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let eml = first_eml(&outbox, 30);
        let _ = worker.kill();
        let _ = worker.wait();
        let eml = eml.unwrap_or_else(|| panic!("{engine}: the worker wrote no message to {}", outbox.display()));
        let m = mail_parser::MessageParser::default().parse(&eml).expect("a parseable .eml");
        let to = m.to().and_then(|a| a.first()).and_then(|a| a.address()).unwrap_or_default().to_owned();
        assert_eq!(
            (to.as_str(), m.subject()),
            ("bill@initech.example", Some("Set your password for Initech on Steward"))
        );
        let body = m.body_text(0).unwrap_or_default().into_owned();
        assert!(body.lines().any(|l| l.trim() == link), "{engine}: the printed link is the mailed one: {body}");
        assert!(m.body_html(0).unwrap_or_default().contains(&format!("href=\"{link}\"")));
    }
}

#[tokio::test]
async fn operator_commands_on_every_engine() {
    let dir = tempfile::tempdir().unwrap();
    for (engine, db, _guard) in database_args(dir.path()).await {
        let o = steward(&db, &["migrate"], None);
        assert!(o.status.success(), "{engine}: {}", text(&o));

        let o = steward(&db, &["org", "create", "--name", "Acme Agency", "--admin-email", "ada@acme.example"], None);
        assert!(o.status.success(), "{engine}: {}", text(&o));
        let t = text(&o);
        assert!(
            t.contains("acme-agency") && t.contains("/invitations/"),
            "{engine}: without a password a set-password link is printed: {t}"
        );

        let o = steward(
            &db,
            &[
                "org",
                "create",
                "--name",
                "Globex",
                "--slug",
                "globex",
                "--admin-email",
                "gil@globex.example",
                "--admin-password-stdin",
            ],
            Some("correct horse battery staple\n"),
        );
        assert!(o.status.success(), "{engine}: {}", text(&o));
        assert!(!text(&o).contains("/invitations/"));

        let o = steward(
            &db,
            &["org", "create", "--name", "Again", "--slug", "globex", "--admin-email", "x@y.example"],
            None,
        );
        assert!(!o.status.success());
        assert!(text(&o).contains("already used"), "{engine}: {}", text(&o));
        let o = steward(
            &db,
            &["org", "create", "--name", "Weak", "--admin-email", "w@y.example", "--admin-password-stdin"],
            Some("short\n"),
        );
        assert!(
            !o.status.success() && text(&o).contains("--admin-password is shorter than 15 characters"),
            "{engine}: {}",
            text(&o)
        );

        let o = steward(&db, &["org", "list"], None);
        let t = text(&o);
        assert!(t.contains("acme-agency") && t.contains("globex") && !t.contains("weak"), "{engine}: {t}");

        let o = steward(
            &db,
            &["api-key", "create", "--org", "globex", "--name", "ci", "--scope", "admin", "--scope", "read"],
            None,
        );
        assert!(o.status.success(), "{engine}: {}", text(&o));
        assert!(text(&o).lines().any(|l| l.starts_with("stw_live_") && l.len() == 47));
        let o = steward(&db, &["audit", "verify"], None);
        assert!(o.status.success() && text(&o).contains("globex: intact"), "{engine}: {}", text(&o));
        let o = steward(&db, &["audit", "purge", "--org", "globex"], None);
        assert!(o.status.success() && text(&o).contains("purged 0 events"), "{engine}: {}", text(&o));
        let o = steward(&db, &["api-key", "create", "--org", "nope", "--name", "ci", "--scope", "admin"], None);
        assert!(!o.status.success() && text(&o).contains("organization"), "{engine}: {}", text(&o));
        // Scopes are permission names; the operator's own are not a key's to hold.
        let o = steward(&db, &["api-key", "create", "--org", "globex", "--name", "p", "--scope", "people:read"], None);
        assert!(o.status.success() && text(&o).contains("people:read"), "{engine}: {}", text(&o));
        for bad in ["operator:organizations", "people:fly"] {
            let o = steward(&db, &["api-key", "create", "--org", "globex", "--name", "x", "--scope", bad], None);
            assert!(!o.status.success() && text(&o).contains(bad), "{engine}: {}", text(&o));
        }
        // The commands acted as the operator, and the trail says so.
        let globex = events_of(&db, "globex").await;
        let by_operator = |action: &str| globex.iter().any(|(a, k, n)| a == action && k == "operator" && n == "cli");
        for action in ["organization.created", "user.created", "api_key.created"] {
            assert!(by_operator(action), "{engine}: {action} by the operator: {globex:?}");
        }

        // Credits come from the operator: granted, they are the balance.
        let grant = ["credits", "grant", "--org", "globex", "--amount", "5000", "--category", "paid"];
        let o = steward(&db, &grant, None);
        assert!(o.status.success() && text(&o).contains("the balance is now 5000"), "{engine}: {}", text(&o));
        let promo = ["credits", "grant", "--org", "globex", "--amount", "250", "--category", "promotional"];
        let o = steward(&db, &[&promo[..], &["--expires", "2099-01-01T00:00:00Z", "--priority", "10"]].concat(), None);
        assert!(o.status.success() && text(&o).contains("the balance is now 5250"), "{engine}: {}", text(&o));
        for (bad, says) in [("0", "--amount"), ("-3", "--amount")] {
            let o = steward(&db, &["credits", "grant", "--org", "globex", "--amount", bad, "--category", "paid"], None);
            assert!(!o.status.success() && text(&o).contains(says), "{engine}: {}", text(&o));
        }
        let o = steward(&db, &[&grant[..], &["--expires", "yesterday"]].concat(), None);
        assert!(!o.status.success() && text(&o).contains("--expires"), "{engine}: {}", text(&o));
        // Adjustments correct the balance either way, with a reason, never past zero.
        let adjust =
            |amount: &'static str| ["credits", "adjust", "--org", "globex", "--amount", amount, "--reason", "goodwill"];
        let o = steward(&db, &adjust("-250"), None);
        assert!(o.status.success() && text(&o).contains("the balance is now 5000"), "{engine}: {}", text(&o));
        let o = steward(&db, &adjust("100"), None);
        assert!(o.status.success() && text(&o).contains("the balance is now 5100"), "{engine}: {}", text(&o));
        let o = steward(&db, &adjust("-999999"), None);
        assert!(!o.status.success() && text(&o).contains("5100"), "{engine}: refused, the balance named: {}", text(&o));
        let o = steward(&db, &adjust("0"), None);
        assert!(!o.status.success() && text(&o).contains("--amount"), "{engine}: {}", text(&o));
        let globex = events_of(&db, "globex").await;
        assert!(globex.iter().filter(|(a, k, _)| a == "credits.granted" && k == "operator").count() == 2, "{engine}");
        assert!(globex.iter().filter(|(a, k, _)| a == "credits.adjusted" && k == "operator").count() == 2, "{engine}");

        // A demo trail: a new organization dated at its start, a chain that verifies.
        let o = steward(&db, &["demo", "audit-events", "--org", "trail", "--count", "3000", "--days", "10"], None);
        assert!(o.status.success() && text(&o).contains("Appended 3000 audit events"), "{engine}: {}", text(&o));
        assert!(text(&o).contains("admin@trail.demo sets a password here"), "{engine}: {}", text(&o));
        let o = steward(&db, &["audit", "verify", "--org", "trail"], None);
        assert!(o.status.success() && text(&o).contains("trail: intact (3002 events"), "{engine}: {}", text(&o));
        // Purging past 5 days removes about half; the operator's purge is on record.
        let o = steward(&db, &["audit", "purge", "--org", "trail", "--days", "5"], None);
        assert!(o.status.success() && !text(&o).contains("purged 0 events"), "{engine}: {}", text(&o));
        let trail = events_of(&db, "trail").await;
        let purged = trail.iter().find(|(a, _, _)| a == "audit.purged");
        assert_eq!(purged.map(|(_, k, n)| (k.as_str(), n.as_str())), Some(("operator", "cli")), "{engine}");
        // Globex has events from today, so a history before them is refused.
        let o = steward(&db, &["demo", "audit-events", "--org", "globex", "--count", "10"], None);
        assert!(!o.status.success() && text(&o).contains("never go backwards"), "{engine}: {}", text(&o));
    }
}

/// A minimal HTTP/1.1 client, so the test speaks to the real socket.
async fn http(addr: &str, method: &str, path: &str, bearer: Option<&str>, body: Option<Value>) -> (u16, Value) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let auth = bearer.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/json\r\n{auth}Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(req.as_bytes()).await.unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).await.unwrap();
    let status = raw.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = raw.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_new_user_sets_up_a_fresh_server_on_every_engine() {
    let dir = tempfile::tempdir().unwrap();
    for (engine, db, _guard) in database_args(dir.path()).await {
        let mut child = tokio::process::Command::new(BIN)
            .args(&db)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .env_remove("STEWARD_DATABASE_URL")
            .env("STEWARD_METRICS_LISTEN", "off")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start the server");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let (mut addr, mut token) = (String::new(), String::new());
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        while token.is_empty() {
            let line = tokio::time::timeout_at(deadline, lines.next_line())
                .await
                .expect("server prints its links in time")
                .unwrap()
                .expect("a line");
            if let Some(rest) = line.strip_prefix("Steward is running on http://") {
                addr = rest.split(' ').next().unwrap().to_owned();
            }
            if let Some((_, t)) = line.split_once("/setup?token=") {
                token = t.trim().to_owned();
            }
        }
        let (status, ready) = http(&addr, "GET", "/readyz", None, None).await;
        assert_eq!((status, ready["database"].as_str()), (200, Some(engine.as_str())));

        let setup = json!({ "token": token, "organization_name": "First Org", "admin_name": "Ada", "admin_email": "ada@first.example", "admin_password": "correct horse battery staple" });
        let (status, body) = http(&addr, "POST", "/api/v1/setup", None, Some(setup.clone())).await;
        assert_eq!(status, 201, "{engine}: {body}");
        assert_eq!(
            http(&addr, "POST", "/api/v1/setup", None, Some(setup)).await.0,
            409,
            "the setup link is dead after use"
        );

        let (status, session) = http(
            &addr,
            "POST",
            "/api/v1/sessions",
            None,
            Some(json!({ "email": "ada@first.example", "password": "correct horse battery staple" })),
        )
        .await;
        assert_eq!(status, 201);
        let token = session["token"].as_str().unwrap();
        let (status, org) = http(
            &addr,
            "PATCH",
            "/api/v1/organization",
            Some(token),
            Some(json!({ "website": "https://first.example" })),
        )
        .await;
        assert_eq!((status, org["website"].as_str()), (200, Some("https://first.example/")));
        let (_, events) = http(&addr, "GET", "/api/v1/audit-events", Some(token), None).await;
        let actions: Vec<&str> =
            events["data"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
        assert_eq!(actions, ["organization.updated", "session.created", "user.created", "organization.created"]);
        assert_eq!(events["data"][0]["ip"], "127.0.0.1");
        child.kill().await.ok();

        // The sealing key was made beside the data, for the owner only; an
        // instance given another key refuses this database instead of failing
        // every two-factor sign-in.
        let data_dir = std::path::PathBuf::from(&db[db.iter().position(|a| a == "--data-dir").unwrap() + 1]);
        let key_file = std::fs::metadata(data_dir.join("secret.key")).expect("secret.key was made");
        assert_eq!(std::os::unix::fs::PermissionsExt::mode(&key_file.permissions()) & 0o777, 0o600);
        let other = tokio::process::Command::new(BIN)
            .args(&db)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .env_remove("STEWARD_DATABASE_URL")
            .env("STEWARD_METRICS_LISTEN", "off")
            .env("STEWARD_SECRET_KEY", "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")
            .kill_on_drop(true)
            .output();
        let out = tokio::time::timeout(Duration::from_secs(30), other).await.expect("refused in time").unwrap();
        assert!(!out.status.success());
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(said.contains("another secret key"), "{engine}: {said}");
    }
}
