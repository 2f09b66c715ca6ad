//! Field-level validation errors shared by every domain rule.

use std::fmt;

/// One rejected input field, with a message a user can act on.
///
/// `field` is the wire name of the field (`name`, `GAID`, `password`…); rules that concern the
/// request as a whole use [`FieldError::NON_FIELD`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// Wire name of the offending field.
    pub field: String,
    /// Human-readable reason.
    pub message: String,
}

impl FieldError {
    /// Field name used for errors that concern the whole request (DRF's convention).
    pub const NON_FIELD: &'static str = "non_field_errors";

    /// An error on `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for FieldError {}

/// Checks that `value`, once trimmed, has between `min` and `max` characters (Unicode scalar
/// values) and contains no control characters. Returns the trimmed value.
pub fn bounded_text(
    field: &str,
    value: &str,
    min: usize,
    max: usize,
) -> Result<String, FieldError> {
    let trimmed = value.trim();
    let len = trimmed.chars().count();
    if len < min {
        return Err(FieldError::new(
            field,
            if min == 1 {
                "This field may not be blank.".to_string()
            } else {
                format!("Ensure this field has at least {min} characters.")
            },
        ));
    }
    if len > max {
        return Err(FieldError::new(
            field,
            format!("Ensure this field has no more than {max} characters."),
        ));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(FieldError::new(
            field,
            "This field may not contain control characters.",
        ));
    }
    Ok(trimmed.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_text_trims_and_checks_bounds() {
        assert_eq!(bounded_text("name", "  Alice ", 1, 5).unwrap(), "Alice");
        assert_eq!(
            bounded_text("name", "   ", 1, 5).unwrap_err().message,
            "This field may not be blank."
        );
        assert!(bounded_text("name", "abcdef", 1, 5).is_err());
        assert!(bounded_text("name", "ab\u{0}c", 1, 5).is_err());
        // characters, not bytes
        assert!(bounded_text("name", "ééééé", 1, 5).is_ok());
    }
}
