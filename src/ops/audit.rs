//! `pgssl audit`: what is not as it should be across the fleet, as findings sorted by
//! severity. The judging is pure (`findings`); reading the fleet and the CAs is I/O
//! (`run`). The exit status a cron job reads: 0 compliant, 1 a finding, 3 something
//! could not be checked (and no finding).

use std::collections::BTreeMap;

use serde::Serialize;

use super::{OpsError, Session};
use crate::addresses::AddressKind;
use crate::domain::Instance;

/// How bad a finding is; sorted most severe first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    High,
    Medium,
    Low,
}

/// One thing found, about one instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[allow(non_snake_case)]
pub struct Finding {
    pub severity: Severity,
    /// A word for scripts: ssl_off, group_disagrees, ca_expired, ca_expiring, unchecked.
    pub kind: &'static str,
    pub DBInstanceId: String,
    pub Region: String,
    pub detail: String,
}

/// A CA's expiry, as fetched: days left, or why it could not be read.
pub type CaDays = BTreeMap<String, Result<i64, String>>;

/// A CA expiring sooner than this many days is a finding.
pub const CA_WARN_DAYS: i64 = 30;

/// Judge the fleet: SSL off; a read-only group whose address one member protects while
/// another member has SSL off (Tencent asks for SSL on every member then); a CA expired
/// or close to it; an instance whose SSL state or CA could not be read.
pub fn findings(instances: &[Instance], unread: &[(String, String)], ca: &CaDays) -> Vec<Finding> {
    let mut out = Vec::new();
    let region_of = |id: &str| {
        instances
            .iter()
            .find(|i| i.id == id)
            .map(|i| i.region.clone())
            .unwrap_or_default()
    };
    for (id, why) in unread {
        out.push(Finding {
            severity: Severity::Medium,
            kind: "unchecked",
            DBInstanceId: id.clone(),
            Region: region_of(id),
            detail: format!("SSL state not read: {why}"),
        });
    }
    for i in instances {
        match i.ssl_state() {
            Some(s) if !s.enabled => out.push(Finding {
                severity: Severity::High,
                kind: "ssl_off",
                DBInstanceId: i.id.clone(),
                Region: i.region.clone(),
                detail: format!("{} ({}) has SSL off", i.id, i.status.as_str()),
            }),
            _ => {}
        }
        match ca.get(&i.id) {
            Some(Ok(days)) if *days < 0 => out.push(Finding {
                severity: Severity::High,
                kind: "ca_expired",
                DBInstanceId: i.id.clone(),
                Region: i.region.clone(),
                detail: format!("its CA expired {} days ago", -days),
            }),
            Some(Ok(days)) if *days < CA_WARN_DAYS => out.push(Finding {
                severity: Severity::Medium,
                kind: "ca_expiring",
                DBInstanceId: i.id.clone(),
                Region: i.region.clone(),
                detail: format!("its CA expires in {days} days"),
            }),
            Some(Err(why)) => out.push(Finding {
                severity: Severity::Low,
                kind: "unchecked",
                DBInstanceId: i.id.clone(),
                Region: i.region.clone(),
                detail: format!("CA not read: {why}"),
            }),
            _ => {}
        }
    }
    // Read-only groups: members that share a group address.
    let mut groups: BTreeMap<(String, std::net::IpAddr), Vec<&Instance>> = BTreeMap::new();
    for i in instances {
        for a in i.addresses.iter().filter(|a| a.kind == AddressKind::Group) {
            groups.entry((i.region.clone(), a.ip)).or_default().push(i);
        }
    }
    for ((_, ip), members) in &groups {
        let protecting = members.iter().any(|m| {
            m.ssl_state()
                .is_some_and(|s| s.enabled && s.protected == Some(*ip))
        });
        if !protecting {
            continue;
        }
        for m in members
            .iter()
            .filter(|m| m.ssl_state().is_some_and(|s| !s.enabled))
        {
            out.push(Finding {
                severity: Severity::High,
                kind: "group_disagrees",
                DBInstanceId: m.id.clone(),
                Region: m.region.clone(),
                detail: format!(
                    "the read-only group address {ip} is protected by another member, but {} has SSL off (Tencent asks for SSL on every member)",
                    m.id
                ),
            });
        }
    }
    out.sort_by(|a, b| {
        (a.severity, &a.Region, &a.DBInstanceId).cmp(&(b.severity, &b.Region, &b.DBInstanceId))
    });
    out
}

/// The exit status for these findings: 1 when any is a finding proper, else 3 when
/// something could not be checked, else 0.
pub fn exit_code(findings: &[Finding]) -> i32 {
    if findings.iter().any(|f| f.kind != "unchecked") {
        1
    } else if findings.is_empty() {
        0
    } else {
        3
    }
}

/// The audit's result.
#[derive(Debug, Clone, Serialize)]
pub struct Audit {
    pub instances: usize,
    pub ssl_on: usize,
    pub ssl_off: usize,
    pub ssl_unknown: usize,
    pub findings: Vec<Finding>,
}

