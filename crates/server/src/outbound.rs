//! Outbound HTTP to addresses that issuers choose (the issuer authorization endpoint, the
//! domain proof of a registration): the guard against server-side request forgery.
//!
//! Unless `allow_private_outbound` is on (the default only on liquidregtest, so a local
//! sandbox works), the platform never connects to a loopback, private, link-local, shared,
//! multicast, documentation or otherwise non-public address:
//!
//! * names are resolved by [`GuardedResolver`], the clients' DNS resolver, which drops every
//!   non-public address: the address checked is the address connected to, so a name that
//!   re-resolves to `127.0.0.1` after being checked (DNS rebinding) still cannot reach it;
//! * IP literals (which reqwest connects to without resolving) are checked by [`check_url`]
//!   before every request and every redirect hop;
//! * the clients use no proxy from the environment (it would connect on their behalf);
//! * [`check_target`] refuses such targets when an issuer sets them (400 naming the field).
//!
//! Callers get a fixed message, never the remote's status or body.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use ipnet::IpNet;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::Url;

/// Networks the platform never connects to when private outbound is not allowed.
static NON_PUBLIC: LazyLock<Vec<IpNet>> = LazyLock::new(|| {
    [
        "0.0.0.0/8",       // "this" network
        "10.0.0.0/8",      // private
        "100.64.0.0/10",   // shared address space (carrier-grade NAT)
        "127.0.0.0/8",     // loopback
        "169.254.0.0/16",  // link-local (cloud metadata at 169.254.169.254)
        "172.16.0.0/12",   // private
        "192.0.0.0/24",    // IETF protocol assignments
        "192.0.2.0/24",    // documentation
        "192.88.99.0/24",  // 6to4 relay anycast
        "192.168.0.0/16",  // private
        "198.18.0.0/15",   // benchmarking
        "198.51.100.0/24", // documentation
        "203.0.113.0/24",  // documentation
        "224.0.0.0/4",     // multicast
        "240.0.0.0/4",     // reserved, broadcast
        "::/128",          // unspecified
        "::1/128",         // loopback
        "::ffff:0:0/96",   // IPv4-mapped (checked as IPv4 instead; never connected as is)
        "64:ff9b::/96",    // NAT64 (would reach an IPv4 address chosen by the name)
        "64:ff9b:1::/48",  // local-use NAT64
        "100::/64",        // discard
        "2001::/23",       // IETF protocol assignments (Teredo, ORCHID, …)
        "2001:db8::/32",   // documentation
        "2002::/16",       // 6to4 (embeds an IPv4 address)
        "fc00::/7",        // unique local
        "fe80::/10",       // link-local
        "fec0::/10",       // site-local (deprecated)
        "ff00::/8",        // multicast
    ]
    .iter()
    .map(|net| net.parse().expect("the non-public networks parse"))
    .collect()
});

/// Whether `ip` is a public unicast address the platform may connect to.
pub fn is_public(ip: IpAddr) -> bool {
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    };
    !NON_PUBLIC.iter().any(|net| net.contains(&ip))
}

/// Why an outbound target is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OutboundError {
    /// Not an `http://` or `https://` URL with a host.
    #[error("must be an http:// or https:// URL with a host name")]
    NotHttp,
    /// The target is (or resolves to) a non-public address.
    #[error("must not point at a loopback, private, link-local or other non-public address ({0})")]
    NonPublic(String),
}

/// What outbound connections may reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutboundPolicy {
    /// Allow loopback, private and link-local targets (setting `allow_private_outbound`).
    pub allow_private: bool,
}

impl OutboundPolicy {
    /// The policy's HTTP client: no proxy, the guarded resolver, `timeout` for connect and
    /// answer, and `redirect`.
    pub fn client(
        &self,
        timeout: Duration,
        redirect: reqwest::redirect::Policy,
    ) -> reqwest::Client {
        let builder = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .no_proxy()
            .redirect(redirect);
        let builder = if self.allow_private {
            builder
        } else {
            builder.dns_resolver(Arc::new(GuardedResolver))
        };
        builder
            .build()
            .expect("a reqwest client with rustls and timeouts builds")
    }

