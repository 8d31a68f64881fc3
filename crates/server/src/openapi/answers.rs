//! What every operation can answer besides its own results, added to the
//! document in one place so no handler has to repeat it: the refusals of the
//! layers in front of it (authentication, rate limits, body and query parsing,
//! path ids, the database), every error as `application/problem+json`, and the
//! headers every answer carries.

use serde_json::{Map, Value, json};

const PROBLEM: &str = "application/problem+json";
const METHODS: [&str; 5] = ["get", "put", "post", "patch", "delete"];

/// Completes every operation of `doc` (the document as JSON) in place.
pub fn complete(doc: &mut Value) {
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else { return };
    for (path, item) in paths.iter_mut() {
        for method in METHODS {
            if let Some(op) = item.get_mut(method).and_then(Value::as_object_mut) {
                complete_operation(path, method, op);
            }
        }
    }
}

/// What an operation's shape says it can be refused for.
struct Shape {
    secured: bool,
    path_ids: bool,
    query: bool,
    body: bool,
    json_body: bool,
    /// A write to what a workspace holds, refused while it is archived.
    workspace_write: bool,
}

impl Shape {
    fn of(path: &str, method: &str, op: &Map<String, Value>) -> Shape {
        let params = op.get("parameters").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
        let located = |place: &str| params.iter().any(|p| p.get("in").and_then(Value::as_str) == Some(place));
        let body = op.get("requestBody").and_then(|b| b.get("content")).and_then(Value::as_object);
        // `security: [{}]` is how an operation says it takes no credentials.
        let open = op
            .get("security")
            .and_then(Value::as_array)
            .is_some_and(|s| s.iter().all(|r| r.as_object().is_some_and(Map::is_empty)));
        Shape {
            secured: !open,
            path_ids: located("path"),
            query: located("query"),
            body: body.is_some(),
            json_body: body.is_some_and(|c| c.contains_key("application/json")),
            workspace_write: method != "get" && path.starts_with("/api/v1/workspaces/{id}/"),
        }
    }

    /// The statuses the layers in front of the handler can answer.
    fn statuses(&self) -> Vec<u16> {
        let mut out = Vec::new();
        let mut add = |yes: bool, status: u16| {
            if yes {
                out.push(status)
            }
        };
        add(self.secured || self.query || self.json_body, 400);
        add(self.secured, 401);
        add(self.secured, 403);
        add(self.path_ids, 404);
        add(self.workspace_write, 409);
        add(self.body, 413);
        add(self.body, 415);
        add(self.query || self.json_body, 422);
        add(self.secured, 429);
        add(true, 503);
        out
    }
}

fn complete_operation(path: &str, method: &str, op: &mut Map<String, Value>) {
    let shape = Shape::of(path, method, op);
    let responses = op.entry("responses").or_insert_with(|| json!({}));
    let Some(responses) = responses.as_object_mut() else { return };
    for status in shape.statuses() {
        responses.entry(status.to_string()).or_insert_with(|| json!({}));
    }
    for (status, response) in responses.iter_mut() {
        let Some(response) = response.as_object_mut() else { continue };
        let code: u16 = status.parse().unwrap_or(0);
        let described = response.get("description").and_then(Value::as_str).is_some_and(|d| !d.is_empty());
        if !described {
            response.insert("description".into(), default_description(code).into());
        }
        if code >= 400 {
            response
                .insert("content".into(), json!({ PROBLEM: { "schema": { "$ref": "#/components/schemas/Problem" } } }));
        }
        response.insert("headers".into(), headers(code, shape.secured));
    }
}

fn headers(status: u16, secured: bool) -> Value {
    let mut h = Map::new();
    h.insert(
        "X-Request-Id".into(),
        json!({ "description": "The request's id, also in problem bodies: quote it to support.", "schema": { "type": "string" } }),
    );
    if secured {
        h.insert(
            "RateLimit-Policy".into(),
            json!({ "description": "On answers to an API key: its limit, such as `\"key\";q=600;w=60` (requests a 60-second window).", "schema": { "type": "string" } }),
        );
        h.insert(
            "RateLimit".into(),
            json!({ "description": "On answers to an API key: what is left of its limit, such as `\"key\";r=599;t=42` (requests remaining, seconds until the window resets).", "schema": { "type": "string" } }),
        );
    }
    if status == 429 || status == 503 {
        h.insert(
            "Retry-After".into(),
            json!({ "description": "Seconds to wait before trying again.", "schema": { "type": "integer", "minimum": 1 } }),
        );
    }
    Value::Object(h)
}

fn default_description(status: u16) -> &'static str {
    match status {
        200 => "OK.",
        201 => "Created.",
        202 => "Accepted: the work runs in the background.",
        204 => "Done; no content.",
        400 => {
            "The request could not be read: `malformed_json`, `invalid_query`, `invalid_authorization` or `credentials_in_query`."
        }
        401 => {
            "No valid credentials: `authentication_required`, `invalid_api_key`, `api_key_expired` or `session_expired`."
        }
        403 => {
            "Not allowed: the caller lacks the permission in `x-permission` (`permission` names it), a cookie write lacks its CSRF token, or the route needs a person's session rather than a key."
        }
        404 => "Nothing of that id in the caller's organization: `not_found`.",
        409 => "The request conflicts with the current state (such as `workspace_archived`); `code` says how.",
        413 => "The body is over the size limit: `payload_too_large`.",
        415 => "The body is not of a type this operation takes: `unsupported_media_type`.",
        422 => {
            "A field or query value is wrong: `validation_failed`, with `errors` naming each field and rule, or `invalid_cursor`."
        }
        429 => "Over the API key's limit a minute: `rate_limited`; `Retry-After` says when to try again.",
        503 => "The database does not answer: `database_unavailable`; try again shortly.",
        _ => "See `code`.",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secured_operation_with_an_id_and_a_body_gets_every_layer_refusal() {
        let mut doc = json!({ "paths": { "/things/{id}": { "patch": {
            "parameters": [{ "name": "id", "in": "path" }],
            "requestBody": { "content": { "application/json": {} } },
            "responses": { "200": {}, "409": { "description": "slug_taken", "content": { "application/json": {} } } }
        } } } });
        complete(&mut doc);
        let responses = &doc["paths"]["/things/{id}"]["patch"]["responses"];
        let statuses: Vec<&str> = responses.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(statuses, ["200", "400", "401", "403", "404", "409", "413", "415", "422", "429", "503"]);
        assert_eq!(responses["409"]["description"], "slug_taken");
        assert!(
            responses["409"]["content"].get(PROBLEM).is_some()
                && responses["409"]["content"].get("application/json").is_none()
        );
        assert!(responses["200"]["headers"].get("RateLimit").is_some());
        assert!(responses["429"]["headers"].get("Retry-After").is_some());
    }

    #[test]
    fn an_open_operation_is_not_said_to_need_credentials() {
        let mut doc = json!({ "paths": { "/setup": { "get": { "security": [{}], "responses": { "200": {} } } } } });
        complete(&mut doc);
        let statuses: Vec<String> =
            doc["paths"]["/setup"]["get"]["responses"].as_object().unwrap().keys().cloned().collect();
        assert_eq!(statuses, ["200", "503"]);
    }
}
