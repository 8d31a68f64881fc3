//! Running in production, with real processes: `/metrics` on its own
//! listener and never on the public one, JSON log lines that carry the request
//! id, a bad `metrics_listen` refused by name, and PostgreSQL going away while
//! serving (a TCP proxy inside the test is cut and restored; the machine's own
//! PostgreSQL is never stopped): `503 database_unavailable` within 2 s, then
//! service again without a restart, and nothing half-written.

#[path = "../../server/tests/common/prometheus.rs"]
mod prometheus;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

const BIN: &str = env!("CARGO_BIN_EXE_steward");
const PASSWORD: &str = "correct horse battery staple";

/// A running `steward serve`: its addresses and every line it printed so far.
struct Server {
    _child: tokio::process::Child,
    addr: String,
    metrics: String,
    lines: Arc<Mutex<Vec<String>>>,
}

async fn serve(db_args: &[String]) -> Server {
    let mut child = tokio::process::Command::new(BIN)
        .args(db_args)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env_remove("STEWARD_DATABASE_URL")
        .env("STEWARD_METRICS_LISTEN", "127.0.0.1:0")
        .env("STEWARD_LOG_FORMAT", "json")
        .env("STEWARD_LOG", "info")
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start the server");
    let mut reader = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let (mut addr, mut metrics) = (String::new(), String::new());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while addr.is_empty() || metrics.is_empty() {
        let line = tokio::time::timeout_at(deadline, reader.next_line())
            .await
            .expect("the server says where it listens in time")
            .expect("read its output")
            .expect("a line before it exits");
        if let Some(rest) = line.strip_prefix("Steward is running on http://") {
            addr = rest.split(' ').next().expect("an address").to_owned();
        }
        if let Some(rest) = line.strip_prefix("Metrics: http://") {
            metrics = rest.trim_end_matches("/metrics").to_owned();
        }
    }
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = lines.clone();
    // Keep reading, so the server never blocks on a full pipe.
    tokio::spawn(async move {
        while let Ok(Some(line)) = reader.next_line().await {
            sink.lock().expect("lines").push(line);
        }
    });
    Server { _child: child, addr, metrics, lines }
}

struct Answer {
    status: u16,
    headers: HashMap<String, String>,
    body: String,
    took: Duration,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
    fn header(&self, name: &str) -> &str {
        self.headers.get(name).map(String::as_str).unwrap_or("")
    }
}

