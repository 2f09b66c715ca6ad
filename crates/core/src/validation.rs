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

/// Which characters a text field may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Charset {
    /// Any character.
    Any,
    /// Any character but control characters (Unicode general category Cc: U+0000–U+001F and
    /// U+007F–U+009F).
    NoControl,
    /// Neither control characters nor whitespace.
    NoControlNoWhitespace,
    /// Printable ASCII (U+0020–U+007E).
    PrintableAscii,
    /// ASCII letters and digits, and the characters of the string.
    AsciiAlphanumericAnd(&'static str),
}

/// What `str::trim` removes (Unicode `White_Space`), as the body of a regex character class.
pub const WHITESPACE_CLASS: &str =
    r"\t-\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000";
/// Unicode general category Cc, as the body of a regex character class.
const CONTROL_CLASS: &str = r"\x00-\x1F\x7F-\x9F";

impl Charset {
    /// Whether `c` is allowed.
    pub fn allows(self, c: char) -> bool {
        match self {
            Charset::Any => true,
            Charset::NoControl => !c.is_control(),
            Charset::NoControlNoWhitespace => !c.is_control() && !c.is_whitespace(),
            Charset::PrintableAscii => matches!(c, ' '..='~'),
            Charset::AsciiAlphanumericAnd(extra) => c.is_ascii_alphanumeric() || extra.contains(c),
        }
    }

    /// A regex character class of the allowed characters; with `edge`, without whitespace
    /// (the first and last character of a trimmed value).
    fn class(self, edge: bool) -> String {
        let ws = if edge { WHITESPACE_CLASS } else { "" };
        match self {
            Charset::Any if edge => format!("[^{WHITESPACE_CLASS}]"),
            Charset::Any => r"[\s\S]".to_string(),
            Charset::NoControl => format!("[^{CONTROL_CLASS}{ws}]"),
            Charset::NoControlNoWhitespace => format!("[^{CONTROL_CLASS}{WHITESPACE_CLASS}]"),
            Charset::PrintableAscii if edge => r"[!-~]".to_string(),
            Charset::PrintableAscii => r"[ -~]".to_string(),
            Charset::AsciiAlphanumericAnd(extra) => {
                let mut class = String::from("[A-Za-z0-9");
                for c in extra.chars() {
                    if matches!(c, '-' | '\\' | ']' | '^' | '[') {
                        class.push('\\');
                    }
                    class.push(c);
                }
                class.push(']');
                class
            }
        }
    }

    /// The rule in words, for the OpenAPI description.
    fn describe(self) -> String {
        match self {
            Charset::Any => "any characters".to_string(),
            Charset::NoControl => "no control characters".to_string(),
            Charset::NoControlNoWhitespace => "no whitespace or control characters".to_string(),
            Charset::PrintableAscii => "printable ASCII".to_string(),
            Charset::AsciiAlphanumericAnd(extra) => {
                let extra: Vec<String> = extra.chars().map(|c| format!("`{c}`")).collect();
                format!("ASCII letters, digits and {}", extra.join(" "))
            }
        }
    }
}

/// The rule of one text field, stated once: the validator ([`TextRule::check`]) and the
/// OpenAPI schema ([`TextRule::pattern`], [`TextRule::length_bounds`]) are both read from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextRule {
    /// Wire name of the field.
    pub field: &'static str,
    /// Fewest characters (Unicode scalar values), after trimming when `trimmed`.
    pub min: usize,
    /// Most characters, after trimming when `trimmed`.
    pub max: usize,
    /// Allowed characters.
    pub charset: Charset,
    /// Leading and trailing whitespace is ignored (and removed).
    pub trimmed: bool,
    /// The value may also be empty (after trimming), which means "none", whatever `min`.
    pub empty_allowed: bool,
    /// Message when the length is out of bounds (`None`: the DRF messages).
    pub length_message: Option<&'static str>,
    /// Message when a character is not allowed.
    pub charset_message: &'static str,
}

impl TextRule {
    /// A rule with the DRF messages and no control characters allowed.
    pub const fn new(field: &'static str, min: usize, max: usize, trimmed: bool) -> TextRule {
        TextRule {
            field,
            min,
            max,
            charset: Charset::NoControl,
            trimmed,
            empty_allowed: false,
            length_message: None,
            charset_message: "This field may not contain control characters.",
        }
    }

