//! CSV answers of report routes: chosen with `?format=csv` (or `Accept: text/csv`), written
//! with the `csv` crate (RFC 4180 quoting, CRLF line ends), UTF-8, a header row first. JSON
//! stays the default.

use axum::http::{header, HeaderMap, HeaderValue, Uri};
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

/// The `format` parameter of the query string (malformed encoding is a 400).
pub(crate) fn format_param(uri: &Uri) -> Result<Option<String>, ApiError> {
    let query =
        axum::extract::Query::<std::collections::BTreeMap<String, String>>::try_from_uri(uri)
            .map_err(|_| {
                ApiError::field(
                    amphora_core::FieldError::NON_FIELD,
                    "Malformed query string.",
                )
            })?;
    Ok(query.0.get("format").cloned())
}

/// Whether the caller asked for CSV: `format` (`csv` or `json`, from the query string) wins;
/// without it an `Accept` header naming `text/csv` does. Any other `format` is a 400.
pub(crate) fn wants_csv(format: Option<&str>, headers: &HeaderMap) -> Result<bool, ApiError> {
    match format.map(|f| f.trim().to_ascii_lowercase()).as_deref() {
        Some("csv") => Ok(true),
        Some("json") => Ok(false),
        Some("") | None => Ok(headers
            .get_all(header::ACCEPT)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|media| {
                media
                    .split(';')
                    .next()
                    .is_some_and(|m| m.trim().eq_ignore_ascii_case("text/csv"))
            })),
        Some(_) => Err(ApiError::field("format", "Use \"csv\" or \"json\".")),
    }
}

/// A `text/csv` answer: `header`, then one record per row, offered as `filename`.
pub(crate) fn csv_response(
    filename: &str,
    header: &[&str],
    rows: impl IntoIterator<Item = Vec<String>>,
) -> Result<Response, ApiError> {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    let failed = |e: csv::Error| ApiError::Internal(format!("writing CSV: {e}"));
    writer.write_record(header).map_err(failed)?;
    for row in rows {
        writer.write_record(&row).map_err(failed)?;
    }
    let body = writer
        .into_inner()
        .map_err(|e| ApiError::Internal(format!("writing CSV: {e}")))?;
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\""))
        .map_err(|e| ApiError::Internal(format!("CSV file name: {e}")))?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            ),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response())
}
