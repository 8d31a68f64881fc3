//! Every sentence a refusal shows, in one place. A problem (the whole request
//! refused) and a field rule (one input refused) each have one message here,
//! saying why and what to do; call sites give only the facts (`{slug}`,
//! `{max}`) the message names. The macro builds the `ALL` lists from the same
//! entries, so a code without a message can't be written, and tests check
//! each message reads as sentences and fills all its blanks.

use std::fmt::Display;

mod fields;
mod problems;

pub use fields::Rule;
pub use problems::Problem;

/// The refusals of whole requests (`code` of an RFC 9457 problem).
pub mod problem {
    pub use super::problems::*;
}

/// The refusals of one field (`code` of an entry in a problem's `errors`).
pub mod rule {
    pub use super::fields::*;
}

/// The facts a message names, by their `{placeholder}`.
pub type Args<'a> = &'a [(&'a str, &'a dyn Display)];

/// The template with each `{name}` replaced by its fact. A blank left unfilled
/// is a bug in the call site: loud in tests, and in production it reads
/// `{name}` rather than failing the request.
pub fn fill(template: &str, args: Args<'_>) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            out.push_str(&rest[open..]);
            return out;
        };
        let name = &after[..close];
        match args.iter().find(|(k, _)| *k == name) {
            Some((_, v)) => out.push_str(&v.to_string()),
            None => {
                // `{field}` is filled later, with a label or a JSON name.
                debug_assert!(name == "field", "message {template:?} has no fact for {{{name}}}");
                out.push('{');
                out.push_str(name);
                out.push('}');
            }
        }
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    out
}

/// The OpenAPI schema of a problem's `code`: one of the catalog's codes.
pub fn problem_code_schema() -> utoipa::openapi::schema::Object {
    code_schema(
        problem::ALL.iter().map(|p| p.code),
        "A stable, machine-readable code; docs/errors.md says what each means.",
    )
}

/// The OpenAPI schema of a field error's `code`: one of the catalog's rules.
pub fn rule_code_schema() -> utoipa::openapi::schema::Object {
    code_schema(rule::ALL.iter().map(|r| r.code), "The rule the field broke; docs/errors.md lists them.")
}

fn code_schema(codes: impl Iterator<Item = &'static str>, description: &str) -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(codes))
        .description(Some(description))
        .build()
}

/// The `{placeholder}` names a template uses, for tests and docs.
pub fn blanks(template: &str) -> Vec<&str> {
    template.split('{').skip(1).filter_map(|part| part.split_once('}').map(|(name, _)| name)).collect()
}

/// A message reads as sentences a person can act on: starts with a capital
/// letter, a blank or a backtick, ends with a full stop, and has no blank
/// names outside `a-z_`.
pub fn reads_well(message: &str) -> bool {
    let start_ok = message.starts_with(|c: char| c.is_uppercase() || c == '{' || c == '`');
    let end_ok = message.ends_with('.') || message.ends_with(".)");
    let blanks_ok =
        blanks(message).iter().all(|b| !b.is_empty() && b.bytes().all(|c| c.is_ascii_lowercase() || c == b'_'));
    start_ok && end_ok && blanks_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_replaces_blanks_and_keeps_the_field_blank() {
        assert_eq!(
            fill("{field} is longer than {max} characters.", &[("max", &100)]),
            "{field} is longer than 100 characters."
        );
        assert_eq!(fill("No {what} here.", &[("what", &"job")]), "No job here.");
        assert_eq!(fill("a { b", &[]), "a { b");
    }

    #[test]
    #[should_panic(expected = "has no fact for {slug}")]
    fn a_missing_fact_is_loud_in_tests() {
        fill("The slug {slug} is taken.", &[]);
    }

    #[test]
    fn every_problem_has_a_title_and_a_message_that_reads_well() {
        let mut codes = std::collections::HashSet::new();
        for p in problem::ALL {
            assert!(codes.insert(p.code), "{} is listed twice", p.code);
            assert!(!p.title.is_empty() && p.title.chars().next().is_some_and(char::is_uppercase), "{}", p.code);
            assert!(reads_well(p.message), "{}: {:?} should read as sentences", p.code, p.message);
            assert!(!blanks(p.message).contains(&"field"), "{}: problems don't name a field", p.code);
            // Two sentences at least: why, then what to do.
            assert!(
                p.message.matches(". ").count() + p.message.matches("; ").count() >= 1,
                "{}: {:?} says why but not what to do",
                p.code,
                p.message
            );
        }
    }

    #[test]
    fn every_rule_names_its_field_and_reads_well() {
        let mut codes = std::collections::HashSet::new();
        for r in rule::ALL {
            assert!(codes.insert(r.code), "{} is listed twice", r.code);
            assert!(r.message.starts_with("{field}"), "{}: a field message starts with the field", r.code);
            assert!(reads_well(r.message), "{}: {:?}", r.code, r.message);
        }
    }
}