    /// A redirect policy following at most `max` hops, each to an `https://` URL that passes
    /// [`check_url`] (a name target is checked again by the resolver when connected).
    pub fn https_redirects(&self, max: usize) -> reqwest::redirect::Policy {
        let policy = *self;
        reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() > max {
                return attempt.error("too many redirects");
            }
            if attempt.url().scheme() != "https" {
                return attempt.error("redirects may only lead to https:// URLs");
            }
            match policy.check_url(attempt.url().as_str()) {
                Ok(_) => attempt.follow(),
                Err(e) => attempt.error(e),
            }
        })
    }

    /// Parses `url` and refuses a non-HTTP URL, or an IP literal host that is not public
    /// (names are checked by the resolver at connect time). Call it before every request.
    pub fn check_url(&self, url: &str) -> Result<Url, OutboundError> {
        let parsed = Url::parse(url).map_err(|_| OutboundError::NotHttp)?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(OutboundError::NotHttp);
        }
        match parsed.host() {
            None => Err(OutboundError::NotHttp),
            Some(_) if self.allow_private => Ok(parsed),
            Some(url::Host::Ipv4(ip)) if !is_public(IpAddr::V4(ip)) => {
                Err(OutboundError::NonPublic(ip.to_string()))
            }
            Some(url::Host::Ipv6(ip)) if !is_public(IpAddr::V6(ip)) => {
                Err(OutboundError::NonPublic(ip.to_string()))
            }
            Some(_) => Ok(parsed),
        }
    }

    /// The check when an issuer sets a target: [`check_url`](Self::check_url), and a host name
    /// that resolves now to any non-public address is refused too. A name that does not
    /// resolve now is accepted (it is checked again at every connection).
    pub async fn check_target(&self, url: &str) -> Result<(), OutboundError> {
        let parsed = self.check_url(url)?;
        if self.allow_private {
            return Ok(());
        }
        let Some(url::Host::Domain(name)) = parsed.host() else {
            return Ok(());
        };
        let lookup = tokio::net::lookup_host((name, parsed.port_or_known_default().unwrap_or(443)));
        if let Ok(Ok(addresses)) = tokio::time::timeout(Duration::from_secs(3), lookup).await {
            for address in addresses {
                if !is_public(address.ip()) {
                    return Err(OutboundError::NonPublic(format!(
                        "{name} resolves to {}",
                        address.ip()
                    )));
                }
            }
        }
        Ok(())
    }
}

/// The DNS resolver of guarded clients: the system resolver, with every non-public address
/// removed from the answer; a name left with no address fails to resolve.
#[derive(Debug, Clone, Copy)]
pub struct GuardedResolver;

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let host = name.as_str().to_string();
            let resolved: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let public: Vec<SocketAddr> = resolved
                .iter()
                .copied()
                .filter(|a| is_public(a.ip()))
                .collect();
            if public.is_empty() {
                tracing::warn!(%host, ?resolved, "outbound target refused: no public address");
                return Err(Box::new(OutboundError::NonPublic(host))
                    as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(public.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_and_non_public_addresses() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.31.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "::",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a9fe:a9fe",
            "ff02::1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "1.1.1.1",
            "8.8.8.8",
            "2606:4700:4700::1111",
            "::ffff:1.1.1.1",
        ] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn urls_are_checked() {
        let guarded = OutboundPolicy {
            allow_private: false,
        };
        let open = OutboundPolicy {
            allow_private: true,
        };
        assert!(guarded.check_url("https://issuer.example/auth").is_ok());
        assert!(guarded.check_url("http://1.1.1.1:8080/").is_ok());
        for url in [
            "http://127.0.0.1:18884/",
            "http://[::1]/",
            "http://169.254.169.254/latest/meta-data",
            "http://0x7f000001/",
            "http://2130706433/",
            "http://[::ffff:7f00:1]/",
        ] {
            assert!(
                matches!(guarded.check_url(url), Err(OutboundError::NonPublic(_))),
                "{url}"
            );
            assert!(open.check_url(url).is_ok(), "{url}");
        }
        for url in [
            "ftp://issuer.example/",
            "file:///etc/passwd",
            "issuer.example",
            "x",
        ] {
            assert_eq!(guarded.check_url(url), Err(OutboundError::NotHttp), "{url}");
            assert_eq!(open.check_url(url), Err(OutboundError::NotHttp), "{url}");
        }
    }

    #[tokio::test]
    async fn names_resolving_to_loopback_are_refused_when_set_and_when_connected() {
        let guarded = OutboundPolicy {
            allow_private: false,
        };
        let err = guarded
            .check_target("http://localhost:9/x")
            .await
            .unwrap_err();
        assert!(err.to_string().contains("localhost"), "{err}");
        let resolved = GuardedResolver.resolve("localhost".parse().unwrap()).await;
        assert!(resolved.is_err());
        assert!(OutboundPolicy {
            allow_private: true
        }
        .check_target("http://localhost:9/x")
        .await
        .is_ok());
    }
}
