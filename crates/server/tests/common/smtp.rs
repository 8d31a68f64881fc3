//! A real SMTP server for mail tests: aiosmtpd from PyPI, storing what it
//! receives in a Maildir. Python comes from `STEWARD_TEST_PYTHON`, else the
//! venv `.ci/run` makes (`target/test-peers/venv`), else `python3`; without
//! aiosmtpd the test skips with a reason, except under `CI=true`.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Smtp {
    pub port: u16,
    child: Child,
    maildir: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn python() -> Option<PathBuf> {
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/test-peers/venv/bin/python");
    let candidates = [std::env::var_os("STEWARD_TEST_PYTHON").map(PathBuf::from), Some(venv), Some("python3".into())];
    candidates.into_iter().flatten().find(|p| {
        Command::new(p)
            .args(["-c", "import aiosmtpd"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}

/// A port nothing listens on (yet).
pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    l.local_addr().expect("its address").port()
}

impl Smtp {
    /// aiosmtpd on a free port; `None` (the test skips) when it isn't installed.
    pub fn start() -> Option<Smtp> {
        Smtp::start_on(free_port())
    }

    pub fn start_on(port: u16) -> Option<Smtp> {
        Smtp::start_with(port, &[])
    }

    /// With more arguments for aiosmtpd: `--smtpscert C --smtpskey K` for
    /// TLS from the first byte, `--tlscert C --tlskey K` for STARTTLS.
    pub fn start_with(port: u16, args: &[&str]) -> Option<Smtp> {
        let Some(python) = python() else {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("aiosmtpd is not installed, and CI=true requires the mail tests to run (.ci/run installs it)");
            }
            eprintln!(
                "skipping: aiosmtpd is not installed (python3 -m pip install aiosmtpd==1.4.6, or set STEWARD_TEST_PYTHON)"
            );
            return None;
        };
        let dir = tempfile::tempdir().expect("a folder for the mailbox");
        // aiosmtpd makes the Maildir itself; it must not exist yet.
        let maildir = dir.path().join("Maildir");
        let child = Command::new(python)
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}"), "-c", "aiosmtpd.handlers.Mailbox"])
            .args(args)
            .arg(&maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start aiosmtpd");
        let smtp = Smtp { port, child, maildir, _dir: dir };
        let begun = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(begun.elapsed() < Duration::from_secs(20), "aiosmtpd did not start listening on {port}");
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(smtp)
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every message received so far, as raw bytes.
    pub fn received(&self) -> Vec<Vec<u8>> {
        let Ok(entries) = std::fs::read_dir(self.maildir.join("new")) else { return Vec::new() };
        let mut files: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        files.sort();
        files.iter().map(|f| std::fs::read(f).expect("a stored message")).collect()
    }
}
