//! `docs/permissions.md` is generated from `Permission::ALL` and the OpenAPI
//! document's `x-permission`s; this test keeps the committed file in step.
//! Regenerate with `STEWARD_UPDATE_DOCS=1 cargo test -p steward-server --test permissions_doc`.

mod common;
#[path = "common/operations.rs"]
mod operations;

use std::fmt::Write;

use serde_json::json;
use steward_core::authz::{Principal, Resource, check};
use steward_core::ids::{ApiKeyId, OrgId};
use steward_core::permissions::{BUNDLES, Holder, Permission};

fn holder_name(h: Holder) -> &'static str {
    match h {
        Holder::SuperAdmin => "Super Admin",
        Holder::WorkspaceAdmin => "workspace admin",
        Holder::WorkspaceEditor => "workspace editor",
        Holder::WorkspaceViewer => "workspace viewer",
        Holder::Operator => "operator",
        Holder::System => "system",
    }
}

/// `viewer: `workspaces:read`; editor: + `content:write`; …`: each role with what it adds to the one below.
fn workspace_roles() -> String {
    let mut out = Vec::new();
    let mut below: Vec<Permission> = Vec::new();
    for (role, holder) in
        [("viewer", Holder::WorkspaceViewer), ("editor", Holder::WorkspaceEditor), ("admin", Holder::WorkspaceAdmin)]
    {
        let held: Vec<Permission> = Permission::ALL.iter().copied().filter(|p| p.held_by(holder)).collect();
        let added: Vec<String> = held.iter().filter(|p| !below.contains(p)).map(|p| format!("`{p}`")).collect();
        let plus = if below.is_empty() { "" } else { "+ " };
        out.push(format!("{role}: {plus}{}", added.join(", ")));
        below = held;
    }
    out.join("; ")
}

/// The problem `check` answers a `read` key asking for `people:write`, as the API sends it.
fn refusal() -> String {
    let key = Principal::api_key(OrgId::new(), ApiKeyId::new(), "reports".into(), vec!["read".into()]);
    let e = check(&key, Permission::PeopleWrite, Resource::Organization).expect_err("a read key can't invite");
    let mut body = json!({
        "type": format!("urn:steward:problem:{}", e.code),
        "title": e.title,
        "status": e.status,
        "detail": e.detail,
        "code": e.code,
    });
    for (k, v) in &e.extensions {
        body[k] = v.clone();
    }
    serde_json::to_string_pretty(&body).unwrap()
}

fn generate() -> String {
    let ops = operations::operations();
    let mut s = String::new();
    s.push_str("# Permissions\n\n");
    s.push_str(
        "<!-- Generated from crates/core/src/permissions.rs and the OpenAPI document by\n     \
         crates/server/tests/permissions_doc.rs. Don't edit by hand: run\n     \
         STEWARD_UPDATE_DOCS=1 cargo test -p steward-server --test permissions_doc -->\n\n",
    );
    s.push_str(
        "Everything Steward lets someone do is one named permission (`people:write`). \
         Every operation of the API names the one it needs in the OpenAPI document (`x-permission`), \
         and `GET /api/v1/permissions` lists them all.\n\n",
    );
    s.push_str("## Who holds what\n\n");
    s.push_str(
        "- **Super Admin** (a person's organization role): every permission an API key may hold, \
         everywhere in the organization, in every workspace.\n",
    );
    let _ = writeln!(
        s,
        "- **Members**: nothing organization-wide; in the workspaces they belong to, what their workspace \
         role holds ({}). A workspace they are not in does not exist for them (404).",
        workspace_roles()
    );
    let _ = writeln!(
        s,
        "- **API keys**: the permissions named in their `scopes`, or the bundles {} (`admin`: every \
         permission an API key may hold; `read`: every `…:read` one). A key holds at most what whoever \
         created it holds, and never an `operator:` permission.",
        BUNDLES.iter().map(|b| format!("`{b}`")).collect::<Vec<_>>().join(" and ")
    );
    s.push_str(
        "- **Operator and system** (the command line, the operator console, background jobs): every \
         permission, including the `operator:` ones.\n\n",
    );
    s.push_str("## Where it is decided\n\n");
    s.push_str(
        "`crates/core/src/authz.rs::check` is the one function that decides whether a principal holds a \
         permission, on the organization or on one workspace; `crates/core/src/permissions.rs` lists the \
         permissions, which keys may hold them and which roles do. Use cases, the console and the route \
         table all ask `check`.\n\n",
    );
    s.push_str("## How a refusal looks\n\n");
    s.push_str(
        "A missing permission is a `403` problem (`application/problem+json`) whose `permission` member \
         names it. The `code` says who could have it: `super_admin_required` (a person's session), \
         `insufficient_scope` (an API key), `workspace_role_required` (a member whose workspace role is too \
         low) or `operator_required` (an `operator:` permission).\n\n",
    );
    let _ = write!(s, "An API key with the `read` bundle asking to invite someone:\n\n```json\n{}\n```\n\n", refusal());
    s.push_str("## The permissions\n\n");
    s.push_str("| Permission | What it allows | API key may hold | Held by |\n| --- | --- | --- | --- |\n");
    for p in Permission::ALL {
        let holders: Vec<&str> = p.holders().iter().map(|h| holder_name(*h)).collect();
        let key = if p.key_assignable() { "yes" } else { "no" };
        let _ = writeln!(s, "| `{p}` | {} | {key} | {} |", p.description(), holders.join(", "));
    }
    s.push_str("\n## Operations by permission\n");
    for p in Permission::ALL {
        let _ = write!(s, "\n### `{p}`\n\n");
        let needing: Vec<_> = ops.iter().filter(|op| op.permission == p.name()).collect();
        if needing.is_empty() {
            s.push_str("No operation of the API needs it yet.\n");
        }
        for op in needing {
            let _ = writeln!(s, "- `{} {}`", op.method, op.path);
        }
    }
    s.push_str(
        "\n## Operations open to any caller they admit (`none`)\n\n\
         Signing in, setup and accepting an invitation need no credentials; the others act on the \
         caller's own account, sessions and two-factor, or list the permissions.\n\n",
    );
    for op in ops.iter().filter(|op| op.permission == "none") {
        let _ = writeln!(s, "- `{} {}`", op.method, op.path);
    }
    s
}

#[test]
fn committed_permissions_doc_matches_the_code() {
    let generated = generate();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/permissions.md");
    if std::env::var("STEWARD_UPDATE_DOCS").is_ok_and(|v| v == "1") {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/permissions.md is out of date; run STEWARD_UPDATE_DOCS=1 cargo test -p steward-server --test permissions_doc and commit it"
    );
    for op in operations::operations() {
        assert!(generated.contains(&format!("`{} {}`", op.method, op.path)), "{} is documented", op.key());
    }
}
