//! Console sessions: an opaque random id in a cookie, the session kept in this process's memory
//! under the SHA-256 of that id (a leaked memory dump or log line holds no usable id), with the
//! signed-in account's API token and a CSRF token that every form carries.
//!
//! A session lives as long as the API token it holds (the platform's token lifetime); signing
//! out forgets it at once. Sessions are not shared between replicas nor kept across restarts:
//! the user signs in again.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::header::COOKIE;
use axum::http::HeaderMap;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "amphora_session";
/// Name of the cookie carrying the sign-in form's CSRF token (before a session exists).
pub const LOGIN_COOKIE: &str = "amphora_login";
/// Most sessions kept at once; the oldest is dropped beyond it.
const MAX_SESSIONS: usize = 10_000;
/// Most confirm files a session keeps for download.
const MAX_FILES: usize = 20;

/// Who is signed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    /// An issuer: the whole console.
    Issuer,
    /// A manager: only what the access table grants it.
    Manager,
}

/// A signed-in user's session.
#[derive(Debug, Clone)]
pub struct Session {
    /// Login name.
    pub username: String,
    /// Issuer or manager.
    pub role: Role,
    /// The API token every console action is performed with.
    pub token: String,
    /// The token every form of this session must carry.
    pub csrf: String,
    /// Confirm files created in this session, by distribution, reissuance or burn id.
    pub files: Vec<(String, String)>,
    /// The outcome of the last action, shown once on the next page: (success, message).
    pub flash: Option<(bool, String)>,
    expires: Instant,
}

impl Session {
    /// Whether a manager is signed in.
    pub fn is_manager(&self) -> bool {
        self.role == Role::Manager
    }

    /// The confirm file kept under `id`.
    pub fn file(&self, id: &str) -> Option<&str> {
        self.files
            .iter()
            .find(|(key, _)| key == id)
            .map(|(_, file)| file.as_str())
    }
}

/// The sessions of this process.
#[derive(Debug, Default)]
pub struct Sessions {
    map: Mutex<HashMap<[u8; 32], Session>>,
}

/// A new random token: 32 bytes, hex.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

fn key(id: &str) -> [u8; 32] {
    Sha256::digest(id.as_bytes()).into()
}

impl Sessions {
    /// Opens a session for `username` holding `token`, valid for `lifetime`; its cookie value.
    pub fn open(&self, username: String, role: Role, token: String, lifetime: Duration) -> String {
        let id = random_token();
        let session = Session {
            username,
            role,
            token,
            csrf: random_token(),
            files: Vec::new(),
            flash: None,
            expires: Instant::now() + lifetime,
        };
        let mut map = self.map.lock().expect("sessions lock");
        let now = Instant::now();
        map.retain(|_, s| s.expires > now);
        if map.len() >= MAX_SESSIONS {
            if let Some(oldest) = map.iter().min_by_key(|(_, s)| s.expires).map(|(k, _)| *k) {
                map.remove(&oldest);
            }
        }
        map.insert(key(&id), session);
        id
    }

    /// The live session of the request's cookie, if any, with its flash message (taken: it is
    /// shown once).
    pub fn get(&self, headers: &HeaderMap) -> Option<Session> {
        let id = cookie(headers, SESSION_COOKIE)?;
        let mut map = self.map.lock().expect("sessions lock");
        let k = key(&id);
        match map.get_mut(&k) {
            Some(session) if session.expires > Instant::now() => {
                let copy = session.clone();
                session.flash = None;
                Some(copy)
            }
            Some(_) => {
                map.remove(&k);
                None
            }
            None => None,
        }
    }

    /// Forgets the request's session (sign-out, or a token the API no longer accepts).
    pub fn close(&self, headers: &HeaderMap) {
        if let Some(id) = cookie(headers, SESSION_COOKIE) {
            self.map.lock().expect("sessions lock").remove(&key(&id));
        }
    }

