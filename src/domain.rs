//! What pgssl decides on, as closed types: the kind and status of an instance, its SSL
//! state, a task's status, what a check after an unknown outcome found. Values from the
//! API are parsed into these on entry (`api::models` keeps the wire's PascalCase
//! strings); everything past that boundary matches on variants, never on text.

use serde::{Deserialize, Serialize};
use std::fmt;

use crate::addresses::{Address, Host};
use crate::text::clean;
use pgssl_wire::clock::later;

/// DBInstanceType, as the SDK documents it (primary, readonly, guard, temp). A value
/// Tencent adds later is kept, sanitized, rather than refusing the whole instance list.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum InstanceKind {
    Primary,
    ReadOnly,
    /// A disaster-recovery instance.
    Guard,
    /// A temporary instance (for example one made by a restore).
    Temp,
    Other(String),
}

impl InstanceKind {
    pub fn from_api(value: &str) -> InstanceKind {
        match value {
            "primary" => InstanceKind::Primary,
            "readonly" => InstanceKind::ReadOnly,
            "guard" => InstanceKind::Guard,
            "temp" => InstanceKind::Temp,
            other => InstanceKind::Other(clean(other)),
        }
    }

    /// The API's word.
    pub fn as_api(&self) -> &str {
        match self {
            InstanceKind::Primary => "primary",
            InstanceKind::ReadOnly => "readonly",
            InstanceKind::Guard => "guard",
            InstanceKind::Temp => "temp",
            InstanceKind::Other(s) => s,
        }
    }

    /// For people: `primary`, `read-only`, `guard`, `temp`.
    pub fn label(&self) -> &str {
        match self {
            InstanceKind::ReadOnly => "read-only",
            other => other.as_api(),
        }
    }

    pub fn is_readonly(&self) -> bool {
        *self == InstanceKind::ReadOnly
    }
}

impl From<String> for InstanceKind {
    fn from(s: String) -> Self {
        InstanceKind::from_api(&s)
    }
}

impl From<InstanceKind> for String {
    fn from(k: InstanceKind) -> String {
        k.as_api().to_string()
    }
}

/// DBInstanceStatus. The SDK documents 28 values (some with spaces, one camel-cased);
/// pgssl decides only on `running` (SSL can be changed) and shows the rest as they come.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum InstanceStatus {
    Running,
    Restarting,
    Isolated,
    Isolating,
    /// Any other documented or future value, sanitized.
    Other(String),
}

impl InstanceStatus {
    pub fn from_api(value: &str) -> InstanceStatus {
        match value {
            "running" => InstanceStatus::Running,
            "restarting" => InstanceStatus::Restarting,
            "isolated" => InstanceStatus::Isolated,
            "isolating" => InstanceStatus::Isolating,
            other => InstanceStatus::Other(clean(other)),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            InstanceStatus::Running => "running",
            InstanceStatus::Restarting => "restarting",
            InstanceStatus::Isolated => "isolated",
            InstanceStatus::Isolating => "isolating",
            InstanceStatus::Other(s) => s,
        }
    }

    pub fn is_running(&self) -> bool {
        *self == InstanceStatus::Running
    }
}

impl fmt::Display for InstanceStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<String> for InstanceStatus {
    fn from(s: String) -> Self {
        InstanceStatus::from_api(&s)
    }
}

impl From<InstanceStatus> for String {
    fn from(s: InstanceStatus) -> String {
        s.as_str().to_string()
    }
}

/// TaskSet.Status: the five the API documents. Any other value is refused on entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TaskStatus {
    Running,
    Success,
    WaitSwitch,
    Fail,
    Pause,
}

