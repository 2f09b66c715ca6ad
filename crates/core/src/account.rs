//! Rules for platform accounts (issuers and, later, managers): usernames and passwords.

use crate::validation::FieldError;

/// Minimum password length.
pub const PASSWORD_MIN: usize = 8;
/// Maximum password length (argon2 accepts more; this bounds the work per login).
pub const PASSWORD_MAX: usize = 128;
/// Maximum username length.
pub const USERNAME_MAX: usize = 150;

/// An account username: 1–150 characters of letters, digits and `@ . + - _` (Django's rule).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    /// Validates `value` as the `username` field.
    pub fn parse(value: &str) -> Result<Self, FieldError> {
        if value.is_empty() {
            return Err(FieldError::new("username", "This field may not be blank."));
        }
        if value.chars().count() > USERNAME_MAX {
            return Err(FieldError::new(
                "username",
                format!("Ensure this field has no more than {USERNAME_MAX} characters."),
            ));
        }
        if !value
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '@' | '.' | '+' | '-' | '_'))
        {
            return Err(FieldError::new(
                "username",
                "Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters.",
            ));
        }
        Ok(Username(value.to_string()))
    }

    /// The validated username.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Checks a new password: 8–128 characters and not entirely numeric.
pub fn check_new_password(password: &str) -> Result<(), FieldError> {
    let len = password.chars().count();
    if len < PASSWORD_MIN {
        return Err(FieldError::new(
            "password",
            format!(
                "This password is too short. It must contain at least {PASSWORD_MIN} characters."
            ),
        ));
    }
    if len > PASSWORD_MAX {
        return Err(FieldError::new(
            "password",
            format!("Ensure this field has no more than {PASSWORD_MAX} characters."),
        ));
    }
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
    }

    #[test]
    fn passwords() {
        assert!(check_new_password("correct horse").is_ok());
        assert!(check_new_password("short").is_err());
        assert!(check_new_password("12345678901").is_err());
        assert!(check_new_password(&"p".repeat(129)).is_err());
    }
}
