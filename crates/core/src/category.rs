//! Categories: labels an issuer puts on registered users and on assets; a transfer-restricted
//! asset may only go to registered users who hold all of its categories.

use crate::validation::{Charset, FieldError, TextRule};

/// Maximum length of a category name.
pub const NAME_MAX: usize = 255;
/// Maximum length of a category description.
pub const DESCRIPTION_MAX: usize = 1023;

/// The rule of a category's `name`.
pub const NAME: TextRule = TextRule::new("name", 1, NAME_MAX, true);

/// The rule of a category's `description`: any text up to [`DESCRIPTION_MAX`] characters.
pub const DESCRIPTION: TextRule = TextRule {
    charset: Charset::Any,
    empty_allowed: true,
    ..TextRule::new("description", 0, DESCRIPTION_MAX, true)
};

/// A category name: 1–255 characters after trimming.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategoryName(String);

impl CategoryName {
    /// Validates `value` as the `name` field.
    pub fn parse(value: &str) -> Result<Self, FieldError> {
        NAME.check(value).map(CategoryName)
    }

    /// Consumes the name.
    pub fn into_string(self) -> String {
        self.0
    }
}

/// A category description: at most 1023 characters; may be empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategoryDescription(String);

impl CategoryDescription {
    /// Validates `value` as the `description` field.
    pub fn parse(value: &str) -> Result<Self, FieldError> {
        DESCRIPTION.check(value).map(CategoryDescription)
    }

    /// Consumes the description.
    pub fn into_string(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn category_name_and_description_bounds() {
        assert!(CategoryName::parse("").is_err());
        assert!(CategoryName::parse(&"n".repeat(256)).is_err());
        assert_eq!(CategoryName::parse(" EU ").unwrap().into_string(), "EU");
        assert_eq!(CategoryDescription::parse("").unwrap().into_string(), "");
        assert!(CategoryDescription::parse(&"d".repeat(1023)).is_ok());
        assert_eq!(
            CategoryDescription::parse(&"d".repeat(1024))
                .unwrap_err()
                .field,
            "description"
        );
    }
}
