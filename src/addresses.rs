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
mod tests {
    use super::*;

    fn net(ip: &str, kind: &str) -> DBInstanceNetInfo {
        DBInstanceNetInfo {
            Ip: Some(ip.into()),
            Port: Some(5432),
            NetType: Some(kind.into()),
            Status: Some("opened".into()),
            ..Default::default()
        }
    }

    fn primary() -> DBInstance {
        DBInstance {
            DBInstanceId: Some("postgres-6bwgamo3".into()),
            DBInstanceType: Some("primary".into()),
            DBInstanceNetInfo: Some(vec![
                net("10.6.0.4", "private"),
                net("203.0.113.3", "public"),
            ]),
            ..Default::default()
        }
    }

    fn replica() -> (DBInstance, Vec<ReadOnlyGroup>) {
        let ro = DBInstance {
            DBInstanceId: Some("pgro-ro9x2k1q".into()),
            DBInstanceType: Some("readonly".into()),
            MasterDBInstanceId: Some("postgres-6bwgamo3".into()),
            DBInstanceNetInfo: Some(vec![net("10.6.0.9", "private")]),
            ..Default::default()
        };
        let member = DBInstance {
            DBInstanceId: Some("pgro-ro9x2k1q".into()),
            ..Default::default()
        };
        let other = DBInstance {
            DBInstanceId: Some("pgro-otherone".into()),
            ..Default::default()
        };
        let groups = vec![
            ReadOnlyGroup {
                ReadOnlyGroupId: Some("pgrogrp-4t9mxl3a".into()),
                ReadOnlyGroupName: Some("ro-group-1".into()),
                ReadOnlyDBInstanceList: Some(vec![member]),
                DBInstanceNetInfo: Some(vec![net("10.6.0.20", "private")]),
                ..Default::default()
            },
            ReadOnlyGroup {
                ReadOnlyGroupId: Some("pgrogrp-zzzzzzzz".into()),
                ReadOnlyDBInstanceList: Some(vec![other]),
                DBInstanceNetInfo: Some(vec![net("10.6.0.30", "private")]),
                ..Default::default()
            },
        ];
        (ro, groups)
    }

