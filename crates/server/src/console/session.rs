//! The signed-in person of a console page, the page frame around every screen,
//! and the CSRF check of console forms.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use steward_core::authz::{self, Principal};
use steward_core::permissions::Permission;
use steward_core::time::Timestamp;
use steward_store::organizations::Organization;
use steward_store::users::User;

use super::{error_page, message};
use crate::auth::{authenticate_session, check_same_site, cookie_value};
use crate::extract::request_meta;
use crate::services::{Ctx, RequestMeta, people};
use crate::state::AppState;

/// A console request by a signed-in person. Without a valid session the page
/// redirects to sign-in (saying the session expired when there was one).
pub struct ConsoleSession {
    pub principal: Principal,
    pub csrf: String,
    pub user: User,
    pub org: Organization,
    pub meta: RequestMeta,
    pub now: Timestamp,
    /// The organization's idle timeout, for the page's sign-out warning.
    pub idle_secs: i64,
}

impl FromRequestParts<AppState> for ConsoleSession {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let next = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
        let login = |expired: bool| {
            let q = if expired { "&expired=1" } else { "" };
            Redirect::to(&format!("/login?next={}{q}", urlencode(next))).into_response()
        };
        let Some(token) = cookie_value(&parts.headers, state.config.session_cookie_name()) else {
            return Err(login(false));
        };
        let (who, csrf, must_enroll) = match authenticate_session(state, &token).await {
            Ok(ok) => ok,
            Err(e) if e.status == 401 => return Err(login(true)),
            Err(e) => return Err(error_page(&e)),
        };
        // Until enrolled in a required 2FA, only the enrollment pages (and sign-out) open.
        let path = parts.uri.path();
        if must_enroll && !path.starts_with("/account/two-factor") && path != "/logout" {
            return Err(Redirect::to("/account/two-factor").into_response());
        }
        if parts.method != Method::GET && parts.method != Method::HEAD {
            check_same_site(&parts.headers, &state.config.public_url).map_err(|e| error_page(&e))?;
        }
        let meta = request_meta(parts, &state.config.trusted_proxies);
        let identity = Some(std::sync::Arc::new(who.identity));
        let ctx = Ctx { principal: who.principal, meta, now: state.now(), identity };
        let frame = people::console_frame(&state.db, &ctx).await.map_err(|e| error_page(&e))?;
        let Some(user) = frame.user else { return Err(login(false)) };
        Ok(ConsoleSession {
            principal: ctx.principal,
            csrf,
            user,
            org: frame.organization,
            meta: ctx.meta,
            now: ctx.now,
            idle_secs: frame.idle_secs,
        })
    }
}

impl ConsoleSession {
    pub fn ctx(&self) -> Ctx {
        Ctx { principal: self.principal.clone(), meta: self.meta.clone(), now: self.now, identity: None }
    }

    pub fn is_super_admin(&self) -> bool {
        self.principal.is_super_admin()
    }

    /// Whether to show an organization-wide action: the answer the use case
    /// behind it will give (`authz::check`).
    pub fn can(&self, permission: Permission) -> bool {
        authz::can(&self.principal, permission, authz::Resource::Organization)
    }

    /// Every console form carries the session's CSRF token.
    pub fn check_csrf(&self, sent: &str) -> Result<(), Response> {
        if !sent.is_empty() && sent == self.csrf {
            Ok(())
        } else {
            Err(message(
                StatusCode::FORBIDDEN,
                "This form has expired",
                "The page was open too long or came from elsewhere. Go back, reload the page and try again.",
                Some(("/", "Go to the home page")),
            ))
        }
    }

    /// The frame of a page: who is signed in, where they are, and a notice.
    pub fn layout(&self, title: &str, tab: &'static str) -> Layout {
        Layout {
            title: title.to_owned(),
            org_name: self.org.name.clone(),
            initial: self.org.name.chars().next().map(|c| c.to_uppercase().collect()).unwrap_or_default(),
            has_logo: false,
            user_name: self.user.name.clone(),
            user_email: self.user.email.clone(),
            super_admin: self.can(Permission::OrganizationRead),
            csrf: self.csrf.clone(),
            tab,
            notice: None,
            idle_secs: self.idle_secs,
            confirms: Vec::new(),
            credit_alert: None,
        }
    }
}

