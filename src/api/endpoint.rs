//! Where requests go: a host over https, or a loopback emulator over plain http.

use std::fmt;
use std::net::IpAddr;

use super::DEFAULT_ENDPOINT;
use crate::text;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Http,
    Https,
}

/// Where requests go. `Host` is the authority, verbatim, and is what gets signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub scheme: Scheme,
    /// `host` or `host:port`.
    pub authority: String,
}

impl Default for Endpoint {
    fn default() -> Self {
        Endpoint {
            scheme: Scheme::Https,
            authority: DEFAULT_ENDPOINT.into(),
        }
    }
}

impl Endpoint {
    /// STS's public endpoint, as tccli and the SDKs use it.
    pub fn sts_default() -> Endpoint {
        Endpoint {
            scheme: Scheme::Https,
            authority: pgssl_wire::Service::Sts.host().into(),
        }
    }

    /// Where STS is when nothing names it, given the PostgreSQL endpoint: for Tencent's
    /// hosts the same site (`postgres.X.tencentcloudapi.com` -> `sts.X.tencentcloudapi.com`:
    /// intl, internal or regional alike; `sts.tencentcloudapi.com` for any other Tencent
    /// host); for any other endpoint (the emulator, a gateway) the same endpoint, so
    /// pointing pgssl somewhere never sends it to Tencent behind the person's back.
    pub fn sts_beside(postgres: &Endpoint) -> Endpoint {
        let host = postgres.host().trim_end_matches('.').to_ascii_lowercase();
        if host != "tencentcloudapi.com" && !host.ends_with(".tencentcloudapi.com") {
            return postgres.clone();
        }
        match host.strip_prefix("postgres.") {
            Some(rest) => Endpoint {
                scheme: Scheme::Https,
                authority: format!("sts.{rest}"),
            },
            None => Endpoint::sts_default(),
        }
    }

    /// Accepts `host`, `host:port`, `https://host[:port]`, and `http://` only for loopback.
    pub fn parse(input: &str) -> Result<Endpoint, String> {
        let trimmed = input.trim();
        let (scheme, rest) = if let Some(r) = strip_prefix_ci(trimmed, "https://") {
            (Scheme::Https, r)
        } else if let Some(r) = strip_prefix_ci(trimmed, "http://") {
            (Scheme::Http, r)
        } else if trimmed.contains("://") {
            return Err(format!(
                "endpoint '{}' has an unsupported scheme; use https://HOST or http://127.0.0.1:PORT",
                text::sanitize(input)
            ));
        } else {
            (Scheme::Https, trimmed)
        };
        let authority = rest.strip_suffix('/').unwrap_or(rest);
        if authority.is_empty() {
            return Err(
                "endpoint is empty; give a host such as postgres.intl.tencentcloudapi.com".into(),
            );
        }
        if authority.contains('/') || authority.contains('?') || authority.contains('#') {
            return Err(format!(
                "endpoint '{}' must be a host (and port) without a path",
                text::sanitize(input)
            ));
        }
        if !authority
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b))
        {
            return Err(format!(
                "endpoint '{}' has characters a host name cannot have",
                text::sanitize(input)
            ));
        }
        let (host, port) = split_host_port(authority)
            .ok_or_else(|| format!("endpoint '{}' has a bad port", text::sanitize(input)))?;
        if port == Some(0) {
            return Err(format!("endpoint '{}' has port 0", text::sanitize(input)));
        }
        if !is_host(host) {
            return Err(format!(
                "endpoint '{}' does not name a host: give a DNS name such as postgres.intl.tencentcloudapi.com or an IP",
                text::sanitize(input)
            ));
        }
        let endpoint = Endpoint {
            scheme,
            authority: authority.to_string(),
        };
        if scheme == Scheme::Http && !is_loopback_host(host) {
            return Err(format!(
                "refusing plain http to '{}': the request carries a signature and your change; use https, or http only to a loopback emulator (127.0.0.1)",
                text::sanitize(host)
            ));
        }
        Ok(endpoint)
    }

    pub fn url(&self) -> String {
        format!("{self}/")
    }

    pub fn host(&self) -> &str {
        split_host_port(&self.authority).map_or(&self.authority, |(h, _)| h)
    }

    pub fn is_loopback(&self) -> bool {
        is_loopback_host(self.host())
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = match self.scheme {
            Scheme::Http => "http",
            Scheme::Https => "https",
        };
        write!(f, "{scheme}://{}", self.authority)
    }
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    s.get(..prefix.len())
        .filter(|head| head.eq_ignore_ascii_case(prefix))
        .and_then(|_| s.get(prefix.len()..))
}

