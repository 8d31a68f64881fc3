//! Every refusal has one message, in steward_core::messages. This test keeps
//! the catalog whole: `docs/errors.md` is generated from it, every code the
//! sources compare with or assert on is in it, and every entry is used.
//! Regenerate the doc with `STEWARD_UPDATE_DOCS=1 cargo test -p steward-server --test errors_doc`.

use std::collections::BTreeSet;
use std::fmt::Write;
use std::path::{Path, PathBuf};

use steward_core::messages::{blanks, problem, rule};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn generate() -> String {
    let mut s = String::from(
        "# Errors\n\n<!-- Generated from crates/core/src/messages; regenerate with \
         STEWARD_UPDATE_DOCS=1 cargo test -p steward-server --test errors_doc -->\n\n",
    );
    s.push_str(
        "Every refusal is an RFC 9457 `application/problem+json` document with a stable `code`. \
         Its `detail` says what went wrong and what to do; a `validation_failed` problem lists each \
         field in `errors`, with the rule it broke as its `code`. The console shows the same \
         messages with each field named by its label; the CLI names it by its flag. A word in \
         `{braces}` below is filled with the facts of the request.\n\n",
    );
    s.push_str("## Problems\n\n| `code` | Title | Message |\n|---|---|---|\n");
    for p in problem::ALL {
        let _ = writeln!(s, "| `{}` | {} | {} |", p.code, p.title, p.message.replace('|', "\\|"));
    }
    s.push_str(
        "\n## Field rules\n\n`{field}` is the field's JSON name in the API.\n\n| `code` | Message |\n|---|---|\n",
    );
    for r in rule::ALL {
        let _ = writeln!(s, "| `{}` | {} |", r.code, r.message.replace('|', "\\|"));
    }
    s
}

#[test]
fn committed_errors_doc_matches_the_catalog() {
    let generated = generate();
    let path = repo().join("docs/errors.md");
    if std::env::var("STEWARD_UPDATE_DOCS").is_ok_and(|v| v == "1") {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/errors.md is out of date; run STEWARD_UPDATE_DOCS=1 cargo test -p steward-server --test errors_doc and commit it"
    );
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

fn sources() -> Vec<(PathBuf, String)> {
    let mut files = Vec::new();
    rust_files(&repo().join("crates"), &mut files);
    files.into_iter().filter_map(|p| std::fs::read_to_string(&p).ok().map(|s| (p, s))).collect()
}

/// Literals that follow the word `code` closely but are not error codes.
const NOT_CODES: &[&str] = &["code", "permission", "name", "current_status", "totp_code"];

/// A test or a branch that looks for a code the catalog lacks would look for a
/// refusal that has no message: it fails here instead.
#[test]
fn every_code_the_sources_name_has_a_message() {
    let known: BTreeSet<&str> = problem::ALL.iter().map(|p| p.code).chain(rule::ALL.iter().map(|r| r.code)).collect();
    let mut unknown = Vec::new();
    for (path, text) in sources() {
        if path.ends_with("errors_doc.rs") {
            continue;
        }
        for (i, _) in text.match_indices("code") {
            let after = &text[i + 4..];
            // `code` as a word, then within 40 characters on the line, a literal.
            let before = text[..i].chars().next_back();
            if after.starts_with(|c: char| c.is_alphanumeric() || c == '_')
                || before.is_some_and(|c| c.is_alphanumeric() || c == '_')
            {
                continue;
            }
            let line = after.split('\n').next().unwrap_or("");
            let Some(open) = line.find('"').filter(|o| line[..*o].chars().count() <= 40) else { continue };
            let literal: String = line[open + 1..].chars().take_while(|c| *c != '"').collect();
            let looks_like_code = literal.len() > 2
                && literal.contains('_')
                && literal.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
            if looks_like_code && !known.contains(literal.as_str()) && !NOT_CODES.contains(&literal.as_str()) {
                unknown.push(format!("{}: {literal}", path.display()));
            }
        }
    }
    assert!(unknown.is_empty(), "codes without a message in steward_core::messages: {unknown:#?}");
}

/// An entry nothing raises is a message no one can see: drop it or use it.
#[test]
fn every_catalog_entry_is_raised_somewhere() {
    let all: String = sources()
        .into_iter()
        .filter(|(p, _)| !p.components().any(|c| c.as_os_str() == "messages"))
        .map(|(_, s)| s)
        .collect();
    let consts = |file: &str| -> Vec<String> {
        let text = std::fs::read_to_string(repo().join("crates/core/src/messages").join(file)).unwrap();
        text.lines()
            .map(str::trim_start)
            .filter_map(|l| l.split_once(' ').map(|(name, _)| name.to_owned()))
            .filter(|n| n.len() > 1 && n.bytes().all(|b| b.is_ascii_uppercase() || b == b'_'))
            .filter(|n| n != "ALL")
            .collect()
    };
    let mut unused = Vec::new();
    for (module, file) in [("problem", "problems.rs"), ("rule", "fields.rs")] {
        let names = consts(file);
        assert!(names.len() > 10, "{file}: the entries were found");
        for name in names {
            if !all.contains(&format!("{module}::{name}")) {
                unused.push(format!("{module}::{name}"));
            }
        }
    }
    assert!(unused.is_empty(), "catalog entries nothing raises: {unused:?}");
}

#[test]
fn every_blank_of_a_message_is_a_word() {
    for m in problem::ALL.iter().map(|p| p.message).chain(rule::ALL.iter().map(|r| r.message)) {
        for b in blanks(m) {
            assert!(b.bytes().all(|c| c.is_ascii_lowercase() || c == b'_'), "{m}: blank {b:?}");
        }
    }
}
