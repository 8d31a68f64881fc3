//! Running the `steward` binary as an operator would: a command, or a server
//! on a free port. Shared by the tests that need the real process.
#![allow(dead_code)] // each test file uses its own part

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};

pub const BIN: &str = env!("CARGO_BIN_EXE_steward");

/// A developer's own settings must not leak into a test's processes.
const CLEARED: [&str; 2] = ["STEWARD_DATABASE_URL", "STEWARD_FILE_STORAGE"];

/// Runs `steward args…` with `envs`, feeding `stdin`, and waits for it.
pub fn steward(args: &[&str], envs: &[(&str, &str)], stdin: Option<&str>) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args).envs(envs.iter().copied());
    for name in CLEARED {
        cmd.env_remove(name);
    }
    let mut child =
        cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("run steward");
    if let Some(input) = stdin {
        child.stdin.take().expect("stdin").write_all(input.as_bytes()).expect("write to stdin");
    }
    drop(child.stdin.take());
    child.wait_with_output().expect("steward finishes")
}

/// `steward args… serve` on a free port, killed when dropped, and its `host:port`.
pub async fn serve(args: &[&str], envs: &[(&str, &str)]) -> (tokio::process::Child, String) {
    let mut cmd = tokio::process::Command::new(BIN);
    cmd.args(args).args(["serve", "--listen", "127.0.0.1:0"]).envs(envs.iter().copied());
    for name in CLEARED {
        cmd.env_remove(name);
    }
    // Tests run servers side by side; the default metrics port fits one.
    cmd.env("STEWARD_METRICS_LISTEN", "off");
    let mut child =
        cmd.stdout(Stdio::piped()).stderr(Stdio::null()).kill_on_drop(true).spawn().expect("start the server");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let line = tokio::time::timeout_at(deadline, lines.next_line())
            .await
            .expect("the server says where it listens in time")
            .expect("read its output")
            .expect("a line before it exits");
        if let Some(rest) = line.strip_prefix("Steward is running on http://") {
            let addr = rest.split(' ').next().expect("an address").to_owned();
            // Keep reading its output so the server never blocks on a full pipe.
            tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
            return (child, addr);
        }
    }
}
