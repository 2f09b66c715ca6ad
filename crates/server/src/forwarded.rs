//! Who is on the other end of a request: the one place that reads `X-Forwarded-For`,
//! `X-Forwarded-Proto` and `X-Forwarded-Host`.
//!
//! Forwarding headers are believed only when the TCP peer is one of the configured
//! [`TrustedProxies`] (setting `trusted_proxies`); from anyone else they are ignored, so a
//! client cannot choose the address the login and rate limits count it under. Behind trusted
//! proxies the client is the right-most `X-Forwarded-For` entry that is not itself a trusted
//! proxy (entries left of it were written by the client and prove nothing).

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use ipnet::IpNet;

use crate::state::AppState;

/// The proxies whose forwarding headers are believed: IP addresses and CIDR networks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Parses `entries` (`"10.0.0.1"`, `"10.0.0.0/8"`, `"::1"`, `"fd00::/8"`); an invalid entry
    /// is an error naming it.
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<Self, String> {
        entries
            .iter()
            .map(|entry| {
                let entry = entry.as_ref().trim();
                IpNet::from_str(entry)
                    .or_else(|_| IpAddr::from_str(entry).map(IpNet::from))
                    .map_err(|_| {
                        format!("trusted_proxies: '{entry}' is not an IP address or CIDR network")
                    })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(TrustedProxies)
    }

    /// Whether `ip` is a trusted proxy (IPv4-mapped IPv6 addresses count as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|net| net.contains(&ip))
    }
}

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// What a request says about its origin, after the trust rules above.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The client's address: the TCP peer, or the forwarded client behind trusted proxies;
    /// `None` when the server runs without connect info (as in router tests).
    pub client: Option<IpAddr>,
    /// `http` or `https` as the client used it.
    pub scheme: String,
    /// The host the client addressed (`Host`, or `X-Forwarded-Host` from a trusted proxy).
    pub host: String,
    /// The configured `public_url`, which overrides `scheme` and `host` in the API root.
    pub public_url: Option<String>,
}

impl Origin {
    /// Reads the origin of a request from peer `peer` with `headers`.
    pub fn read(peer: Option<IpAddr>, headers: &HeaderMap, trusted: &TrustedProxies) -> Origin {
        let via_proxy = peer.is_some_and(|p| trusted.contains(p));
        let first = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(',').next())
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let client = match peer {
            Some(peer) if via_proxy => Some(forwarded_client(peer, headers, trusted)),
            other => other,
        };
        let scheme = via_proxy
            .then(|| first("x-forwarded-proto"))
            .flatten()
            .filter(|s| s == "http" || s == "https")
            .unwrap_or_else(|| "http".into());
        let host = via_proxy
            .then(|| first("x-forwarded-host"))
            .flatten()
            .or_else(|| first("host"))
            .unwrap_or_else(|| "localhost".into());
        Origin {
            client,
            scheme,
            host,
            public_url: None,
        }
    }

    /// The API root as the confirm files give it: a format string ending in `/{}`, under the
    /// configured `public_url` when there is one.
    pub fn api_base_url(&self) -> String {
        match &self.public_url {
            Some(root) => format!("{root}/api/{{}}"),
            None => format!("{}://{}/api/{{}}", self.scheme, self.host),
        }
    }
}

/// The right-most `X-Forwarded-For` address that is not a trusted proxy; `peer` (a trusted
/// proxy) when the header is missing or malformed at that point.
fn forwarded_client(peer: IpAddr, headers: &HeaderMap, trusted: &TrustedProxies) -> IpAddr {
    let mut client = peer;
    let entries: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .collect();
    for entry in entries.iter().rev() {
        let Some(ip) = parse_entry(entry) else {
            break;
        };
        client = canonical(ip);
        if !trusted.contains(ip) {
            break;
        }
    }
    client
}

/// An `X-Forwarded-For` entry: `ip`, `ip:port`, `[v6]` or `[v6]:port`.
fn parse_entry(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    IpAddr::from_str(entry)
        .ok()
        .or_else(|| SocketAddr::from_str(entry).ok().map(|s| s.ip()))
        .or_else(|| {
            entry
                .strip_prefix('[')
                .and_then(|e| e.strip_suffix(']'))
                .and_then(|e| IpAddr::from_str(e).ok())
        })
}

