//! The addresses an SSL certificate can protect, and choosing one.
//!
//! A primary's certificate may protect its private address or its public one; a
//! read-only instance's its own IP or its read-only group's IP. Tencent's SSL page
//! (cloud.tencent.com/document/product/409/115986) says each enable protects "one VIP or
//! one public domain name", so what is protected is a [`Host`]: an IP or a DNS name.
//! These are all pure functions of what the API described.

use std::fmt;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::api::models::{DBInstance, DBInstanceNetInfo, ReadOnlyGroup};
use crate::ops::refusal::AddressRefusal;
use crate::text::clean;

mod host;
pub use host::Host;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AddressKind {
    /// The instance's VPC (or classic network) IP.
    Private,
    /// The instance's public IP.
    Public,
    /// The IP of the read-only group the instance belongs to.
    Group,
}

impl AddressKind {
    pub fn keyword(self) -> &'static str {
        match self {
            AddressKind::Private => "private",
            AddressKind::Public => "public",
            AddressKind::Group => "group",
        }
    }
}

impl fmt::Display for AddressKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.keyword())
    }
}

/// One address the certificate could protect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "StoredAddress")]
pub struct Address {
    pub kind: AddressKind,
    /// What ConnectAddress carries for it: a public entry's DNS name when it has one (the
    /// name clients dial and Terraform reads as `public_access_host`), else its IP.
    pub host: Host,
    /// The IP the API lists with it, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<IpAddr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// The DNS name the API gives for this address, if any (checked to be one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns: Option<String>,
    /// `opened`, `closed`, ... as the API reports the network.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_name: Option<String>,
}

/// How an address is kept on disk: before DNS names, inventories had `ip` only.
#[derive(Deserialize)]
struct StoredAddress {
    kind: AddressKind,
    #[serde(default)]
    host: Option<Host>,
    #[serde(default)]
    ip: Option<IpAddr>,
    #[serde(default)]
    port: Option<u16>,
    #[serde(default)]
    dns: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    group_id: Option<String>,
    #[serde(default)]
    group_name: Option<String>,
}

impl TryFrom<StoredAddress> for Address {
    type Error = String;
    fn try_from(s: StoredAddress) -> Result<Address, String> {
        let host = s
            .host
            .or(s.ip.map(Host::Ip))
            .ok_or("an address with neither host nor ip")?;
        Ok(Address {
            kind: s.kind,
            host,
            ip: s.ip,
            port: s.port,
            dns: s.dns.map(|d| clean(&d)),
            status: s.status.map(|d| clean(&d)),
            group_id: s.group_id.map(|d| clean(&d)),
            group_name: s.group_name.map(|d| clean(&d)),
        })
    }
}

impl Address {
    /// `private 10.0.0.8`, `public gz-postgres-6bwgamo3.sql.tencentcdb.com`,
    /// `group 10.0.0.20 (ro-group-1)`.
    pub fn label(&self) -> String {
        match (&self.group_name, &self.group_id) {
            (Some(name), _) if !name.is_empty() => {
                format!("{} {} ({name})", self.kind, self.host)
            }
            (_, Some(id)) => format!("{} {} ({id})", self.kind, self.host),
            _ => format!("{} {}", self.kind, self.host),
        }
    }

    /// `private 10.0.0.8:5432`, `group 10.6.0.20:5432 (ro-group-1)`.
    pub fn label_with_port(&self) -> String {
        let host = match &self.host {
            Host::Ip(std::net::IpAddr::V6(v6)) => format!("[{v6}]"),
            other => other.to_string(),
        };
        let base = format!("{} {}:{}", self.kind, host, self.port_or_default());
        match self.group_name.as_ref().or(self.group_id.as_ref()) {
            Some(g) if !g.is_empty() => format!("{base} ({g})"),
            _ => base,
        }
    }

    /// Whether a certificate protecting `host` protects this address: its own host, its
    /// IP, or its DNS name (the API may answer either form for the same entry).
    pub fn is(&self, host: &Host) -> bool {
        self.host == *host
            || match host {
                Host::Ip(ip) => self.ip == Some(*ip),
                Host::Name(_) => self
                    .dns
                    .as_ref()
                    .is_some_and(|d| Host::Name(d.clone()) == *host),
            }
    }

    /// An address typed by a person, whose kind pgssl could not look up (counted as
    /// private).
    pub fn unverified(host: Host) -> Address {
        Address {
            kind: AddressKind::Private,
            ip: host.ip(),
            host,
            port: None,
            dns: None,
            status: None,
            group_id: None,
            group_name: None,
        }
    }

    /// The network is open (or its status is not said): SSL may protect it.
    pub fn is_open(&self) -> bool {
        self.status.as_deref().is_none_or(|s| s == "opened")
    }