impl TaskStatus {
    pub fn from_api(value: &str) -> Option<TaskStatus> {
        Some(match value {
            "Running" => TaskStatus::Running,
            "Success" => TaskStatus::Success,
            "WaitSwitch" => TaskStatus::WaitSwitch,
            "Fail" => TaskStatus::Fail,
            "Pause" => TaskStatus::Pause,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Running => "Running",
            TaskStatus::Success => "Success",
            TaskStatus::WaitSwitch => "WaitSwitch",
            TaskStatus::Fail => "Fail",
            TaskStatus::Pause => "Pause",
        }
    }

    /// Success, Fail and Pause end the task; Running and WaitSwitch are still under way.
    pub fn is_finished(self) -> bool {
        matches!(
            self,
            TaskStatus::Success | TaskStatus::Fail | TaskStatus::Pause
        )
    }

    /// Ended without success: Fail or Pause (the API's message says why).
    pub fn is_failed(self) -> bool {
        matches!(self, TaskStatus::Fail | TaskStatus::Pause)
    }
}

impl fmt::Display for TaskStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A task as DescribeTasks reported it, checked and sanitized.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Task {
    pub task_id: i64,
    pub status: TaskStatus,
    /// 0 to 100.
    pub progress: Option<i64>,
    pub instance_id: Option<String>,
    pub task_type: Option<String>,
    /// As the API wrote it: Beijing time (UTC+8).
    pub start_time: Option<String>,
    pub end_time: Option<String>,
    /// The same, as seconds since the epoch (None when unset).
    #[serde(skip)]
    pub started_unix: Option<i64>,
    pub message: Option<String>,
    pub current_step: Option<String>,
}

impl Task {
    /// The TaskType names an operation that is not an SSL change (those the SDK's
    /// examples show, and their kin). The SSL change's own TaskType is undocumented.
    pub fn is_other_operation(&self) -> bool {
        const OTHERS: [&str; 8] = [
            "RestoreDatabase",
            "DestroyInstance",
            "RestartInstance",
            "BackupInstance",
            "CloneInstance",
            "UpgradeInstance",
            "ModifySpec",
            "IsolateInstance",
        ];
        self.task_type
            .as_deref()
            .is_some_and(|t| OTHERS.contains(&t))
    }

    /// The TaskType says SSL.
    pub fn says_ssl(&self) -> bool {
        self.task_type
            .as_deref()
            .is_some_and(|t| t.to_ascii_lowercase().contains("ssl"))
    }
}

/// The PostgreSQL version of an instance: its major number (DBMajorVersion, else the
/// first number of DBVersion, as old instances report `9.5.4` with no major) and the
/// version as the API writes it, sanitized.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PgVersion {
    pub major: u32,
    pub full: String,
}

impl PgVersion {
    /// The first PostgreSQL version whose instances can have SSL (409/115986).
    pub const SSL_FROM: u32 = 11;

    pub fn from_api(major: Option<&str>, version: Option<&str>) -> Option<PgVersion> {
        let first = |v: &str| -> Option<u32> { v.trim().split('.').next()?.parse().ok() };
        let major_n = major
            .and_then(first)
            .or_else(|| version.and_then(first))
            .filter(|m| (1..1000).contains(m))?;
        let full = version
            .filter(|v| first(v) == Some(major_n))
            .or(major)
            .map_or_else(|| major_n.to_string(), clean);
        Some(PgVersion {
            major: major_n,
            full,
        })
    }

    pub fn supports_ssl(&self) -> bool {
        self.major >= Self::SSL_FROM
    }
}

impl fmt::Display for PgVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.full)
    }
}

/// SSL state as DescribeDBInstanceSSLConfig reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SslState {
    pub enabled: bool,
    /// The address the certificate protects: an IP or a DNS name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protected: Option<Host>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_url: Option<String>,
    /// The CA the reply carried inline (the cloud-disk fields): used by `ssl ca` and
    /// `verify` on the state just read; never kept with the state (the CA itself is
    /// kept as a file).
    #[serde(skip)]
    pub inline_ca: Option<InlineCa>,
}

/// The CA in DescribeDBInstanceSSLConfig's cloud-disk fields (CACert, else CAP7B, else
/// CAJKS), decoded on entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InlineCa {
    /// The field it came from and its certificates (DER, not yet parsed as X.509).
    Certs {
        field: &'static str,
        form: pgssl_wire::cafile::Form,
        certs: Vec<Vec<u8>>,
    },
    /// The field is there but holds no CA pgssl can read: why (sanitized).
    Unusable { field: &'static str, why: String },
}

