//! The rule of an asset's `issuer_authorization_endpoint`, stated once as a regular expression
//! ([`pattern`], what the OpenAPI schema publishes) and as the validator ([`check`]) that
//! accepts exactly what it matches. The form is chosen so that every value it accepts is an
//! `http(s)` URL with a host that the WHATWG URL parser (the `url` crate) parses: the only
//! refusal left after it is the deployment's outbound policy (non-public targets), which no
//! schema can state.

use crate::validation::{FieldError, WHITESPACE_CLASS};

/// Wire name of the field.
pub const FIELD: &str = "issuer_authorization_endpoint";

/// Most characters of the raw value (leading and trailing whitespace included).
pub const MAX_LENGTH: usize = 255;

/// Message when the value does not have the form of [`FORM`].
pub const FORM_MESSAGE: &str = "Enter an http:// or https:// URL whose host is a name (labels \
    of letters, digits and inner hyphens, the last one starting with a letter) or an IPv4 \
    address, with an optional port, no user name and no whitespace.";

/// A host-name label: letters and digits, single hyphens inside (so no `xn--` label, whose
/// punycode the URL parser would have to decode).
const LABEL: &str = "[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*";
/// The last label starts with a letter (a numeric last label makes the URL parser read the
/// host as an IPv4 address).
const LAST_LABEL: &str = "[A-Za-z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)*";
/// One octet of a dotted-decimal IPv4 address, 0–255 without leading zeros.
const OCTET: &str = "(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])";
/// A port, 0–65535 (one to five digits).
const PORT: &str =
    "(?:[0-9]{1,4}|[0-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])";
/// Control characters (Unicode general category Cc).
const CONTROL: &str = r"\x00-\x1F\x7F-\x9F";

/// The form of an endpoint once trimmed, unanchored: scheme (any case), host, optional port,
/// then optionally a path, query or fragment without whitespace or control characters.
pub fn form() -> String {
    format!(
        "[Hh][Tt][Tt][Pp][Ss]?://(?:(?:{LABEL}\\.)*{LAST_LABEL}|{OCTET}(?:\\.{OCTET}){{3}})\
         (?::{PORT})?(?:[/?#][^{CONTROL}{WHITESPACE_CLASS}]*)?"
    )
}

/// The regex (ECMA 262 / Python / Rust syntax, anchored) of the raw values [`check`] accepts
/// (with `maxLength` [`MAX_LENGTH`]): the form of [`form`], or nothing (none), with leading and
/// trailing whitespace ignored.
pub fn pattern() -> String {
    format!(
        "^[{WHITESPACE_CLASS}]*(?:{})?[{WHITESPACE_CLASS}]*$",
        form()
    )
}

/// Validates an endpoint: at most [`MAX_LENGTH`] characters, then trimmed, empty (`None`) or
/// of the form of [`form`].
pub fn check(endpoint: &str) -> Result<Option<String>, FieldError> {
    if endpoint.chars().count() > MAX_LENGTH {
        return Err(FieldError::new(
            FIELD,
            format!("Ensure this field has no more than {MAX_LENGTH} characters."),
        ));
    }
    let endpoint = endpoint.trim();
    if endpoint.is_empty() {
        return Ok(None);
    }
    if !has_form(endpoint) {
        return Err(FieldError::new(FIELD, FORM_MESSAGE));
    }
    Ok(Some(endpoint.to_string()))
}

/// Whether `url` (trimmed) matches [`form`].
pub fn has_form(url: &str) -> bool {
    let Some(scheme_end) = url.find("://") else {
        return false;
    };
    let scheme = url[..scheme_end].to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return false;
    }
    let rest = &url[scheme_end + 3..];
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    if !tail.chars().all(|c| !c.is_control() && !c.is_whitespace()) {
        return false;
    }
    let (host, port) = match authority.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    };
    if let Some(port) = port {
        let digits = (1..=5).contains(&port.len()) && port.bytes().all(|b| b.is_ascii_digit());
        if !digits || !port.parse::<u32>().is_ok_and(|port| port <= 65535) {
            return false;
        }
    }
    is_ipv4(host) || is_host_name(host)
}

fn is_label(label: &str) -> bool {
    !label.is_empty()
        && !label.starts_with('-')
        && !label.ends_with('-')
        && !label.contains("--")
        && label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

fn is_host_name(host: &str) -> bool {
    let last = host.rsplit('.').next().unwrap_or_default();
    host.split('.').all(is_label) && last.as_bytes().first().is_some_and(u8::is_ascii_alphabetic)
}

fn is_ipv4(host: &str) -> bool {
    let octets: Vec<&str> = host.split('.').collect();
    octets.len() == 4
        && octets.iter().all(|octet| {
            (1..=3).contains(&octet.len())
                && octet.bytes().all(|b| b.is_ascii_digit())
                && !(octet.len() > 1 && octet.starts_with('0'))
                && octet.parse::<u16>().is_ok_and(|value| value <= 255)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_have_an_http_form() {
        for good in [
            "https://issuer.example/authorize",
            "HTTP://Issuer.Example:8080/a?b#c",
            "http://localhost:65535",
            "http://127.0.0.1:18884/hooks",
            "http://a-b.c-d9",
            "http://0.0.0.0",
        ] {
            assert_eq!(check(good).unwrap().as_deref(), Some(good), "{good}");
        }
        assert_eq!(
            check(" https://issuer.example/authorize ").unwrap(),
            Some("https://issuer.example/authorize".to_string())
        );
        assert_eq!(check("  ").unwrap(), None);
        for bad in [
            "http",
            "issuer.example",
            "ftp://issuer.example/x",
            "file:///etc/passwd",
            "https://a b",
            "https://user@issuer.example/",
            "http://0x7f000001/",
            "http://2130706433/",
            "http://256.1.1.1/",
            "http://01.1.1.1/",
            "http://[::1]:7041/",
            "http://xn--nxasmq6b.example/",
            "http://-a.example/",
            "http://a..example/",
            "http://issuer.example./",
            "http://issuer.example:65536/",
            "http://issuer.example:/",
            "http://issuer.example/\u{7f}",
        ] {
            let error = check(bad).unwrap_err();
            assert_eq!(
                (error.field.as_str(), error.message.as_str()),
                (FIELD, FORM_MESSAGE),
                "{bad}"
            );
        }
        let long = format!("https://issuer.example/{}", "a".repeat(MAX_LENGTH));
        assert!(check(&long).unwrap_err().message.contains("255"));
    }
}