    /// Checks `value` and returns it (trimmed when the rule trims).
    pub fn check(&self, value: &str) -> Result<String, FieldError> {
        let value = if self.trimmed { value.trim() } else { value };
        let len = value.chars().count();
        if len == 0 && self.empty_allowed {
            return Ok(String::new());
        }
        let length_error = |text: String| {
            let text = self.length_message.map_or(text, str::to_string);
            Err(FieldError::new(self.field, text))
        };
        if len < self.min {
            return length_error(if len == 0 {
                "This field may not be blank.".to_string()
            } else {
                format!("Ensure this field has at least {} characters.", self.min)
            });
        }
        if len > self.max {
            return length_error(format!(
                "Ensure this field has no more than {} characters.",
                self.max
            ));
        }
        if !value.chars().all(|c| self.charset.allows(c)) {
            return Err(FieldError::new(self.field, self.charset_message));
        }
        Ok(value.to_string())
    }

    /// The regex (ECMA 262 / Python syntax, anchored) that exactly the accepted values match.
    /// Lengths are in it too when the rule trims (JSON Schema lengths count the raw value).
    pub fn pattern(&self) -> String {
        if !self.trimmed {
            let body = format!("{}{{{},{}}}", self.charset.class(false), self.min, self.max);
            return if self.empty_allowed {
                format!("^(?:{body})?$")
            } else {
                format!("^{body}$")
            };
        }
        let edge = self.charset.class(true);
        let inner = self.charset.class(false);
        let min = self.min.max(1);
        let body = match (min, self.max) {
            (_, 1) => edge.clone(),
            (1, max) => format!("{edge}(?:{inner}{{0,{}}}{edge})?", max - 2),
            (min, max) => format!("{edge}{inner}{{{},{}}}{edge}", min - 2, max - 2),
        };
        let optional = self.empty_allowed || self.min == 0;
        let body = if optional {
            format!("(?:{body})?")
        } else {
            body
        };
        format!("^[{WHITESPACE_CLASS}]*{body}[{WHITESPACE_CLASS}]*$")
    }

    /// `(minLength, maxLength)` of the raw value: stated only for untrimmed rules.
    pub fn length_bounds(&self) -> Option<(usize, usize)> {
        (!self.trimmed).then_some((if self.empty_allowed { 0 } else { self.min }, self.max))
    }

    /// The rule in words, for the OpenAPI description.
    pub fn describe(&self) -> String {
        let mut text = if self.min == self.max {
            format!("{} characters", self.min)
        } else {
            format!("{}–{} characters", self.min, self.max)
        };
        text.push_str(&format!(", {}", self.charset.describe()));
        if self.empty_allowed {
            text.push_str("; empty means none");
        }
        if self.trimmed {
            text.push_str("; leading and trailing whitespace is ignored");
        }
        text.push('.');
        text
    }
}

/// The rule of one integer field, stated once for the validator and the OpenAPI schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IntRule {
    /// Wire name of the field.
    pub field: &'static str,
    /// Smallest accepted value.
    pub min: i64,
    /// Largest accepted value.
    pub max: i64,
}

impl IntRule {
    /// Checks `value`.
    pub fn check(&self, value: i64) -> Result<i64, FieldError> {
        if value < self.min || value > self.max {
            return Err(FieldError::new(
                self.field,
                format!(
                    "Ensure this value is between {} and {}.",
                    self.min, self.max
                ),
            ));
        }
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_rules_trim_and_check_bounds() {
        let rule = TextRule::new("name", 1, 5, true);
        assert_eq!(rule.check("  Alice ").unwrap(), "Alice");
        assert_eq!(
            rule.check("   ").unwrap_err().message,
            "This field may not be blank."
        );
        assert!(rule.check("abcdef").is_err());
        assert!(rule.check("ab\u{0}c").is_err());
        // characters, not bytes
        assert!(rule.check("ééééé").is_ok());
        let untrimmed = TextRule::new("name", 2, 3, false);
        assert!(untrimmed.check(" a").is_ok());
        assert_eq!(untrimmed.length_bounds(), Some((2, 3)));
        assert_eq!(rule.length_bounds(), None);
        assert_eq!(
            rule.describe(),
            "1–5 characters, no control characters; leading and trailing whitespace is ignored."
        );
    }
}
