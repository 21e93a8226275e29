//! What changed since an earlier audit (`audit --since FILE`, and the TUI's last audit):
//! an instance new or gone, SSL turned on or off, the protected address changed, a CA
//! whose fingerprint changed, a finding new or resolved. Comparing is pure; reading the
//! earlier audit is bounded and checked, as any file from outside.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::rows::Ssl;
use super::{Audit, FindingKind};

/// An earlier audit, as `--output json` wrote it: the parts compared.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Earlier {
    #[serde(default)]
    pub about: Option<EarlierAbout>,
    pub rows: Vec<EarlierRow>,
    #[serde(default)]
    pub findings: Vec<EarlierFinding>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct EarlierAbout {
    #[serde(default)]
    pub taken_at: String,
    #[serde(default)]
    pub regions: Vec<String>,
    #[serde(default)]
    pub account: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[allow(non_snake_case)]
pub struct EarlierRow {
    pub DBInstanceId: String,
    #[serde(default)]
    pub Region: String,
    pub ssl: Ssl,
    #[serde(default)]
    pub protected_address: Option<String>,
    #[serde(default)]
    pub ca: Option<EarlierCa>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct EarlierCa {
    pub sha256: String,
}

#[derive(Debug, Clone, Deserialize)]
#[allow(non_snake_case)]
pub struct EarlierFinding {
    pub DBInstanceId: String,
    pub kind: String,
    #[serde(default)]
    pub detail: String,
}

/// Read an earlier `audit --output json` (bounded; every text in it cleaned).
pub fn load(path: &Path) -> Result<Earlier, String> {
    let shown = crate::text::clean(&path.display().to_string());
    let text = crate::store::bounded::read_to_string(path, crate::store::caps::RECORDS)
        .map_err(|e| format!("cannot read {shown} ({e})"))?;
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        format!("{shown} is not JSON ({e}): --since takes what pgssl audit --output json wrote")
    })?;
    if value.get("rows").is_none() {
        return Err(format!(
            "{shown} has no \"rows\": it is not pgssl audit --output json, or an older pgssl wrote it (take a new baseline with {} audit --output json > FILE)",
            crate::hint::pgssl()
        ));
    }
    let mut earlier: Earlier = serde_json::from_value(value)
        .map_err(|e| format!("{shown} is not what pgssl audit --output json writes ({e})"))?;
    let mut seen = std::collections::HashSet::new();
    for r in &mut earlier.rows {
        crate::validate::instance_id(&r.DBInstanceId)
            .map_err(|e| format!("{shown}: a row's DBInstanceId: {e}"))?;
        if !seen.insert(r.DBInstanceId.clone()) {
            return Err(format!(
                "{shown} lists {} twice: pgssl audit --output json never does (take a new baseline)",
                r.DBInstanceId
            ));
        }
        r.protected_address = r.protected_address.as_deref().map(crate::text::clean);
        if let Some(ca) = &mut r.ca {
            ca.sha256 = crate::text::clean(&ca.sha256);
        }
    }
    for f in &mut earlier.findings {
        f.DBInstanceId = crate::text::clean(&f.DBInstanceId);
        f.kind = crate::text::clean(&f.kind);
        f.detail = crate::text::clean(&f.detail);
    }
    if let Some(a) = &mut earlier.about {
        a.taken_at = crate::text::clean(&a.taken_at);
        a.regions
            .iter_mut()
            .for_each(|r| *r = crate::text::clean(r));
        a.account = a.account.as_deref().map(crate::text::clean);
    }
    for r in &mut earlier.rows {
        r.Region = crate::text::clean(&r.Region);
    }
    Ok(earlier)
}

/// One difference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "change", rename_all = "snake_case")]
#[allow(non_snake_case)]
pub enum Change {
    New {
        DBInstanceId: String,
        ssl: Ssl,
    },
    Gone {
        DBInstanceId: String,
    },
    SslOn {
        DBInstanceId: String,
    },
    SslOff {
        DBInstanceId: String,
    },
    AddressChanged {
        DBInstanceId: String,
        from: String,
        to: String,
    },
    CaChanged {
        DBInstanceId: String,
        from: String,
        to: String,
    },
    FindingNew {
        DBInstanceId: String,
        kind: String,
        detail: String,
    },
    FindingResolved {
        DBInstanceId: String,
        kind: String,
        detail: String,
    },
}

