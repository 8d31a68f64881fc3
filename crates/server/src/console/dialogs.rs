//! Confirmations: the one dialog every action that ends sessions, removes
//! access or deletes opens first. A page adds its [`Confirm`]s to its
//! [`Layout`](super::session::Layout); `console.html` renders them after the
//! page's content (never inside a table cell, so nothing of a row's layout
//! leaks in) with `_confirm.html`; a button with `data-dialog="<id>"` opens one.

use super::workspaces::WsRow;

/// How strongly the confirming button warns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    /// Reversible, but people notice (suspend, archive, sign out).
    Warning,
    /// Loses something or someone's access.
    Danger,
    /// An ordinary change behind a dialog (a new role).
    Plain,
}

/// A text field of a dialog: a reason, or the word to type to confirm.
#[derive(Debug, Clone)]
pub struct Input {
    pub name: &'static str,
    pub label: String,
    pub help: Option<String>,
    /// The button waits until the field holds exactly this.
    pub must_equal: Option<String>,
}

/// A choice of a dialog (`value`, label, chosen).
#[derive(Debug, Clone)]
pub struct Select {
    pub name: &'static str,
    pub label: String,
    pub options: Vec<(String, String, bool)>,
}

#[derive(Debug, Clone)]
pub struct Confirm {
    pub id: String,
    /// Where the form posts.
    pub action: String,
    pub title: String,
    /// What will happen, exactly.
    pub text: String,
    pub button: String,
    pub tone: Tone,
    pub hidden: Vec<(&'static str, String)>,
    pub input: Option<Input>,
    pub select: Option<Select>,
}

impl Confirm {
    pub fn new(id: String, action: String, title: String, text: String, button: &str, tone: Tone) -> Self {
        Confirm {
            id,
            action,
            title,
            text,
            button: button.to_owned(),
            tone,
            hidden: Vec::new(),
            input: None,
            select: None,
        }
    }

    pub fn hidden(mut self, name: &'static str, value: &str) -> Self {
        self.hidden.push((name, value.to_owned()));
        self
    }

    pub fn input(mut self, input: Input) -> Self {
        self.input = Some(input);
        self
    }

    pub fn select(mut self, select: Select) -> Self {
        self.select = Some(select);
        self
    }

    /// The button's class.
    pub fn tone_class(&self) -> &'static str {
        match self.tone {
            Tone::Warning => "warning",
            Tone::Danger => "danger",
            Tone::Plain => "",
        }
    }
}

fn plural(n: i64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Suspend, archive and delete of one workspace.
pub fn workspace(w: &WsRow) -> Vec<Confirm> {
    let base = format!("/settings/organization/workspaces/{}", w.id);
    let paused = plural(w.active_campaigns, "active campaign", "active campaigns");
    let mut out = Vec::new();
    if w.status == "active" {
        out.push(
            Confirm::new(
                format!("suspend-{}", w.id),
                format!("{base}/suspend"),
                format!("Suspend {}?", w.name),
                format!(
                    "Its {} members can no longer open it, and {paused} will be paused. Nothing is deleted; reactivating resumes exactly those campaigns.",
                    w.users
                ),
                "Suspend workspace",
                Tone::Warning,
            )
            .input(Input {
                name: "reason",
                label: "Reason".into(),
                help: Some("Optional. Members who are locked out see it.".into()),
                must_equal: None,
            }),
        );
    }
    if w.status != "archived" {
        out.push(Confirm::new(
            format!("archive-{}", w.id),
            format!("{base}/archive"),
            format!("Archive {}?", w.name),
            format!(
                "It will be hidden from everyone but Super Admins and stop counting toward your plan's workspace limit. {paused} will be paused. All data is kept, and you can restore it."
            ),
            "Archive workspace",
            Tone::Warning,
        ));
    }
    out.push(
        Confirm::new(
            format!("delete-{}", w.id),
            format!("{base}/delete"),
            format!("Delete {} permanently?", w.name),
            format!(
                "This removes the workspace with its {} memberships, {} campaigns, its content, connections and files. It cannot be undone. The audit trail keeps a record of the deletion.",
                w.users, w.campaigns
            ),
            "Delete permanently",
            Tone::Danger,
        )
        .input(Input {
            name: "confirm",
            label: format!("Type {} to confirm", w.slug),
            help: None,
            must_equal: Some(w.slug.clone()),
        }),
    );
    out
}

/// What a Super Admin can do to one person, behind a dialog.
pub struct Person<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub email: &'a str,
    pub role: &'a str,
    pub status: &'a str,
    pub two_factor: bool,
}

