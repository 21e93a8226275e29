//! `pgssl audit`: what is not as it should be across the fleet, as findings sorted by
//! severity. The judging is pure (`findings`); reading the fleet and the CAs is I/O
//! (`run`). The exit status a cron job reads: 0 compliant, 1 a finding, 3 something
//! could not be checked (and no finding).

use std::collections::BTreeMap;

use serde::Serialize;

use super::{OpsError, Session};
use crate::addresses::{AddressKind, Host};
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
                detail: match &i.version {
                    Some(v) if !v.supports_ssl() => format!(
                        "{} ({}) has SSL off and runs PostgreSQL {v}: SSL needs PostgreSQL 11 or later, so upgrade it first",
                        i.id,
                        i.status.as_str()
                    ),
                    _ => format!("{} ({}) has SSL off", i.id, i.status.as_str()),
                },
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
    let mut groups: BTreeMap<(String, Host), Vec<&Instance>> = BTreeMap::new();
    for i in instances {
        for a in i.addresses.iter().filter(|a| a.kind == AddressKind::Group) {
            groups
                .entry((i.region.clone(), a.host.clone()))
                .or_default()
                .push(i);
        }
    }
    for ((_, ip), members) in &groups {
        let protecting = members.iter().any(|m| m.protected_host() == Some(ip));
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
    sort(&mut out);
    out
}

/// Most severe first, then by region and instance.
fn sort(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        (a.severity, &a.Region, &a.DBInstanceId).cmp(&(b.severity, &b.Region, &b.DBInstanceId))
    });
}

/// The exit status for these findings, the one an audit has whatever its output format:
/// 1 when any is a finding proper, else 3 when something could not be checked, else 0.
/// A finding wins over something unchecked: what was found stands whatever the unchecked
/// would have shown, and it is what a cron job must act on first; 3 says only that the
/// audit is incomplete, which a finding already makes moot.
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Audit {
    pub instances: usize,
    pub ssl_on: usize,
    pub ssl_off: usize,
    pub ssl_unknown: usize,
    pub findings: Vec<Finding>,
}

impl Audit {
    /// Its exit status (`exit_code`).
    pub fn exit_code(&self) -> i32 {
        exit_code(&self.findings)
    }
}

/// How long one live TLS check may take in an audit (connect, handshake, all of it).
pub const CHECK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
/// Live checks under way at once.
const CHECKS_AT_ONCE: usize = 8;

/// What a live TLS check of an instance's protected address found, as a finding (None:
/// verify-full, as it should be).
pub fn tls_finding(i: &Instance, result: Result<crate::probe::Verdict, String>) -> Option<Finding> {
    use crate::probe::Verdict;
    let address = i
        .protected_host()
        .map_or_else(|| "?".to_string(), ToString::to_string);
    let (severity, kind, detail) = match result {
        Ok(Verdict::VerifyFull) => return None,
        Ok(Verdict::VerifyCa(why)) => (
            Severity::Medium,
            "tls_verify_ca",
            format!(
                "{address}: the chain verifies but the certificate does not name the address ({why}): sslmode=verify-full fails"
            ),
        ),
        Ok(Verdict::Failed(why)) => (Severity::High, "tls_failed", format!("{address}: {why}")),
        Ok(Verdict::NoSsl) => (
            Severity::High,
            "tls_absent",
            format!("{address} answers without TLS although SSL is on"),
        ),
        Ok(Verdict::Unreachable(why)) => (
            Severity::Low,
            "unchecked",
            format!("{address} not reached for the TLS check: {why}"),
        ),
        Err(why) => (
            Severity::Low,
            "unchecked",
            format!("TLS check not run: {why}"),
        ),
    };
    Some(Finding {
        severity,
        kind,
        DBInstanceId: i.id.clone(),
        Region: i.region.clone(),
        detail: crate::text::clean(&detail),
    })
}

/// Does the protected address still take a connection without TLS? A plaintext
/// StartupMessage for `user`, the server's first answer, and hang up (no password).
pub async fn plaintext_finding(session: &Session, i: &Instance, user: &str) -> Option<Finding> {
    let address = i.protected_host()?;
    let shown = address.to_string();
    let port = i
        .protected_address()
        .map_or(5432, crate::addresses::Address::port_or_default);
    let via = session.reach.via_for(&shown);
    let finding = |severity, kind, detail: String| Finding {
        severity,
        kind,
        DBInstanceId: i.id.clone(),
        Region: i.region.clone(),
        detail: crate::text::clean(&detail),
    };
    if let Err(e) = session.reach.allows(&shown, via) {
        return Some(finding(
            Severity::Low,
            "unchecked",
            format!("plaintext check not run: {e}"),
        ));
    }
    let target = crate::probe::Target {
        address: shown.clone(),
        port,
        via,
    };
    match crate::probe::plaintext(&target, user, crate::probe::Timeouts::default()).await {
        crate::probe::Plaintext::Accepted(_) => Some(finding(
            Severity::High,
            "plaintext_accepted",
            format!(
                "{shown}:{port} still accepts unencrypted connections (a plaintext startup for user {user} went on to authentication): require SSL (hostssl in pg_hba, or the console's setting)"
            ),
        )),
        crate::probe::Plaintext::Refused(_) => None,
        crate::probe::Plaintext::Unreachable(why) => Some(finding(
            Severity::Low,
            "unchecked",
            format!("plaintext check: {shown}:{port} not reached ({why})"),
        )),
    }
}

