//! The paging parameters of the paged reports (AMP's `start`, `count`, `sortcolumn`,
//! `sortorder`, `height_start`, `height_stop`): read from the query string, then from a JSON
//! body on GET, validated, and applied to the rows.

use std::collections::BTreeMap;

use amphora_core::FieldError;
use amphora_store::{Heights, Window};
use axum::http::Uri;
use serde_json::Value;

use crate::error::ApiError;

/// Rows returned when `count` is not given.
const DEFAULT_COUNT: i64 = 100_000;

/// The paging parameters of `activities` and `txs`, as text.
pub(in crate::routes::reports) type Params = BTreeMap<String, String>;

/// The query string's parameters (malformed encoding is a 400).
pub(in crate::routes::reports) fn query_params(uri: &Uri) -> Result<Params, ApiError> {
    let query = axum::extract::Query::<Params>::try_from_uri(uri)
        .map_err(|_| ApiError::field(FieldError::NON_FIELD, "Malformed query string."))?;
    Ok(query.0)
}

/// The parameters of a JSON object body (numbers and strings; `null` means absent).
pub(in crate::routes::reports) fn body_params(body: &[u8]) -> Result<Params, ApiError> {
    let value: Value = crate::extract::parse_json_object(body)?;
    let mut params = Params::new();
    if let Value::Object(map) = value {
        for (key, value) in map {
            let text = match value {
                Value::Null => continue,
                Value::String(text) => text,
                Value::Number(number) => number.to_string(),
                Value::Bool(flag) => flag.to_string(),
                other => {
                    return Err(ApiError::field(
                        &key,
                        format!("Expected a number or a string, got {other}."),
                    ))
                }
            };
            params.insert(key, text);
        }
    }
    Ok(params)
}

/// Query parameters, each falling back to the same key of a JSON body.
pub(in crate::routes::reports) fn params(uri: &Uri, body: &[u8]) -> Result<Params, ApiError> {
    let mut params = query_params(uri)?;
    if !body.iter().all(u8::is_ascii_whitespace) {
        for (key, value) in body_params(body)? {
            params.entry(key).or_insert(value);
        }
    }
    Ok(params)
}

/// Validated paging: which rows (by height), their order, and the window; the store applies
/// them.
#[derive(Debug)]
pub(in crate::routes::reports) struct Paging {
    start: i64,
    count: i64,
    /// The sort column's index in the report's columns; `None`: the report's own order.
    pub(in crate::routes::reports) column: Option<usize>,
    descending: bool,
    pub(in crate::routes::reports) height_start: Option<i64>,
    pub(in crate::routes::reports) height_stop: Option<i64>,
}

/// An integer parameter, absent or exactly an integer (as its schema's `type` says: neither
/// empty nor padded).
fn integer(params: &Params, key: &str) -> Result<Option<i64>, FieldError> {
    match params.get(key) {
        None => Ok(None),
        Some(text) => text
            .parse()
            .map(Some)
            .map_err(|_| FieldError::new(key, "A valid integer is required.")),
    }
}

impl Paging {
    /// The form of `sortcolumn` (anchored regex): one of `columns` or its 0-based index,
    /// surrounding whitespace ignored, or empty. (At most 10 columns.)
    pub(crate) fn column_pattern(columns: &[&str]) -> String {
        let ws = amphora_core::validation::WHITESPACE_CLASS;
        format!(
            "^[{ws}]*(?:{}|\\+?0*[0-{}])?[{ws}]*$",
            columns.join("|"),
            columns.len() - 1
        )
    }

    /// The form of `sortorder` (anchored regex): `asc` or `desc` in any case, surrounding
    /// whitespace ignored, or empty.
    pub(crate) fn order_pattern() -> String {
        let ws = amphora_core::validation::WHITESPACE_CLASS;
        format!("^[{ws}]*(?:[Aa][Ss][Cc]|[Dd][Ee][Ss][Cc])?[{ws}]*$")
    }

    /// Reads the parameters; `columns` are the sortable column names (also by 0-based index).
    /// `start` counts rows from 1 (`0` also means the first row, as clients that count from 0
    /// send it); a negative `start` counts from the end.
    pub(in crate::routes::reports) fn parse(
        params: &Params,
        columns: &[&str],
    ) -> Result<Paging, ApiError> {
        let mut errors = Vec::new();
        let mut take = |result: Result<Option<i64>, FieldError>| {
            result.unwrap_or_else(|e| {
                errors.push(e);
                None
            })
        };
        let start = take(integer(params, "start")).unwrap_or(1);
        let count = take(integer(params, "count"));
        let height_start = take(integer(params, "height_start"));
        let height_stop = take(integer(params, "height_stop"));
        let count = match count {
            Some(n) if n < 0 => {
                errors.push(FieldError::new("count", "Ensure this value is at least 0."));
                0
            }
            Some(n) => n,
            None => DEFAULT_COUNT,
        };
        for (key, value) in [("height_start", height_start), ("height_stop", height_stop)] {
            if value.is_some_and(|h| h < 0) {
                errors.push(FieldError::new(key, "Ensure this value is at least 0."));
            }
        }
        let column = match params.get("sortcolumn").map(|v| v.trim()) {
            None | Some("") => None,
            Some(name) => {
                let found = match name.parse::<usize>() {
                    Ok(index) if index < columns.len() => Some(index),
                    Ok(_) => None,
                    Err(_) => columns.iter().position(|c| *c == name),
                };
                if found.is_none() {
                    errors.push(FieldError::new(
                        "sortcolumn",
                        format!("Unknown column; use one of {columns:?} or its index."),
                    ));
                }
                found
            }
        };
        let descending = match params
            .get("sortorder")
            .map(|v| v.trim().to_ascii_lowercase())
        {
            None => false,
            Some(order) if order.is_empty() || order == "asc" => false,
            Some(order) if order == "desc" => true,
            Some(_) => {
                errors.push(FieldError::new("sortorder", "Use \"asc\" or \"desc\"."));
                false
            }
        };
        if !errors.is_empty() {
            return Err(ApiError::Fields(errors));
        }
        Ok(Paging {
            start,
            count,
            column,
            descending,
            height_start,
            height_stop,
        })
    }

    /// The rows to return, for the store.
    pub(in crate::routes::reports) fn window(&self) -> Window {
        Window {
            start: self.start,
            count: self.count,
            descending: self.descending,
        }
    }

    /// The height range, for the store.
    pub(in crate::routes::reports) fn heights(&self) -> Heights {
        Heights {
            start: self.height_start,
            stop: self.height_stop,
        }
    }
}
