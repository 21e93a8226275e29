//! The addresses an SSL certificate can protect, and choosing one.
//!
//! A primary's certificate may protect its private or its public IP; a read-only
//! instance's may protect its own IP or its read-only group's IP. These are all pure
//! functions of what the API described.

use std::fmt;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::api::models::{DBInstance, DBInstanceNetInfo, ReadOnlyGroup};
use crate::ops::refusal::AddressRefusal;
use crate::text::clean;

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
pub struct Address {
    pub kind: AddressKind,
    pub ip: IpAddr,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// The DNS name the API gives for this address, if any.
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

impl Address {
    /// `private 10.0.0.8`, `group 10.0.0.20 (ro-group-1)`.
    pub fn label(&self) -> String {
        match (&self.group_name, &self.group_id) {
            (Some(name), _) if !name.is_empty() => format!("{} {} ({name})", self.kind, self.ip),
            (_, Some(id)) => format!("{} {} ({id})", self.kind, self.ip),
            _ => format!("{} {}", self.kind, self.ip),
        }
    }

    /// `private 10.0.0.8:5432`, `group 10.6.0.20:5432 (ro-group-1)`.
    pub fn label_with_port(&self) -> String {
        let base = format!("{} {}:{}", self.kind, self.ip, self.port_or_default());
        match self.group_name.as_ref().or(self.group_id.as_ref()) {
            Some(g) if !g.is_empty() => format!("{base} ({g})"),
            _ => base,
        }
    }

    /// An IP typed by a person, whose kind pgssl could not look up (counted as private).
    pub fn unverified(ip: IpAddr) -> Address {
        Address {
            kind: AddressKind::Private,
            ip,
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

/// An address entry of the API: parsed, or kept (sanitized) as a reason it is unusable.
/// The network's status in today's words: older instances report `1` and `0`.
fn net_status(raw: Option<&str>) -> Option<String> {
    raw.filter(|s| !s.is_empty()).map(|s| match s {
        "1" => "opened".to_string(),
        "0" => "closed".to_string(),
        other => clean(other),
    })
}

fn from_net_info(kind: AddressKind, n: &DBInstanceNetInfo) -> Option<Result<Address, String>> {
    let status = net_status(n.Status.as_deref());
    let Some(raw) = n.Ip.as_deref().filter(|ip| !ip.is_empty()) else {
        // A primary without public access still lists its public network, with no IP
        // and a status such as `initing`: worth saying, never offered.
        return status.map(|s| Err(format!("{kind}: no IP yet, the network is '{s}'")));
    };
    let Ok(ip) = raw.parse::<IpAddr>() else {
        return Some(Err(format!("{kind} '{}' is not an IP address", clean(raw))));
    };
    Some(Ok(Address {
        kind,
        ip,
        port: n.Port,
        dns: n.Address.as_deref().filter(|a| !a.is_empty()).map(clean),
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
        take(from_net_info(kind, n));
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
    out.usable.dedup_by(|a, b| a.ip == b.ip && a.kind == b.kind);
    out
}

/// What the person asked for: an IP, or a kind of address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddressSpec {
    Ip(IpAddr),
    Kind(AddressKind),
}

impl AddressSpec {
    pub fn parse(input: &str) -> Result<AddressSpec, String> {
        match input.trim() {
            "private" => Ok(AddressSpec::Kind(AddressKind::Private)),
            "public" => Ok(AddressSpec::Kind(AddressKind::Public)),
            "group" => Ok(AddressSpec::Kind(AddressKind::Group)),
            other => other.parse::<IpAddr>().map(AddressSpec::Ip).map_err(|_| {
                match other.parse::<std::net::SocketAddr>() {
                    Ok(sa) => format!(
                        "'{}': give the IP without the port ({}); the port is the instance's own",
                        crate::text::sanitize(input),
                        sa.ip()
                    ),
                    Err(_) => format!(
                        "'{}' is not an address: give an IPv4/IPv6 address or one of private, public, group",
                        crate::text::sanitize(input)
                    ),
                }
            }),
        }
    }
}

impl fmt::Display for AddressSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AddressSpec::Ip(ip) => write!(f, "{ip}"),
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
            ip: a.ip,
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
        AddressSpec::Ip(ip) => {
            let found = addresses.iter().find(|a| a.ip == *ip).ok_or_else(|| {
                AddressRefusal::NotItsAddress {
                    id: id(),
                    ip: *ip,
                    choices: list(addresses),
                }
            })?;
            open(instance_id, found).cloned()
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
        assert_eq!(pick("private").expect("private").ip.to_string(), "10.6.0.4");
        assert_eq!(
            pick("public").expect("public").ip.to_string(),
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
            a.iter().map(|a| a.ip.to_string()).collect::<Vec<_>>(),
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
        assert_eq!(a.usable[0].ip.to_string(), "10.6.0.4");
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
                Status: Some("1".into()),
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
            "an old '1' is opened"
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
            AddressSpec::Ip("10.6.0.4".parse().expect("ip")),
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
    fn spec_parsing() {
        assert_eq!(
            AddressSpec::parse("group"),
            Ok(AddressSpec::Kind(AddressKind::Group))
        );
        assert!(matches!(AddressSpec::parse("::1"), Ok(AddressSpec::Ip(_))));
        let e = AddressSpec::parse("privat").expect_err("typo");
        assert!(e.contains("private, public, group"));
    }
}
