//! `pgssl audit`: every instance of the regions as a row (an inventory an auditor can
//! keep), and what is not as it should be as findings, most severe first. Judging
//! (`judge`), the rows (`rows`) and what changed since an earlier audit (`since`) are
//! pure; reading the fleet, the CAs and the live checks is I/O (`run`). The exit status
//! a cron job reads: 0 compliant, 1 a finding, 3 something could not be checked (and no
//! finding); with `--since`, 1 when anything got worse.

pub mod judge;
pub mod rows;
pub mod since;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{OpsError, Session};
use crate::domain::Instance;

pub use judge::{CA_WARN_DAYS, CaSeen, exit_code, findings, plaintext_finding, tls_finding};
pub use rows::{CaRow, CensusCell, Evidence, Row, Ssl, TlsRow};
pub use since::{Change, Since};

/// How bad a finding is; sorted most severe first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    High,
    Medium,
    Low,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
        }
    }
}

/// What a finding is about: a word for scripts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    SslOff,
    GroupDisagrees,
    CaExpired,
    CaExpiring,
    /// The CA's fingerprint is not the one pinned (first seen, or last accepted).
    CaChanged,
    TlsVerifyCa,
    TlsFailed,
    TlsAbsent,
    PlaintextAccepted,
    /// Something could not be checked: not a finding proper (exit 3, not 1).
    Unchecked,
}

impl FindingKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::SslOff => "ssl_off",
            FindingKind::GroupDisagrees => "group_disagrees",
            FindingKind::CaExpired => "ca_expired",
            FindingKind::CaExpiring => "ca_expiring",
            FindingKind::CaChanged => "ca_changed",
            FindingKind::TlsVerifyCa => "tls_verify_ca",
            FindingKind::TlsFailed => "tls_failed",
            FindingKind::TlsAbsent => "tls_absent",
            FindingKind::PlaintextAccepted => "plaintext_accepted",
            FindingKind::Unchecked => "unchecked",
        }
    }
}

impl std::fmt::Display for FindingKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One thing found, about one instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[allow(non_snake_case)]
pub struct Finding {
    pub severity: Severity,
    pub kind: FindingKind,
    pub DBInstanceId: String,
    pub Region: String,
    pub detail: String,
}

/// When, where and as whom the audit was taken.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct About {
    /// RFC 3339, UTC.
    pub taken_at: String,
    pub regions: Vec<String>,
    /// GetCallerIdentity's AccountId and ARN, when STS answered.
    pub account: Option<String>,
    pub arn: Option<String>,
    /// The tccli profile in effect, if any.
    pub profile: Option<String>,
    /// Which credential source (`env`, `profile:NAME`, `demo`, ...).
    pub credential: String,
    pub endpoint: String,
    /// Whether live checks were made (`--verify`).
    pub verify: bool,
    pub pgssl: String,
}

/// The audit's result.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Audit {
    pub about: About,
    pub instances: usize,
    pub ssl_on: usize,
    pub ssl_off: usize,
    pub ssl_unknown: usize,
    pub findings: Vec<Finding>,
    /// Every instance, compliant or not, in the order listed.
    pub rows: Vec<Row>,
    /// What changed since an earlier audit (`--since`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since: Option<Since>,
}

impl Audit {
    /// Its exit status: with `--since`, 1 when anything got worse, else 3 when something
    /// could not be checked now, else 0; without, `exit_code` of the findings.
    pub fn exit_code(&self) -> i32 {
        match &self.since {
            Some(s) if s.worse > 0 => 1,
            Some(_)
                if self
                    .findings
                    .iter()
                    .any(|f| f.kind == FindingKind::Unchecked) =>
            {
                3
            }
            Some(_) => 0,
            None => exit_code(&self.findings),
        }
    }

    /// How many findings proper, and how many things not checked.
    pub fn counts(&self) -> (usize, usize) {
        let unchecked = self
            .findings
            .iter()
            .filter(|f| f.kind == FindingKind::Unchecked)
            .count();
        (self.findings.len() - unchecked, unchecked)
    }
}

/// How long one live TLS check may take in an audit (connect, handshake, all of it).
pub const CHECK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
/// Live checks under way at once.
const CHECKS_AT_ONCE: usize = 8;

/// Does the protected address still take a connection without TLS? A plaintext
/// StartupMessage for `user`, the server's first answer, and hang up (no password).
async fn plaintext_check(session: &Session, i: &Instance, user: &str) -> judge::Plain {
    use judge::Plain;
    let Some(address) = i.protected_host() else {
        return Plain::Unchecked("no protected address".into());
    };
    let shown = address.to_string();
    let port = i
        .protected_address()
        .map_or(5432, crate::addresses::Address::port_or_default);
    let via = session.reach.via_for(&shown);
    if let Err(e) = session.reach.allows(&shown, via) {
        return Plain::Unchecked(format!("not run: {e}"));
    }
    let target = crate::probe::Target {
        address: shown,
        port,
        via,
    };
    match crate::probe::plaintext(&target, user, crate::probe::Timeouts::default()).await {
        crate::probe::Plaintext::Accepted(_) => Plain::Accepted,
        crate::probe::Plaintext::Refused(_) => Plain::Refused,
        crate::probe::Plaintext::Unreachable(why) => {
            Plain::Unchecked(format!("not reached ({why})"))
        }
    }
}