pub fn person(p: &Person<'_>) -> Vec<Confirm> {
    let base = format!("/settings/organization/people/{}", p.id);
    let who = format!("{} ({})", p.name, p.email);
    let mut out = vec![
        Confirm::new(
            format!("role-{}", p.id),
            format!("{base}/role"),
            format!("Change the role of {}?", p.name),
            format!(
                "A Super Admin manages the whole organization; a Member works only in the workspaces they belong to. {who} is signed out everywhere and signs in again with the new role."
            ),
            "Change role",
            Tone::Plain,
        )
        .select(Select {
            name: "role",
            label: "Organization role".into(),
            options: [("member", "Member"), ("super_admin", "Super Admin")]
                .iter()
                .map(|(v, l)| ((*v).to_owned(), (*l).to_owned(), *v == p.role))
                .collect(),
        }),
    ];
    if p.status == "active" {
        out.push(Confirm::new(
            format!("sign-out-{}", p.id),
            format!("{base}/sign-out"),
            format!("Sign {} out everywhere?", p.name),
            format!("Every session of {who} ends at once, on every browser and device; they can sign in again. We email them to say so."),
            "Sign out everywhere",
            Tone::Warning,
        ));
        out.push(
            Confirm::new(
                format!("deactivate-{}", p.id),
                format!("{base}/status"),
                format!("Deactivate {}?", p.name),
                format!("{who} is signed out everywhere and can no longer sign in or use any workspace until reactivated. Nothing they made is deleted."),
                "Deactivate",
                Tone::Danger,
            )
            .hidden("status", "deactivated"),
        );
    }
    if p.two_factor {
        out.push(Confirm::new(
            format!("reset-2fa-{}", p.id),
            format!("{base}/reset-2fa"),
            format!("Reset two-factor authentication of {}?", p.name),
            format!("Their authenticator app and recovery codes stop working, and every session of {who} ends. They sign in with their password alone and can set it up again. We email them to say so."),
            "Reset 2FA",
            Tone::Danger,
        ));
    }
    out
}

/// Removing someone from a workspace.
pub fn remove_member(workspace: &str, ws_name: &str, user: &str, name: &str) -> Confirm {
    Confirm::new(
        format!("remove-{user}"),
        format!("/settings/organization/workspaces/{workspace}/members/{user}/remove"),
        format!("Remove {name} from {ws_name}?"),
        format!(
            "{name} loses access to {ws_name} at once: its campaigns, content and connections. They stay in the organization and in their other workspaces."
        ),
        "Remove from workspace",
        Tone::Danger,
    )
}

/// Ending one's own sessions on the account page.
pub fn end_session(id: &str, device: &str) -> Confirm {
    Confirm::new(
        format!("end-{id}"),
        format!("/account/sessions/{id}/end"),
        "Sign out that session?".into(),
        format!("{device} is signed out at once. Whoever uses it has to sign in again."),
        "Sign out",
        Tone::Warning,
    )
}

pub fn end_other_sessions(count: usize) -> Confirm {
    Confirm::new(
        "end-others".into(),
        "/account/sessions/end-others".into(),
        "Sign out everywhere else?".into(),
        format!(
            "{} other session{} end at once; this browser stays signed in.",
            count,
            if count == 1 { "" } else { "s" }
        ),
        "Sign out everywhere else",
        Tone::Warning,
    )
}

pub fn revoke_key(id: &str, name: &str, prefix: &str) -> Confirm {
    Confirm::new(
        format!("revoke-{id}"),
        format!("/settings/integrations/api/{id}/revoke"),
        format!("Revoke {name}?"),
        format!(
            "The key {prefix}… stops working at once, on every instance: whatever uses it is refused from its next \
             request. This cannot be undone; a new key can be created instead."
        ),
        "Revoke key",
        Tone::Danger,
    )
}

pub fn delete_webhook(id: &str, url: &str) -> Confirm {
    Confirm::new(
        format!("delete-webhook-{id}"),
        format!("/settings/integrations/webhooks/{id}/delete"),
        "Delete this endpoint?".into(),
        format!("{url} gets no more events, and its delivery log is deleted with it. This cannot be undone."),
        "Delete endpoint",
        Tone::Danger,
    )
}

pub fn rotate_webhook_secret(id: &str, url: &str) -> Confirm {
    Confirm::new(
        format!("rotate-{id}"),
        format!("/settings/integrations/webhooks/{id}/rotate"),
        "Make a new signing secret?".into(),
        format!(
            "Deliveries to {url} are signed with the new secret and, for 24 hours, the old one too, so the receiver \
             can switch over. After that only the new one works."
        ),
        "Make new secret",
        Tone::Warning,
    )
}
