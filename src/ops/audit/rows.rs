//! The audit's inventory (pure): a row for every instance of the regions, compliant or
//! not, with what was learned of it; an instance that could not be read is a row too,
//! saying why. What `--output json|csv|html` lists and `--since` compares.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::judge::{CaSeen, agrees, groups};
use super::{Finding, FindingKind, Severity};
use crate::addresses::{AddressKind, Host};
use crate::domain::Instance;

/// SSL as read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Ssl {
    On,
    Off,
    Unknown,
}

impl Ssl {
    pub fn as_str(self) -> &'static str {
        match self {
            Ssl::On => "on",
            Ssl::Off => "off",
            Ssl::Unknown => "unknown",
        }
    }
}

/// The instance's CA: its first certificate (the one pinned), the soonest expiry of all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaRow {
    pub subject: String,
    pub issuer: String,
    /// SHA-256 of the certificate, `AB:CD:...`.
    pub sha256: String,
    pub not_after: String,
    /// Days until the first of its certificates expires (negative: expired).
    pub days_left: i64,
    pub certificates: usize,
    /// The fingerprint pinned for the instance (first seen, or last accepted), and since
    /// when; other than `sha256` when the CA changed.
    pub pinned_sha256: String,
    pub pinned_since: String,
}

/// What the live check found (`--verify`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TlsRow {
    /// verify-full, verify-ca, failed, no-ssl, unreachable; `not-run` with why in detail.
    pub result: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The TLS version negotiated, e.g. TLSv1.3.
    #[serde(default)]
    pub version: Option<String>,
    /// Days the server's certificate has left.
    #[serde(default)]
    pub cert_days_left: Option<i64>,
    /// Whether a plaintext startup went on to authentication (None: not asked).
    #[serde(default)]
    pub plaintext_accepted: Option<bool>,
}

/// Who was connected (with a monitoring login and `--verify`): counts, never the rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum CensusCell {
    Counted {
        connections: usize,
        tls: usize,
        plaintext: usize,
        hidden: usize,
    },
    NotCounted {
        not_counted: String,
    },
}

/// The read-only group an instance belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupRow {
    #[serde(default)]
    pub id: Option<String>,
    pub address: String,
    /// No member has SSL off while another protects the group address.
    pub members_agree: bool,
}

/// A finding, within its instance's row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowFinding {
    pub severity: Severity,
    pub kind: FindingKind,
    pub detail: String,
}

/// One instance, as audited.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[allow(non_snake_case)]
pub struct Row {
    pub DBInstanceId: String,
    pub DBInstanceName: String,
    pub Region: String,
    /// primary, readonly, ...
    pub kind: String,
    /// running, isolated, ...; empty when the instance was not listed.
    pub status: String,
    pub version: Option<String>,
    pub ssl: Ssl,
    /// The address the certificate protects (IP or domain), with SSL on.
    pub protected_address: Option<String>,
    /// private, public or group; None when the instance does not list the address.
    pub address_kind: Option<AddressKind>,
    pub read_only_group: Option<GroupRow>,
    pub ca: Option<CaRow>,
    /// With `--verify`, instances with SSL on.
    pub tls: Option<TlsRow>,
    /// With `--verify` and a monitoring login.
    pub census: Option<CensusCell>,
    /// Why its SSL state is not known, when it is not.
    pub unread: Option<String>,
    pub findings: Vec<RowFinding>,
}

/// What was learned beside the listing, by instance id.
#[derive(Debug, Clone, Default)]
pub struct Evidence {
    pub unread: Vec<(String, String)>,
    pub ca: CaSeen,
    pub tls: BTreeMap<String, TlsRow>,
    pub census: BTreeMap<String, CensusCell>,
}