/// `(host, port)`; host keeps IPv6 brackets off. None when the port is not a number.
fn split_host_port(authority: &str) -> Option<(&str, Option<u16>)> {
    if let Some(rest) = authority.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        return match after {
            "" => Some((host, None)),
            p => Some((host, Some(p.strip_prefix(':')?.parse().ok()?))),
        };
    }
    match authority.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') => Some((host, Some(port.parse().ok()?))),
        Some(_) => None, // bare IPv6 without brackets
        None => Some((authority, None)),
    }
}

/// An IP, or a DNS name: dot-separated labels of letters, digits and inner hyphens,
/// each 1 to 63 characters, 253 in all (RFC 1123). What fails here could never connect.
fn is_host(host: &str) -> bool {
    if host.parse::<IpAddr>().is_ok() {
        return true;
    }
    let name = host.strip_suffix('.').unwrap_or(host);
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            (1..=63).contains(&label.len())
                && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
        // An all-numeric name is a malformed IP, not a host.
        && !name.split('.').all(|l| l.bytes().all(|b| b.is_ascii_digit()))
}

pub(crate) fn is_loopback_host(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints() {
        let e = Endpoint::parse("postgres.intl.tencentcloudapi.com").expect("bare host");
        assert_eq!(e.url(), "https://postgres.intl.tencentcloudapi.com/");
        let e = Endpoint::parse("http://127.0.0.1:8080/").expect("loopback http");
        assert_eq!(e.authority, "127.0.0.1:8080");
        assert_eq!(e.scheme, Scheme::Http);
        assert!(Endpoint::parse("http://[::1]:9000").is_ok());
        assert!(Endpoint::parse("http://localhost:9000").is_ok());
        assert!(Endpoint::parse("HTTPS://postgres.ap-seoul.tencentcloudapi.com").is_ok());
        let err = Endpoint::parse("http://postgres.tencentcloudapi.com").expect_err("plain http");
        assert!(err.contains("refusing plain http"), "{err}");
        assert!(Endpoint::parse("http://10.0.0.1:80").is_err());
        assert!(Endpoint::parse("ftp://x").is_err());
        assert!(Endpoint::parse("https://host/path").is_err());
        assert!(Endpoint::parse("host:notaport").is_err());
        assert!(Endpoint::parse("").is_err());
        assert!(Endpoint::parse("ho st").is_err());
        // Nothing that could never connect gets as far as a retry loop.
        for bad in [
            "https://:443",
            "https://-",
            "https://a..b:443",
            "https://-a.com",
            "https://a-.com",
            "https://10.0.0.256",
            "https://x.com:0",
            "https://[::1",
            "https://a.b.c:99999",
        ] {
            assert!(Endpoint::parse(bad).is_err(), "{bad}");
        }
        assert!(Endpoint::parse("https://postgres.ap-seoul.tencentcloudapi.com.").is_ok());
        // STS beside the PostgreSQL endpoint.
        let sts =
            |pg: &str| Endpoint::sts_beside(&Endpoint::parse(pg).expect("endpoint")).to_string();
        assert_eq!(
            sts("postgres.intl.tencentcloudapi.com"),
            "https://sts.intl.tencentcloudapi.com"
        );
        assert_eq!(
            sts("postgres.tencentcloudapi.com"),
            "https://sts.tencentcloudapi.com"
        );
        assert_eq!(
            sts("postgres.ap-seoul.tencentcloudapi.com"),
            "https://sts.ap-seoul.tencentcloudapi.com"
        );
        assert_eq!(
            sts("cvm.tencentcloudapi.com"),
            "https://sts.tencentcloudapi.com"
        );
        assert_eq!(sts("http://127.0.0.1:9000"), "http://127.0.0.1:9000");
        assert_eq!(sts("https://gw.example.net"), "https://gw.example.net");
        assert_eq!(
            sts("https://tencentcloudapi.com.evil.net"),
            "https://tencentcloudapi.com.evil.net"
        );
        assert!(Endpoint::parse("https://[::1]:443").is_ok());
        // Non-ASCII input is refused, never sliced mid-character.
        assert!(Endpoint::parse("aaaaaaaé").is_err());
        assert!(Endpoint::parse("httpé://x").is_err());
        assert!(Endpoint::parse("é").is_err());
    }
}
