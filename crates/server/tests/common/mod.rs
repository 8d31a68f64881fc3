//! The HTTP test harness: the real application (router, use cases, store) on a
//! fresh database per engine, called in-process, with a clock tests can move.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Method, Request};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use steward_core::sealing::Sealer;
use steward_core::time::{ManualClock, Timestamp};
use steward_server::jobs::Registry;
use steward_server::jobs::worker::{Outcome, Worker, WorkerConfig};
use steward_server::mail::Mailer;
use steward_server::services::Ctx;
use steward_server::services::setup::{self, NewOrganization};
use steward_server::{AppState, ServerConfig, build_app};
use steward_store::testing::{self, TestDb};
use steward_store::{Db, Engine};
use tower::ServiceExt;

pub const PASSWORD: &str = "correct horse battery staple";

pub struct TestApp {
    pub router: Router,
    pub state: AppState,
    pub clock: ManualClock,
    pub engine: Engine,
    pub test_db: TestDb,
    pub files: tempfile::TempDir,
    /// Where the app's mail goes (`with_mailer` to send it elsewhere).
    pub outbox: tempfile::TempDir,
}

#[derive(Debug, Clone, Copy)]
pub enum Auth<'a> {
    None,
    Bearer(&'a str),
    /// The session cookie, with the CSRF header when given.
    Cookie {
        token: &'a str,
        csrf: Option<&'a str>,
    },
}

#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub text: String,
    pub json: Value,
    /// The body as sent (a file download).
    pub body: Vec<u8>,
}

impl Resp {
    pub fn code(&self) -> &str {
        self.json["code"].as_str().unwrap_or("")
    }
}

/// An organization with one of each kind of caller.
pub struct Org {
    pub id: String,
    pub slug: String,
    pub admin_id: String,
    pub admin_email: String,
    pub admin_token: String,
    pub member_id: String,
    pub member_token: String,
    pub admin_key: String,
    pub admin_key_id: String,
    pub read_key: String,
}

impl TestApp {
    /// One application per engine under test.
    pub async fn all() -> Vec<TestApp> {
        let mut out = Vec::new();
        for t in testing::all_engines().await {
            out.push(Self::on(t));
        }
        out
    }

    pub fn on(test_db: TestDb) -> TestApp {
        let clock = ManualClock::new(Timestamp::now_utc());
        let files = tempfile::tempdir().expect("a folder for files");
        let mut config = ServerConfig::new("http://steward.test");
        config.storage_dir = files.path().to_path_buf();
        // Receivers in tests listen on 127.0.0.1 over plain HTTP.
        config.webhooks_allow_private = true;
        let sealer = Sealer::from_base64(&Sealer::generate_key()).expect("a fresh key");
        let outbox = tempfile::tempdir().expect("a folder for mail");
        let mailer = Mailer::outbox(outbox.path(), "Steward <steward@steward.test>".parse().expect("an address"));
        let state =
            AppState::new(test_db.db.clone(), config, sealer).with_clock(Arc::new(clock.clone())).with_mailer(mailer);
        TestApp { router: build_app(state.clone()), state, clock, engine: test_db.engine, test_db, files, outbox }
    }

    /// The same app sending its mail with `mailer`.
    pub fn with_mailer(mut self, mailer: Mailer) -> TestApp {
        self.state = self.state.clone().with_mailer(mailer);
        self.router = build_app(self.state.clone());
        self
    }

    /// Runs every job due now on the app's clock, as a worker would; returns how each ended.
    pub async fn run_jobs(&self) -> Vec<Outcome> {
        let worker =
            Worker::new(self.state.clone(), Registry::standard(), WorkerConfig::new(8)).with_schedules(Vec::new());
        let mut outcomes = Vec::new();
        loop {
            let ran = worker.run_due().await.expect("jobs run");
            if ran.is_empty() {
                return outcomes;
            }
            outcomes.extend(ran.into_iter().map(|(_, o)| o));
        }
    }

    pub fn db(&self) -> &Db {
        &self.state.db
    }

