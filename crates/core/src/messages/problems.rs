//! Whole-request refusals: the `code`, its `title` (the same for every problem
//! of the code, as RFC 9457 asks) and the message that becomes `detail`.
//! docs/errors.md lists them; `STEWARD_UPDATE_DOCS=1` refreshes it.

/// One kind of refusal. `message` may name facts as `{blanks}`.
#[derive(Debug, PartialEq, Eq)]
pub struct Problem {
    pub code: &'static str,
    pub title: &'static str,
    pub message: &'static str,
}

macro_rules! problems {
    ($($name:ident $code:literal $title:literal $message:literal;)*) => {
        $(pub const $name: Problem = Problem { code: $code, title: $title, message: $message };)*
        /// Every problem, in the order written.
        pub const ALL: &[Problem] = &[$($name),*];
    };
}

problems! {
    // ---------------------------------------------------------------- requests
    VALIDATION_FAILED "validation_failed" "Validation failed"
        "{count} fields need changes; `errors` says what is wrong with each.";
    NOT_FOUND "not_found" "Not found"
        "No {what} with this id exists in {place}. Check the id, or list them to find it.";
    ROUTE_NOT_FOUND "route_not_found" "Route not found"
        "There is no API route {path}. See /api/v1/openapi.json for the routes there are.";
    METHOD_NOT_ALLOWED "method_not_allowed" "Method not allowed"
        "This route does not accept this HTTP method. See /api/v1/openapi.json for the methods it takes.";
    MALFORMED_JSON "malformed_json" "Malformed JSON"
        "The body is not valid JSON: {reason}. Fix the JSON and send it again.";
    UNREADABLE_BODY "unreadable_body" "Unreadable body"
        "The {what} could not be read to its end. Send it again.";
    PAYLOAD_TOO_LARGE "payload_too_large" "Payload too large"
        "The {what} is larger than this endpoint accepts ({limit}). Send a smaller one.";
    UNSUPPORTED_MEDIA_TYPE "unsupported_media_type" "Unsupported media type"
        "This endpoint reads JSON. Send the body with `Content-Type: application/json`.";
    INVALID_QUERY "invalid_query" "Invalid query string"
        "The query string is invalid: {reason}. Fix it and send the request again.";
    INVALID_CURSOR "invalid_cursor" "Invalid cursor"
        "The cursor is not one this API returned{context}. Start again without `cursor`.";
    CONFIRMATION_REQUIRED "confirmation_required" "Confirmation required"
        "Deleting a workspace is permanent. Repeat the request with ?confirm={slug} to confirm.";
    DATABASE_UNAVAILABLE "database_unavailable" "Service unavailable"
        "The database can't be reached right now. Try again in a few seconds.";
    INTERNAL_ERROR "internal_error" "Internal server error"
        "Something went wrong on our side. Try again; if it persists, contact your operator with the request id.";

    // ---------------------------------------------------------------- signing in
    AUTHENTICATION_REQUIRED "authentication_required" "Authentication required"
        "This needs a signed-in person or an API key. Sign in, or send an API key or session token in the `Authorization: Bearer …` header.";
    INVALID_AUTHORIZATION "invalid_authorization" "Invalid Authorization header"
        "The Authorization header is not `Bearer <API key or session token>`. Send it in that form.";
    CREDENTIALS_IN_QUERY "credentials_in_query" "Credentials in the query string"
        "Credentials are not accepted in the query string, where logs keep them. Send them in the `Authorization: Bearer …` header.";
    INVALID_API_KEY "invalid_api_key" "Invalid API key"
        "This API key is not valid; it may have been revoked or mistyped. Check the key, or create a new one in Integrations → API.";
    API_KEY_EXPIRED "api_key_expired" "API key expired"
        "This API key has expired. Create a new one in Integrations → API.";
    SESSION_EXPIRED "session_expired" "Session expired"
        "Your session has ended or is not valid. Sign in again.";
    CSRF_TOKEN_INVALID "csrf_token_invalid" "CSRF token missing"
        "This request changes data with a session cookie but lacks the session's CSRF token. Send it in the X-CSRF-Token header.";
    CROSS_SITE_REQUEST "cross_site_request" "Cross-site request"
        "Requests that change data must come from Steward's own pages. Open the page in Steward and try again.";
    INVALID_CREDENTIALS "invalid_credentials" "Wrong email or password"
        "The email or password is not correct. Check both and try again, or ask a Super Admin to send you a new invitation.";
    ACCOUNT_INACTIVE "account_inactive" "Account deactivated"
        "Your account is deactivated. Ask a Super Admin of your organization to reactivate it.";
    ACCOUNT_LOCKED "account_locked" "Too many attempts"
        "Too many failed sign-ins for this email. Try again in {minutes} minutes, or ask a Super Admin to help.";
    TOO_MANY_ATTEMPTS "too_many_attempts" "Too many attempts"
        "Sign-ins for this email are slowed after failed attempts. Wait {seconds} seconds before trying again.";
    ORGANIZATION_REQUIRED "organization_required" "Organization required"
        "This works in one organization, and none was named. {how}.";
    TWO_FACTOR_REQUIRED "two_factor_required" "Two-factor code required"
        "This account uses two-factor authentication. Send `totp_code` (from the app) or a `recovery_code` with the password.";
    INVALID_TWO_FACTOR_CODE "invalid_two_factor_code" "Wrong two-factor code"
        "The two-factor code is not correct, or was already used. Enter the code your app shows now, or a recovery code.";
    TWO_FACTOR_ENROLLMENT_REQUIRED "two_factor_enrollment_required" "Two-factor setup required"
        "Your organization requires two-factor authentication. Set it up first: POST /api/v1/me/two-factor/totp, then confirm with a code.";
    REAUTHENTICATION_REQUIRED "reauthentication_required" "Confirm it's you"
        "This action needs you to confirm it's you. Enter your password again (POST /api/v1/sessions/current/reauthenticate), then repeat it.";
    NOT_A_SESSION "not_a_session" "Not a session"
        "This request is authenticated with an API key, and {what} belongs to a signed-in session. {instead}.";
    USER_REQUIRED "user_required" "A person is required"
        "{what} belongs to a person, not an API key. Sign in as that person to do this.";

    // ---------------------------------------------------------------- setup
    INVALID_SETUP_TOKEN "invalid_setup_token" "Invalid setup link"
        "This setup link is not valid. Use the newest link the server printed when it started (restarting prints a new one).";
    SETUP_ALREADY_COMPLETED "setup_already_completed" "Already set up"
        "This deployment is already set up. Sign in, or ask your operator for an account.";
    SEALING_KEY_MISMATCH "sealing_key_mismatch" "Secret key mismatch"
        "This database was set up with another secret key. Give every instance the same `secret_key` (STEWARD_SECRET_KEY): the one in data/secret.key of the first instance, or the one it was given.";

    // ---------------------------------------------------------------- permissions
    SUPER_ADMIN_REQUIRED "super_admin_required" "Super Admin required"
        "Only Super Admins can do this (the `{permission}` permission). Ask one of your organization's Super Admins for access.";
    WORKSPACE_ROLE_REQUIRED "workspace_role_required" "Workspace role required"
        "Your role in this workspace is {role}; this needs {need} workspace admin (the `{permission}` permission). Ask a workspace admin.";
    INSUFFICIENT_SCOPE "insufficient_scope" "Permission missing from the API key"
        "This API key does not hold the `{permission}` permission. Use a key that does, or create one in Integrations → API.";
    RATE_LIMITED "rate_limited" "Rate limit reached"
        "This API key made more than its {limit} requests this minute. Wait {seconds} seconds (`Retry-After`), or raise the key's limit in Integrations → API.";
    OPERATOR_REQUIRED "operator_required" "Operator required"
        "Only the platform operator may do this (the `{permission}` permission). Ask whoever runs this deployment.";

    // ---------------------------------------------------------------- organization and people
    SLUG_TAKEN "slug_taken" "Slug taken"
        "Another {owner} already uses the slug `{slug}`. Choose another slug.";
    EMAIL_TAKEN "email_taken" "Email taken"
        "Someone in your organization already uses this email address. Use another address, or find that person under People.";
    LAST_SUPER_ADMIN "last_super_admin" "Last Super Admin"
        "{email} is the organization's only active Super Admin. Make someone else a Super Admin first.";
    INVITATION_PENDING "invitation_pending" "Invitation pending"
        "This person has not accepted their invitation yet; they become active when they do. Resend the invitation if it was lost.";
    NOT_INVITED "not_invited" "Already joined"
        "{email} has already accepted their invitation; there is nothing to resend. They can sign in.";
    INVITATION_NOT_FOUND "invitation_not_found" "Invitation not found"
        "This invitation link is not valid or was already used. Ask a Super Admin to send a new one.";
    INVITATION_EXPIRED "invitation_expired" "Invitation expired"
        "This invitation has expired. Ask a Super Admin to send a new one.";
    PERSON_INACTIVE "person_inactive" "Person deactivated"
        "{email} is deactivated. Reactivate them under People before adding them to a workspace.";

    // ---------------------------------------------------------------- two-factor
    TWO_FACTOR_ALREADY_ENABLED "two_factor_already_enabled" "Two-factor already on"
        "Two-factor authentication is already on for your account. Turn it off first to enroll a new device.";
    TWO_FACTOR_NOT_ENABLED "two_factor_not_enabled" "Two-factor not on"
        "Two-factor authentication is not on for this account, so there is nothing to turn off or reset. Set it up under Account.";
    TWO_FACTOR_REQUIRED_BY_ORGANIZATION "two_factor_required_by_organization" "Required by your organization"
        "Your organization requires two-factor authentication, so it can't be turned off. A Super Admin can change that under Security.";
    ENROLLMENT_NOT_STARTED "enrollment_not_started" "Enrollment not started"
        "There is no two-factor setup to confirm. Start it first: POST /api/v1/me/two-factor/totp gives the secret and QR code.";

    // ---------------------------------------------------------------- workspaces
    WORKSPACE_SUSPENDED "workspace_suspended" "Workspace suspended"
        "This workspace is suspended{reason}. Contact a Super Admin of your organization.";
    WORKSPACE_ARCHIVED "workspace_archived" "Workspace archived"
        "This workspace is archived. Restore it before changing what it holds.";
    WORKSPACE_LIMIT_REACHED "workspace_limit_reached" "Workspace limit reached"
        "Workspace limit reached: the plan allows {limit} workspaces. Archive a workspace or request an increase.";
    INVALID_STATUS_TRANSITION "invalid_status_transition" "Status can't change this way"
        "A {what} that is {from} can't {change}. Reload it to see its status now, and choose a change that status allows.";

    // ---------------------------------------------------------------- files and logos
    LOGO_TOO_LARGE "logo_too_large" "Logo too large"
        "The logo is larger than 2 MB. Use a smaller PNG, JPG or SVG file.";
    UNSUPPORTED_LOGO_TYPE "unsupported_logo_type" "Not a PNG, JPG or SVG"
        "The file is not a PNG, JPG or SVG image. Use a PNG, JPG or SVG file.";
    LOGO_UNREADABLE "logo_unreadable" "Logo unreadable"
        "The {kind} could not be read: {reason}. Export it again from your image editor and upload the new file.";
    LOGO_DIMENSIONS_TOO_LARGE "logo_dimensions_too_large" "Logo too large"
        "The image is {width}x{height} pixels; a logo may be at most {max_side} pixels on a side and 40 megapixels in all. Scale it down and upload it again.";
    UNSAFE_SVG "unsafe_svg" "Unsafe SVG"
        "The SVG contains {found}, which could run in a viewer's browser. Remove it (scripts, event handlers, foreignObject, external references, DOCTYPE), or upload a PNG.";

    // ---------------------------------------------------------------- jobs and demo data
    JOB_STATE "job_state" "Job state"
        "The job is {state} and can't be {verb}: {rule}. Look at it with `steward jobs show`.";
    JOB_DUPLICATE "job_duplicate" "Duplicate job"
        "Another job with the same dedupe key is still to run; that one will do the work. Wait for it, or cancel it first.";
    TRAIL_NOT_EMPTY "trail_not_empty" "Audit trail not empty"
        "{slug} already has audit events up to {until}; a trail's times never go backwards. Seed a new organization (give a new slug and it is created) or fewer --days.";

    // ---------------------------------------------------------------- credits
    INSUFFICIENT_CREDITS "insufficient_credits" "Not enough credits"
        "The organization has {balance} credits to use and this needs {amount}: {shortfall} more. Ask the platform operator for more credits, or debit less.";
    IDEMPOTENCY_KEY_REQUIRED "idempotency_key_required" "Idempotency-Key required"
        "A debit needs an `Idempotency-Key` header. Send a unique value per debit (a UUID), and the same one again when retrying.";
    IDEMPOTENCY_KEY_REUSED "idempotency_key_reused" "Idempotency-Key reused"
        "This Idempotency-Key was used for a request with another body. Use a new key for a new debit.";
    IDEMPOTENCY_KEY_IN_USE "idempotency_key_in_use" "Idempotency-Key in use"
        "A request with this Idempotency-Key is still running. Wait for its answer, then retry with the same key to get it.";
    WORKSPACE_BUDGET_EXCEEDED "workspace_budget_exceeded" "Workspace budget exceeded"
        "This workspace has used {used} of its {budget} credits this month and this needs {amount}. Wait for next month, or ask a Super Admin to raise its budget under Billing → Credits.";
    NOT_A_DEBIT "not_a_debit" "Not a debit"
        "{id} is a {kind} entry; only a debit can be refunded.";

    // ---------------------------------------------------------------- reports
    TOO_MANY_REPORTS "too_many_reports" "Too many reports in progress"
        "{max} reports of this organization are still being written. Wait for one to finish, then ask again.";
    REPORT_NOT_READY "report_not_ready" "Report not ready"
        "This report is still being written ({progress} % done). Wait a moment and download it when its status is ready.";
    REPORT_FAILED "report_failed" "Report failed"
        "This report could not be written. Ask for it again; if it fails again, tell whoever runs Steward.";
    REPORT_EXPIRED "report_expired" "Report expired"
        "Report files are kept {days} days, and this one's time is over. Ask for the report again.";
}