/// Each CA with SSL on, as `verify` would trust it (kept where `verify` reads it; one
/// over plain http from another host only once confirmed, else "not read" with how to
/// confirm it), noted in the inventory with its pin.
async fn fetch_cas(session: &Session, instances: &[Instance]) -> CaSeen {
    let wanted: Vec<(String, crate::domain::SslState)> = instances
        .iter()
        .filter_map(|i| {
            let ssl = i.ssl_state().filter(|s| s.enabled)?;
            (ssl.ca_url.is_some() || ssl.inline_ca.is_some()).then(|| (i.id.clone(), ssl.clone()))
        })
        .collect();
    let paths = &session.store.paths;
    let asks = wanted.into_iter().map(|(id, ssl)| async move {
        let got = super::ca::trusted(paths, &id, &ssl).await;
        (id, got.map_err(|e| e.to_string()))
    });
    let fetched: Vec<(String, Result<super::CaBundle, String>)> = futures_util::StreamExt::collect(
        futures_util::StreamExt::buffer_unordered(futures_util::stream::iter(asks), CHECKS_AT_ONCE),
    )
    .await;
    // Note each in the inventory (its pin stays) and read the pin back.
    let known: Vec<(String, crate::domain::CaKnown)> = fetched
        .iter()
        .filter_map(|(id, b)| Some((id.clone(), super::ca::known_of(b.as_ref().ok()?)?)))
        .collect();
    let pins: BTreeMap<String, crate::domain::CaPin> = session
        .store
        .inventory
        .update(move |inv| {
            known
                .into_iter()
                .filter_map(|(id, ca)| Some((id.clone(), inv.note_ca(&id, ca)?.pinned())))
                .collect()
        })
        .unwrap_or_default();
    let now = pgssl_wire::clock::unix_now();
    fetched
        .into_iter()
        .map(|(id, got)| {
            let row = got.and_then(|bundle| {
                let first = bundle
                    .infos
                    .first()
                    .ok_or_else(|| "no certificate in it".to_string())?;
                let pin = pins.get(&id).cloned().unwrap_or(crate::domain::CaPin {
                    sha256: first.sha256.clone(),
                    since: pgssl_wire::clock::now_rfc3339(),
                });
                Ok(CaRow {
                    subject: first.subject.clone(),
                    issuer: first.issuer.clone(),
                    sha256: first.sha256.clone(),
                    not_after: first.not_after.clone(),
                    days_left: bundle
                        .infos
                        .iter()
                        .map(|c| c.days_left(now))
                        .min()
                        .unwrap_or(i64::MIN),
                    certificates: bundle.infos.len(),
                    pinned_sha256: pin.sha256,
                    pinned_since: pin.since,
                })
            });
            (id, row)
        })
        .collect()
}

/// What the live checks of one instance found: its TLS row and findings, and its census.
struct Checked {
    id: String,
    tls: Option<TlsRow>,
    census: Option<CensusCell>,
    findings: Vec<Finding>,
}