/// Read the fleet of `regions` (every instance the API lists), fetch the CA of each
/// instance with SSL on, and judge.
pub async fn run(
    session: &Session,
    regions: &[String],
    on_read: impl FnMut(usize, usize),
) -> Result<Audit, OpsError> {
    let fleet = super::inventory::fleet(session, regions, on_read).await?;
    let now = pgssl_wire::clock::unix_now();
    let mut ca = CaDays::new();
    for i in &fleet.instances {
        let Some(url) = i
            .ssl_state()
            .filter(|s| s.enabled)
            .and_then(|s| s.ca_url.clone())
            .filter(|u| !u.is_empty())
        else {
            continue;
        };
        let days = match super::verify::fetch_ca(&session.store.paths, &i.id, &url).await {
            Ok(bundle) => bundle
                .infos
                .iter()
                .map(|c| c.days_left(now))
                .min()
                .ok_or_else(|| "no certificate in it".to_string()),
            Err(e) => Err(e.to_string()),
        };
        ca.insert(i.id.clone(), days);
    }
    let (on, off, unknown) = fleet.counts();
    Ok(Audit {
        instances: fleet.instances.len(),
        ssl_on: on,
        ssl_off: off,
        ssl_unknown: unknown,
        findings: findings(&fleet.instances, &fleet.unread, &ca),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addresses::Address;
    use crate::domain::{InstanceKind, InstanceStatus, SslSeen, SslState};

    fn instance(id: &str, ssl: Option<(bool, Option<&str>)>, group: Option<&str>) -> Instance {
        let mut i = Instance {
            id: id.into(),
            region: "ap-guangzhou".into(),
            name: id.into(),
            kind: if group.is_some() {
                InstanceKind::ReadOnly
            } else {
                InstanceKind::Primary
            },
            status: InstanceStatus::from_api("running"),
            master: None,
            addresses: Vec::new(),
            unusable: Vec::new(),
            ssl: None,
            read_at: "2026-12-02T00:00:00Z".into(),
            ca: None,
            tls: None,
        };
        if let Some(g) = group {
            i.addresses.push(Address {
                kind: AddressKind::Group,
                ..Address::unverified(g.parse().expect("ip"))
            });
        }
        i.ssl = ssl.map(|(enabled, protected)| SslSeen {
            state: SslState {
                enabled,
                protected: protected.map(|p| p.parse().expect("ip")),
                ca_url: None,
            },
            read_at: "2026-12-02T00:00:00Z".into(),
        });
        i
    }

    #[test]
    fn findings_are_judged_and_sorted_most_severe_first() {
        let fleet = vec![
            instance("postgres-on", Some((true, Some("10.0.0.1"))), None),
            instance("postgres-off", Some((false, None)), None),
            instance("pgro-a", Some((true, Some("10.0.0.20"))), Some("10.0.0.20")),
            instance("pgro-b", Some((false, None)), Some("10.0.0.20")),
            instance("postgres-isolated", None, None),
        ];
        let mut ca = CaDays::new();
        ca.insert("postgres-on".into(), Ok(10));
        ca.insert("pgro-a".into(), Err("timed out".into()));
        let unread = vec![("postgres-gone".to_string(), "AuthFailure".to_string())];
        let f = findings(&fleet, &unread, &ca);
        let kinds: Vec<(&str, &str)> = f
            .iter()
            .map(|f| (f.kind, f.DBInstanceId.as_str()))
            .collect();
        assert!(kinds.contains(&("ssl_off", "postgres-off")));
        assert!(kinds.contains(&("ssl_off", "pgro-b")));
        assert!(kinds.contains(&("group_disagrees", "pgro-b")), "{kinds:?}");
        assert!(kinds.contains(&("ca_expiring", "postgres-on")));
        assert!(kinds.contains(&("unchecked", "pgro-a")));
        assert!(kinds.contains(&("unchecked", "postgres-gone")));
        assert!(
            !kinds.iter().any(|k| k.1 == "postgres-isolated"),
            "unknown is not off"
        );
        let sev: Vec<Severity> = f.iter().map(|f| f.severity).collect();
        let mut sorted = sev.clone();
        sorted.sort();
        assert_eq!(sev, sorted, "most severe first");
        assert_eq!(exit_code(&f), 1);
        // A group whose address nobody protects: members with SSL off are findings for
        // being off, not for disagreeing.
        let quiet = findings(
            &[
                instance("pgro-a", Some((false, None)), Some("10.0.0.20")),
                instance("pgro-b", Some((true, Some("10.0.0.9"))), Some("10.0.0.20")),
            ],
            &[],
            &CaDays::new(),
        );
        assert!(!quiet.iter().any(|f| f.kind == "group_disagrees"));
        let mut expired = CaDays::new();
        expired.insert("postgres-on".into(), Ok(-3));
        let f = findings(
            &[instance(
                "postgres-on",
                Some((true, Some("10.0.0.1"))),
                None,
            )],
            &[],
            &expired,
        );
        assert_eq!((f[0].kind, f[0].severity), ("ca_expired", Severity::High));
    }

    #[test]
    fn exit_codes_for_cron() {
        assert_eq!(exit_code(&[]), 0);
        let unchecked = findings(&[], &[("x".into(), "e".into())], &CaDays::new());
        assert_eq!(exit_code(&unchecked), 3);
    }
}
