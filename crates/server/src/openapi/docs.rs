//! `/api/docs`: the API document as a page to read, rendered on the server from
//! the same JSON `/api/v1/openapi.json` serves, so the two never disagree and
//! nothing loads from elsewhere (no CDN, no script).

use askama::Template;
use serde_json::{Map, Value};

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

#[derive(Template)]
#[template(path = "api_docs.html")]
pub struct ApiDocsPage {
    pub title: String,
    pub version: String,
    pub description: String,
    pub tags: Vec<TagView>,
    pub schemas: Vec<SchemaView>,
}

pub struct TagView {
    pub name: String,
    pub description: String,
    pub operations: Vec<OperationView>,
}

pub struct OperationView {
    pub anchor: String,
    pub method: String,
    pub path: String,
    pub summary: String,
    pub permission: String,
    pub open: bool,
    pub parameters: Vec<FieldView>,
    pub body: Option<String>,
    /// The body's schema, to link to.
    pub body_schema: String,
    pub responses: Vec<ResponseView>,
}

pub struct ResponseView {
    pub status: String,
    pub description: String,
    pub schema: Option<String>,
}

pub struct SchemaView {
    pub name: String,
    pub description: String,
    pub fields: Vec<FieldView>,
}

pub struct FieldView {
    pub name: String,
    pub kind: String,
    pub required: bool,
    pub description: String,
}

fn text(v: &Value, key: &str) -> String {
    v.get(key).and_then(Value::as_str).unwrap_or_default().to_owned()
}

/// `#/components/schemas/Problem` → `Problem`; an inline schema by its type.
fn type_name(schema: &Value) -> String {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        return r.rsplit('/').next().unwrap_or(r).to_owned();
    }
    if let Some(any) = schema.get("oneOf").or_else(|| schema.get("anyOf")).and_then(Value::as_array) {
        return any.iter().map(type_name).collect::<Vec<_>>().join(" or ");
    }
    let base = match schema.get("type") {
        Some(Value::Array(types)) => types.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(" or "),
        Some(Value::String(t)) => t.clone(),
        _ => "any".into(),
    };
    match (base.as_str(), schema.get("items")) {
        (b, Some(items)) if b.starts_with("array") => {
            base.replacen("array", &format!("array of {}", type_name(items)), 1)
        }
        _ => base,
    }
}

fn fields(schema: &Value) -> Vec<FieldView> {
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let empty = Map::new();
    let props = schema.get("properties").and_then(Value::as_object).unwrap_or(&empty);
    props
        .iter()
        .map(|(name, p)| FieldView {
            name: name.clone(),
            kind: type_name(p),
            required: required.contains(&name.as_str()),
            description: text(p, "description"),
        })
        .collect()
}

fn first_schema(content: Option<&Value>) -> Option<String> {
    let content = content?.as_object()?;
    let (media, body) = content.iter().next()?;
    Some(match body.get("schema") {
        Some(s) => format!("{} ({media})", type_name(s)),
        None => media.clone(),
    })
}

fn operation(path: &str, method: &str, op: &Value) -> OperationView {
    let parameters = op
        .get("parameters")
        .and_then(Value::as_array)
        .map(|ps| {
            ps.iter()
                .map(|p| FieldView {
                    name: format!("{} ({})", text(p, "name"), text(p, "in")),
                    kind: p.get("schema").map(type_name).unwrap_or_default(),
                    required: p.get("required").and_then(Value::as_bool).unwrap_or(false),
                    description: text(p, "description"),
                })
                .collect()
        })
        .unwrap_or_default();
    let responses = op
        .get("responses")
        .and_then(Value::as_object)
        .map(|rs| {
            rs.iter()
                .map(|(status, r)| ResponseView {
                    status: status.clone(),
                    description: text(r, "description"),
                    schema: first_schema(r.get("content")),
                })
                .collect()
        })
        .unwrap_or_default();
    let open = op
        .get("security")
        .and_then(Value::as_array)
        .is_some_and(|s| s.iter().all(|r| r.as_object().is_some_and(Map::is_empty)));
    OperationView {
        anchor: text(op, "operationId"),
        method: method.to_ascii_uppercase(),
        path: path.to_owned(),
        summary: [text(op, "summary"), text(op, "description")]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" "),
        permission: op.get("x-permission").and_then(Value::as_str).unwrap_or("none").to_owned(),
        open,
        parameters,
        body: first_schema(op.get("requestBody").and_then(|b| b.get("content"))),
        body_schema: op
            .pointer("/requestBody/content")
            .and_then(Value::as_object)
            .and_then(|c| c.values().next())
            .and_then(|c| c.get("schema"))
            .map(type_name)
            .unwrap_or_default(),
        responses,
    }
}

impl ApiDocsPage {
    pub fn from_document(doc: &Value) -> ApiDocsPage {
        let info = doc.get("info").cloned().unwrap_or_default();
        let mut tags: Vec<TagView> = doc
            .get("tags")
            .and_then(Value::as_array)
            .map(|ts| {
                ts.iter()
                    .map(|t| TagView { name: text(t, "name"), description: text(t, "description"), operations: vec![] })
                    .collect()
            })
            .unwrap_or_default();
        let empty = Map::new();
        for (path, item) in doc.get("paths").and_then(Value::as_object).unwrap_or(&empty) {
            for method in METHODS {
                let Some(op) = item.get(method) else { continue };
                let tag = op.get("tags").and_then(|t| t.get(0)).and_then(Value::as_str).unwrap_or("other").to_owned();
                let index = match tags.iter().position(|t| t.name == tag) {
                    Some(i) => i,
                    None => {
                        tags.push(TagView { name: tag, description: String::new(), operations: vec![] });
                        tags.len() - 1
                    }
                };
                tags[index].operations.push(operation(path, method, op));
            }
        }
        tags.retain(|t| !t.operations.is_empty());
        let schemas = doc
            .pointer("/components/schemas")
            .and_then(Value::as_object)
            .map(|all| {
                all.iter()
                    .map(|(name, s)| SchemaView {
                        name: name.clone(),
                        description: text(s, "description"),
                        fields: fields(s),
                    })
                    .collect()
            })
            .unwrap_or_default();
        ApiDocsPage {
            title: text(&info, "title"),
            version: text(&info, "version"),
            description: text(&info, "description"),
            tags,
            schemas,
        }
    }
}
