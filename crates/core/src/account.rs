//! Rules for platform accounts (issuers and, later, managers): usernames and passwords.

use crate::validation::{Charset, FieldError, TextRule};

/// Minimum password length.
pub const PASSWORD_MIN: usize = 8;
/// Maximum password length (argon2 accepts more; this bounds the work per login).
pub const PASSWORD_MAX: usize = 128;
/// Maximum username length.
pub const USERNAME_MAX: usize = 150;

/// The rule of a new account's `username`: Django's, in ASCII.
pub const USERNAME: TextRule = TextRule {
    charset: Charset::AsciiAlphanumericAnd("@.+-_"),
    charset_message: "Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters.",
    ..TextRule::new("username", 1, USERNAME_MAX, false)
};

/// The length rule of a new `password` (any characters).
pub const PASSWORD: TextRule = TextRule {
    charset: Charset::Any,
    ..TextRule::new("password", PASSWORD_MIN, PASSWORD_MAX, false)
};

/// What a new password must contain (unanchored regex): a character other than an ASCII digit.
pub const PASSWORD_NOT_NUMERIC_PATTERN: &str = "[^0-9]";

/// An account username: 1–150 ASCII letters, digits and `@ . + - _` (Django's rule).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    /// Validates `value` as the `username` field.
    pub fn parse(value: &str) -> Result<Self, FieldError> {
        USERNAME.check(value).map(Username)
    }

    /// The validated username.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Checks a new password: 8–128 characters and not entirely numeric.
pub fn check_new_password(password: &str) -> Result<(), FieldError> {
    if password.chars().count() < PASSWORD_MIN {
        return Err(FieldError::new(
            "password",
            format!(
                "This password is too short. It must contain at least {PASSWORD_MIN} characters."
            ),
        ));
    }
    PASSWORD.check(password)?;
    if password.chars().all(|c| c.is_ascii_digit()) {
        return Err(FieldError::new(
            "password",
            "This password is entirely numeric.",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        assert!(Username::parse("issuer").is_ok());
        assert!(Username::parse("a.b+c@d-e_f").is_ok());
        assert!(Username::parse("").is_err());
        assert!(Username::parse("with space").is_err());
        assert!(Username::parse(&"u".repeat(151)).is_err());
        assert!(Username::parse("élodie").is_err());
    }

    #[test]
    fn passwords() {
        assert!(check_new_password("correct horse").is_ok());
        assert!(check_new_password("short").is_err());
        assert!(check_new_password("12345678901").is_err());
        assert!(check_new_password(&"p".repeat(129)).is_err());
    }
}
