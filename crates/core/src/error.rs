//! The one error type of every use case. It carries what an RFC 9457 problem
//! needs: an HTTP status, a stable machine `code`, a human title and detail, and
//! per-field errors. The server turns it into `application/problem+json`, the
//! console into a sentence next to the field.

use serde::Serialize;

use crate::messages::{self, Args, Problem, Rule, problem};

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// The request field at fault, as a JSON path (`slug`, `admin.email`).
    pub field: String,
    /// A stable code for the rule broken (`required`, `too_long`, `taken`, …;
    /// docs/errors.md lists them).
    #[schema(schema_with = messages::rule_code_schema)]
    pub code: String,
    /// What went wrong and what to do, naming the field by its JSON name.
    pub message: String,
    /// The message with `{field}` still blank, so the console can name the
    /// field by its label and the CLI by its flag.
    #[serde(skip)]
    sentence: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, rule: &Rule, args: Args<'_>) -> Self {
        let field = field.into();
        let sentence = messages::fill(rule.message, args);
        let message = name_field(&sentence, &format!("`{field}`"));
        Self { field, code: rule.code.to_owned(), message, sentence }
    }

    /// The message naming the field as the reader knows it (a label, a flag).
    pub fn message_naming(&self, name: &str) -> String {
        name_field(&self.sentence, name)
    }
}

fn name_field(sentence: &str, name: &str) -> String {
    sentence.replace("{field}", name)
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
    /// A refusal of the kind `problem`, its message filled with `args`.
    pub fn new(status: u16, problem: &Problem, args: Args<'_>) -> Self {
        Self {
            status,
            code: problem.code,
            title: problem.title,
            detail: messages::fill(problem.message, args),
            errors: Vec::new(),
            extensions: Default::default(),
        }
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
        Self::new(404, &problem::NOT_FOUND, &[("what", &what), ("place", &"your organization")])
    }

    pub fn validation(errors: Vec<FieldError>) -> Self {
        let detail = match errors.as_slice() {
            [one] => one.message.clone(),
            _ => messages::fill(problem::VALIDATION_FAILED.message, &[("count", &errors.len())]),
        };
        Self { errors, detail, ..Self::new(422, &problem::VALIDATION_FAILED, &[("count", &0)]) }
    }

    /// One field refused: the usual shape of a single check.
    pub fn field(field: &str, rule: &Rule, args: Args<'_>) -> Self {
        Self::validation(vec![FieldError::new(field, rule, args)])
    }

    pub fn bad_request(problem: &Problem, args: Args<'_>) -> Self {
        Self::new(400, problem, args)
    }

    pub fn unauthorized(problem: &Problem, args: Args<'_>) -> Self {
        Self::new(401, problem, args)
    }

    pub fn forbidden(problem: &Problem, args: Args<'_>) -> Self {
        Self::new(403, problem, args)
    }

    pub fn conflict(problem: &Problem, args: Args<'_>) -> Self {
        Self::new(409, problem, args)
    }

    pub fn gone(problem: &Problem, args: Args<'_>) -> Self {
        Self::new(410, problem, args)
    }

    /// Something broke on our side. The detail never carries internals; they go
    /// to the log where the caller can't read them.
    pub fn internal() -> Self {
        Self::new(500, &problem::INTERNAL_ERROR, &[])
    }

    pub fn is_not_found(&self) -> bool {
        self.status == 404
    }
}
