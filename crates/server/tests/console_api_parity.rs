//! Everything the console does has an API route: each form the console posts
//! to is listed here with the API operation that does the same, every console
//! POST route in the source must be listed, and every operation named must be
//! in the OpenAPI document. A new console form without an API fails here.

use std::collections::BTreeSet;
use std::path::Path;

/// Console form action → the API operations (`operationId`) that do the same.
/// `{action}` routes are listed once per action their handler takes.
const FORMS: &[(&str, &[&str])] = &[
    ("/setup", &["run_setup"]),
    ("/login", &["create_session"]),
    ("/login/code", &["create_session"]),
    ("/logout", &["delete_current_session"]),
    ("/invitations/{token}", &["accept_invitation"]),
    ("/account", &["update_me"]),
    ("/account/password", &["change_my_password"]),
    ("/account/confirm", &["reauthenticate"]),
    ("/account/sessions/end-others", &["end_my_other_sessions"]),
    ("/account/sessions/{id}/end", &["end_my_session"]),
    ("/account/two-factor/start", &["start_totp"]),
    ("/account/two-factor/confirm", &["confirm_totp"]),
    ("/account/two-factor/disable", &["disable_two_factor"]),
    ("/account/two-factor/recovery-codes", &["regenerate_recovery_codes"]),
    ("/settings/organization/details", &["update_organization"]),
    ("/settings/organization/security", &["update_security"]),
    ("/settings/organization/people", &["invite_user"]),
    ("/settings/organization/people/{id}/role", &["update_user"]),
    ("/settings/organization/people/{id}/status", &["update_user", "delete_user"]),
    ("/settings/organization/people/{id}/resend", &["resend_invitation"]),
    ("/settings/organization/people/{id}/sign-out", &["end_user_sessions"]),
    ("/settings/organization/people/{id}/reset-2fa", &["reset_two_factor"]),
    ("/settings/organization/workspaces", &["create_workspace"]),
    ("/settings/organization/workspaces/{id}/edit", &["update_workspace"]),
    ("/settings/organization/workspaces/{id}/suspend", &["suspend_workspace"]),
    ("/settings/organization/workspaces/{id}/reactivate", &["reactivate_workspace"]),
    ("/settings/organization/workspaces/{id}/archive", &["archive_workspace"]),
    ("/settings/organization/workspaces/{id}/restore", &["restore_workspace"]),
    ("/settings/organization/workspaces/{id}/delete", &["delete_workspace"]),
    ("/settings/organization/workspaces/{id}/members", &["set_member"]),
    ("/settings/organization/workspaces/{id}/members/{user}", &["set_member"]),
    ("/settings/organization/workspaces/{id}/members/{user}/remove", &["remove_member"]),
    ("/settings/billing/credits/alerts", &["put_alerts"]),
    ("/settings/billing/credits/budgets", &["put_budget"]),
    ("/settings/billing/reports", &["create_report"]),
    ("/settings/integrations/api", &["create_api_key"]),
    ("/settings/integrations/api/{id}", &["update_api_key"]),
    ("/settings/integrations/api/{id}/revoke", &["revoke_api_key"]),
    ("/settings/integrations/webhooks", &["create_webhook"]),
    ("/settings/integrations/webhooks/{id}/test", &["test_webhook"]),
    ("/settings/integrations/webhooks/{id}/enable", &["update_webhook"]),
    ("/settings/integrations/webhooks/{id}/disable", &["update_webhook"]),
    ("/settings/integrations/webhooks/{id}/delete", &["delete_webhook"]),
    ("/settings/integrations/webhooks/{id}/retry", &["retry_delivery"]),
    ("/settings/integrations/webhooks/{id}/rotate", &["rotate_webhook_secret"]),
];

/// The console's POST routes as its routers declare them, with the source of
/// the module that handles each.
fn console_post_routes() -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/console");
    let mut routes = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("the console's sources") {
        let path = entry.expect("a directory entry").path();
        let source = std::fs::read_to_string(&path).expect("read a console module");
        let base =
            source.split("const BASE: &str = \"").nth(1).and_then(|rest| rest.split('"').next()).map(str::to_owned);
        // Each `.route(…)` call, however many share a line.
        for arg in source.split(".route(").skip(1) {
            let call = arg.split(".route(").next().unwrap_or(arg);
            let call = call.split(";\n").next().unwrap_or(call);
            if !call.contains("post(") {
                continue;
            }
            let pattern = if let Some(literal) = arg.strip_prefix('"') {
                literal.split('"').next().expect("a closing quote").to_owned()
            } else if arg.starts_with("BASE") {
                base.clone().unwrap_or_else(|| panic!("{} routes BASE without defining it", path.display()))
            } else {
                panic!("cannot read the route in {}: {}", path.display(), &arg[..arg.len().min(80)])
            };
            routes.push((pattern, source.clone()));
        }
    }
    routes
}

/// Whether a listed action fits a route pattern; `{action}` segments must be
/// a literal action the module's handler matches on.
fn fits(action: &str, pattern: &str, source: &str) -> bool {
    let (a, p): (Vec<&str>, Vec<&str>) = (action.split('/').collect(), pattern.split('/').collect());
    a.len() == p.len()
        && a.iter().zip(&p).all(|(a, p)| match *p {
            "{action}" => source.contains(&format!("\"{a}\"")),
            p if p.starts_with('{') => a.starts_with('{'),
            p => *a == p,
        })
}

#[test]
fn every_console_form_has_an_api_operation() {
    let doc = steward_server::openapi::document();
    let mut operations = BTreeSet::new();
    for item in doc["paths"].as_object().expect("paths").values() {
        for op in item.as_object().expect("a path item").values() {
            if let Some(id) = op.get("operationId").and_then(|v| v.as_str()) {
                operations.insert(id.to_owned());
            }
        }
    }
    for (action, ops) in FORMS {
        for op in *ops {
            assert!(operations.contains(*op), "{action} names {op}, which is not in the API document");
        }
    }

    let routes = console_post_routes();
    assert!(routes.len() >= 30, "found the console's POST routes: {}", routes.len());
    for (pattern, source) in &routes {
        let listed = FORMS.iter().filter(|(action, _)| fits(action, pattern, source)).count();
        assert!(listed > 0, "the console posts to {pattern}, but no API operation is listed for it in FORMS");
    }
    for (action, _) in FORMS {
        assert!(
            routes.iter().any(|(pattern, source)| fits(action, pattern, source)),
            "FORMS lists {action}, which no console route takes"
        );
    }
}