/// Read the fleet of `regions` (every instance the API lists), fetch the CA of each
/// instance with SSL on, with `verify` check each protected address live (and, given a
/// user, whether it still accepts plaintext), and judge.
pub async fn run(
    session: &Session,
    regions: &[String],
    verify: bool,
    plaintext_user: Option<&str>,
    on_read: impl FnMut(usize, usize),
) -> Result<Audit, OpsError> {
    let fleet = super::inventory::fleet(session, regions, on_read).await?;
    let now = pgssl_wire::clock::unix_now();
    // Each CA with SSL on, CHECKS_AT_ONCE at a time, as `verify` would trust it (kept
    // where `verify` reads it; one over plain http from another host only once
    // confirmed, else "not read" with how to confirm it).
    let wanted: Vec<(String, crate::domain::SslState)> = fleet
        .instances
        .iter()
        .filter_map(|i| {
            let ssl = i.ssl_state().filter(|s| s.enabled)?;
            (ssl.ca_url.is_some() || ssl.inline_ca.is_some()).then(|| (i.id.clone(), ssl.clone()))
        })
        .collect();
    let paths = &session.store.paths;
    let fetches = wanted.into_iter().map(|(id, ssl)| async move {
        let days = match super::ca::trusted(paths, &id, &ssl).await {
            Ok(bundle) => bundle
                .infos
                .iter()
                .map(|c| c.days_left(now))
                .min()
                .ok_or_else(|| "no certificate in it".to_string()),
            Err(e) => Err(e.to_string()),
        };
        (id, days)
    });
    let ca: CaDays = futures_util::StreamExt::collect(futures_util::StreamExt::buffer_unordered(
        futures_util::stream::iter(fetches),
        CHECKS_AT_ONCE,
    ))
    .await;
    let (on, off, unknown) = fleet.counts();
    let mut found = findings(&fleet.instances, &fleet.unread, &ca);
    if verify {
        // Owned, so the checks' futures borrow nothing from a closure's argument.
        let on: Vec<Instance> = fleet
            .instances
            .iter()
            .filter(|i| i.ssl_state().is_some_and(|s| s.enabled))
            .cloned()
            .collect();
        let ca = &ca;
        let checks = on.into_iter().map(|i| async move {
            let i = &i;
            // The CA just fetched, from where it is kept: not downloaded a second time.
            let request = super::VerifyRequest {
                ca_file: ca
                    .get(&i.id)
                    .is_some_and(Result::is_ok)
                    .then(|| session.store.paths.ca_file(&i.id)),
                ..super::VerifyRequest::default()
            };
            let result = match tokio::time::timeout(
                CHECK_TIMEOUT,
                super::verify::verify_described(session, i, &request),
            )
            .await
            {
                Ok(Ok(v)) => Ok(v.report.verdict),
                Ok(Err(e)) => Err(e.to_string()),
                Err(_) => Err(format!("no answer within {} s", CHECK_TIMEOUT.as_secs())),
            };
            let mut found: Vec<Finding> = tls_finding(i, result).into_iter().collect();
            if let Some(user) = plaintext_user {
                found.extend(plaintext_finding(session, i, user).await);
            }
            found
        });
        let checked: Vec<Vec<Finding>> =
            futures_util::StreamExt::collect(futures_util::StreamExt::buffer_unordered(
                futures_util::stream::iter(checks),
                CHECKS_AT_ONCE,
            ))
            .await;
        found.extend(checked.into_iter().flatten());
        sort(&mut found);
    }
    Ok(Audit {
        instances: fleet.instances.len(),
        ssl_on: on,
        ssl_off: off,
        ssl_unknown: unknown,
        findings: found,
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
            version: None,
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
                inline_ca: None,
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

#[cfg(test)]
mod tls_tests {
    use super::*;
    use crate::probe::Verdict;

    #[test]
    fn a_live_check_becomes_a_finding_unless_verify_full() {
        let i = Instance {
            id: "postgres-on".into(),
            region: "ap-guangzhou".into(),
            name: String::new(),
            kind: crate::domain::InstanceKind::Primary,
            status: crate::domain::InstanceStatus::from_api("running"),
            master: None,
            version: None,
            addresses: Vec::new(),
            unusable: Vec::new(),
            ssl: None,
            read_at: String::new(),
            ca: None,
            tls: None,
        };
        assert_eq!(tls_finding(&i, Ok(Verdict::VerifyFull)), None);
        let kind = |v| tls_finding(&i, v).map(|f| (f.kind, f.severity));
        assert_eq!(
            kind(Ok(Verdict::VerifyCa("names 10.0.0.2".into()))),
            Some(("tls_verify_ca", Severity::Medium))
        );
        assert_eq!(
            kind(Ok(Verdict::Failed("expired".into()))),
            Some(("tls_failed", Severity::High))
        );
        assert_eq!(
            kind(Ok(Verdict::NoSsl)),
            Some(("tls_absent", Severity::High))
        );
        assert_eq!(
            kind(Ok(Verdict::Unreachable("refused".into()))),
            Some(("unchecked", Severity::Low))
        );
        assert_eq!(
            kind(Err("timed out".into())),
            Some(("unchecked", Severity::Low))
        );
    }
}