    /// Sets the message the request's session shows on its next page.
    pub fn flash(&self, headers: &HeaderMap, success: bool, message: String) {
        let Some(id) = cookie(headers, SESSION_COOKIE) else {
            return;
        };
        if let Some(session) = self.map.lock().expect("sessions lock").get_mut(&key(&id)) {
            session.flash = Some((success, message));
        }
    }

    /// Keeps a confirm file for download in the request's session.
    pub fn keep_file(&self, headers: &HeaderMap, id: String, file: String) {
        let Some(cookie_id) = cookie(headers, SESSION_COOKIE) else {
            return;
        };
        if let Some(session) = self
            .map
            .lock()
            .expect("sessions lock")
            .get_mut(&key(&cookie_id))
        {
            session.files.retain(|(key, _)| *key != id);
            if session.files.len() >= MAX_FILES {
                session.files.remove(0);
            }
            session.files.push((id, file));
        }
    }
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_string())
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Strict, path `/`, Secure when `secure`; `max_age`
/// `Some(0)` deletes the cookie.
pub fn set_cookie(name: &str, value: &str, secure: bool, max_age: Option<u64>) -> String {
    let mut text = format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict");
    if let Some(age) = max_age {
        text.push_str(&format!("; Max-Age={age}"));
    }
    if secure {
        text.push_str("; Secure");
    }
    text
}

/// Compares two tokens in time independent of where they differ.
pub fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_cookie(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(COOKIE, value.parse().unwrap());
        headers
    }

    #[test]
    fn a_session_is_found_by_its_cookie_only_until_closed_or_expired() {
        let sessions = Sessions::default();
        let id = sessions.open(
            "i".into(),
            Role::Issuer,
            "t".into(),
            Duration::from_secs(60),
        );
        let headers = with_cookie(&format!("other=1; {SESSION_COOKIE}={id}"));
        let session = sessions.get(&headers).unwrap();
        assert_eq!(
            (session.username.as_str(), session.token.as_str()),
            ("i", "t")
        );
        assert_eq!(session.csrf.len(), 64);
        sessions.flash(&headers, true, "done".into());
        assert_eq!(
            sessions.get(&headers).unwrap().flash,
            Some((true, "done".into()))
        );
        assert_eq!(sessions.get(&headers).unwrap().flash, None);
        assert!(sessions
            .get(&with_cookie(&format!("{SESSION_COOKIE}=x{id}")))
            .is_none());
        // the map holds the hash of the id, never the id
        assert!(!sessions.map.lock().unwrap().contains_key(id.as_bytes()));
        sessions.close(&headers);
        assert!(sessions.get(&headers).is_none());

        let short = sessions.open("i".into(), Role::Issuer, "t".into(), Duration::ZERO);
        assert!(sessions
            .get(&with_cookie(&format!("{SESSION_COOKIE}={short}")))
            .is_none());
    }

    #[test]
    fn files_are_kept_per_session_and_bounded() {
        let sessions = Sessions::default();
        let id = sessions.open(
            "i".into(),
            Role::Issuer,
            "t".into(),
            Duration::from_secs(60),
        );
        let headers = with_cookie(&format!("{SESSION_COOKIE}={id}"));
        for n in 0..=MAX_FILES {
            sessions.keep_file(&headers, format!("d{n}"), format!("{{\"n\":{n}}}"));
        }
        let session = sessions.get(&headers).unwrap();
        assert_eq!(session.files.len(), MAX_FILES);
        assert!(session.file("d0").is_none());
        assert_eq!(session.file("d3"), Some("{\"n\":3}"));
    }

    #[test]
    fn cookies_are_strict_http_only_and_secure_on_https() {
        let plain = set_cookie(SESSION_COOKIE, "v", false, None);
        assert_eq!(
            plain,
            "amphora_session=v; Path=/; HttpOnly; SameSite=Strict"
        );
        let secure = set_cookie(SESSION_COOKIE, "", true, Some(0));
        assert!(secure.ends_with("; Max-Age=0; Secure"), "{secure}");
        assert!(same_token("abc", "abc"));
        assert!(!same_token("abc", "abd") && !same_token("abc", "ab"));
    }
}