/// The live checks of one instance: TLS (SSL on), plaintext (given a user), the census
/// (given a monitoring login).
async fn check_one(
    session: &Session,
    i: &Instance,
    ca: &CaSeen,
    plaintext_user: Option<&str>,
) -> Checked {
    let mut findings = Vec::new();
    let mut tls = None;
    if i.ssl_state().is_some_and(|s| s.enabled) {
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
            Ok(Ok(v)) => Ok(v.report),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err(format!("no answer within {} s", CHECK_TIMEOUT.as_secs())),
        };
        findings.extend(tls_finding(
            i,
            &result
                .as_ref()
                .map(|r| r.verdict.clone())
                .map_err(Clone::clone),
        ));
        let plain = match plaintext_user {
            Some(user) => {
                let p = plaintext_check(session, i, user).await;
                findings.extend(plaintext_finding(i, &p, user));
                match p {
                    judge::Plain::Accepted => Some(true),
                    judge::Plain::Refused => Some(false),
                    judge::Plain::Unchecked(_) => None,
                }
            }
            None => None,
        };
        let now = pgssl_wire::clock::unix_now();
        tls = Some(match result {
            Ok(report) => TlsRow {
                result: report.verdict.result().as_str().to_string(),
                detail: match &report.verdict {
                    crate::probe::Verdict::VerifyFull | crate::probe::Verdict::NoSsl => None,
                    crate::probe::Verdict::VerifyCa(why)
                    | crate::probe::Verdict::Failed(why)
                    | crate::probe::Verdict::Unreachable(why) => Some(crate::text::clean(why)),
                },
                version: report.tls.as_ref().map(|t| t.version.clone()),
                cert_days_left: report
                    .tls
                    .as_ref()
                    .and_then(|t| t.leaf.as_ref())
                    .map(|l| l.days_left(now)),
                plaintext_accepted: plain,
            },
            Err(why) => TlsRow {
                result: "not-run".into(),
                detail: Some(crate::text::clean(&why)),
                version: None,
                cert_days_left: None,
                plaintext_accepted: plain,
            },
        });
    }
    let census = if super::census::has_login(session) && i.ssl_state().is_some() {
        Some(
            match tokio::time::timeout(
                super::census::TIME_LIMIT,
                super::census::take(session, i, &super::census::CensusRequest::default()),
            )
            .await
            {
                Ok(Ok(t)) => CensusCell::Counted {
                    connections: t.census.connections,
                    tls: t.census.tls,
                    plaintext: t.census.plaintext,
                    hidden: t.census.hidden,
                },
                Ok(Err(e)) => CensusCell::NotCounted {
                    not_counted: crate::text::clean(&e.to_string()),
                },
                Err(_) => CensusCell::NotCounted {
                    not_counted: format!(
                        "no answer within {} s",
                        super::census::TIME_LIMIT.as_secs()
                    ),
                },
            },
        )
    } else {
        None
    };
    Checked {
        id: i.id.clone(),
        tls,
        census,
        findings,
    }
}

/// Who and where, for the report.
async fn about(session: &Session, regions: &[String], verify: bool) -> About {
    let identity = session.identity().await;
    let (account, arn) = match &identity {
        super::identity::Identity::Known(a) => (Some(a.account_id.clone()), Some(a.arn.clone())),
        super::identity::Identity::Unknown(_) => (None, None),
    };
    About {
        taken_at: pgssl_wire::clock::now_rfc3339(),
        regions: regions.to_vec(),
        account,
        arn,
        profile: session.profile.clone(),
        credential: session.source.tag(),
        endpoint: session.client.endpoint().to_string(),
        verify,
        pgssl: env!("CARGO_PKG_VERSION").to_string(),
    }
}

/// Read the fleet of `regions` (every instance the API lists), fetch the CA of each
/// instance with SSL on (noting its pin), with `verify` check each protected address live
/// (and, given a user, whether it still accepts plaintext; given a monitoring login, count
/// its clients), judge, and list every instance.
pub async fn run(
    session: &Session,
    regions: &[String],
    verify: bool,
    plaintext_user: Option<&str>,
    on_read: impl FnMut(usize, usize),
) -> Result<Audit, OpsError> {
    let fleet = super::inventory::fleet(session, regions, on_read).await?;
    let ca = fetch_cas(session, &fleet.instances).await;
    let (on, off, unknown) = fleet.counts();
    let mut found = findings(&fleet.instances, &fleet.unread, &ca);
    let mut evidence = Evidence {
        unread: fleet.unread.clone(),
        ..Evidence::default()
    };
    if verify {
        let ca = &ca;
        // Owned, so the checks' futures borrow nothing from a closure's argument.
        let checks = fleet
            .instances
            .clone()
            .into_iter()
            .map(|i| async move { check_one(session, &i, ca, plaintext_user).await });
        let checked: Vec<Checked> =
            futures_util::StreamExt::collect(futures_util::StreamExt::buffer_unordered(
                futures_util::stream::iter(checks),
                CHECKS_AT_ONCE,
            ))
            .await;
        for c in checked {
            found.extend(c.findings);
            if let Some(t) = c.tls {
                evidence.tls.insert(c.id.clone(), t);
            }
            if let Some(n) = c.census {
                evidence.census.insert(c.id, n);
            }
        }
        judge::sort(&mut found);
    }
    evidence.ca = ca;
    let rows = rows::rows(&fleet.instances, &evidence, &found);
    Ok(Audit {
        about: about(session, regions, verify).await,
        instances: fleet.instances.len(),
        ssl_on: on,
        ssl_off: off,
        ssl_unknown: unknown,
        findings: found,
        rows,
        since: None,
    })
}

/// The TUI's memory of the last audit it saw: compare this one with it (None the first
/// time, or when the one kept cannot be read), then keep this one (atomically, 0600).
pub fn against_last(store: &crate::store::Store, audit: &Audit) -> Option<Since> {
    let path = store.paths.data_dir.join("last-audit.json");
    let earlier = since::load(&path).ok();
    let diff = earlier.map(|e| since::compare(&e, audit, "the last audit seen here"));
    if let Ok(json) = serde_json::to_vec(audit) {
        let _ = crate::store::write_atomic(&path, &json);
    }
    diff
}

#[cfg(test)]
mod tests;