    pub async fn call(&self, method: Method, path: &str, auth: Auth<'_>, body: Option<Value>) -> Resp {
        let body = body.map(|b| b.to_string());
        self.raw(method, path, auth, body.as_deref(), "application/json").await
    }

    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        auth: Auth<'_>,
        body: Option<&str>,
        content_type: &str,
    ) -> Resp {
        self.bytes(method, path, auth, body.map(|b| (b.as_bytes().to_vec(), content_type))).await
    }

    /// A call with any body (bytes and their content type), or none.
    pub async fn bytes(&self, method: Method, path: &str, auth: Auth<'_>, body: Option<(Vec<u8>, &str)>) -> Resp {
        // A debit needs an Idempotency-Key: the harness gives each its own
        // (a test of the key itself builds its request with `send`).
        let debit = method == Method::POST && path.starts_with("/api/v1/credits/debits") && !path.contains("/refund");
        let mut req = Request::builder().method(method).uri(path).header("user-agent", "steward-tests");
        if debit {
            req = req.header("idempotency-key", uuid::Uuid::now_v7().to_string());
        }
        match auth {
            Auth::None => {}
            Auth::Bearer(t) => req = req.header("authorization", format!("Bearer {t}")),
            Auth::Cookie { token, csrf } => {
                req = req.header("cookie", format!("steward_session={token}"));
                if let Some(c) = csrf {
                    req = req.header("x-csrf-token", c);
                }
            }
        }
        let req = match body {
            Some((b, content_type)) => req.header("content-type", content_type).body(Body::from(b)),
            None => req.body(Body::empty()),
        };
        self.send(req.expect("request")).await
    }

    /// Sends a request made by the test, from the harness's client address.
    pub async fn send(&self, mut req: Request<Body>) -> Resp {
        req.extensions_mut().insert(ConnectInfo(SocketAddr::from(([203, 0, 113, 7], 4000))));
        let res = self.router.clone().oneshot(req).await.expect("router answers");
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let bytes = res.into_body().collect().await.expect("body").to_bytes();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Resp { status, headers, text, json, body: bytes.to_vec() }
    }

    pub async fn get(&self, path: &str, auth: Auth<'_>) -> Resp {
        self.call(Method::GET, path, auth, None).await
    }

    pub async fn post(&self, path: &str, auth: Auth<'_>, body: Value) -> Resp {
        self.call(Method::POST, path, auth, Some(body)).await
    }

    pub async fn patch(&self, path: &str, auth: Auth<'_>, body: Value) -> Resp {
        self.call(Method::PATCH, path, auth, Some(body)).await
    }

    pub async fn delete(&self, path: &str, auth: Auth<'_>) -> Resp {
        self.call(Method::DELETE, path, auth, None).await
    }

    pub async fn login(&self, email: &str, password: &str) -> Resp {
        self.post("/api/v1/sessions", Auth::None, json!({ "email": email, "password": password })).await
    }

    /// Signs in from a browser that says it is `user_agent`.
    pub async fn login_from(&self, user_agent: &str, email: &str, password: &str) -> Resp {
        let body = json!({ "email": email, "password": password }).to_string();
        let req = Request::builder()
            .method(Method::POST)
            .uri("/api/v1/sessions")
            .header("user-agent", user_agent)
            .header("content-type", "application/json")
            .body(Body::from(body))
            .expect("request");
        self.send(req).await
    }

    /// The messages in the outbox, as raw bytes, in the order of their jobs
    /// (each file is named for its job's time-ordered id).
    pub fn outbox_messages(&self) -> Vec<Vec<u8>> {
        let Ok(entries) = std::fs::read_dir(self.outbox.path()) else { return Vec::new() };
        let mut files: Vec<_> =
            entries.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "eml")).collect();
        files.sort();
        files.into_iter().map(|p| std::fs::read(p).expect("a message")).collect()
    }

    /// Creates an organization with a Super Admin, a member, an admin key and a
    /// read key, all through the real use cases and routes.
    pub async fn org(&self, slug: &str) -> Org {
        let admin_email = format!("admin@{slug}.example");
        let created = setup::create(
            self.db(),
            &Ctx::operator(self.clock_now()),
            Some(&self.state.postbox()),
            NewOrganization {
                name: format!("Org {slug}"),
                slug: Some(slug.into()),
                admin_email: admin_email.clone(),
                admin_name: Some("Ada Admin".into()),
                admin_password: Some(PASSWORD.into()),
            },
            72,
        )
        .await
        .expect("create org");
        let login = self.login(&admin_email, PASSWORD).await;
        assert_eq!(login.status, 201, "{}", login.text);
        let admin_token = login.json["token"].as_str().unwrap().to_owned();

        let member_email = format!("member@{slug}.example");
        let invited = self
            .post("/api/v1/users", Auth::Bearer(&admin_token), json!({ "email": member_email, "name": "Max Member" }))
            .await;
        assert_eq!(invited.status, 201, "{}", invited.text);
        let member_id = invited.json["user"]["id"].as_str().unwrap().to_owned();
        let token = invited.json["invite_url"].as_str().unwrap().rsplit('/').next().unwrap().to_owned();
        let accepted = self
            .post(&format!("/api/v1/invitations/{token}/accept"), Auth::None, json!({ "password": PASSWORD }))
            .await;
        assert_eq!(accepted.status, 200, "{}", accepted.text);
        let member_token = self.login(&member_email, PASSWORD).await.json["token"].as_str().unwrap().to_owned();

        let k = self
            .post(
                "/api/v1/api-keys",
                Auth::Bearer(&admin_token),
                json!({ "name": "admin key", "scopes": ["admin"], "rate_limit_per_minute": 100_000 }),
            )
            .await;
        assert_eq!(k.status, 201, "{}", k.text);
        let r = self
            .post(
                "/api/v1/api-keys",
                Auth::Bearer(&admin_token),
                json!({ "name": "read key", "scopes": ["read"], "rate_limit_per_minute": 100_000 }),
            )
            .await;
        Org {
            id: created.organization.id.to_string(),
            slug: slug.into(),
            admin_id: created.admin.id.to_string(),
            admin_email,
            admin_token,
            member_id,
            member_token,
            admin_key: k.json["secret"].as_str().unwrap().to_owned(),
            admin_key_id: k.json["api_key"]["id"].as_str().unwrap().to_owned(),
            read_key: r.json["secret"].as_str().unwrap().to_owned(),
        }
    }

    pub fn clock_now(&self) -> Timestamp {
        use steward_core::time::Clock;
        self.clock.now()
    }

    /// Every audit action of an organization, oldest first (read from the store).
    pub async fn actions(&self, org_id: &str) -> Vec<String> {
        let org: steward_core::ids::OrgId = org_id.parse().unwrap();
        let principal = steward_core::authz::Principal::system("test").in_org(org);
        let org = steward_store::OrgScope::of(&principal).unwrap();
        let mut c = self.db().conn().await.unwrap();
        let page = steward_core::pagination::Page::parse(Some(200), None).unwrap();
        let mut events = steward_store::audit::list(&mut c, &org, &page).await.unwrap();
        events.reverse();
        events.into_iter().map(|e| e.action).collect()
    }
}

