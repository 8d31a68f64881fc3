//! `/settings`: where the guide's click paths start ("Navigate to Settings,
//! click Organization in the Administration section"). Super Admins see the
//! Administration section; everyone sees their own account.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::organization::layout;
use super::session::{ConsoleSession, Layout};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/settings", get(show))
}

/// One entry of a section: where it goes, its name, what it is for.
struct Entry {
    href: &'static str,
    name: &'static str,
    about: &'static str,
}

#[derive(Template, WebTemplate)]
#[template(path = "settings.html")]
struct SettingsPage {
    layout: Layout,
    administration: Vec<Entry>,
    account: Vec<Entry>,
}

/// The Administration section; later areas (Billing, Usage, Integrations,
/// Data) join it as they are built.
const ADMINISTRATION: [Entry; 4] = [
    Entry {
        href: "/settings/organization",
        name: "Organization",
        about: "The dashboard, workspaces, people and the organization's details and logo.",
    },
    Entry {
        href: "/settings/organization/security",
        name: "Security",
        about: "Password policy, session timeouts and two-factor authentication for everyone.",
    },
    Entry {
        href: "/settings/organization/audit",
        name: "Audit logs",
        about: "Who did what and when, filtered and exported.",
    },
    Entry {
        href: "/settings/integrations/api",
        name: "Integrations",
        about: "API keys for the platform's other services, with their permissions and limits, and webhooks that tell them what changed.",
    },
];

const ACCOUNT: [Entry; 3] = [
    Entry { href: "/account", name: "Your account", about: "Your name, password and where you are signed in." },
    Entry {
        href: "/account/two-factor",
        name: "Two-factor authentication",
        about: "An authenticator app and recovery codes.",
    },
    Entry { href: "/w", name: "Your workspaces", about: "The workspaces you belong to." },
];

async fn show(State(s): State<AppState>, session: ConsoleSession) -> Response {
    let administration = if session.is_super_admin() { ADMINISTRATION.into() } else { Vec::new() };
    SettingsPage { layout: layout(&s, &session, "Settings", "settings").await, administration, account: ACCOUNT.into() }
        .into_response()
}
