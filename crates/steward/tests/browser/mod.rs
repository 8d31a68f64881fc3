//! A real browser for console tests: the `steward` binary on a fresh SQLite
//! data dir, Debian's chromedriver, and headless Chromium, driven through
//! fantoccini.
//!
//! `start()` returns `None` (the test skips) when Chromium is not installed,
//! except under `CI=true`, where a missing browser must fail loudly rather
//! than let every browser test pass without running.
//!
//! Helpers panic with the selector and page in the message, so a failing test
//! reads like a failing assertion.

// Each test binary includes this module and uses its own subset of helpers.
#![allow(dead_code)]

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;
use tempfile::TempDir;
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

const STEWARD: &str = env!("CARGO_BIN_EXE_steward");
const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// How long to wait for a process to start or an element to appear (generous:
/// CI machines have two cores).
const WAIT: Duration = Duration::from_secs(20);

/// One browser at a time: several Chromiums on two cores make timing flaky.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

pub struct Browser {
    pub client: Client,
    base: String,
    /// The one-time token from the server's setup link.
    pub setup_token: String,
    // Declared last so the processes outlive the client when dropped.
    processes: Processes,
    /// Held for the test's whole run; released on drop, even after a panic.
    _turn: tokio::sync::MutexGuard<'static, ()>,
}

/// Starts a fresh Steward and browser. `None` means "skip this test".
pub async fn start() -> Option<Browser> {
    if let Some(missing) = [CHROMIUM, CHROMEDRIVER].into_iter().find(|p| !Path::new(p).exists()) {
        let why = format!("{missing} is missing; install it with `apt-get install -y chromium chromium-driver`");
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("browser tests cannot run: {why}");
        }
        eprintln!("skipping browser test: {why}");
        return None;
    }
    let turn = ONE_AT_A_TIME.lock().await;
    let dir = tempfile::tempdir().expect("create a temp dir");
    let mut processes = Processes { server: None, driver: None, dir };
    let (base, setup_token) = start_steward(&mut processes).await;
    let driver_url = start_chromedriver(&mut processes).await;

    let profile = processes.dir.path().join("profile");
    let capabilities = json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": CHROMIUM,
            "args": [
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                // The network is closed except loopback: without these Chromium
                // keeps trying to reach Google services and slows down.
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-quic",
                // Debian's launcher means to add this when /dev/shm is small, but
                // its check breaks when /dev/shm is mounted twice (containers).
                "--disable-dev-shm-usage",
                format!("--user-data-dir={}", profile.display()),
                "--window-size=1280,900",
            ],
        },
    });
    let serde_json::Value::Object(capabilities) = capabilities else { unreachable!() };
    // Plain HTTP: chromedriver listens on 127.0.0.1, so no TLS stack is needed.
    let client = ClientBuilder::new(HttpConnector::new())
        .capabilities(capabilities)
        .connect(&driver_url)
        .await
        .unwrap_or_else(|e| panic!("chromedriver could not start Chromium: {e}"));
    Some(Browser { client, base, setup_token, processes, _turn: turn })
}

impl Browser {
    /// The server's base URL, e.g. `http://127.0.0.1:41234`, for direct HTTP calls.
    pub fn api(&self) -> String {
        self.base.clone()
    }

    /// Completes the setup page: Acme Agency (`acme-agency`) and its Super
    /// Admin Ada Admin, ada@acme.example, signed in.
    pub async fn set_up_acme(&self, password: &str) {
        self.goto(&format!("/setup?token={}", self.setup_token)).await;
        self.fill("input[name=organization_name]", "Acme Agency").await;
        self.fill("input[name=admin_name]", "Ada Admin").await;
        self.fill("input[name=admin_email]", "ada@acme.example").await;
        self.fill("input[name=admin_password]", password).await;
        self.click("button[type=submit]").await;
        self.wait_text("h1", "Your organization is ready").await;
    }

    /// Runs a `steward` command (e.g. `demo seed`) on the server's data folder.
    pub fn steward(&self, args: &[&str]) -> String {
        let o = std::process::Command::new(STEWARD)
            .arg("--data-dir")
            .arg(self.processes.dir.path().join("data"))
            .args(args)
            .env_remove("STEWARD_DATABASE_URL")
            .current_dir(self.processes.dir.path())
            .output()
            .unwrap_or_else(|e| panic!("run steward {args:?}: {e}"));
        let out = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
        assert!(o.status.success(), "steward {args:?}: {out}");
        out
    }

    /// Runs a script in the page and returns what it returns.
    pub async fn eval(&self, script: &str) -> serde_json::Value {
        match self.client.execute(script, vec![]).await {
            Ok(v) => v,
            Err(e) => panic!("run a script on {}: {e}", self.current_path().await),
        }
    }

