//! Completes every operation of the document with what the server's one error table
//! ([`crate::error::ApiError`]) answers: the error statuses that the shared layers (token
//! check, access matrix, body and path extractors) can produce for it, each with its body
//! shape, and a unique `operationId` (handlers in different modules share function names).

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

/// `{"detail": …}`: 401, 403, 404, 405, 413, 429 (logins), 503 and 500.
const DETAIL: &str = "Detail";
/// DRF field errors: `{"field": ["message", …], …}`, `non_field_errors` for the whole body.
const FIELD_ERRORS: &str = "FieldErrors";
/// A refused business rule: `{"Error": …}`.
const BUSINESS_ERROR: &str = "BusinessError";
/// The AMP2 co-signer's shape: `{"error": …}`, with `reasons` when it refuses to sign.
const AMP2_ERROR: &str = "Amp2Error";

fn error_schemas() -> Map<String, Value> {
    let text = json!({"type": "string"});
    let mut schemas = Map::new();
    schemas.insert(
        DETAIL.into(),
        json!({"type": "object", "required": ["detail"], "properties": {"detail": text},
               "description": "Authentication, permission, not found and availability errors."}),
    );
    schemas.insert(
        FIELD_ERRORS.into(),
        json!({"type": "object", "minProperties": 1,
               "additionalProperties": {"type": "array", "items": text, "minItems": 1},
               "description": "Invalid input: the messages of each field (`non_field_errors` \
                    for the body as a whole)."}),
    );
    schemas.insert(
        BUSINESS_ERROR.into(),
        json!({"type": "object", "required": ["Error"], "properties": {"Error": text},
               "description": "A business rule refused the request."}),
    );
    schemas.insert(
        AMP2_ERROR.into(),
        json!({"type": "object", "required": ["error"],
               "properties": {"error": text, "reasons": {"type": "array", "items": text}},
               "description": "The AMP2 co-signer refused the request; `reasons` are stable codes."}),
    );
    schemas
}

fn reference(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

/// The body schema of an error `status` of the operation at `path`.
fn body_of(path: &str, status: &str) -> Value {
    let amp2_wallets = path.starts_with("/amp2/wallets/");
    match status {
        "400" if amp2_wallets => reference(AMP2_ERROR),
        "403" | "429" if amp2_wallets => reference(AMP2_ERROR),
        "400" => json!({"oneOf": [reference(FIELD_ERRORS), reference(BUSINESS_ERROR)]}),
        _ => reference(DETAIL),
    }
}

/// What the shared layers answer, by the shape of the operation.
fn implied_statuses(operation: &Value) -> Vec<(&'static str, &'static str)> {
    let mut statuses = Vec::new();
    let secured = operation["security"].as_array().is_some_and(|s| {
        s.iter()
            .any(|r| r.as_object().is_some_and(|r| !r.is_empty()))
    });
    if secured {
        statuses.push(("401", "Missing, invalid or expired token"));
        statuses.push(("403", "The caller's role may not call this operation"));
    }
    let parameters = operation["parameters"].as_array();
    if parameters.is_some_and(|p| p.iter().any(|p| p["in"] == "path")) {
        statuses.push((
            "404",
            "No such object (or a path parameter that does not parse)",
        ));
    }
    if operation.get("requestBody").is_some() || parameters.is_some_and(|p| !p.is_empty()) {
        statuses.push(("400", "Invalid input"));
    }
    if operation.get("requestBody").is_some() {
        statuses.push(("413", "Request body is too large"));
    }
    statuses
}

/// Whether the component `reference` names has no required property: an empty body (read as
/// `{}`) is then a valid request.
fn all_optional(schemas: &Value, reference: &Value) -> bool {
    let Some(name) = reference["$ref"]
        .as_str()
        .and_then(|r| r.rsplit('/').next())
    else {
        return false;
    };
    let schema = &schemas[name];
    schema["type"] == "object" && schema["required"].as_array().is_none_or(|r| r.is_empty())
}

/// Adds the error responses and bodies, the error schemas, and unique operation ids; states
/// that a body of only optional fields may be left out, and the GAID form of `gaid` path
/// parameters.
pub fn complete(document: &mut Value) {
    let schemas = document["components"]["schemas"].clone();
    let mut ids: BTreeMap<String, usize> = BTreeMap::new();
    let paths = document["paths"].as_object_mut().expect("paths");
    for operation in paths
        .values()
        .flat_map(|item| item.as_object().into_iter().flat_map(|i| i.values()))
    {
        if let Some(id) = operation["operationId"].as_str() {
            *ids.entry(id.to_string()).or_default() += 1;
        }
    }
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for (method, operation) in item.iter_mut() {
            if let Some(body) = operation.get_mut("requestBody") {
                if all_optional(&schemas, &body["content"]["application/json"]["schema"]) {
                    body["required"] = Value::Bool(false);
                }
            }
            for parameter in operation["parameters"].as_array_mut().into_iter().flatten() {
                if parameter["in"] == "path"
                    && parameter["name"] == "gaid"
                    && !path.ends_with("/validate")
                {
                    parameter["schema"] =
                        serde_json::to_value(crate::schema::gaid()).expect("a schema serializes");
                }
                if let Some((column, order)) = crate::routes::reports::sort_patterns(path) {
                    let pattern = match parameter["name"].as_str() {
                        Some("sortcolumn") => column,
                        Some("sortorder") => order,
                        _ => continue,
                    };
                    parameter["schema"]["pattern"] = Value::String(pattern);
                }
            }
            let id = operation["operationId"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            if ids.get(&id).copied().unwrap_or(0) != 1 {
                operation["operationId"] = Value::String(unique_id(method, path));
            }
            for (status, description) in implied_statuses(operation) {
                let responses = operation["responses"].as_object_mut().expect("responses");
                responses
                    .entry(status)
                    .or_insert_with(|| json!({"description": description}));
            }
            let responses = operation["responses"].as_object_mut().expect("responses");
            for (status, response) in responses.iter_mut() {
                if status.as_str() >= "400" && response.get("content").is_none() {
                    response["content"] =
                        json!({"application/json": {"schema": body_of(path, status)}});
                }
            }
        }
    }
    let schemas = document["components"]["schemas"]
        .as_object_mut()
        .expect("components.schemas");
    schemas.extend(error_schemas());
}

/// `get_api_assets_asset_uuid`: the method and the path's words.
fn unique_id(method: &str, path: &str) -> String {
    let words: Vec<String> = path
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(str::to_string)
        .collect();
    format!("{method}_{}", words.join("_"))
}
