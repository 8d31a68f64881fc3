//! How a refusal reads in the console: the same messages as the API
//! (steward_core::messages), with each field named by the label its form shows
//! instead of its JSON name, and no banner that repeats what a field says.

use std::collections::HashMap;

use steward_core::Error;

/// A field's JSON name → the label the console's forms give it. A field not
/// here is named from its JSON name (`crop_x` → "Crop x").
const LABELS: &[(&str, &str)] = &[
    ("action", "Action type"),
    ("actor", "User"),
    ("admin_email", "Email"),
    ("balance_alert", "When the balance falls to"),
    ("days_alert", "When it lasts fewer than"),
    ("admin_name", "Your name"),
    ("admin_password", "Password"),
    ("code", "The code"),
    ("confirm", "The slug you typed"),
    ("current_password", "Current password"),
    ("default_language", "Default language"),
    ("description", "Description"),
    ("email", "Email"),
    ("from", "From"),
    ("name", "Name"),
    ("new_password", "New password"),
    ("organization", "Organization"),
    ("organization_name", "Organization name"),
    ("organization_slug", "Slug"),
    ("password", "Password"),
    ("password_complexity", "Complexity"),
    ("password_min_length", "Minimum length"),
    ("q", "Search"),
    ("rate_limit_per_minute", "Requests a minute"),
    ("expires_at", "Expires"),
    ("scopes", "Permissions"),
    ("reason", "Reason"),
    ("role", "Role"),
    ("session_absolute_timeout_hours", "Sign out after, however active"),
    ("session_idle_timeout_minutes", "Sign out after inactivity"),
    ("slug", "Slug"),
    ("sort", "Sort"),
    ("status", "Status"),
    ("target", "Target"),
    ("time_zone", "Time zone"),
    ("timezone", "Time zone"),
    ("to", "To"),
    ("totp_code", "The code"),
    ("two_factor", "Two-factor authentication"),
    ("url", "URL"),
    ("user_id", "Person"),
    ("website", "Website"),
    ("workspace", "Workspace"),
    ("logo", "Logo"),
    ("crop", "The crop"),
];

/// The label of a field, as its form shows it.
pub fn label(field: &str) -> String {
    if let Some((_, l)) = LABELS.iter().find(|(f, _)| *f == field) {
        return (*l).to_owned();
    }
    let words = field.replace(['_', '.'], " ");
    let mut chars = words.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// Field messages keyed by field name, for the templates to show by each field.
pub fn field_errors(e: &Error) -> HashMap<String, String> {
    e.errors.iter().map(|f| (f.field.clone(), f.message_naming(&label(&f.field)))).collect()
}

/// The status a page answers with: the refusal's own, or 200 with none.
pub fn status(error: Option<&Error>) -> axum::http::StatusCode {
    use axum::http::StatusCode;
    error.map_or(StatusCode::OK, |e| StatusCode::from_u16(e.status).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY))
}

/// The banner over a form whose fields show their own messages: for a
/// validation failure it points at them instead of repeating them.
pub fn banner(e: &Error) -> String {
    match e.errors.len() {
        0 => e.detail.clone(),
        1 => "Nothing was saved: correct the field marked below, then save again.".to_owned(),
        n => format!("Nothing was saved: correct the {n} fields marked below, then save again."),
    }
}

/// The whole refusal as sentences, for a page that has no field to show a
/// message by: each field message, naming the field by its label.
pub fn sentence(e: &Error) -> String {
    if e.errors.is_empty() {
        return e.detail.clone();
    }
    e.errors.iter().map(|f| f.message_naming(&label(&f.field))).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use steward_core::messages::rule;
    use steward_core::{Error, FieldError};

    use super::*;

    #[test]
    fn fields_are_named_by_their_labels() {
        let e = Error::field("password_min_length", &rule::OUT_OF_RANGE, &[("range", &"8 to 128 characters")]);
        assert_eq!(
            e.errors[0].message,
            "`password_min_length` is outside 8 to 128 characters. Enter a value in that range."
        );
        assert_eq!(
            field_errors(&e)["password_min_length"],
            "Minimum length is outside 8 to 128 characters. Enter a value in that range."
        );
        assert!(!banner(&e).contains("password_min_length") && banner(&e).contains("field marked below"));
        assert_eq!(label("crop_x"), "Crop x");
    }

    #[test]
    fn a_page_without_fields_gets_every_message() {
        let e = Error::validation(vec![
            FieldError::new("from", &rule::INVALID_DATE_TIME, &[]),
            FieldError::new("workspace", &rule::UNKNOWN_WORKSPACE, &[("slug", &"nowhere")]),
        ]);
        let s = sentence(&e);
        assert!(s.starts_with("From is not a date and time."), "{s}");
        assert!(s.contains("Workspace names no workspace of this organization: none has the slug nowhere."), "{s}");
    }
}