    #[test]
    fn primary_offers_private_and_public() {
        let a = addresses_of(&primary(), &[]).usable;
        assert_eq!(a.len(), 2);
        let pick = |s: &str| {
            choose(
                "postgres-6bwgamo3",
                false,
                &a,
                &AddressSpec::parse(s).expect("spec"),
            )
        };
        assert_eq!(
            pick("private").expect("private").host.to_string(),
            "10.6.0.4"
        );
        assert_eq!(
            pick("public").expect("public").host.to_string(),
            "203.0.113.3"
        );
        assert_eq!(pick("203.0.113.3").expect("ip").kind, AddressKind::Public);
        assert!(matches!(
            pick("group"),
            Err(AddressRefusal::GroupOnPrimary { .. })
        ));
        match pick("10.9.9.9") {
            Err(AddressRefusal::NotItsAddress { choices, .. }) => assert!(
                choices.contains("private 10.6.0.4") && choices.contains("public 203.0.113.3"),
                "{choices}"
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn replica_offers_own_ip_and_its_groups_only() {
        let (ro, groups) = replica();
        let a = addresses_of(&ro, &groups).usable;
        assert_eq!(
            a.iter().map(|a| a.host.to_string()).collect::<Vec<_>>(),
            ["10.6.0.9", "10.6.0.20"]
        );
        let g = choose(
            "pgro-ro9x2k1q",
            true,
            &a,
            &AddressSpec::Kind(AddressKind::Group),
        )
        .expect("group");
        assert_eq!(g.label(), "group 10.6.0.20 (ro-group-1)");
        let e = choose(
            "pgro-ro9x2k1q",
            true,
            &a,
            &AddressSpec::Kind(AddressKind::Public),
        )
        .expect_err("no public");
        assert!(
            matches!(
                e,
                AddressRefusal::NoneOfKind {
                    kind: AddressKind::Public,
                    ..
                }
            ),
            "{e}"
        );
        assert!(
            choose(
                "pgro-ro9x2k1q",
                true,
                &a,
                &AddressSpec::parse("10.6.0.30").expect("ip")
            )
            .is_err()
        );
    }

    #[test]
    fn an_entry_that_is_not_an_ip_is_kept_apart_and_never_offered() {
        let mut p = primary();
        p.DBInstanceNetInfo = Some(vec![
            net("10.66.0.1\u{1b}[2J\u{202e}", "private"),
            net("10.6.0.4", "private"),
        ]);
        let a = addresses_of(&p, &[]);
        assert_eq!(a.usable.len(), 1);
        assert_eq!(a.usable[0].host.to_string(), "10.6.0.4");
        assert_eq!(a.unusable.len(), 1);
        assert!(
            a.unusable[0].contains("not an IP") && !a.unusable[0].contains('\u{1b}'),
            "{:?}",
            a.unusable
        );
    }

    #[test]
    fn networks_not_opened_are_said_and_never_offered() {
        let mut p = primary();
        p.DBInstanceNetInfo = Some(vec![
            DBInstanceNetInfo {
                Status: Some("2".into()),
                ..net("10.6.0.4", "private")
            },
            // No public access: the API still lists the network, without an IP.
            DBInstanceNetInfo {
                Ip: Some(String::new()),
                Port: Some(0),
                NetType: Some("public".into()),
                Status: Some("initing".into()),
                ..DBInstanceNetInfo::default()
            },
        ]);
        let a = addresses_of(&p, &[]);
        assert_eq!(a.usable.len(), 1);
        assert_eq!(
            a.usable[0].status.as_deref(),
            Some("opened"),
            "a numbered '2' is opened"
        );
        assert_eq!(a.unusable, ["public: no IP yet, the network is 'initing'"]);
        let e = choose(
            "postgres-6bwgamo3",
            false,
            &a.usable,
            &AddressSpec::Kind(AddressKind::Public),
        )
        .expect_err("no public");
        assert!(
            matches!(
                e,
                AddressRefusal::NoneOfKind {
                    kind: AddressKind::Public,
                    ..
                }
            ),
            "{e}"
        );
        let mut closed = a.usable.clone();
        closed[0].status = Some("closed".into());
        for spec in [
            AddressSpec::Kind(AddressKind::Private),
            AddressSpec::Host(Host::Ip("10.6.0.4".parse().expect("ip"))),
        ] {
            let e = choose("postgres-6bwgamo3", false, &closed, &spec).expect_err("closed");
            assert!(
                matches!(&e, AddressRefusal::NotOpened { status, .. } if status == "closed"),
                "{e}"
            );
            assert!(e.to_string().contains("is 'closed', not opened"), "{e}");
        }
    }

    #[test]
    fn a_public_entry_with_a_dns_name_is_protected_by_its_name() {
        let mut p = primary();
        p.DBInstanceNetInfo = Some(vec![
            net("10.6.0.4", "private"),
            DBInstanceNetInfo {
                Address: Some("GZ-Postgres-6bwgamo3.sql.tencentcdb.com.".into()),
                ..net("203.0.113.3", "public")
            },
            // A name and no IP, as some accounts list the public entry.
            DBInstanceNetInfo {
                Address: Some("ro-only.sql.tencentcdb.com".into()),
                Ip: Some(String::new()),
                ..net("", "public")
            },
        ]);
        let a = addresses_of(&p, &[]).usable;
        let name = Host::Name("gz-postgres-6bwgamo3.sql.tencentcdb.com".into());
        assert_eq!(a[1].host, name, "the name is what is sent");
        assert_eq!(
            a[1].host.to_string(),
            "GZ-Postgres-6bwgamo3.sql.tencentcdb.com.",
            "as the API spells it"
        );
        assert_eq!(a[1].ip, Some("203.0.113.3".parse().expect("ip")));
        assert_eq!(a[2].host.to_string(), "ro-only.sql.tencentcdb.com");
        assert_eq!(a[2].ip, None);
        let pick = |s: &str| {
            choose(
                "postgres-6bwgamo3",
                false,
                &a[..2],
                &AddressSpec::parse(s).expect("spec"),
            )
        };
        assert_eq!(pick("public").expect("public").host, name);
        // The IP of the same entry may be asked for explicitly: that is what is sent.
        let by_ip = pick("203.0.113.3").expect("ip");
        assert_eq!(
            (by_ip.kind, by_ip.host.to_string()),
            (AddressKind::Public, "203.0.113.3".to_string())
        );
        let by_name = pick("gz-postgres-6bwgamo3.sql.tencentcdb.com").expect("name");
        assert_eq!(
            by_name.host.to_string(),
            "GZ-Postgres-6bwgamo3.sql.tencentcdb.com.",
            "a name typed is sent as the API spells it"
        );
        assert!(matches!(
            pick("other.sql.tencentcdb.com"),
            Err(AddressRefusal::NotItsAddress { .. })
        ));
        // The private entry is known by its IP even with a DNS name beside it.
        let mut q = primary();
        q.DBInstanceNetInfo = Some(vec![DBInstanceNetInfo {
            Address: Some("inner.example.internal".into()),
            ..net("10.6.0.4", "private")
        }]);
        let b = addresses_of(&q, &[]).usable;
        assert_eq!(b[0].host.to_string(), "10.6.0.4");
        assert!(b[0].is(&Host::parse("inner.example.internal").expect("name")));
    }

    #[test]
    fn hosts_parse_as_an_ip_or_a_dns_name_and_nothing_else() {
        assert_eq!(
            Host::parse(" 10.0.0.8 "),
            Ok(Host::Ip("10.0.0.8".parse().expect("ip")))
        );
        assert!(matches!(Host::parse("::1"), Ok(Host::Ip(_))));
        // Kept as spelled; compared as DNS compares names.
        let upper = Host::parse("A.Example.COM.").expect("name");
        assert_eq!(upper.to_string(), "A.Example.COM.");
        assert_eq!(upper, Host::Name("a.example.com".into()));
        for bad in [
            "",
            "localhost",
            "10.0.0.999",
            "a..b",
            "-a.example.com",
            "a-.example.com",
            "a_b.example.com",
            "x.example.com\u{1b}[2J",
            "x\u{202e}.example.com",
            "1.2.3.4.5",
            "10.0.0.9x",
            &format!("{}.com", "a".repeat(64)),
            &format!("{}com", "abcdefgh.".repeat(29)),
        ] {
            let e = Host::parse(bad).expect_err(bad);
            assert!(!e.contains('\u{1b}') && !e.contains('\u{202e}'), "{e}");
        }
        // Kept as the API's string: an old journal's IP reads back as a Host.
        let h: Host = serde_json::from_str("\"10.6.0.4\"").expect("json");
        assert_eq!(h, Host::Ip("10.6.0.4".parse().expect("ip")));
        assert!(serde_json::from_str::<Host>("\"not a host!\"").is_err());
    }

    #[test]
    fn an_inventory_address_written_before_names_still_reads() {
        let old: Address = serde_json::from_str(
            r#"{"kind":"public","ip":"203.0.113.3","port":5432,"dns":"x.sql.tencentcdb.com"}"#,
        )
        .expect("old shape");
        assert_eq!(old.host.to_string(), "203.0.113.3");
        let round: Address =
            serde_json::from_str(&serde_json::to_string(&old).expect("json")).expect("new");
        assert_eq!(round, old);
        assert!(serde_json::from_str::<Address>(r#"{"kind":"public"}"#).is_err());
    }

    #[test]
    fn numbered_network_statuses_read_as_the_sdk_numbers_them() {
        let status = |raw: &str| {
            let mut p = primary();
            p.DBInstanceNetInfo = Some(vec![DBInstanceNetInfo {
                Status: Some(raw.into()),
                ..net("10.6.0.4", "private")
            }]);
            addresses_of(&p, &[]).usable[0].clone()
        };
        for (raw, word, open) in [
            ("1", "initing", false),
            ("2", "opened", true),
            ("3", "closed", false),
            ("4", "opening", false),
            ("5", "closing", false),
            ("0", "closed", false),
            ("opened", "opened", true),
        ] {
            let a = status(raw);
            assert_eq!(
                (a.status.as_deref(), a.is_open()),
                (Some(word), open),
                "{raw}"
            );
        }
    }

    #[test]
    fn spec_parsing() {
        assert_eq!(
            AddressSpec::parse("group"),
            Ok(AddressSpec::Kind(AddressKind::Group))
        );
        assert!(matches!(
            AddressSpec::parse("::1"),
            Ok(AddressSpec::Host(_))
        ));
        // A typo of a kind is not a DNS name (one label).
        let e = AddressSpec::parse("privat").expect_err("typo");
        assert!(e.contains("private, public, group"));
        assert!(matches!(
            AddressSpec::parse("pg.example.com"),
            Ok(AddressSpec::Host(Host::Name(_)))
        ));
        let e = AddressSpec::parse("pg.example.com:5432").expect_err("port");
        assert!(e.contains("without the port"), "{e}");
    }
}
