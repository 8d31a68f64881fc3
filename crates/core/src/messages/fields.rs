//! One-field refusals: the `code` of an entry in a problem's `errors` and its
//! message. `{field}` is the field's name: its label in the console, its JSON
//! name in the API, its flag in the CLI.

/// One rule a field can break. `message` starts with `{field}`.
#[derive(Debug, PartialEq, Eq)]
pub struct Rule {
    pub code: &'static str,
    pub message: &'static str,
}

macro_rules! rules {
    ($($name:ident $code:literal $message:literal;)*) => {
        $(pub const $name: Rule = Rule { code: $code, message: $message };)*
        /// Every rule, in the order written.
        pub const ALL: &[Rule] = &[$($name),*];
    };
}

rules! {
    // ---------------------------------------------------------------- text
    REQUIRED "required" "{field} is required but empty or missing. Fill it in.";
    UNKNOWN_FIELD "unknown_field" "{field} is not a field this endpoint takes ({detail}). Remove it, or fix its spelling.";
    WRONG_TYPE "wrong_type" "{field} has the wrong type ({detail}). Send the type the API reference gives.";
    TOO_LONG "too_long" "{field} is longer than {max} characters. Shorten it to {max} or fewer.";
    TOO_SHORT "too_short" "{field} is shorter than {min} characters. Make it at least {min} characters long.";
    CONTROL_CHARACTERS "control_characters"
        "{field} contains invisible control characters{where_}. Type it again without them.";
    INVALID_SLUG "invalid_slug"
        "{field} can only hold 2–63 lower-case letters, digits and single hyphens, starting and ending with a letter or digit. Change it to fit, such as acme-studio.";
    RESERVED "reserved" "{field} can't be `{value}`: Steward uses that word itself. Choose another.";
    INVALID_EMAIL "invalid_email" "{field} is not an email address. Enter one such as ana@example.com.";
    INVALID_WEBHOOK_URL "invalid_webhook_url"
        "{field} is not an https:// address with a host. Enter the full address your receiver listens on, such as https://hooks.example.com/steward.";
    PRIVATE_ADDRESS "private_address"
        "{field} points at {address}, a private, loopback or reserved address that webhooks never reach. Use your receiver's public address.";
    CREDENTIALS_IN_URL "credentials_in_url"
        "{field} holds a user name or password. Remove them: receivers check the webhook-signature header instead.";
    UNKNOWN_EVENT_TYPE "unknown_event_type" "{field} (`{value}`) is not an event type. See GET /api/v1/webhook-event-types for the list.";
    INVALID_URL "invalid_url" "{field} is not a full web address. Enter one starting with http:// or https://, such as https://example.com.";
    INVALID_TIME_ZONE "invalid_time_zone" "{field} is not a time zone Steward knows. Use an IANA name such as UTC, Europe/Paris or America/New_York.";
    INVALID_LANGUAGE "invalid_language" "{field} is not a language tag. Use one such as en, en-US or pt-BR.";
    INVALID_FILENAME "invalid_filename" "{field} is not a plain file name. Use a name without folders, of at most 255 characters.";
    INVALID_DATE_TIME "invalid_date_time" "{field} is not a date and time. Use the form 2026-01-31T00:00:00Z.";
    INVALID_ID "invalid_id" "{field} is not {expected}. Copy the id from the list or the API.";
    NOT_A_JSON_OBJECT "not_a_json_object" "{field} is not a JSON object. Send the fields this endpoint documents as one JSON object.";

    // ---------------------------------------------------------------- numbers and choices
    OUT_OF_RANGE "out_of_range" "{field} is outside {range}. Enter a value in that range.";
    NOT_A_WHOLE_NUMBER "not_a_whole_number" "{field} is not a whole number. Enter digits only, such as 30.";
    OVER_REFUNDABLE "over_refundable" "{field} is more than what is left to refund of this debit ({left} credits). Refund {left} or less.";
    TOO_SMALL "too_small" "{field} is less than {min}. Enter {min} or more.";
    NOT_ONE_OF "not_one_of" "{field} is not one of the choices. Use one of: {allowed}.";
    IDLE_OVER_LIFETIME "idle_over_lifetime"
        "{field} is longer than the absolute session lifetime, so it would never apply. Shorten it, or lengthen the lifetime.";
    INCOMPLETE_CROP "incomplete_crop" "{field} needs crop_x, crop_y and crop_size together. Give all three, or none of them.";
    CROP_OUTSIDE "crop_outside" "{field} reaches outside the image ({detail}). Choose a square inside it.";

    // ---------------------------------------------------------------- names of things
    TAKEN "taken" "{field} is already used by {by}. Choose another.";
    NOT_FOUND "not_found" "{field} does not name {what}. Check it, or pick one from the list.";
    UNKNOWN_PERSON "unknown_person"
        "{field} names no one in this organization: no one has the email {email}. Pick a person from the list.";
    UNKNOWN_WORKSPACE "unknown_workspace"
        "{field} names no workspace of this organization: none has the slug {slug}. Pick a workspace from the list.";
    UNKNOWN_ACTION "unknown_action"
        "{field} is not an action Steward records. Pick one from the list (docs/audit-events.md; a group is written `workspace.*`).";
    INVALID_IDEMPOTENCY_KEY "invalid_idempotency_key"
        "{field} must be 1 to {max} visible ASCII characters, without spaces. A UUID fits.";
    UNKNOWN_OBJECT "unknown_object" "{field} names no {what}. Check the id.";
    MISMATCH "mismatch" "{field} does not match `{expected}`. Type it exactly to confirm.";
    NO_PERMISSION_GIVEN "no_permission_given"
        "{field} names no permission. Name at least one (see GET /api/v1/permissions), or admin or read.";
    UNKNOWN_PERMISSION "unknown_permission" "{field} (`{value}`) is not a permission. See GET /api/v1/permissions for the list.";
    NOT_HELD "not_held"
        "{field} (`{value}`) grants permissions you don't hold, and a key can't have more than whoever creates it. Leave it out, or ask someone who holds it.";
    NOT_ASSIGNABLE "not_assignable"
        "{field} (`{value}`) belongs to the platform operator, and an API key may not hold it. Leave it out.";

    // ---------------------------------------------------------------- times
    NOT_IN_FUTURE "not_in_future" "{field} is not in the future. Choose a later time.";
    NOT_SCHEDULED "not_scheduled" "{field} is only for scheduled content. Remove it, or set the status to scheduled.";
    BEFORE_START "before_start" "{field} is before the start of the range. Choose a later end, or an earlier start.";
    RANGE_TOO_LONG "range_too_long" "{field} is more than {days} days after the start. Narrow the range to {days} days or fewer.";

    // ---------------------------------------------------------------- statuses
    NOT_ALLOWED_TRANSITION "not_allowed_transition" "{field} can't change from {from} to {to}. {allowed}.";

    // ---------------------------------------------------------------- proofs and passwords
    WRONG_PASSWORD "wrong_password" "{field} is not your current password. Type it again.";
    WRONG_CODE "wrong_code"
        "{field} is not the current code from your authenticator app, or was already used. Enter the code the app shows now.";
    NOT_A_TOTP_CODE "not_a_totp_code" "{field} is not a 6-digit code. Enter the 6 digits your authenticator app shows.";
    COMMON_PASSWORD "common_password" "{field} is one of the most common passwords. Choose something less predictable.";
    PERSONAL_WORDS "personal_words"
        "{field} is built from your name, your email or your organization's name. Choose something unrelated.";
    TOO_PREDICTABLE "too_predictable"
        "{field} is a simple sequence or repetition that is guessed at once. Choose something less predictable.";
    TOO_WEAK "too_weak" "{field} is too easy to guess (strength {score} of 4). A longer passphrase of unrelated words is stronger.";
    MISSING_CHARACTER_CLASSES "missing_character_classes"
        "{field} mixes too few kinds of characters. Use at least three of: lower-case letters, upper-case letters, digits, symbols.";
}