/// A row for every instance (in the order listed), and one for each instance that was
/// named but not listed; each with its findings.
pub fn rows(instances: &[Instance], evidence: &Evidence, findings: &[Finding]) -> Vec<Row> {
    let mut group_of: BTreeMap<&str, GroupRow> = BTreeMap::new();
    for ((_, address), members) in &groups(instances) {
        let agree = agrees(members, address);
        for m in members {
            let id = m
                .addresses
                .iter()
                .find(|a| a.kind == AddressKind::Group && &a.host == address)
                .and_then(|a| a.group_id.clone());
            group_of.insert(
                &m.id,
                GroupRow {
                    id,
                    address: address.to_string(),
                    members_agree: agree,
                },
            );
        }
    }
    let found = |id: &str| -> Vec<RowFinding> {
        findings
            .iter()
            .filter(|f| f.DBInstanceId == id)
            .map(|f| RowFinding {
                severity: f.severity,
                kind: f.kind,
                detail: f.detail.clone(),
            })
            .collect()
    };
    let unread_why = |id: &str| {
        evidence
            .unread
            .iter()
            .find(|(u, _)| u == id)
            .map(|(_, why)| why.clone())
    };
    let mut out: Vec<Row> = instances
        .iter()
        .map(|i| {
            let ssl = match i.ssl_state() {
                Some(s) if s.enabled => Ssl::On,
                Some(_) => Ssl::Off,
                None => Ssl::Unknown,
            };
            let unread = (ssl == Ssl::Unknown).then(|| {
                unread_why(&i.id).unwrap_or_else(|| {
                    format!(
                        "the API does not give the SSL state of an instance that is {}",
                        i.status.as_str()
                    )
                })
            });
            Row {
                DBInstanceId: i.id.clone(),
                DBInstanceName: i.name.clone(),
                Region: i.region.clone(),
                kind: i.kind.as_api().to_string(),
                status: i.status.as_str().to_string(),
                version: i.version.as_ref().map(ToString::to_string),
                ssl,
                protected_address: i.protected_host().map(Host::to_string),
                address_kind: i.protected_address().map(|a| a.kind),
                read_only_group: group_of.get(i.id.as_str()).cloned(),
                ca: evidence
                    .ca
                    .get(&i.id)
                    .and_then(|c| c.as_ref().ok())
                    .cloned(),
                tls: evidence.tls.get(&i.id).cloned(),
                census: evidence.census.get(&i.id).cloned(),
                unread,
                findings: found(&i.id),
            }
        })
        .collect();
    for (id, why) in &evidence.unread {
        if instances.iter().any(|i| &i.id == id) {
            continue;
        }
        out.push(Row {
            unread: Some(why.clone()),
            findings: found(id),
            ..Row::named(id)
        });
    }
    out
}

/// The CSV columns, one row per instance.
pub const CSV_HEADER: [&str; 24] = [
    "DBInstanceId",
    "DBInstanceName",
    "Region",
    "kind",
    "status",
    "version",
    "ssl",
    "protected_address",
    "address_kind",
    "read_only_group",
    "group_agrees",
    "ca_subject",
    "ca_issuer",
    "ca_sha256",
    "ca_not_after",
    "ca_days_left",
    "tls",
    "tls_version",
    "cert_days_left",
    "plaintext_accepted",
    "connections",
    "plaintext_clients",
    "unread",
    "findings",
];

impl Row {
    /// A row that knows only the instance's id: SSL unknown, nothing else learned.
    pub fn named(id: &str) -> Row {
        Row {
            DBInstanceId: id.to_string(),
            DBInstanceName: String::new(),
            Region: String::new(),
            kind: String::new(),
            status: String::new(),
            version: None,
            ssl: Ssl::Unknown,
            protected_address: None,
            address_kind: None,
            read_only_group: None,
            ca: None,
            tls: None,
            census: None,
            unread: None,
            findings: Vec::new(),
        }
    }

    /// Its CSV fields, in `CSV_HEADER`'s order.
    pub fn csv(&self) -> Vec<String> {
        let opt = |v: Option<String>| v.unwrap_or_default();
        let ca = self.ca.as_ref();
        let tls = self.tls.as_ref();
        let (connections, plaintext) = match &self.census {
            Some(CensusCell::Counted {
                connections,
                plaintext,
                ..
            }) => (connections.to_string(), plaintext.to_string()),
            Some(CensusCell::NotCounted { .. }) => ("not counted".into(), String::new()),
            None => (String::new(), String::new()),
        };
        vec![
            self.DBInstanceId.clone(),
            self.DBInstanceName.clone(),
            self.Region.clone(),
            self.kind.clone(),
            self.status.clone(),
            opt(self.version.clone()),
            self.ssl.as_str().to_string(),
            opt(self.protected_address.clone()),
            opt(self.address_kind.map(|k| k.keyword().to_string())),
            opt(self
                .read_only_group
                .as_ref()
                .map(|g| g.id.clone().unwrap_or_else(|| g.address.clone()))),
            opt(self
                .read_only_group
                .as_ref()
                .map(|g| g.members_agree.to_string())),
            opt(ca.map(|c| c.subject.clone())),
            opt(ca.map(|c| c.issuer.clone())),
            opt(ca.map(|c| c.sha256.clone())),
            opt(ca.map(|c| c.not_after.clone())),
            opt(ca.map(|c| c.days_left.to_string())),
            opt(tls.map(|t| t.result.clone())),
            opt(tls.and_then(|t| t.version.clone())),
            opt(tls.and_then(|t| t.cert_days_left.map(|d| d.to_string()))),
            opt(tls.and_then(|t| t.plaintext_accepted.map(|p| p.to_string()))),
            connections,
            plaintext,
            opt(self.unread.clone()),
            self.findings
                .iter()
                .map(|f| f.kind.as_str())
                .collect::<Vec<_>>()
                .join(" "),
        ]
    }
}