// Workspace fixtures shared by the workspace test files.

pub async fn create_ws(app: &TestApp, org: &Org, body: Value) -> Value {
    let r = app.post("/api/v1/workspaces", Auth::Bearer(&org.admin_token), body).await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.json
}

pub async fn add_member(app: &TestApp, org: &Org, ws: &str, user: &str, role: &str) {
    let r = app
        .call(
            Method::PUT,
            &format!("/api/v1/workspaces/{ws}/members/{user}"),
            Auth::Bearer(&org.admin_token),
            Some(json!({ "role": role })),
        )
        .await;
    assert!(r.status == 201 || r.status == 200, "{}", r.text);
}

pub async fn campaign(app: &TestApp, auth: Auth<'_>, ws: &str, name: &str, status: &str) -> String {
    let r = app
        .post(
            &format!("/api/v1/workspaces/{ws}/campaigns"),
            auth,
            json!({ "name": name, "status": status, "cost_credits": 10 }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.json["id"].as_str().unwrap().to_owned()
}

pub async fn campaign_status(app: &TestApp, org: &Org, ws: &str, id: &str) -> (String, Value) {
    let r = app.get(&format!("/api/v1/workspaces/{ws}/campaigns/{id}"), Auth::Bearer(&org.admin_token)).await;
    (r.json["status"].as_str().unwrap_or("").to_owned(), r.json["paused_by"].clone())
}

/// Grants `amount` paid credits to the organization, as the platform operator.
pub async fn grant(app: &TestApp, org: &Org, amount: i64) {
    use steward_server::services::Ctx;
    let org_id: steward_core::ids::OrgId = org.id.parse().expect("an organization id");
    let input = steward_server::services::credits::GrantRequest {
        amount,
        category: steward_core::credits::Category::Paid,
        priority: None,
        effective_at: None,
        expires_at: None,
        reason: None,
    };
    steward_server::services::credits::grant(app.db(), &Ctx::operator(app.clock_now()).in_org(&org_id), input)
        .await
        .expect("the operator grants credits");
}

/// The CSRF token of a console page, read from its hidden field.
pub fn csrf_of(html: &str) -> String {
    let at = html.find("name=\"csrf_token\" value=\"").expect("a form with a CSRF token") + 25;
    html[at..].split('"').next().unwrap().to_owned()
}