/// One HTTP/1.1 request; gives up after 10 s.
async fn http(addr: &str, method: &str, path: &str, token: Option<&str>, body: Option<Value>) -> Answer {
    let started = Instant::now();
    let exchange = async {
        let mut stream = TcpStream::connect(addr).await.expect("connect");
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
        let req = format!(
            "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/json\r\n{auth}Content-Length: {}\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(req.as_bytes()).await.expect("send");
        let mut raw = String::new();
        stream.read_to_string(&mut raw).await.expect("read");
        raw
    };
    let raw = tokio::time::timeout(Duration::from_secs(10), exchange).await.expect("an answer within 10 s");
    let took = started.elapsed();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let mut head_lines = head.lines();
    let status = head_lines.next().and_then(|l| l.split(' ').nth(1)).and_then(|s| s.parse().ok()).unwrap_or(0);
    let headers = head_lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Answer { status, headers, body: body.to_owned(), took }
}

async fn scrape(server: &Server) -> Vec<prometheus::Sample> {
    let r = http(&server.metrics, "GET", "/metrics", None, None).await;
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").starts_with("text/plain; version=0.0.4"), "{}", r.header("content-type"));
    prometheus::parse(&r.body).unwrap_or_else(|e| panic!("{e}\n{}", r.body))
}

/// The JSON log lines printed so far.
fn logs(server: &Server) -> Vec<Value> {
    server.lines.lock().expect("lines").iter().filter_map(|l| serde_json::from_str(l).ok()).collect()
}

#[tokio::test]
async fn metrics_are_apart_from_the_public_listener_and_logs_are_json_lines() {
    let dir = tempfile::tempdir().expect("a folder");
    let server = serve(&["--data-dir".into(), dir.path().display().to_string()]).await;

    let public = http(&server.addr, "GET", "/metrics", None, None).await;
    assert_eq!(public.status, 404, "the public listener serves no metrics");
    let health = http(&server.addr, "GET", "/healthz", None, None).await;
    assert_eq!(health.status, 200);
    let id = health.header("x-request-id").to_owned();
    assert!(id.starts_with("req_"), "{id}");

    let samples = scrape(&server).await;
    let healthz = [("method", "GET"), ("route", "/healthz"), ("status", "200")];
    assert_eq!(prometheus::value(&samples, "steward_http_requests_total", &healthz), Some(1.0));
    let idle = prometheus::value(&samples, "steward_db_pool_connections", &[("state", "idle")]);
    assert!(idle.is_some(), "pool gauges are there");

    // Every request is logged once, as one JSON object with its id.
    let deadline = Instant::now() + Duration::from_secs(5);
    let line = loop {
        let found = logs(&server).into_iter().filter(|l| l["request_id"] == id.as_str()).collect::<Vec<_>>();
        if !found.is_empty() || Instant::now() > deadline {
            break found;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(line.len(), 1, "one line per request: {line:?}");
    let l = &line[0];
    assert_eq!(
        (l["message"].as_str(), l["method"].as_str(), l["route"].as_str()),
        (Some("request"), Some("GET"), Some("/healthz"))
    );
    assert_eq!(l["status"], 200);
    assert!(l["duration_ms"].is_number() && l["level"] == "INFO", "{l}");
}

#[test]
fn a_bad_or_taken_metrics_address_stops_the_server_naming_the_setting() {
    let dir = tempfile::tempdir().expect("a folder");
    let run = |metrics_listen: &str| {
        let o = Command::new(BIN)
            .args(["--data-dir", &dir.path().display().to_string(), "serve", "--listen", "127.0.0.1:0"])
            .env_remove("STEWARD_DATABASE_URL")
            .env("STEWARD_METRICS_LISTEN", metrics_listen)
            .output()
            .expect("run steward");
        assert!(!o.status.success(), "{metrics_listen}: refused");
        String::from_utf8_lossy(&o.stderr).into_owned()
    };
    let said = run("localhost:metrics");
    assert!(said.contains("metrics_listen: `localhost:metrics` is not an address"), "{said}");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let addr = taken.local_addr().expect("its address").to_string();
    let said = run(&addr);
    assert!(said.contains(&format!("metrics_listen: cannot listen on {addr}")), "{said}");
}

/// A TCP proxy to PostgreSQL that the test cuts and restores. Cut: every
/// proxied connection is dropped, and new ones are accepted but never
/// answered (as a network that lost the database does), so connecting hangs.
struct Proxy {
    addr: SocketAddr,
    state: Arc<Mutex<ProxyState>>,
}

#[derive(Default)]
struct ProxyState {
    cut: bool,
    links: Vec<tokio::task::AbortHandle>,
    held: Vec<TcpStream>,
}

impl Proxy {
    async fn start(upstream: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a proxy port");
        let addr = listener.local_addr().expect("its address");
        let state = Arc::new(Mutex::new(ProxyState::default()));
        let shared = state.clone();
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let mut s = shared.lock().expect("proxy state");
                if s.cut {
                    s.held.push(client);
                    continue;
                }
                let upstream = upstream.clone();
                let link = tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(&upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                s.links.push(link.abort_handle());
            }
        });
        Proxy { addr, state }
    }

    fn cut(&self) {
        let mut s = self.state.lock().expect("proxy state");
        s.cut = true;
        // Aborting a link drops both of its sockets.
        s.links.drain(..).for_each(|l| l.abort());
    }

    fn restore(&self) {
        let mut s = self.state.lock().expect("proxy state");
        s.cut = false;
        s.held.clear();
    }
}

fn steward_cli(args: &[&str], stdin: &str) {
    let mut child = Command::new(BIN)
        .args(args)
        .env_remove("STEWARD_DATABASE_URL")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run steward");
    std::io::Write::write_all(&mut child.stdin.take().expect("stdin"), stdin.as_bytes()).expect("write");
    let o = child.wait_with_output().expect("steward finishes");
    assert!(o.status.success(), "{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
}

fn data_dir_args(url: &str, dir: &Path) -> Vec<String> {
    vec!["--database-url".into(), url.into(), "--data-dir".into(), dir.display().to_string()]
}

#[tokio::test]
async fn postgres_going_away_while_serving_is_503_then_service_resumes_without_a_restart() {
    let Some(pg) = steward_store::testing::postgres().await else {
        eprintln!("skipping the database-away test: it needs PostgreSQL (STEWARD_TEST_DATABASE_URL)");
        return;
    };
    let dir = tempfile::tempdir().expect("a folder");
    let direct = data_dir_args(&pg.url, dir.path());
    let mut args: Vec<&str> = direct.iter().map(String::as_str).collect();
    args.extend(["org", "create", "--name", "Acme", "--slug", "acme", "--admin-email", "ada@acme.example"]);
    args.push("--admin-password-stdin");
    steward_cli(&args, &format!("{PASSWORD}\n"));

    let real = url::Url::parse(&pg.url).expect("the test database URL");
    let upstream = format!("{}:{}", real.host_str().expect("a host"), real.port().unwrap_or(5432));
    let proxy = Proxy::start(upstream).await;
    let mut via_proxy = real.clone();
    via_proxy.set_host(Some("127.0.0.1")).expect("a host");
    via_proxy.set_port(Some(proxy.addr.port())).expect("a port");
    let server = serve(&data_dir_args(via_proxy.as_str(), dir.path())).await;
    let addr = server.addr.as_str();

    let login = json!({ "email": "ada@acme.example", "password": PASSWORD });
    let session = http(addr, "POST", "/api/v1/sessions", None, Some(login.clone())).await;
    assert_eq!(session.status, 201, "{}", session.body);
    let token = session.json()["token"].as_str().expect("a token").to_owned();
    let token = Some(token.as_str());
    assert_eq!(http(addr, "GET", "/api/v1/organization", token, None).await.status, 200);

    proxy.cut();
    // Aborted links close their sockets on their next turn; let them.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let rename = json!({ "name": "Renamed while away" });
    let mut refused_ids = Vec::new();
    for (method, path, body, auth) in [
        ("GET", "/api/v1/organization", None, token),
        ("PATCH", "/api/v1/organization", Some(rename.clone()), token),
        ("GET", "/api/v1/organization", None, token),
        ("POST", "/api/v1/sessions", Some(login.clone()), None),
    ] {
        let r = http(addr, method, path, auth, body).await;
        eprintln!("while cut: {method} {path} answered {} in {:?}", r.status, r.took);
        assert_eq!(
            (r.status, r.json()["code"].as_str()),
            (503, Some("database_unavailable")),
            "{method} {path}: {}",
            r.body
        );
        assert!(r.took < Duration::from_secs(2), "{method} {path}: answered in {:?}", r.took);
        assert_eq!(r.header("retry-after"), "2", "{method} {path}");
        assert_eq!(r.json()["request_id"], r.header("x-request-id"), "{method} {path}");
        refused_ids.push(r.header("x-request-id").to_owned());
    }
    let ready = http(addr, "GET", "/readyz", None, None).await;
    assert_eq!((ready.status, ready.json()["code"].as_str()), (503, Some("database_unavailable")));
    assert!(ready.took < Duration::from_millis(1500), "/readyz answered in {:?}", ready.took);
    assert_eq!(http(addr, "GET", "/healthz", None, None).await.status, 200, "alive all the same");

    proxy.restore();
    let restored = Instant::now();
    let mut refused_gets = 2.0;
    loop {
        let r = http(addr, "GET", "/api/v1/organization", token, None).await;
        refused_gets += f64::from(u8::from(r.status == 503));
        if r.status == 200 {
            assert_eq!(r.json()["name"], "Acme", "the change refused while away was not half-written");
            break;
        }
        assert!(restored.elapsed() < Duration::from_secs(10), "no recovery within 10 s: {} {}", r.status, r.body);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eprintln!("restored: service again after {:?}, {refused_gets} GETs refused in all", restored.elapsed());
    assert_eq!(http(addr, "GET", "/readyz", None, None).await.status, 200);
    let renamed = http(addr, "PATCH", "/api/v1/organization", token, Some(json!({ "name": "Acme Renamed" }))).await;
    assert_eq!(renamed.status, 200, "{}", renamed.body);
    let events = http(addr, "GET", "/api/v1/audit-events?action=organization.updated", token, None).await.json();
    assert_eq!(events["data"].as_array().map(Vec::len), Some(1), "one change, the one after the return: {events}");

    // A second outage with no request during it: the pool holds several idle
    // connections that it broke. Right after an outage idle connections are
    // checked before use, so they don't each fail a request once it's over.
    let idle_now = |s: &[prometheus::Sample]| prometheus::value(s, "steward_db_pool_connections", &[("state", "idle")]);
    let mut idle = 0.0;
    for _ in 0..5 {
        let burst: Vec<_> = (0..12)
            .map(|_| {
                let (addr, token) = (addr.to_owned(), token.map(str::to_owned));
                tokio::spawn(async move { http(&addr, "GET", "/api/v1/audit-events", token.as_deref(), None).await })
            })
            .collect();
        for b in burst {
            assert_eq!(b.await.expect("a request").status, 200);
        }
        idle = idle_now(&scrape(&server).await).unwrap_or(0.0);
        if idle >= 2.0 {
            break;
        }
    }
    assert!(idle >= 2.0, "the pool grew: {idle} idle connections");
    proxy.cut();
    tokio::time::sleep(Duration::from_millis(200)).await;
    proxy.restore();
    let mut failed = 0;
    for _ in 0..idle as usize + 2 {
        let r = http(addr, "GET", "/api/v1/organization", token, None).await;
        refused_gets += f64::from(u8::from(r.status == 503));
        failed += usize::from(r.status != 200);
    }
    eprintln!("after a second outage with {idle} idle connections: {failed} request(s) failed");
    assert!(failed <= 1, "{failed} requests failed after the database was back");

    // The refusals are counted, and their log lines carry their ids.
    let samples = scrape(&server).await;
    let refused = [("method", "GET"), ("route", "/api/v1/organization"), ("status", "503")];
    assert_eq!(prometheus::value(&samples, "steward_http_requests_total", &refused), Some(refused_gets));
    let lines = logs(&server);
    for id in &refused_ids {
        assert!(lines.iter().any(|l| l["request_id"] == id.as_str() && l["status"] == 503), "a request line for {id}");
    }
    assert!(
        lines.iter().any(|l| l["message"] == "database unavailable"
            && refused_ids.iter().any(|id| l["span"]["request_id"] == id.as_str())),
        "the cause is logged under the request's id"
    );
}