    /// Opens a path on the server, e.g. `/setup?token=…`, and waits for the page to load.
    pub async fn goto(&self, path: &str) {
        let url = format!("{}{path}", self.base);
        self.client.goto(&url).await.unwrap_or_else(|e| panic!("open {url}: {e}"));
    }

    /// Replaces the value of a form field.
    pub async fn fill(&self, css: &str, value: &str) {
        let field = self.find(css).await;
        field.clear().await.unwrap_or_else(|e| panic!("clear `{css}`: {e}"));
        field.send_keys(value).await.unwrap_or_else(|e| panic!("type into `{css}`: {e}"));
    }

    /// Clicks an element; a click that submits a form waits for the next page.
    pub async fn click(&self, css: &str) {
        self.find(css).await.click().await.unwrap_or_else(|e| panic!("click `{css}`: {e}"));
    }

    /// The visible text of an element.
    pub async fn text(&self, css: &str) -> String {
        self.find(css).await.text().await.unwrap_or_else(|e| panic!("read the text of `{css}`: {e}"))
    }

    /// The current value of a form field (what the user would see in it).
    pub async fn value(&self, css: &str) -> String {
        let prop = self.find(css).await.prop("value").await;
        prop.unwrap_or_else(|e| panic!("read the value of `{css}`: {e}")).unwrap_or_default()
    }

    pub async fn exists(&self, css: &str) -> bool {
        let found = self.client.find_all(Locator::Css(css)).await;
        !found.unwrap_or_else(|e| panic!("look for `{css}`: {e}")).is_empty()
    }

    /// Waits up to 20 s for an element, for pages that change after load.
    pub async fn wait_for(&self, css: &str) {
        let found = self.client.wait().at_most(WAIT).every(Duration::from_millis(100)).for_element(Locator::Css(css));
        if let Err(e) = found.await {
            panic!("`{css}` did not appear within {WAIT:?} on {}: {e}", self.current_path().await);
        }
    }

