//! Mail over TLS, as an operator configures it: `steward org create` posts
//! the set-password letter, a `steward worker` process sends it to aiosmtpd
//! with implicit TLS (`smtps://`) or STARTTLS (`smtp://…?tls=required`),
//! checking the server's certificate against the roots it was given
//! (`SSL_CERT_FILE`, read by rustls-native-certs); an untrusted certificate
//! sends nothing and leaves a retrying job that says why. One engine: this is
//! about the transport; the mail job is tested on both engines in the server.

#[path = "../../server/tests/common/smtp.rs"]
mod smtp;

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use smtp::Smtp;

const BIN: &str = env!("CARGO_BIN_EXE_steward");

fn openssl(dir: &Path, args: &[&str]) {
    let o = Command::new("openssl").current_dir(dir).args(args).output().expect("run openssl");
    assert!(o.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&o.stderr));
}

/// A test CA (`ca.pem`), a certificate for `localhost` it signed (`leaf.pem`,
/// `leaf.key`), and a CA that signed nothing (`other.pem`).
fn certificates(dir: &Path) -> bool {
    if Command::new("openssl").arg("version").output().is_err() {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "openssl is needed under CI=true");
        eprintln!("skipping: openssl is not installed");
        return false;
    }
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    let ca = ["req", "-x509", "-days", "2", "-subj", "/CN=Steward Test CA", "-keyout", "ca.key", "-out", "ca.pem"];
    openssl(dir, &[&ca[..], &ec[..]].concat());
    let other = ["req", "-x509", "-days", "2", "-subj", "/CN=Another CA", "-keyout", "other.key", "-out", "other.pem"];
    openssl(dir, &[&other[..], &ec[..]].concat());
    let csr = ["req", "-subj", "/CN=localhost", "-keyout", "leaf.key", "-out", "leaf.csr"];
    openssl(dir, &[&csr[..], &ec[..]].concat());
    std::fs::write(
        dir.join("leaf.ext"),
        "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "leaf.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "leaf.ext",
            "-out",
            "leaf.pem",
        ],
    );
    true
}

fn steward(data: &Path, smtp_url: &str, roots: Option<&Path>, args: &[&str]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.arg("--data-dir")
        .arg(data)
        .args(args)
        .env_remove("STEWARD_DATABASE_URL")
        .env_remove("SSL_CERT_DIR")
        .env("STEWARD_SMTP_URL", smtp_url)
        .env("STEWARD_MAIL_FROM", "Steward <steward@steward.test>")
        .env("STEWARD_METRICS_LISTEN", "off")
        .env("STEWARD_LOG", "warn");
    match roots {
        Some(ca) => cmd.env("SSL_CERT_FILE", ca),
        None => cmd.env_remove("SSL_CERT_FILE"),
    };
    cmd
}

fn run(mut cmd: Command) -> Output {
    let o = cmd.stdin(Stdio::null()).output().expect("run steward");
    assert!(o.status.success(), "{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    o
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn worker(data: &Path, smtp_url: &str, roots: Option<&Path>) -> Killed {
    let child = steward(data, smtp_url, roots, &["worker", "--concurrency", "1"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start steward worker");
    Killed(child)
}

fn wait_for<T>(secs: u64, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let begun = Instant::now();
    while begun.elapsed() < Duration::from_secs(secs) {
        if let Some(v) = f() {
            return Some(v);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    None
}

/// Creates an organization whose admin is mailed, runs a worker trusting
/// `roots`, and returns what the server received within a few seconds.
fn send_set_password(data: &Path, server: &Smtp, smtp_url: &str, roots: Option<&Path>) -> Option<Vec<u8>> {
    run(steward(
        data,
        smtp_url,
        roots,
        &["org", "create", "--name", "Initech", "--admin-email", "bill@initech.example"],
    ));
    let _worker = worker(data, smtp_url, roots);
    wait_for(15, || server.received().into_iter().next())
}

#[test]
fn mail_goes_over_implicit_tls_and_starttls_and_not_to_an_untrusted_server() {
    let dir = tempfile::tempdir().unwrap();
    if !certificates(dir.path()) {
        return;
    }
    let (cert, key) = (dir.path().join("leaf.pem"), dir.path().join("leaf.key"));
    let (cert, key) = (cert.to_str().unwrap(), key.to_str().unwrap());
    let ca = dir.path().join("ca.pem");

    let port = smtp::free_port();
    let Some(smtps) = Smtp::start_with(port, &["--smtpscert", cert, "--smtpskey", key]) else { return };
    let url = format!("smtps://localhost:{port}");
    let got = send_set_password(&dir.path().join("a"), &smtps, &url, Some(&ca)).expect("delivered over smtps://");
    let m = mail_parser::MessageParser::default().parse(&got).unwrap();
    assert_eq!(m.subject(), Some("Set your password for Initech on Steward"));

    let port = smtp::free_port();
    let Some(starttls) = Smtp::start_with(port, &["--tlscert", cert, "--tlskey", key]) else { return };
    let url = format!("smtp://localhost:{port}?tls=required");
    let got = send_set_password(&dir.path().join("b"), &starttls, &url, Some(&ca)).expect("delivered with STARTTLS");
    assert!(String::from_utf8_lossy(&got).contains("bill@initech.example"));

    // The same kind of server, trusting only a CA that did not sign its
    // certificate: nothing is sent, and the job waits for a retry saying why.
    let port = smtp::free_port();
    let Some(untrusted) = Smtp::start_with(port, &["--smtpscert", cert, "--smtpskey", key]) else { return };
    let url = format!("smtps://localhost:{port}");
    let data = dir.path().join("c");
    let system_roots = dir.path().join("other.pem");
    run(steward(
        &data,
        &url,
        Some(&system_roots),
        &["org", "create", "--name", "Initech", "--admin-email", "b@i.example"],
    ));
    let _worker = worker(&data, &url, Some(&system_roots));
    let listed = wait_for(15, || {
        let o = run(steward(&data, &url, None, &["jobs", "list", "--kind", "mail"]));
        let t = String::from_utf8_lossy(&o.stdout).into_owned();
        t.contains("failed").then_some(t)
    })
    .expect("the mail job failed its first attempt");
    assert!(listed.to_lowercase().contains("certificate"), "the error names the certificate: {listed}");
    assert!(untrusted.received().is_empty());
}