impl FromRequestParts<AppState> for Origin {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(origin_of(parts, state))
    }
}

/// The origin of the request with these parts.
pub fn origin_of(parts: &Parts, state: &AppState) -> Origin {
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| canonical(info.0.ip()));
    Origin {
        public_url: state.public_url().map(str::to_owned),
        ..Origin::read(peer, &parts.headers, state.trusted_proxies())
    }
}

/// Checks a `public_url` setting: an absolute `http` or `https` URL with a host and no query
/// or fragment; returned without its trailing slash.
pub fn check_public_url(text: &str) -> Result<String, String> {
    let url = reqwest::Url::parse(text).map_err(|e| format!("public_url {text:?}: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(format!(
            "public_url {text:?} must be an http(s) URL with a host"
        ));
    }
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
        return Err(format!(
            "public_url {text:?} must have no credentials, query or fragment"
        ));
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.append(
                axum::http::HeaderName::from_str(k).unwrap(),
                v.parse().unwrap(),
            );
        }
        map
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forwarding_headers_of_untrusted_peers_are_ignored() {
        let trusted = TrustedProxies::parse(&["10.0.0.0/8"]).unwrap();
        let h = headers(&[
            ("x-forwarded-for", "203.0.113.9"),
            ("x-forwarded-proto", "https"),
            ("x-forwarded-host", "evil.example"),
            ("host", "amp.example.org"),
        ]);
        let origin = Origin::read(Some(ip("192.0.2.1")), &h, &trusted);
        assert_eq!(origin.client, Some(ip("192.0.2.1")));
        assert_eq!(origin.api_base_url(), "http://amp.example.org/api/{}");
        let none = Origin::read(None, &h, &trusted);
        assert_eq!(none.client, None);
        assert_eq!(none.host, "amp.example.org");
    }

    #[test]
    fn the_client_is_the_rightmost_untrusted_entry_behind_trusted_proxies() {
        let trusted = TrustedProxies::parse(&["10.0.0.0/8", "192.0.2.50"]).unwrap();
        // the client forged the first entry; proxy 192.0.2.50 appended the real client
        let h = headers(&[
            ("x-forwarded-for", "198.51.100.1, 203.0.113.9"),
            ("x-forwarded-for", "192.0.2.50"),
            ("x-forwarded-proto", "https"),
            ("x-forwarded-host", "amp.example.org, inner"),
        ]);
        let origin = Origin::read(Some(ip("10.1.2.3")), &h, &trusted);
        assert_eq!(origin.client, Some(ip("203.0.113.9")));
        assert_eq!(origin.api_base_url(), "https://amp.example.org/api/{}");
        // no header: the proxy itself
        let origin = Origin::read(Some(ip("10.1.2.3")), &HeaderMap::new(), &trusted);
        assert_eq!(origin.client, Some(ip("10.1.2.3")));
        assert_eq!(origin.api_base_url(), "http://localhost/api/{}");
        // garbage stops the walk at the last trusted hop
        let h = headers(&[("x-forwarded-for", "203.0.113.9, garbage, 10.0.0.7")]);
        let origin = Origin::read(Some(ip("10.1.2.3")), &h, &trusted);
        assert_eq!(origin.client, Some(ip("10.0.0.7")));
        // ports and brackets
        let h = headers(&[("x-forwarded-for", "[2001:db8::1]:443")]);
        let origin = Origin::read(Some(ip("10.1.2.3")), &h, &trusted);
        assert_eq!(origin.client, Some(ip("2001:db8::1")));
        // IPv4-mapped peers count as IPv4
        let h = headers(&[("x-forwarded-for", "203.0.113.10")]);
        let origin = Origin::read(Some(ip("::ffff:10.0.0.1")), &h, &trusted);
        assert_eq!(origin.client, Some(ip("203.0.113.10")));
    }

    #[test]
    fn trusted_proxy_entries_are_checked() {
        assert!(TrustedProxies::parse(&["10.0.0.1", "fd00::/8", " 127.0.0.1/32 "]).is_ok());
        let err = TrustedProxies::parse(&["10.0.0.0/33"]).unwrap_err();
        assert!(err.contains("10.0.0.0/33"), "{err}");
        assert!(TrustedProxies::parse(&["proxy.internal"]).is_err());
    }
}