    /// The path of the page shown, without the query string.
    /// Waits until the page is `path`: after a click that navigates, the old
    /// page may still be showing for a moment.
    pub async fn wait_path(&self, path: &str) {
        let deadline = tokio::time::Instant::now() + WAIT;
        while self.current_path().await != path {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the page did not become {path}; it is {}",
                self.current_path().await
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The element's text now, or nothing: the page may be replaced between
    /// finding the element and reading it (a navigation still under way),
    /// which is "not yet" to a caller that waits, not a failure.
    pub async fn text_now(&self, css: &str) -> String {
        match self.client.find(Locator::Css(css)).await {
            Ok(el) => el.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    /// Waits until an element shows `text` (after a navigation or a change).
    pub async fn wait_text(&self, css: &str, text: &str) {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            if self.text_now(css).await.contains(text) {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "`{css}` never said {text:?} on {}",
                self.current_path().await
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn current_path(&self) -> String {
        let url = self.client.current_url().await.unwrap_or_else(|e| panic!("read the current URL: {e}"));
        url.path().to_owned()
    }

    /// The HTTP status of the page shown. WebDriver has no call for it, but
    /// Chromium exposes it in the Navigation Timing entry.
    pub async fn status(&self) -> u16 {
        let script = "return performance.getEntriesByType('navigation')[0].responseStatus";
        let status = self.client.execute(script, vec![]).await.unwrap_or_else(|e| panic!("read the status: {e}"));
        status.as_u64().and_then(|s| u16::try_from(s).ok()).unwrap_or_else(|| panic!("no HTTP status: {status}"))
    }

    /// Saves a PNG of the window to `target/screenshots/<name>.png`, and to
    /// `docs/screenshots/` when `STEWARD_UPDATE_SCREENSHOTS=1`, so the
    /// documentation's pictures are refreshed deliberately, never by accident.
    pub async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.unwrap_or_else(|e| panic!("take screenshot {name}: {e}"));
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).ancestors().nth(2).expect("the workspace root");
        let mut dirs = vec![root.join("target/screenshots")];
        if std::env::var("STEWARD_UPDATE_SCREENSHOTS").is_ok_and(|v| v == "1") {
            dirs.push(root.join("docs/screenshots"));
        }
        for dir in dirs {
            let path = dir.join(format!("{name}.png"));
            std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, &png)).unwrap_or_else(|e| {
                panic!("write {}: {e}", path.display());
            });
        }
    }

    /// Ends the WebDriver session so Chromium quits cleanly, then stops the
    /// processes. Dropping a `Browser` also stops them, just less politely.
    pub async fn close(self) {
        let Browser { client, mut processes, _turn, .. } = self;
        if let Err(e) = client.close().await {
            eprintln!("closing the browser session failed: {e}");
        }
        // Wait for the server to exit so it is reaped, not left a zombie.
        if let Some(server) = &mut processes.server {
            let _ = server.kill().await;
        }
        drop(processes);
        drop(_turn);
    }

    async fn find(&self, css: &str) -> Element {
        match self.client.find(Locator::Css(css)).await {
            Ok(element) => element,
            Err(e) => panic!("no element matches `{css}` on {}: {e}", self.current_path().await),
        }
    }
}

/// The child processes and their scratch directory (Steward's data dir,
/// Chromium's profile, HOME and TMPDIR), removed when dropped.
struct Processes {
    server: Option<Child>,
    driver: Option<Child>,
    dir: TempDir,
}

impl Drop for Processes {
    fn drop(&mut self) {
        // Chromium is chromedriver's child: killing chromedriver alone (what
        // kill_on_drop does) would orphan it. chromedriver leads its own
        // process group, so one signal to the group stops the whole browser.
        if let Some(driver) = &mut self.driver
            && let Some(pid) = driver.id()
        {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", "--", &format!("-{pid}")])
                .stderr(Stdio::null())
                .status();
            // Reap it, and give the group a moment to die before the
            // profile directory is removed underneath it.
            for _ in 0..100 {
                if driver.try_wait().is_ok_and(|status| status.is_some()) {
                    break;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        if let Some(server) = &mut self.server {
            let _ = server.start_kill();
        }
    }
}

/// Starts `steward serve` on a free port and reads its base URL and setup
/// token from stdout, as an operator would.
async fn start_steward(processes: &mut Processes) -> (String, String) {
    let data = processes.dir.path().join("data");
    let mut cmd = Command::new(STEWARD);
    cmd.arg("--data-dir").arg(&data).args(["serve", "--listen", "127.0.0.1:0"]);
    // A developer's own settings must not leak in: no database URL, no
    // steward.toml from the working directory.
    cmd.env_remove("STEWARD_DATABASE_URL").current_dir(processes.dir.path());
    // Tests run servers side by side; the default metrics port fits one.
    cmd.env("STEWARD_METRICS_LISTEN", "off");
    // Webhook receivers in these tests listen on 127.0.0.1 over plain HTTP.
    cmd.env("STEWARD_WEBHOOKS_ALLOW_PRIVATE", "true");
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("start {STEWARD}: {e}"));
    let mut lines = BufReader::new(child.stdout.take().expect("piped stdout")).lines();
    processes.server = Some(child);

    let (mut base, mut token) = (String::new(), String::new());
    while token.is_empty() {
        let line = next_line(&mut lines, "Steward to print its setup link").await;
        if let Some(rest) = line.strip_prefix("Steward is running on ") {
            base = rest.split(' ').next().unwrap_or_default().to_owned();
        }
        if let Some((_, t)) = line.split_once("/setup?token=") {
            token = t.trim().to_owned();
        }
    }
    assert!(base.starts_with("http://127.0.0.1:"), "unexpected server address: {base}");
    drain(lines);
    (base, token)
}

/// Starts chromedriver on a port of its choosing and returns its URL.
async fn start_chromedriver(processes: &mut Processes) -> String {
    let home = processes.dir.path().join("home");
    let tmp = processes.dir.path().join("tmp");
    for dir in [&home, &tmp] {
        std::fs::create_dir_all(dir).expect("create a scratch dir");
    }
    let mut child = Command::new(CHROMEDRIVER)
        // Port 0: chromedriver binds a free port and prints it, so there is
        // no window for another process to take it.
        .arg("--port=0")
        // Chromium writes crash-report databases under HOME and scratch
        // directories under TMPDIR; keep both inside the temp dir.
        .env("HOME", &home)
        .env("TMPDIR", &tmp)
        .process_group(0)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("start {CHROMEDRIVER}: {e}"));
    let mut lines = BufReader::new(child.stdout.take().expect("piped stdout")).lines();
    processes.driver = Some(child);

    // "ChromeDriver was started successfully on port 43567." is printed once
    // the port is listening.
    let port = loop {
        let line = next_line(&mut lines, "chromedriver to start").await;
        if let Some(rest) = line.split_once("started successfully on port ").map(|(_, rest)| rest) {
            break rest.trim_end_matches('.').trim().to_owned();
        }
    };
    drain(lines);
    format!("http://127.0.0.1:{port}")
}

async fn next_line(lines: &mut Lines<BufReader<ChildStdout>>, waiting_for: &str) -> String {
    match tokio::time::timeout(WAIT, lines.next_line()).await {
        Ok(Ok(Some(line))) => line,
        Ok(Ok(None)) => panic!("the process exited while waiting for {waiting_for}"),
        Ok(Err(e)) => panic!("reading stdout while waiting for {waiting_for}: {e}"),
        Err(_) => panic!("timed out after {WAIT:?} waiting for {waiting_for}"),
    }
}

/// Keeps reading a child's stdout: a closed pipe would kill (or fail) the
/// child the next time it prints.
fn drain(mut lines: Lines<BufReader<ChildStdout>>) {
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
}