impl Change {
    /// Worse than before: SSL turned off, a CA other than before (clients that trust the
    /// old one fail), a new finding (what could not be checked this time is not one).
    pub fn worse(&self) -> bool {
        match self {
            Change::SslOff { .. } | Change::CaChanged { .. } => true,
            Change::FindingNew { kind, .. } => kind != FindingKind::Unchecked.as_str(),
            _ => false,
        }
    }

    pub fn instance(&self) -> &str {
        match self {
            Change::New { DBInstanceId, .. }
            | Change::Gone { DBInstanceId }
            | Change::SslOn { DBInstanceId }
            | Change::SslOff { DBInstanceId }
            | Change::AddressChanged { DBInstanceId, .. }
            | Change::CaChanged { DBInstanceId, .. }
            | Change::FindingNew { DBInstanceId, .. }
            | Change::FindingResolved { DBInstanceId, .. } => DBInstanceId,
        }
    }

    /// One line for people.
    pub fn line(&self) -> String {
        let mark = if self.worse() { "worse" } else { "" };
        let what = match self {
            Change::New { ssl, .. } => format!("new instance (SSL {})", ssl.as_str()),
            Change::Gone { .. } => "gone (no longer listed)".into(),
            Change::SslOn { .. } => "SSL turned on".into(),
            Change::SslOff { .. } => "SSL turned off".into(),
            Change::AddressChanged { from, to, .. } => {
                format!("protected address changed: {from} -> {to}")
            }
            Change::CaChanged { from, to, .. } => format!("CA changed: {from} -> {to}"),
            Change::FindingNew { kind, detail, .. } => format!("new finding {kind}: {detail}"),
            Change::FindingResolved { kind, .. } => format!("resolved: {kind}"),
        };
        format!("{mark:<5} {:<18} {what}", self.instance())
    }
}

/// The differences, and against what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Since {
    /// The earlier audit: the file given, or the TUI's last.
    pub file: String,
    /// When it was taken, as it says.
    pub taken_at: Option<String>,
    pub changes: Vec<Change>,
    /// How many changes are for the worse.
    pub worse: usize,
    /// The regions compared: those both audits covered.
    pub regions: Vec<String>,
    /// Said when the two audits did not cover the same regions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Findings only a live check finds (`--verify`): an audit without one says nothing of
/// them, so their absence there is not a resolution.
const LIVE_KINDS: [FindingKind; 4] = [
    FindingKind::TlsVerifyCa,
    FindingKind::TlsFailed,
    FindingKind::TlsAbsent,
    FindingKind::PlaintextAccepted,
];

/// The account an earlier audit was taken as, when it says.
pub fn account_of(earlier: &Earlier) -> Option<&str> {
    earlier.about.as_ref()?.account.as_deref()
}