impl SslState {
    pub const OFF: SslState = SslState {
        enabled: false,
        protected: None,
        ca_url: None,
        inline_ca: None,
    };

    /// `on, protecting 10.0.0.8`, `on`, `off`.
    pub fn describe(&self) -> String {
        match (self.enabled, &self.protected) {
            (true, Some(a)) => format!("on, protecting {a}"),
            (true, None) => "on".into(),
            (false, _) => "off".into(),
        }
    }
}

/// SSL state and when it was read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SslSeen {
    #[serde(flatten)]
    pub state: SslState,
    /// When it was read (RFC 3339, UTC).
    pub read_at: String,
}

/// What pgssl knows of one instance: read from the API, validated and sanitized. This is
/// what planning works on, what the inventory keeps and what both faces show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Instance {
    pub id: String,
    pub region: String,
    /// DBInstanceName, sanitized for display (never sent back).
    #[serde(default)]
    pub name: String,
    pub kind: InstanceKind,
    pub status: InstanceStatus,
    /// The primary of a read-only instance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub master: Option<String>,
    /// The PostgreSQL version (DBVersion, else DBMajorVersion), as the API says it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<PgVersion>,
    #[serde(default)]
    pub addresses: Vec<Address>,
    /// Address entries the API listed that are not IPs: shown, never offered or sent.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unusable: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssl: Option<SslSeen>,
    /// When the instance was described (RFC 3339, UTC).
    pub read_at: String,
    /// The CA pgssl last fetched for it (kept across reads, which do not fetch it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca: Option<CaKnown>,
    /// The last live TLS check of its protected address (kept across reads).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsKnown>,
}

/// The instance's CA as pgssl last fetched and kept it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaKnown {
    pub path: String,
    pub subject: String,
    pub not_after: String,
    pub sha256: String,
    pub fetched_at: String,
    /// The fingerprint pinned for this instance: the CA first seen, or the one last
    /// accepted (`ssl ca ID --accept`). Tencent sends no notice when the CA changes, so
    /// a fetched CA other than this one is a finding until accepted. None in
    /// inventories written before pinning (the fetched one is then the first seen).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pin: Option<CaPin>,
}

/// A CA fingerprint pinned for an instance, and since when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaPin {
    pub sha256: String,
    /// When it was first seen or accepted (RFC 3339, UTC).
    pub since: String,
}

impl CaKnown {
    /// The pin in effect: the one kept, else this CA itself (first seen now).
    pub fn pinned(&self) -> CaPin {
        self.pin.clone().unwrap_or_else(|| CaPin {
            sha256: self.sha256.clone(),
            since: self.fetched_at.clone(),
        })
    }

    /// When the CA fetched last is not the one pinned: the pin it differs from.
    pub fn changed(&self) -> Option<CaPin> {
        let pin = self.pinned();
        (pin.sha256 != self.sha256).then_some(pin)
    }

    /// "CA changed since DATE: FP1 -> FP2", when it did.
    pub fn changed_line(&self, instance_id: &str) -> Option<String> {
        self.changed().map(|pin| {
            format!(
                "CA changed since {}: {} -> {} (once clients trust the new CA: {} ssl ca {instance_id} --accept)",
                pin.since.get(..10).unwrap_or(&pin.since),
                pin.sha256,
                self.sha256,
                crate::hint::pgssl()
            )
        })
    }
}

/// The last TLS check of an instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TlsKnown {
    pub address: String,
    pub result: crate::probe::VerifyResult,
    pub checked_at: String,
}

impl Instance {
    /// An instance known only by its id and region (nothing read about it yet).
    pub fn unread(id: &str, region: &str) -> Instance {
        Instance {
            id: id.to_string(),
            region: region.to_string(),
            name: String::new(),
            kind: InstanceKind::Primary,
            status: InstanceStatus::from_api("unknown"),
            master: None,
            version: None,
            addresses: vec![],
            unusable: vec![],
            ssl: None,
            read_at: String::new(),
            ca: None,
            tls: None,
        }
    }