    pub fn port_or_default(&self) -> u16 {
        self.port.filter(|p| *p != 0).unwrap_or(5432)
    }
}

/// The network's status in the SDK's words. Some instances report it as a number: the
/// SDK numbers its list (tencentcloud-sdk-go `DBInstanceNetInfo.Status`: 1 initing, 2
/// opened, 3 closed, 4 opening, 5 closing) and Terraform's provider reads those numbers
/// so (`service_tencentcloud_postgresql.go`: "opened"/"2" open, "closed"/"3"/"initing"/"1"
/// not, "opening"/"closing"/"4" under way); `0`, in the oldest examples beside a network
/// with no address, is closed.
fn net_status(raw: Option<&str>) -> Option<String> {
    raw.filter(|s| !s.is_empty()).map(|s| {
        match s {
            "1" => "initing",
            "2" => "opened",
            "0" | "3" => "closed",
            "4" => "opening",
            "5" => "closing",
            other => return clean(other),
        }
        .to_string()
    })
}

fn from_net_info(kind: AddressKind, n: &DBInstanceNetInfo) -> Option<Result<Address, String>> {
    let status = net_status(n.Status.as_deref());
    let raw_ip = n.Ip.as_deref().filter(|ip| !ip.is_empty());
    let raw_dns = n.Address.as_deref().filter(|a| !a.is_empty());
    let ip = match raw_ip.map(|raw| raw.parse::<IpAddr>().map_err(|_| raw)) {
        Some(Err(raw)) => {
            return Some(Err(format!("{kind} '{}' is not an IP address", clean(raw))));
        }
        Some(Ok(ip)) => Some(ip),
        None => None,
    };
    let dns = match raw_dns.map(Host::parse) {
        Some(Ok(Host::Name(n))) => Some(n),
        Some(Err(_)) if ip.is_none() => {
            return Some(Err(format!(
                "{kind} '{}' is not a DNS name",
                clean(raw_dns.unwrap_or_default())
            )));
        }
        // An IP written where the DNS name goes, or a garbled name beside a good IP:
        // the IP is what there is.
        Some(Ok(Host::Ip(_)) | Err(_)) | None => None,
    };
    // The public entry's DNS name is what clients dial (Terraform's public_access_host,
    // the console's public address); every other entry is known by its IP.
    let host = match (kind, &dns, ip) {
        (AddressKind::Public, Some(name), _) | (_, Some(name), None) => Host::Name(name.clone()),
        (_, _, Some(ip)) => Host::Ip(ip),
        (_, None, None) => {
            // A primary without public access still lists its public network, with no
            // address and a status such as `initing`: worth saying, never offered.
            return status.map(|s| Err(format!("{kind}: no IP yet, the network is '{s}'")));
        }
    };
    Some(Ok(Address {
        kind,
        host,
        ip,
        port: n.Port,
        dns,
        status,
        group_id: None,
        group_name: None,
    }))
}

/// The addresses the API lists for an instance, split into those the certificate may
/// protect and those that cannot be used (not an IP: shown, never offered or sent).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Addresses {
    pub usable: Vec<Address>,
    pub unusable: Vec<String>,
}

/// Every address the certificate of `instance` may protect. `groups` are the
/// read-only groups of its primary; only the one it belongs to counts.
pub fn addresses_of(instance: &DBInstance, groups: &[ReadOnlyGroup]) -> Addresses {
    let mut out = Addresses::default();
    let mut take = |entry: Option<Result<Address, String>>| match entry {
        Some(Ok(a)) => out.usable.push(a),
        Some(Err(e)) => out.unusable.push(e),
        None => {}
    };
    for n in instance.net_info() {
        let kind = match n.NetType.as_deref() {
            Some("public") => AddressKind::Public,
            _ => AddressKind::Private,
        };
        let entry = from_net_info(kind, n);
        // A public name that is not a DNS name, beside a good IP: the IP is offered, and
        // that is said (else `--address public` would quietly mean the IP).
        if let (Some(Ok(a)), Some(raw)) = (&entry, n.Address.as_deref().filter(|s| !s.is_empty()))
            && kind == AddressKind::Public
            && a.dns.is_none()
            && Host::parse(raw).is_err()
        {
            let note = format!(
                "public '{}' is not a DNS name: its IP {} is what `public` means",
                clean(raw),
                a.host
            );
            take(Some(Err(note)));
        }
        take(entry);
    }
    if instance.is_readonly() {
        for group in groups
            .iter()
            .filter(|g| g.members().any(|m| m == instance.id()))
        {
            for n in group.net_info() {
                take(from_net_info(AddressKind::Group, n).map(|r| {
                    r.map(|mut a| {
                        a.group_id = Some(clean(group.id()));
                        a.group_name = Some(clean(group.name())).filter(|n| !n.is_empty());
                        a
                    })
                }));
            }
        }
    }
    out.usable
        .dedup_by(|a, b| a.host == b.host && a.kind == b.kind);
    out
}

