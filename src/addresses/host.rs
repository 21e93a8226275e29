//! What a certificate protects: an IP or a DNS name (`Host`).

use std::fmt;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

/// What ConnectAddress carries and a certificate protects: an IP (a VIP) or a DNS name
/// (a public domain such as `gz-postgres-6bwgamo3.sql.tencentcdb.com`). Kept as the API's
/// string on disk, so journals and inventories written when only IPs existed still read.
/// A DNS name is kept as spelled (the API's own spelling is what is sent back) and
/// compared as DNS compares names: case aside, with or without the final dot.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Host {
    Ip(IpAddr),
    /// A DNS name, as spelled.
    Name(String),
}

impl Host {
    /// How two hosts compare: an IP as itself, a name lower-cased without its final dot.
    fn key(&self) -> (u8, String) {
        match self {
            Host::Ip(ip) => (0, ip.to_string()),
            Host::Name(n) => (1, n.trim_end_matches('.').to_ascii_lowercase()),
        }
    }
}

impl PartialEq for Host {
    fn eq(&self, other: &Host) -> bool {
        match (self, other) {
            (Host::Ip(a), Host::Ip(b)) => a == b,
            (Host::Name(_), Host::Name(_)) => self.key() == other.key(),
            _ => false,
        }
    }
}

impl Eq for Host {}

impl std::hash::Hash for Host {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.key().hash(state);
    }
}

impl PartialOrd for Host {
    fn partial_cmp(&self, other: &Host) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Host {
    fn cmp(&self, other: &Host) -> std::cmp::Ordering {
        self.key().cmp(&other.key())
    }
}

impl Host {
    /// An IP, or a DNS name: labels of letters, digits and inner hyphens, at least two of
    /// them, 253 characters at most, the last starting with a letter (as every top-level
    /// domain does, so a mistyped IP such as 10.0.0.9x is not taken for a name). Anything
    /// else is refused with what is wrong (sanitized).
    pub fn parse(input: &str) -> Result<Host, String> {
        let s = input.trim();
        if let Ok(ip) = s.parse::<IpAddr>() {
            return Ok(Host::Ip(ip));
        }
        let name = s.strip_suffix('.').unwrap_or(s);
        let labels: Vec<&str> = name.split('.').collect();
        let label_ok = |l: &&str| {
            (1..=63).contains(&l.len())
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        };
        let ok = (1..=253).contains(&name.len())
            && labels.len() >= 2
            && labels.iter().all(label_ok)
            && labels
                .last()
                .is_some_and(|l| l.starts_with(|c: char| c.is_ascii_alphabetic()));
        if ok {
            Ok(Host::Name(s.to_string()))
        } else {
            Err(format!(
                "'{}' is neither an IP address nor a DNS name",
                crate::text::sanitize(input)
            ))
        }
    }

    pub fn ip(&self) -> Option<IpAddr> {
        match self {
            Host::Ip(ip) => Some(*ip),
            Host::Name(_) => None,
        }
    }

    pub fn is_name(&self) -> bool {
        matches!(self, Host::Name(_))
    }
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Ip(ip) => write!(f, "{ip}"),
            Host::Name(n) => f.write_str(n),
        }
    }
}

impl std::str::FromStr for Host {
    type Err = String;
    fn from_str(s: &str) -> Result<Host, String> {
        Host::parse(s)
    }
}

impl From<IpAddr> for Host {
    fn from(ip: IpAddr) -> Host {
        Host::Ip(ip)
    }
}

impl TryFrom<String> for Host {
    type Error = String;
    fn try_from(s: String) -> Result<Host, String> {
        Host::parse(&s)
    }
}

impl From<Host> for String {
    fn from(h: Host) -> String {
        h.to_string()
    }
}