    /// Take what another read learned, unless it is older: reads finish out of order (a
    /// slow refresh after a change's own read), and an older one must not win. Each part
    /// keeps its newest reading: the description by `read_at`, SSL by its own `read_at`.
    pub fn absorb(&mut self, other: Instance) {
        let ssl = match (self.ssl.take(), other.ssl.clone()) {
            (Some(mine), Some(theirs)) => Some(if later(&mine.read_at, &theirs.read_at) {
                mine
            } else {
                theirs
            }),
            (mine, theirs) => theirs.or(mine),
        };
        let (ca, tls) = (self.ca.take(), self.tls.take());
        if !later(&self.read_at, &other.read_at) {
            *self = other;
        }
        self.ssl = ssl;
        // Reads never fetch the CA or check TLS: what is known of those stays unless the
        // other reading carries a newer one.
        self.ca = newest(ca, self.ca.take(), |c| &c.fetched_at);
        self.tls = newest(tls, self.tls.take(), |t| &t.checked_at);
    }

    pub fn ssl_state(&self) -> Option<&SslState> {
        self.ssl.as_ref().map(|s| &s.state)
    }

    /// The address (IP or DNS name) the certificate protects, when SSL is on.
    pub fn protected_host(&self) -> Option<&Host> {
        self.ssl_state()
            .filter(|s| s.enabled)
            .and_then(|s| s.protected.as_ref())
    }

    /// The protected address as one of the instance's addresses (its kind, port, group),
    /// when SSL is on and the address is one pgssl knows.
    pub fn protected_address(&self) -> Option<&crate::addresses::Address> {
        let host = self.protected_host()?;
        self.addresses.iter().find(|a| a.is(host))
    }
}

fn newest<T>(a: Option<T>, b: Option<T>, at: impl Fn(&T) -> &String) -> Option<T> {
    match (a, b) {
        (Some(a), Some(b)) => Some(if later(at(&a), at(&b)) { a } else { b }),
        (a, b) => a.or(b),
    }
}

/// What a look at an instance after an unknown outcome found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Finding {
    /// The instance is as the change asked: it took effect.
    Applied,
    /// A task is running on the instance: the change was probably accepted.
    InProgress,
    /// The instance is not as asked and no task runs.
    NotApplied,
    /// pgssl could not look (the reads failed).
    Undetermined,
}

impl Finding {
    pub fn as_str(self) -> &'static str {
        match self {
            Finding::Applied => "applied",
            Finding::InProgress => "in_progress",
            Finding::NotApplied => "not_applied",
            Finding::Undetermined => "undetermined",
        }
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A finding with the sentence that explains it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckResult {
    pub result: Finding,
    pub detail: String,
    /// The task found running that is the change (with `InProgress`), to follow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_id: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_statuses_keep_unknown_values_sanitized() {
        assert_eq!(InstanceKind::from_api("readonly"), InstanceKind::ReadOnly);
        assert_eq!(InstanceKind::from_api("guard").label(), "guard");
        assert!(!InstanceKind::from_api("temp").is_readonly());
        let odd = InstanceKind::from_api("x\u{1b}[2J");
        assert_eq!(odd.as_api(), "x\\x1b[2J");
        assert_eq!(
            InstanceStatus::from_api("limited run").as_str(),
            "limited run"
        );
        assert!(InstanceStatus::from_api("running").is_running());
        assert!(!InstanceStatus::from_api("waitSwitch").is_running());
        // The inventory round-trips them through their API words.
        let json = serde_json::to_string(&InstanceKind::ReadOnly).expect("json");
        assert_eq!(json, "\"readonly\"");
    }

    #[test]
    fn only_the_five_task_statuses_exist() {
        for s in ["Running", "Success", "WaitSwitch", "Fail", "Pause"] {
            let status = TaskStatus::from_api(s).expect(s);
            assert_eq!(status.as_str(), s);
        }
        assert_eq!(TaskStatus::from_api("running"), None);
        assert_eq!(TaskStatus::from_api("Done"), None);
        assert!(TaskStatus::Pause.is_finished() && !TaskStatus::WaitSwitch.is_finished());
    }
}
