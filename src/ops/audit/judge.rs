//! Judging the fleet (pure): what is not as it should be, as findings sorted most
//! severe first, and the exit status a cron job reads.

use std::collections::BTreeMap;

use super::rows::CaRow;
use super::{Finding, FindingKind, Severity};
use crate::addresses::{AddressKind, Host};
use crate::domain::Instance;

/// A CA expiring sooner than this many days is a finding.
pub const CA_WARN_DAYS: i64 = 30;

/// Each instance's CA as fetched (the row's CA), or why it could not be read.
pub type CaSeen = BTreeMap<String, Result<CaRow, String>>;

/// Judge the fleet: SSL off; a read-only group whose address one member protects while
/// another member has SSL off (Tencent asks for SSL on every member then); a CA expired,
/// close to it, or other than the one pinned; an instance whose SSL state or CA could
/// not be read.
pub fn findings(instances: &[Instance], unread: &[(String, String)], ca: &CaSeen) -> Vec<Finding> {
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
            kind: FindingKind::Unchecked,
            DBInstanceId: id.clone(),
            Region: region_of(id),
            detail: format!("SSL state not read: {why}"),
        });
    }
    for i in instances {
        let finding = |severity, kind, detail| Finding {
            severity,
            kind,
            DBInstanceId: i.id.clone(),
            Region: i.region.clone(),
            detail,
        };
        if let Some(s) = i.ssl_state()
            && !s.enabled
        {
            out.push(finding(
                Severity::High,
                FindingKind::SslOff,
                match &i.version {
                    Some(v) if !v.supports_ssl() => format!(
                        "{} ({}) has SSL off and runs PostgreSQL {v}: SSL needs PostgreSQL 11 or later, so upgrade it first",
                        i.id,
                        i.status.as_str()
                    ),
                    _ => format!("{} ({}) has SSL off", i.id, i.status.as_str()),
                },
            ));
        }
        match ca.get(&i.id) {
            Some(Ok(c)) => {
                if c.days_left < 0 {
                    out.push(finding(
                        Severity::High,
                        FindingKind::CaExpired,
                        format!("its CA expired {} days ago", -c.days_left),
                    ));
                } else if c.days_left < CA_WARN_DAYS {
                    out.push(finding(
                        Severity::Medium,
                        FindingKind::CaExpiring,
                        format!("its CA expires in {} days", c.days_left),
                    ));
                }
                if c.pinned_sha256 != c.sha256 {
                    out.push(finding(
                        Severity::High,
                        FindingKind::CaChanged,
                        format!(
                            "CA changed since {}: {} -> {} (clients that trust the old CA fail; once they have the new one: {} ssl ca {} --accept)",
                            c.pinned_since.get(..10).unwrap_or(&c.pinned_since),
                            c.pinned_sha256,
                            c.sha256,
                            crate::hint::pgssl(),
                            i.id
                        ),
                    ));
                }
            }
            Some(Err(why)) => out.push(finding(
                Severity::Low,
                FindingKind::Unchecked,
                format!("CA not read: {why}"),
            )),
            None => {}
        }
    }
    for ((_, ip), members) in &groups(instances) {
        if agrees(members, ip) {
            continue;
        }
        for m in members
            .iter()
            .filter(|m| m.ssl_state().is_some_and(|s| !s.enabled))
        {
            out.push(Finding {
                severity: Severity::High,
                kind: FindingKind::GroupDisagrees,
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

/// Read-only groups: the members that share a group address, by region and address.
pub fn groups(instances: &[Instance]) -> BTreeMap<(String, Host), Vec<&Instance>> {
    let mut groups: BTreeMap<(String, Host), Vec<&Instance>> = BTreeMap::new();
    for i in instances {
        for a in i.addresses.iter().filter(|a| a.kind == AddressKind::Group) {
            groups
                .entry((i.region.clone(), a.host.clone()))
                .or_default()
                .push(i);
        }
    }
    groups
}

/// Whether a group's members agree: none has SSL off while another protects the group
/// address.
pub fn agrees(members: &[&Instance], group_address: &Host) -> bool {
    let protecting = members
        .iter()
        .any(|m| m.protected_host() == Some(group_address));
    !protecting
        || !members
            .iter()
            .any(|m| m.ssl_state().is_some_and(|s| !s.enabled))
}

/// Most severe first, then by region and instance.
pub fn sort(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        (a.severity, &a.Region, &a.DBInstanceId, a.kind).cmp(&(
            b.severity,
            &b.Region,
            &b.DBInstanceId,
            b.kind,
        ))
    });
}

/// The exit status for these findings, the one an audit has whatever its output format:
/// 1 when any is a finding proper, else 3 when something could not be checked, else 0.
/// A finding wins over something unchecked: what was found stands whatever the unchecked
/// would have shown, and it is what a cron job must act on first; 3 says only that the
/// audit is incomplete, which a finding already makes moot.
pub fn exit_code(findings: &[Finding]) -> i32 {
    if findings.iter().any(|f| f.kind != FindingKind::Unchecked) {
        1
    } else if findings.is_empty() {
        0
    } else {
        3
    }
}

/// What a live TLS check of an instance's protected address found, as a finding (None:
/// verify-full, as it should be).
pub fn tls_finding(
    i: &Instance,
    result: &Result<crate::probe::Verdict, String>,
) -> Option<Finding> {
    use crate::probe::Verdict;
    let address = i
        .protected_host()
        .map_or_else(|| "?".to_string(), ToString::to_string);
    let (severity, kind, detail) = match result {
        Ok(Verdict::VerifyFull) => return None,
        Ok(Verdict::VerifyCa(why)) => (
            Severity::Medium,
            FindingKind::TlsVerifyCa,
            format!(
                "{address}: the chain verifies but the certificate does not name the address ({why}): sslmode=verify-full fails"
            ),
        ),
        Ok(Verdict::Failed(why)) => (
            Severity::High,
            FindingKind::TlsFailed,
            format!("{address}: {why}"),
        ),
        Ok(Verdict::NoSsl) => (
            Severity::High,
            FindingKind::TlsAbsent,
            format!("{address} answers without TLS although SSL is on"),
        ),
        Ok(Verdict::Unreachable(why)) => (
            Severity::Low,
            FindingKind::Unchecked,
            format!("{address} not reached for the TLS check: {why}"),
        ),
        Err(why) => (
            Severity::Low,
            FindingKind::Unchecked,
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

/// What the plaintext check of a protected address found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plain {
    /// The server went on to authentication for a plaintext startup.
    Accepted,
    Refused,
    /// Not asked, or not answered, and why.
    Unchecked(String),
}

/// The plaintext check as a finding (None: refused, as it should be).
pub fn plaintext_finding(i: &Instance, plain: &Plain, user: &str) -> Option<Finding> {
    let shown = i
        .protected_host()
        .map_or_else(|| "?".to_string(), ToString::to_string);
    let port = i
        .protected_address()
        .map_or(5432, crate::addresses::Address::port_or_default);
    let (severity, kind, detail) = match plain {
        Plain::Refused => return None,
        Plain::Accepted => (
            Severity::High,
            FindingKind::PlaintextAccepted,
            format!(
                "{shown}:{port} still accepts unencrypted connections (a plaintext startup for user {user} went on to authentication): require SSL (hostssl in pg_hba, or the console's setting)"
            ),
        ),
        Plain::Unchecked(why) => (
            Severity::Low,
            FindingKind::Unchecked,
            format!("plaintext check of {shown}:{port}: {why}"),
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
