//! Registered users (investors): the people and companies an issuer keeps in its register.

use crate::validation::{FieldError, TextRule};

/// Maximum length of a registered user's name.
pub const NAME_MAX: usize = 255;

/// The rule of a registered user's `name`.
pub const NAME: TextRule = TextRule::new("name", 1, NAME_MAX, true);

/// A registered user's name: 1–255 characters after trimming, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisteredUserName(String);

impl RegisteredUserName {
    /// Validates `value` as the `name` field.
    pub fn parse(value: &str) -> Result<Self, FieldError> {
        NAME.check(value).map(RegisteredUserName)
    }

    /// The validated name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Consumes the name.
    pub fn into_string(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_between_1_and_255_characters() {
        assert_eq!(RegisteredUserName::parse(" Bob ").unwrap().as_str(), "Bob");
        assert!(RegisteredUserName::parse("").is_err());
        assert!(RegisteredUserName::parse(&"x".repeat(255)).is_ok());
        let err = RegisteredUserName::parse(&"x".repeat(256)).unwrap_err();
        assert_eq!(err.field, "name");
    }
}