/// Compare `now` with an earlier audit, over the regions both covered. A finding is
/// resolved only where this audit could have found it again: the instance read, and for
/// what only a live check finds, a live check made.
pub fn compare(earlier: &Earlier, now: &Audit, file: &str) -> Since {
    let was_regions: Vec<String> = earlier
        .about
        .as_ref()
        .map(|a| a.regions.clone())
        .unwrap_or_default();
    let (regions, note) = if was_regions.is_empty() || was_regions == now.about.regions {
        (now.about.regions.clone(), None)
    } else {
        let common: Vec<String> = now
            .about
            .regions
            .iter()
            .filter(|r| was_regions.contains(r))
            .cloned()
            .collect();
        let note = format!(
            "compared only {}: {file} covered {}, this audit {}",
            if common.is_empty() {
                "nothing".to_string()
            } else {
                common.join(", ")
            },
            was_regions.join(", "),
            now.about.regions.join(", ")
        );
        (common, Some(note))
    };
    let covered = |region: &str| note.is_none() || regions.iter().any(|r| r == region);
    let before: BTreeMap<&str, &EarlierRow> = earlier
        .rows
        .iter()
        .filter(|r| r.Region.is_empty() || covered(&r.Region))
        .map(|r| (r.DBInstanceId.as_str(), r))
        .collect();
    let after: BTreeMap<&str, &super::Row> = now
        .rows
        .iter()
        .filter(|r| covered(&r.Region))
        .map(|r| (r.DBInstanceId.as_str(), r))
        .collect();
    let mut changes = Vec::new();
    for (id, r) in &after {
        let id = (*id).to_string();
        let Some(b) = before.get(id.as_str()) else {
            changes.push(Change::New {
                DBInstanceId: id,
                ssl: r.ssl,
            });
            continue;
        };
        match (b.ssl, r.ssl) {
            (Ssl::Off, Ssl::On) => changes.push(Change::SslOn {
                DBInstanceId: id.clone(),
            }),
            (Ssl::On, Ssl::Off) => changes.push(Change::SslOff {
                DBInstanceId: id.clone(),
            }),
            (Ssl::On, Ssl::On) => {
                let (from, to) = (
                    b.protected_address.clone().unwrap_or_default(),
                    r.protected_address.clone().unwrap_or_default(),
                );
                let same = crate::addresses::Host::parse(&from)
                    .ok()
                    .zip(crate::addresses::Host::parse(&to).ok())
                    .map_or(from == to, |(f, t)| f == t);
                if !same {
                    changes.push(Change::AddressChanged {
                        DBInstanceId: id.clone(),
                        from,
                        to,
                    });
                }
            }
            _ => {}
        }
        if let (Some(was), Some(is)) = (&b.ca, &r.ca)
            && was.sha256 != is.sha256
        {
            changes.push(Change::CaChanged {
                DBInstanceId: id.clone(),
                from: was.sha256.clone(),
                to: is.sha256.clone(),
            });
        }
    }
    for id in before.keys() {
        if !after.contains_key(id) {
            changes.push(Change::Gone {
                DBInstanceId: (*id).to_string(),
            });
        }
    }
    // Findings, known by instance and kind, of the instances both compared.
    let now_findings = as_earlier(now).findings;
    let (mut was, mut is) = (keyed(&earlier.findings), keyed(&now_findings));
    was.retain(|(id, _), _| before.contains_key(id));
    is.retain(|(id, _), _| after.contains_key(id));
    let unchecked = FindingKind::Unchecked.as_str();
    let could_find_again = |id: &str, kind: &str| {
        after.get(id).is_some_and(|r| r.ssl != Ssl::Unknown)
            && (now.about.verify || !LIVE_KINDS.iter().any(|k| k.as_str() == kind))
    };
    let keys: BTreeSet<(&str, &str)> = was.keys().chain(is.keys()).copied().collect();
    for key @ (id, kind) in keys {
        match (was.get(&key), is.get(&key)) {
            (None, Some(detail)) => changes.push(Change::FindingNew {
                DBInstanceId: id.to_string(),
                kind: kind.to_string(),
                detail: (*detail).to_string(),
            }),
            // What could not be checked this time is not resolved; nor is "not checked"
            // itself news when it goes.
            (Some(_), None) if kind == unchecked || !could_find_again(id, kind) => {}
            (Some(detail), None) => changes.push(Change::FindingResolved {
                DBInstanceId: id.to_string(),
                kind: kind.to_string(),
                detail: (*detail).to_string(),
            }),
            _ => {}
        }
    }
    // The worse first, then by instance.
    changes.sort_by(|a, b| (!a.worse(), a.instance()).cmp(&(!b.worse(), b.instance())));
    let worse = changes.iter().filter(|c| c.worse()).count();
    Since {
        file: file.to_string(),
        taken_at: earlier.about.as_ref().map(|a| a.taken_at.clone()),
        changes,
        worse,
        regions,
        note,
    }
}

/// Findings by instance and kind, with their detail.
fn keyed(findings: &[EarlierFinding]) -> BTreeMap<(&str, &str), &str> {
    findings
        .iter()
        .map(|f| {
            (
                (f.DBInstanceId.as_str(), f.kind.as_str()),
                f.detail.as_str(),
            )
        })
        .collect()
}

/// The audit as `--since` reads it again: what `--output json` wrote, parsed back (the
/// TUI keeps its last audit this way).
pub fn as_earlier(audit: &Audit) -> Earlier {
    Earlier {
        about: Some(EarlierAbout {
            taken_at: audit.about.taken_at.clone(),
            regions: audit.about.regions.clone(),
            account: audit.about.account.clone(),
        }),
        rows: audit
            .rows
            .iter()
            .map(|r| EarlierRow {
                DBInstanceId: r.DBInstanceId.clone(),
                Region: r.Region.clone(),
                ssl: r.ssl,
                protected_address: r.protected_address.clone(),
                ca: r.ca.as_ref().map(|c| EarlierCa {
                    sha256: c.sha256.clone(),
                }),
            })
            .collect(),
        findings: audit
            .findings
            .iter()
            .map(|f| EarlierFinding {
                DBInstanceId: f.DBInstanceId.clone(),
                kind: f.kind.as_str().to_string(),
                detail: f.detail.clone(),
            })
            .collect(),
    }
}