/// What the page frame (base template) shows.
pub struct Layout {
    pub title: String,
    pub org_name: String,
    /// The first letter of the organization's name, the logo's stand-in.
    pub initial: String,
    pub has_logo: bool,
    pub user_name: String,
    pub user_email: String,
    pub super_admin: bool,
    pub csrf: String,
    /// The navigation entry to highlight.
    pub tab: &'static str,
    /// A short sentence after an action ("Workspace suspended.").
    pub notice: Option<String>,
    /// Seconds of inactivity before the session ends (the page warns a minute before).
    pub idle_secs: i64,
    /// The page's confirmation dialogs, rendered after its content.
    pub confirms: Vec<super::dialogs::Confirm>,
    /// For Super Admins while a credit alert has fired: what it says.
    pub credit_alert: Option<String>,
}

impl Layout {
    pub fn with_notice(mut self, notice: Option<String>) -> Self {
        self.notice = notice;
        self
    }

    pub fn with_confirms(mut self, confirms: impl IntoIterator<Item = super::dialogs::Confirm>) -> Self {
        self.confirms.extend(confirms);
        self
    }

    pub fn current(&self, tab: &str) -> &'static str {
        if self.tab == tab { "page" } else { "false" }
    }
}

/// Percent-encodes a value for a query string.
pub fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Only same-site paths are followed after sign-in.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_owned(),
        _ => "/".to_owned(),
    }
}

/// A redirect after a successful action, with the notice to show.
pub fn see_other(path: &str, notice: &str) -> Response {
    let sep = if path.contains('?') { '&' } else { '?' };
    Redirect::to(&format!("{path}{sep}notice={}", urlencode(notice))).into_response()
}

/// Notices are looked up from a fixed list so a link can't put words in our mouth.
pub fn notice_text(code: Option<&str>) -> Option<String> {
    let text = match code? {
        "signed_in" => "Signed in.",
        "details_saved" => "Changes saved. They apply immediately.",
        "credit_alerts_saved" => "Alerts saved.",
        "report_requested" => "Report requested. It is being written; its download link appears here when it is ready.",
        "budget_saved" => "Budget saved.",
        "logo_saved" => "Logo updated.",
        "logo_removed" => "Logo removed.",
        "workspace_created" => "Workspace created.",
        "workspace_saved" => "Workspace saved.",
        "workspace_suspended" => {
            "Workspace suspended. Members can no longer open it, and its active campaigns are paused."
        }
        "workspace_reactivated" => {
            "Workspace reactivated. Members have access again, and the campaigns the suspension paused are running."
        }
        "workspace_archived" => "Workspace archived. Only Super Admins can see it now.",
        "workspace_restored" => "Workspace restored.",
        "workspace_deleted" => "Workspace deleted permanently.",
        "member_saved" => "Member saved.",
        "member_removed" => "Member removed from the workspace.",
        "invited" => "Invitation sent by email. The link below is the same one, if you want to pass it on yourself.",
        "role_changed" => "Role changed.",
        "user_deactivated" => "Account deactivated. Their sessions have ended.",
        "user_reactivated" => "Account reactivated.",
        "account_saved" => "Your name was saved.",
        "password_changed" => "Password changed. Your other sessions have ended.",
        "user_signed_out" => "Signed out everywhere. We emailed them to say so.",
        "two_factor_reset" => {
            "Two-factor authentication reset; we emailed them. They sign in with their password and can set it up again."
        }
        "sessions_ended" => "Signed out there.",
        "confirmed" => "Thanks. You can repeat the action now.",
        "webhook_tested" => "Test event sent. Its delivery shows below within seconds; reload to see it.",
        "webhook_saved" => "Endpoint saved.",
        "webhook_deleted" => "Endpoint deleted.",
        "webhook_resent" => "The delivery will be sent again within seconds.",
        "key_saved" => "Key saved. The change holds at once.",
        "key_revoked" => "Key revoked. It stopped working at once.",
        "security_saved" => "Security settings saved. Shorter session timeouts apply to open sessions now.",
        _ => return None,
    };
    Some(text.to_owned())
}

/// `Option<ConsoleSession>`: pages that work signed in or not.
impl axum::extract::OptionalFromRequestParts<AppState> for ConsoleSession {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Option<Self>, Self::Rejection> {
        Ok(<Self as FromRequestParts<AppState>>::from_request_parts(parts, state).await.ok())
    }
}