/// What the person asked for: an IP or DNS name, or a kind of address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddressSpec {
    Host(Host),
    Kind(AddressKind),
}

impl AddressSpec {
    pub fn parse(input: &str) -> Result<AddressSpec, String> {
        match input.trim() {
            "private" => Ok(AddressSpec::Kind(AddressKind::Private)),
            "public" => Ok(AddressSpec::Kind(AddressKind::Public)),
            "group" => Ok(AddressSpec::Kind(AddressKind::Group)),
            other => {
                if let Ok(sa) = other.parse::<std::net::SocketAddr>() {
                    return Err(format!(
                        "'{}': give the address without the port ({}); the port is the instance's own",
                        crate::text::sanitize(input),
                        sa.ip()
                    ));
                }
                if let Some((name, port)) = other.rsplit_once(':')
                    && port.bytes().all(|b| b.is_ascii_digit())
                    && Host::parse(name).is_ok_and(|h| h.is_name())
                {
                    return Err(format!(
                        "'{}': give the address without the port ({}); the port is the instance's own",
                        crate::text::sanitize(input),
                        crate::text::sanitize(name)
                    ));
                }
                Host::parse(other).map(AddressSpec::Host).map_err(|_| {
                    format!(
                        "'{}' is not an address: give an IP, the instance's DNS name, or one of private, public, group",
                        crate::text::sanitize(input)
                    )
                })
            }
        }
    }
}

impl fmt::Display for AddressSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AddressSpec::Host(h) => write!(f, "{h}"),
            AddressSpec::Kind(k) => write!(f, "{k}"),
        }
    }
}

/// An address SSL may protect only while its network is opened.
fn open<'a>(instance_id: &str, a: &'a Address) -> Result<&'a Address, AddressRefusal> {
    if a.is_open() {
        Ok(a)
    } else {
        Err(AddressRefusal::NotOpened {
            id: instance_id.to_string(),
            kind: a.kind,
            host: a.host.clone(),
            status: a.status.clone().unwrap_or_else(|| "?".into()),
        })
    }
}

fn list(addresses: &[Address]) -> String {
    if addresses.is_empty() {
        "it has none".into()
    } else {
        addresses
            .iter()
            .map(Address::label)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Pick the address `spec` means among `addresses` of `instance_id`.
pub fn choose(
    instance_id: &str,
    is_readonly: bool,
    addresses: &[Address],
    spec: &AddressSpec,
) -> Result<Address, AddressRefusal> {
    let id = || instance_id.to_string();
    match spec {
        AddressSpec::Host(host) => {
            let found = addresses.iter().find(|a| a.is(host)).ok_or_else(|| {
                AddressRefusal::NotItsAddress {
                    id: id(),
                    host: host.clone(),
                    choices: list(addresses),
                }
            })?;
            // An IP typed is what is sent: the IP of a public entry that also has a name
            // protects the IP (the SDK documents ConnectAddress as an IP). A name typed is
            // sent as the API spells it (DNS ignores case, the API's check may not).
            let mut chosen = open(instance_id, found)?.clone();
            chosen.host = match host {
                Host::Ip(_) => host.clone(),
                Host::Name(_) => match (&found.host, &found.dns) {
                    (Host::Name(_), _) => found.host.clone(),
                    (_, Some(d)) => Host::Name(d.clone()),
                    (_, None) => host.clone(),
                },
            };
            Ok(chosen)
        }
        AddressSpec::Kind(AddressKind::Group) if !is_readonly => {
            Err(AddressRefusal::GroupOnPrimary { id: id() })
        }
        AddressSpec::Kind(kind) => {
            let all: Vec<&Address> = addresses.iter().filter(|a| a.kind == *kind).collect();
            let mut of_kind = all.iter().copied().filter(|a| a.is_open());
            let first = of_kind.next().ok_or_else(|| match all.first() {
                Some(closed) => open(instance_id, closed).expect_err("not open"),
                None => AddressRefusal::NoneOfKind {
                    id: id(),
                    kind: *kind,
                    choices: list(addresses),
                },
            })?;
            if of_kind.next().is_some() {
                return Err(AddressRefusal::SeveralOfKind {
                    id: id(),
                    kind: *kind,
                    choices: list(addresses),
                });
            }
            Ok(first.clone())
        }
    }
}

#[cfg(test)]
mod tests;
