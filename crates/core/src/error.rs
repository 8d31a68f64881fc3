//! The one error type of every use case. It carries what an RFC 9457 problem
//! needs: an HTTP status, a stable machine `code`, a human title and detail, and
//! per-field errors. The server turns it into `application/problem+json`, the
//! console into a sentence next to the field.

use serde::Serialize;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// The request field at fault, as a JSON path (`slug`, `admin.email`).
    pub field: String,
    /// A stable code for the failure (`required`, `too_long`, `invalid`, `taken`).
    pub code: String,
    /// What went wrong, in words a person uses.
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), code: code.into(), message: message.into() }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {detail}")]
pub struct Error {
    pub status: u16,
    pub code: &'static str,
    pub title: &'static str,
    pub detail: String,
    pub errors: Vec<FieldError>,
    /// Extra members of the problem object (e.g. `current_status`, `reason`).
    pub extensions: serde_json::Map<String, serde_json::Value>,
}

impl Error {
    pub fn new(status: u16, code: &'static str, title: &'static str, detail: impl Into<String>) -> Self {
        Self { status, code, title, detail: detail.into(), errors: Vec::new(), extensions: Default::default() }
    }

    pub fn with_field(mut self, field: FieldError) -> Self {
        self.errors.push(field);
        self
    }

    pub fn with_extension(mut self, key: &str, value: impl Into<serde_json::Value>) -> Self {
        self.extensions.insert(key.to_owned(), value.into());
        self
    }

    /// The named object does not exist *for this caller*. Another tenant's object
    /// is reported exactly like a missing one.
    pub fn not_found(what: &str) -> Self {
        Self::new(404, "not_found", "Not found", format!("No {what} with this id exists in your organization."))
    }

    pub fn validation(errors: Vec<FieldError>) -> Self {
        let detail = match errors.as_slice() {
            [one] => format!("{}: {}", one.field, one.message),
            _ => format!("{} fields are invalid; see `errors`.", errors.len()),
        };
        Self { errors, ..Self::new(422, "validation_failed", "Validation failed", detail) }
    }

    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(400, code, "Bad request", detail)
    }

    pub fn unauthorized(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(401, code, "Authentication required", detail)
    }

    pub fn forbidden(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(403, code, "Forbidden", detail)
    }

    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(409, code, "Conflict", detail)
    }

    pub fn gone(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(410, code, "Gone", detail)
    }

    /// Something broke on our side. The detail never carries internals; they go
    /// to the log where the caller can't read them.
    pub fn internal() -> Self {
        Self::new(
            500,
            "internal_error",
            "Internal server error",
            "Something went wrong on our side. Try again; if it persists, contact your operator.",
        )
    }

    pub fn is_not_found(&self) -> bool {
        self.status == 404
    }
}
