//! The API document tells the truth: Schemathesis, the OpenAPI fuzzer, reads
//! the document a running `steward serve` serves and throws generated requests
//! at every operation with an admin key of a seeded organization. Every check
//! it has must pass: no server errors, only documented statuses, content types
//! and headers, responses that fit their schemas, schema-valid input accepted
//! and schema-invalid input refused, auth not ignored, 405 with `Allow` for an
//! undocumented method. What `fuzz/schemathesis.toml` relaxes says why.
//!
//! Schemathesis comes from the venv `.ci/run` makes (`target/test-peers/venv`)
//! or next to `STEWARD_TEST_PYTHON`. `STEWARD_FUZZ_EXAMPLES` and
//! `STEWARD_FUZZ_SEED` change how much it tries and from where.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

const PASSWORD: &str = "correct horse battery staple";
const DEFAULT_SEED: &str = "20261201";
const DEFAULT_EXAMPLES: &str = "25";

fn schemathesis() -> Option<PathBuf> {
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/test-peers/venv/bin/python");
    let pythons = [std::env::var_os("STEWARD_TEST_PYTHON").map(PathBuf::from), Some(venv)];
    pythons.into_iter().flatten().filter_map(|p| p.parent().map(|bin| bin.join("st"))).find(|st| {
        Command::new(st)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}

/// Runs `steward` with `args` against `db_url` and `data`, and returns its stdout.
/// With no `db_url`, the embedded default: SQLite under `data`.
fn location<'a>(db_url: Option<&'a str>, data: &'a str) -> Vec<&'a str> {
    let mut args: Vec<&str> = db_url.map(|u| vec!["--database-url", u]).unwrap_or_default();
    args.extend(["--data-dir", data]);
    args
}

/// Runs `steward` against the deployment at `at`; its stdout.
fn run(at: &[&str], args: &[&str], stdin: Option<&str>) -> String {
    let out = common::steward(&[at, args].concat(), &[], stdin);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "steward {args:?}: {text}{}", String::from_utf8_lossy(&out.stderr));
    text
}

async fn fuzz(st: &Path, db_url: Option<&str>, engine: &str) {
    let dir = tempfile::tempdir().expect("a data folder");
    let data = dir.path().join("data").display().to_string();
    let at = location(db_url, &data);
    let org = [
        "org",
        "create",
        "--name",
        "Fuzz",
        "--slug",
        "fuzz",
        "--admin-email",
        "ada@fuzz.example",
        "--admin-password-stdin",
    ];
    run(&at, &org, Some(PASSWORD));
    run(&at, &["demo", "seed", "--org", "fuzz", "--scale", "small"], None);
    // A high limit: the fuzzer sends thousands of requests a minute.
    let key_args =
        ["api-key", "create", "--org", "fuzz", "--name", "fuzzer", "--scope", "admin", "--rate-limit", "100000"];
    let created = run(&at, &key_args, None);
    let key = created.lines().last().expect("the key on the last line").trim().to_owned();
    let (_server, addr) = common::serve(&at, &[]).await;

    let here = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz");
    let seed = std::env::var("STEWARD_FUZZ_SEED").unwrap_or_else(|_| DEFAULT_SEED.into());
    let examples = std::env::var("STEWARD_FUZZ_EXAMPLES").unwrap_or_else(|_| DEFAULT_EXAMPLES.into());
    let mut cmd = tokio::process::Command::new(st);
    cmd.arg("--config-file")
        .arg(here.join("schemathesis.toml"))
        // No `--checks all`: Schemathesis 4 runs every check by default, and a
        // check named on the command line would override the config file's
        // per-operation settings.
        .args(["run", &format!("http://{addr}/api/v1/openapi.json")])
        .args(["--header", &format!("Authorization: Bearer {key}")])
        .args(["--max-examples", &examples, "--seed", &seed, "--no-color"])
        .arg("--report-dir")
        .arg(dir.path().join("report"))
        .env("SCHEMATHESIS_HOOKS", here.join("hooks.py"))
        .current_dir(dir.path())
        .kill_on_drop(true);
    let out = tokio::time::timeout(Duration::from_secs(900), cmd.output())
        .await
        .expect("Schemathesis finishes within 15 minutes")
        .expect("run Schemathesis");
    let text = String::from_utf8_lossy(&out.stdout);
    let summary: Vec<&str> = text.lines().rev().take(25).collect::<Vec<_>>().into_iter().rev().collect();
    println!("{engine}, seed {seed}, {examples} examples an operation:\n{}", summary.join("\n"));
    assert!(
        out.status.success(),
        "Schemathesis found failures on {engine} (seed {seed}):\n{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("Tested:"), "Schemathesis tested operations: {text}");
}

fn find_schemathesis(test: &str) -> Option<PathBuf> {
    let found = schemathesis();
    if found.is_none() {
        let why = "Schemathesis is not installed (run .ci/run, or pip install schemathesis==4.32.5 next to STEWARD_TEST_PYTHON)";
        assert!(std::env::var("CI").as_deref() != Ok("true"), "{test}: {why}");
        eprintln!("skipping {test}: {why}");
    }
    found
}

#[tokio::test]
async fn the_document_holds_against_schemathesis_on_sqlite() {
    let Some(st) = find_schemathesis("the_document_holds_against_schemathesis_on_sqlite") else { return };
    fuzz(&st, None, "SQLite").await;
}

#[tokio::test]
async fn the_document_holds_against_schemathesis_on_postgres() {
    let Some(st) = find_schemathesis("the_document_holds_against_schemathesis_on_postgres") else { return };
    let Some(pg) = steward_store::testing::postgres().await else {
        eprintln!("skipping the_document_holds_against_schemathesis_on_postgres: it needs PostgreSQL");
        return;
    };
    fuzz(&st, Some(&pg.url), "PostgreSQL").await;
}
