//! The use cases both faces call: describe, plan, apply, follow, check, import.
//!
//! Neither the TUI nor the CLI talks HTTP, reads files or signs anything itself; they
//! call these functions and render what comes back. Planning is pure; applying writes
//! the journal before and after the one request it sends.

use std::time::Duration;

use serde::Serialize;

use crate::addresses::{self, Address, AddressSpec};
use crate::api::models::{
    DBInstance, DescribeDBInstanceSSLConfigRequest, DescribeDBInstancesRequest,
    DescribeReadOnlyGroupsRequest, DescribeTasksRequest, Filter, ModifyDBInstanceSSLConfigRequest,
    ReadOnlyGroup, TaskSet,
};
use crate::api::{Action, ApiError, Client};
use crate::credentials::CredentialSource;
use crate::store::config::{SavedInstance, SavedSsl};
use crate::store::journal::{Journal, Outcome, Record, RequestInfo};
use crate::store::now_rfc3339;
use crate::text::clean;

/// Everything a command needs to talk to the API and keep the journal.
#[derive(Clone)]
pub struct Session {
    pub client: Client,
    pub journal: Journal,
    pub source: CredentialSource,
}

#[derive(Debug, thiserror::Error)]
pub enum OpsError {
    /// Bad input or a change that cannot be made as asked; nothing was sent.
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Api(#[from] ApiError),
    #[error("{0}")]
    NotFound(String),
    /// Something the API did ended badly (a task failed, waiting timed out).
    #[error("{0}")]
    Failed(String),
    /// A TLS check could not reach the server.
    #[error("{0}")]
    Unreachable(String),
    /// The journal could not be written before sending; nothing was sent.
    #[error("cannot write the journal {0}; nothing was sent")]
    Journal(String),
    /// A change may or may not have been made.
    #[error("{error} Checked since: {}", check.detail)]
    Unknown {
        error: ApiError,
        check: Box<CheckResult>,
    },
}

impl OpsError {
    /// 0 success, 1 API error, 2 usage or validation, 3 outcome unknown.
    pub fn exit_code(&self) -> i32 {
        match self {
            OpsError::Invalid(_) => 2,
            OpsError::Api(e) => e.exit_code(),
            OpsError::NotFound(_) | OpsError::Failed(_) | OpsError::Journal(_) => 1,
            OpsError::Unknown { .. } | OpsError::Unreachable(_) => 3,
        }
    }
}

/// SSL state as DescribeDBInstanceSSLConfig reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[allow(non_snake_case)]
pub struct SslState {
    pub SSLEnabled: bool,
    pub ConnectAddress: Option<String>,
    pub CAUrl: Option<String>,
}

impl From<&SavedSsl> for SslState {
    fn from(s: &SavedSsl) -> SslState {
        SslState {
            SSLEnabled: s.enabled,
            ConnectAddress: s.connect_address.clone(),
            CAUrl: s.ca_url.clone(),
        }
    }
}

impl SslState {
    pub fn describe(&self) -> String {
        match (&self.SSLEnabled, &self.ConnectAddress) {
            (true, Some(a)) if !a.is_empty() => format!("on, protecting {a}"),
            (true, _) => "on".into(),
            (false, _) => "off".into(),
        }
    }
}

/// What pgssl knows of one instance for planning a change.
#[derive(Debug, Clone)]
pub struct InstanceInfo {
    pub region: String,
    pub instance: DBInstance,
    pub groups: Vec<ReadOnlyGroup>,
    pub addresses: Vec<Address>,
    pub ssl: Option<SslState>,
}

impl InstanceInfo {
    pub fn to_saved(&self) -> SavedInstance {
        let mut saved = to_saved(&self.region, &self.instance, &self.groups);
        saved.ssl = self.ssl.as_ref().map(saved_ssl);
        saved
    }
}

pub fn saved_ssl(s: &SslState) -> SavedSsl {
    SavedSsl {
        enabled: s.SSLEnabled,
        connect_address: s.ConnectAddress.clone().filter(|a| !a.is_empty()),
        ca_url: s.CAUrl.clone().filter(|a| !a.is_empty()),
        checked: now_rfc3339(),
    }
}

/// The saved form of an instance described by the API (all text sanitized).
pub fn to_saved(region: &str, instance: &DBInstance, groups: &[ReadOnlyGroup]) -> SavedInstance {
    SavedInstance {
        id: clean(instance.id()),
        region: instance
            .Region
            .as_deref()
            .filter(|r| !r.is_empty())
            .map(clean)
            .unwrap_or_else(|| region.to_string()),
        name: clean(instance.name()),
        kind: instance.DBInstanceType.as_deref().map(clean),
        master: instance.master_id().map(clean),
        status: instance.DBInstanceStatus.as_deref().map(clean),
        addresses: addresses::addresses_of(instance, groups),
        ssl: None,
    }
}

// ------------------------------------------------------------------ reads

/// Every instance in a region matching `filters`, paging with the maximum Limit of 100.
pub async fn list_instances(
    client: &Client,
    region: &str,
    filters: Option<Vec<Filter>>,
) -> Result<Vec<DBInstance>, ApiError> {
    let mut all = Vec::new();
    loop {
        let reply = client
            .call(
                Some(region),
                &DescribeDBInstancesRequest {
                    Filters: filters.clone(),
                    Limit: Some(100),
                    Offset: Some(all.len() as u64),
                    ..Default::default()
                },
            )
            .await?;
        let page = reply.DBInstanceSet.unwrap_or_default();
        let got = page.len();
        all.extend(page);
        let total = reply.TotalCount.unwrap_or(0) as usize;
        // Stop on a short or empty page too, so a server that miscounts cannot loop us.
        if got == 0 || all.len() >= total || got < 100 {
            return Ok(all);
        }
    }
}

/// The read-only groups of a primary, paging until a short page.
pub async fn list_groups(
    client: &Client,
    region: &str,
    master_id: &str,
) -> Result<Vec<ReadOnlyGroup>, ApiError> {
    const PAGE: u64 = 99;
    let mut all = Vec::new();
    for page_number in 1.. {
        let reply = client
            .call(
                Some(region),
                &DescribeReadOnlyGroupsRequest {
                    Filters: Some(vec![Filter::new("db-master-instance-id", master_id)]),
                    PageSize: Some(PAGE),
                    PageNumber: Some(page_number),
                    ..Default::default()
                },
            )
            .await?;
        let page = reply.ReadOnlyGroupList.unwrap_or_default();
        let got = page.len() as u64;
        all.extend(page);
        if got < PAGE || page_number >= 1000 {
            break;
        }
    }
    Ok(all)
}

pub async fn ssl_state(
    client: &Client,
    region: &str,
    instance_id: &str,
) -> Result<SslState, ApiError> {
    let r = client
        .call(
            Some(region),
            &DescribeDBInstanceSSLConfigRequest {
                DBInstanceId: instance_id.to_string(),
            },
        )
        .await?;
    Ok(SslState {
        SSLEnabled: r.SSLEnabled.unwrap_or(false),
        ConnectAddress: r
            .ConnectAddress
            .as_deref()
            .map(clean)
            .filter(|a| !a.is_empty()),
        CAUrl: r.CAUrl.as_deref().map(clean).filter(|a| !a.is_empty()),
    })
}

/// Describe one instance fully: the instance, its read-only group(s), its addresses and SSL state.
pub async fn describe_instance(
    client: &Client,
    region: &str,
    instance_id: &str,
) -> Result<InstanceInfo, OpsError> {
    let found = list_instances(
        client,
        region,
        Some(vec![Filter::new("db-instance-id", instance_id)]),
    )
    .await?;
    let instance = found
        .into_iter()
        .find(|i| i.id() == instance_id)
        .ok_or_else(|| {
            OpsError::NotFound(format!(
                "no instance {instance_id} in {region}: check the id and --region (pgssl instances list --remote --region {region})"
            ))
        })?;
    let groups = match instance.master_id() {
        Some(master) if instance.is_readonly() => list_groups(client, region, master).await?,
        _ => Vec::new(),
    };
    let ssl = ssl_state(client, region, instance_id).await?;
    let addresses = addresses::addresses_of(&instance, &groups);
    Ok(InstanceInfo {
        region: region.to_string(),
        instance,
        groups,
        addresses,
        ssl: Some(ssl),
    })
}

/// Everything in a region in saved form, read-only instances with their group addresses.
pub async fn discover(client: &Client, region: &str) -> Result<Vec<SavedInstance>, ApiError> {
    let instances = list_instances(client, region, None).await?;
    let mut masters: Vec<&str> = instances
        .iter()
        .filter(|i| i.is_readonly())
        .filter_map(|i| i.master_id())
        .collect();
    masters.sort_unstable();
    masters.dedup();
    let mut groups = Vec::new();
    for master in masters {
        groups.extend(list_groups(client, region, master).await?);
    }
    Ok(instances
        .iter()
        .filter(|i| crate::validate::instance_id(i.id()).is_ok())
        .map(|i| to_saved(region, i, &groups))
        .collect())
}

// ------------------------------------------------------------------ planning (pure)

/// A change, fully decided and ready to confirm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SslChange {
    pub region: String,
    pub instance_id: String,
    pub instance_name: String,
    pub instance_kind: String,
    pub enable: bool,
    /// The address to protect; always Some when enabling.
    pub address: Option<Address>,
    pub current: Option<SslState>,
}

impl SslChange {
    pub fn request(&self) -> ModifyDBInstanceSSLConfigRequest {
        ModifyDBInstanceSSLConfigRequest {
            DBInstanceId: self.instance_id.clone(),
            SSLEnabled: self.enable,
            ConnectAddress: if self.enable {
                self.address.as_ref().map(|a| a.ip.clone())
            } else {
                None
            },
        }
    }

    /// A change to a saved instance, with the SSL state pgssl last saw as the current one.
    pub fn for_saved(
        instance: &SavedInstance,
        enable: bool,
        address: Option<Address>,
    ) -> SslChange {
        SslChange {
            region: instance.region.clone(),
            instance_id: instance.id.clone(),
            instance_name: instance.name.clone(),
            instance_kind: if instance.is_readonly() {
                "read-only".into()
            } else {
                instance.kind.clone().unwrap_or_else(|| "primary".into())
            },
            enable,
            address,
            current: instance.ssl.as_ref().map(SslState::from),
        }
    }

    /// True when the instance already is as asked.
    pub fn is_noop(&self) -> bool {
        match &self.current {
            Some(c) if !self.enable => !c.SSLEnabled,
            Some(c) => {
                c.SSLEnabled
                    && c.ConnectAddress.as_deref() == self.address.as_ref().map(|a| a.ip.as_str())
            }
            None => false,
        }
    }

    pub fn new_state(&self) -> String {
        match (&self.enable, &self.address) {
            (true, Some(a)) => format!("on, protecting {}", a.label()),
            (true, None) => "on".into(),
            (false, _) => "off".into(),
        }
    }

    /// What a person must see before confirming: shared by the CLI prompt and the TUI dialog.
    pub fn summary(&self) -> Vec<String> {
        let name = if self.instance_name.is_empty() {
            String::new()
        } else {
            format!(" ({})", self.instance_name)
        };
        let mut lines = vec![
            format!(
                "Instance: {}{name}, {} in {}",
                self.instance_id, self.instance_kind, self.region
            ),
            format!(
                "SSL now:  {}",
                self.current
                    .as_ref()
                    .map(SslState::describe)
                    .unwrap_or_else(|| "unknown".into())
            ),
            format!("SSL new:  {}", self.new_state()),
        ];
        if self.enable {
            lines.push(
                "Warning:  changing SSL restarts the instance; connections will drop briefly."
                    .into(),
            );
        } else {
            lines.push(
                "Warning:  disabling SSL restarts the instance, and clients using sslmode=verify-* will fail to connect.".into(),
            );
        }
        lines
    }
}

/// Decide a change from what the API described. Pure.
pub fn plan(
    info: &InstanceInfo,
    enable: bool,
    address: Option<&AddressSpec>,
) -> Result<SslChange, String> {
    let id = info.instance.id();
    let address = match (enable, address) {
        (true, None) => {
            return Err(format!(
                "enabling SSL needs the address to protect: add --address with an IP or one of private, public{} ({})",
                if info.instance.is_readonly() {
                    ", group"
                } else {
                    ""
                },
                info.addresses
                    .iter()
                    .map(Address::label)
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        (true, Some(spec)) => Some(addresses::choose(
            id,
            info.instance.is_readonly(),
            &info.addresses,
            spec,
        )?),
        (false, _) => None,
    };
    plan_saved(&info.to_saved(), enable, address)
}

/// A change to an instance as pgssl knows it, refused unless the instance is running
/// (SSL can only change then; an unknown status is left to the API). Pure: the CLI plans
/// from what it just described, the TUI from what it last saw.
pub fn plan_saved(
    instance: &SavedInstance,
    enable: bool,
    address: Option<Address>,
) -> Result<SslChange, String> {
    if let Some(status) = instance.status.as_deref().filter(|s| *s != "running") {
        return Err(format!(
            "{} is '{status}', not running: SSL can only be changed on a running instance; wait until it runs",
            instance.id
        ));
    }
    Ok(SslChange::for_saved(instance, enable, address))
}

// ------------------------------------------------------------------ applying

/// A change the API accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[allow(non_snake_case)]
pub struct Applied {
    /// The journal entry this change is recorded under.
    pub journal_id: String,
    pub TaskId: Option<i64>,
    pub RequestId: String,
}

/// What a check after an unknown outcome found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckResult {
    /// `applied`, `in_progress`, `not_applied` or `undetermined`.
    pub result: String,
    pub detail: String,
}

impl Session {
    fn journal(&self, record: Record) -> Result<(), OpsError> {
        self.journal
            .append(&record)
            .map_err(|e| OpsError::Journal(format!("{} ({e})", self.journal.path().display())))
    }

    /// Best effort: a journal line after the fact must not turn success into failure.
    pub fn note(&self, record: Record) {
        let _ = self.journal(record);
    }

    /// Send one change: journal, send once, journal the outcome. Before sending, any earlier
    /// change to this instance whose outcome is still unknown is checked first; if a task
    /// is still running, nothing is sent.
    pub async fn apply(&self, change: &SslChange) -> Result<Applied, OpsError> {
        self.settle_unknowns(&change.region, &change.instance_id)
            .await?;

        let request = change.request();
        let id = crate::ids::uuid4();
        let credential = self.client.credential();
        self.journal(Record::Request(RequestInfo {
            id: id.clone(),
            time: now_rfc3339(),
            source: self.source.tag(),
            SecretId: credential.masked_id(),
            endpoint: self.client.endpoint().to_string(),
            region: change.region.clone(),
            action: Action::ModifyDBInstanceSSLConfig.name().into(),
            DBInstanceId: request.DBInstanceId.clone(),
            SSLEnabled: request.SSLEnabled,
            ConnectAddress: request.ConnectAddress.clone(),
        }))?;

        let result = self.client.call(Some(&change.region), &request).await;
        let time = now_rfc3339();
        match result {
            Ok(reply) => {
                let request_id = clean(&reply.RequestId);
                self.note(Record::Outcome {
                    id: id.clone(),
                    time,
                    outcome: Outcome::Ok {
                        RequestId: request_id.clone(),
                        TaskId: reply.TaskId,
                    },
                });
                Ok(Applied {
                    journal_id: id,
                    TaskId: reply.TaskId,
                    RequestId: request_id,
                })
            }
            Err(error @ (ApiError::OutcomeUnknown { .. } | ApiError::BadReply { .. })) => {
                self.note(Record::Outcome {
                    id: id.clone(),
                    time,
                    outcome: Outcome::Unknown {
                        detail: error.to_string(),
                    },
                });
                let check = self
                    .check(&change.region, &change.instance_id, &request)
                    .await;
                self.note(Record::Check {
                    id,
                    time: now_rfc3339(),
                    result: check.result.clone(),
                    detail: check.detail.clone(),
                });
                let error = match error {
                    ApiError::BadReply {
                        action,
                        status,
                        excerpt,
                    } => ApiError::OutcomeUnknown {
                        action,
                        detail: format!(
                            "the reply was not Tencent's (HTTP {status}: \"{excerpt}\")"
                        ),
                    },
                    e => e,
                };
                Err(OpsError::Unknown {
                    error,
                    check: Box::new(check),
                })
            }
            Err(error) => {
                self.note(Record::Outcome {
                    id,
                    time,
                    outcome: Outcome::Error {
                        Code: error.code().unwrap_or(error.kind()).to_string(),
                        Message: error.to_string(),
                        RequestId: error.request_id().map(str::to_string),
                    },
                });
                Err(error.into())
            }
        }
    }

    /// Look at an instance after a change whose outcome is unknown. Never sends a change.
    pub async fn check(
        &self,
        region: &str,
        instance_id: &str,
        wanted: &ModifyDBInstanceSSLConfigRequest,
    ) -> CheckResult {
        let tasks = self
            .client
            .call(
                Some(region),
                &DescribeTasksRequest {
                    DBInstanceId: Some(instance_id.to_string()),
                    Limit: Some(20),
                    ..Default::default()
                },
            )
            .await;
        match tasks {
            Ok(reply) => {
                if let Some(t) = reply
                    .TaskSet
                    .unwrap_or_default()
                    .into_iter()
                    .find(|t| matches!(t.status(), "Running" | "WaitSwitch"))
                {
                    return CheckResult {
                        result: "in_progress".into(),
                        detail: format!(
                            "task {} on {instance_id} is {} ({}%): the change was probably accepted; do not send it again, follow it with `pgssl task show {} --wait`",
                            t.TaskId.unwrap_or(0),
                            clean(t.status()),
                            t.Progress.unwrap_or(0),
                            t.TaskId.unwrap_or(0),
                        ),
                    };
                }
            }
            Err(e) => {
                return CheckResult {
                    result: "undetermined".into(),
                    detail: format!("could not list tasks ({e})"),
                };
            }
        }
        match ssl_state(&self.client, region, instance_id).await {
            Ok(state) => {
                let matches = state.SSLEnabled == wanted.SSLEnabled
                    && (!wanted.SSLEnabled || state.ConnectAddress == wanted.ConnectAddress);
                if matches {
                    CheckResult {
                        result: "applied".into(),
                        detail: format!(
                            "{instance_id} now has SSL {}: the change took effect; nothing to re-send",
                            state.describe()
                        ),
                    }
                } else {
                    CheckResult {
                        result: "not_applied".into(),
                        detail: format!(
                            "{instance_id} has SSL {} and no task is running: the change has not taken effect so far; if it has not {} minutes after it was sent, it never will",
                            state.describe(),
                            crate::store::journal::SETTLE_AFTER_SECS / 60
                        ),
                    }
                }
            }
            Err(e) => CheckResult {
                result: "undetermined".into(),
                detail: format!("could not read the SSL state ({e})"),
            },
        }
    }

    /// Check earlier unknown outcomes for this instance before anything new is sent.
    async fn settle_unknowns(&self, region: &str, instance_id: &str) -> Result<(), OpsError> {
        let (entries, _) = self
            .journal
            .entries()
            .map_err(|e| OpsError::Journal(format!("{} ({e})", self.journal.path().display())))?;
        for entry in entries.iter().filter(|e| {
            e.request.DBInstanceId == instance_id
                && e.request.action == Action::ModifyDBInstanceSSLConfig.name()
                && e.is_unresolved_unknown()
        }) {
            let wanted = ModifyDBInstanceSSLConfigRequest {
                DBInstanceId: instance_id.to_string(),
                SSLEnabled: entry.request.SSLEnabled,
                ConnectAddress: entry.request.ConnectAddress.clone(),
            };
            let check = self.check(region, instance_id, &wanted).await;
            let checked = now_rfc3339();
            self.journal(Record::Check {
                id: entry.request.id.clone(),
                time: checked.clone(),
                result: check.result.clone(),
                detail: check.detail.clone(),
            })?;
            let sent = clean(&entry.request.time);
            match check.result.as_str() {
                "in_progress" => {
                    return Err(OpsError::Invalid(format!(
                        "an earlier change to {instance_id} (sent {sent}) had an unknown outcome and {}; nothing was sent",
                        check.detail
                    )));
                }
                "undetermined" => {
                    return Err(OpsError::Invalid(format!(
                        "an earlier change to {instance_id} (sent {sent}) had an unknown outcome and pgssl cannot check it now: {}; nothing was sent",
                        check.detail
                    )));
                }
                // Seen too soon after the request to be sure it will not still arrive.
                "not_applied"
                    if !crate::store::journal::settles(
                        &entry.request.time,
                        "not_applied",
                        &checked,
                    ) =>
                {
                    return Err(OpsError::Invalid(format!(
                        "an earlier change to {instance_id} (sent {sent}) had an unknown outcome and has not taken effect yet, but may still arrive: wait {} minutes from when it was sent, then try again; nothing was sent",
                        crate::store::journal::SETTLE_AFTER_SECS / 60
                    )));
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Follow a task to Success/Fail/Pause or until `timeout` (at most a week), journaling status changes
    /// under `journal_id` when given. `on_update` sees every poll.
    pub async fn follow_task(
        &self,
        region: &str,
        task_id: i64,
        journal_id: Option<&str>,
        options: FollowOptions,
        mut on_update: impl FnMut(&TaskSet),
    ) -> Result<FollowEnd, OpsError> {
        let now = tokio::time::Instant::now();
        let deadline = now
            .checked_add(options.timeout.min(MAX_FOLLOW))
            .unwrap_or(now);
        let mut last_status = String::new();
        let mut last: Option<TaskSet> = None;
        loop {
            let reply = self
                .client
                .call(
                    Some(region),
                    &DescribeTasksRequest {
                        TaskId: Some(task_id),
                        ..Default::default()
                    },
                )
                .await?;
            if let Some(mut task) = reply
                .TaskSet
                .unwrap_or_default()
                .into_iter()
                .find(|t| t.TaskId == Some(task_id))
            {
                task.Status = task.Status.as_deref().map(clean);
                on_update(&task);
                if task.status() != last_status {
                    last_status = task.status().to_string();
                    if let Some(id) = journal_id {
                        self.note(Record::Task {
                            id: id.to_string(),
                            time: now_rfc3339(),
                            TaskId: task_id,
                            Status: last_status.clone(),
                            Progress: task.Progress,
                        });
                    }
                }
                if task.is_finished() {
                    return Ok(FollowEnd::Finished(task));
                }
                last = Some(task);
            }
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return Ok(FollowEnd::TimedOut(last));
            }
            tokio::time::sleep(options.poll.min(deadline - now)).await;
        }
    }
}

/// The longest pgssl follows a task.
pub const MAX_FOLLOW: Duration = Duration::from_secs(7 * 86_400);

#[derive(Debug, Clone, Copy)]
pub struct FollowOptions {
    pub poll: Duration,
    pub timeout: Duration,
}

impl Default for FollowOptions {
    fn default() -> Self {
        FollowOptions {
            poll: Duration::from_secs(2),
            timeout: Duration::from_secs(30 * 60),
        }
    }
}

#[derive(Debug, Clone)]
pub enum FollowEnd {
    Finished(TaskSet),
    TimedOut(Option<TaskSet>),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::models::DBInstanceNetInfo;

    fn info(status: &str, ssl: Option<SslState>) -> InstanceInfo {
        let instance = DBInstance {
            DBInstanceId: Some("postgres-6bwgamo3".into()),
            DBInstanceName: Some("orders\u{1b}[2J-db".into()),
            DBInstanceStatus: Some(status.into()),
            DBInstanceType: Some("primary".into()),
            DBInstanceNetInfo: Some(vec![DBInstanceNetInfo {
                Ip: Some("10.6.0.4".into()),
                NetType: Some("private".into()),
                ..Default::default()
            }]),
            ..Default::default()
        };
        InstanceInfo {
            region: "ap-guangzhou".into(),
            addresses: addresses::addresses_of(&instance, &[]),
            instance,
            groups: vec![],
            ssl,
        }
    }

    #[test]
    fn enabling_needs_an_address_of_the_instance() {
        let i = info("running", None);
        let e = plan(&i, true, None).expect_err("no address");
        assert!(
            e.contains("--address") && e.contains("private 10.6.0.4"),
            "{e}"
        );
        let c = plan(
            &i,
            true,
            Some(&AddressSpec::parse("private").expect("spec")),
        )
        .expect("plan");
        assert_eq!(c.request().ConnectAddress.as_deref(), Some("10.6.0.4"));
        assert_eq!(c.instance_name, "orders\\x1b[2J-db");
        assert!(
            c.summary()
                .iter()
                .any(|l| l.contains("restarts the instance"))
        );
        // Disabling never sends an address.
        let d = plan(
            &i,
            false,
            Some(&AddressSpec::parse("private").expect("spec")),
        )
        .expect("plan");
        assert_eq!(d.request().ConnectAddress, None);
    }

    #[test]
    fn a_busy_instance_is_refused_before_sending() {
        let e = plan(&info("restarting", None), false, None).expect_err("busy");
        assert!(e.contains("'restarting', not running"), "{e}");
    }

    #[test]
    fn noop_detection() {
        let on = SslState {
            SSLEnabled: true,
            ConnectAddress: Some("10.6.0.4".into()),
            CAUrl: None,
        };
        let i = info("running", Some(on));
        let spec = AddressSpec::parse("10.6.0.4").expect("spec");
        assert!(plan(&i, true, Some(&spec)).expect("plan").is_noop());
        assert!(!plan(&i, false, None).expect("plan").is_noop());
        let off = info(
            "running",
            Some(SslState {
                SSLEnabled: false,
                ConnectAddress: None,
                CAUrl: None,
            }),
        );
        assert!(plan(&off, false, None).expect("plan").is_noop());
        assert!(
            !plan(&info("running", None), false, None)
                .expect("plan")
                .is_noop()
        );
    }
}

// ------------------------------------------------------------------ CA and TLS check

/// An instance's CA certificate(s), kept on disk.
#[derive(Debug, Clone)]
pub struct CaBundle {
    pub path: std::path::PathBuf,
    pub certs: Vec<rustls::pki_types::CertificateDer<'static>>,
    pub infos: Vec<crate::probe::CertInfo>,
}

/// Addresses reached through somewhere else (an SSH tunnel, the demo's local server):
/// the certificate is still checked against the address itself.
pub type AddressMap = Vec<(String, std::net::SocketAddr)>;

/// Parse `10.0.0.8=127.0.0.1:15432,10.0.0.9=127.0.0.1:15433` (PGSSL_ADDRESS_MAP).
pub fn parse_address_map(text: &str) -> Result<AddressMap, String> {
    text.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (from, to) = pair.split_once('=').ok_or_else(|| {
                format!(
                    "'{}' should look like ADDRESS=HOST:PORT",
                    crate::text::sanitize(pair)
                )
            })?;
            let to = to.trim().parse().map_err(|_| {
                format!(
                    "'{}' is not HOST:PORT with an IP host",
                    crate::text::sanitize(to)
                )
            })?;
            Ok((from.trim().to_string(), to))
        })
        .collect()
}

fn pem_to_bundle(pem: &[u8], path: std::path::PathBuf) -> Result<CaBundle, String> {
    let certs = crate::probe::parse_pem_certs(pem)?;
    let infos = certs
        .iter()
        .map(|c| crate::probe::cert_info(c))
        .collect::<Result<_, _>>()?;
    Ok(CaBundle { path, certs, infos })
}

/// Read a CA bundle from a file.
pub fn load_ca_file(path: &std::path::Path) -> Result<CaBundle, OpsError> {
    let pem = std::fs::read(path)
        .map_err(|e| OpsError::Invalid(format!("cannot read {} ({e})", path.display())))?;
    pem_to_bundle(&pem, path.to_path_buf())
        .map_err(|e| OpsError::Invalid(format!("{}: {e}", path.display())))
}

/// Download the CA from CAUrl: https, or http only from a loopback emulator; at most 1 MiB.
async fn download_ca(url: &str) -> Result<Vec<u8>, String> {
    let parsed = reqwest::Url::parse(url).map_err(|_| format!("CAUrl '{url}' is not a URL"))?;
    let loopback = parsed.host_str().is_some_and(|h| {
        crate::api::client::is_loopback_host(h.trim_start_matches('[').trim_end_matches(']'))
    });
    match parsed.scheme() {
        "https" => {}
        "http" if loopback => {}
        _ => {
            return Err(format!(
                "refusing to fetch the CA over {url}: only https (or a loopback emulator)"
            ));
        }
    }
    crate::api::client::install_crypto_provider();
    let client = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(20))
        // No redirects: each hop would need the same https-only check, and CAUrl is direct.
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| e.to_string())?;
    let mut response = client
        .get(parsed)
        .send()
        .await
        .map_err(|e| format!("cannot fetch the CA from {url} ({e})"))?;
    if !response.status().is_success() {
        return Err(format!(
            "fetching the CA from {url} gave HTTP {}",
            response.status().as_u16()
        ));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| format!("the CA download from {url} broke off ({e})"))?
    {
        body.extend_from_slice(&chunk);
        if body.len() > 1 << 20 {
            return Err(format!("the CA at {url} is larger than 1 MiB"));
        }
    }
    Ok(body)
}

/// Fetch the instance's CA from its CAUrl and keep it under the data dir.
pub async fn fetch_ca(
    paths: &crate::store::Paths,
    instance_id: &str,
    ca_url: &str,
) -> Result<CaBundle, OpsError> {
    let pem = download_ca(ca_url).await.map_err(OpsError::Failed)?;
    let path = paths.ca_file(instance_id);
    let bundle = pem_to_bundle(&pem, path.clone())
        .map_err(|e| OpsError::Failed(format!("the CA from {ca_url}: {e}")))?;
    crate::store::write_atomic(&path, &pem)
        .map_err(|e| OpsError::Failed(format!("cannot keep the CA at {} ({e})", path.display())))?;
    Ok(bundle)
}

impl Session {
    /// Fetch an instance's CA from the CAUrl it reports, and keep it.
    pub async fn instance_ca(
        &self,
        paths: &crate::store::Paths,
        region: &str,
        instance_id: &str,
    ) -> Result<(String, CaBundle), OpsError> {
        let state = ssl_state(&self.client, region, instance_id).await?;
        let url = state.CAUrl.ok_or_else(|| {
            OpsError::Failed(format!(
                "{instance_id} reports no CAUrl: the CA cannot be fetched"
            ))
        })?;
        let bundle = fetch_ca(paths, instance_id, &url).await?;
        Ok((url, bundle))
    }
}

/// What to check and against which CA.
#[derive(Debug, Clone, Default)]
pub struct VerifyRequest {
    /// Override the address (default: the protected ConnectAddress).
    pub address: Option<String>,
    pub port: Option<u16>,
    pub ca_file: Option<std::path::PathBuf>,
    pub via: Option<std::net::SocketAddr>,
}

/// A finished check.
#[derive(Debug, Clone)]
pub struct Verified {
    pub report: crate::probe::Report,
    pub ca: CaBundle,
    pub target: crate::probe::Target,
}

impl Verified {
    /// The report for people, client settings pointing at the CA file pgssl keeps.
    pub fn lines(&self) -> Vec<String> {
        crate::probe::render(
            &self.report,
            Some(&self.ca.path.display().to_string()),
            crate::api::client::system_clock(),
        )
    }
}

impl Session {
    /// Check the protected address of an instance over TLS and record the result in the
    /// journal next to the instance's latest change.
    pub async fn verify(
        &self,
        paths: &crate::store::Paths,
        map: &AddressMap,
        region: &str,
        instance_id: &str,
        request: &VerifyRequest,
    ) -> Result<Verified, OpsError> {
        let info = describe_instance(&self.client, region, instance_id).await?;
        self.verify_described(paths, map, &info, request).await
    }

    /// The same for an instance just described (so its state is not asked for twice).
    pub async fn verify_described(
        &self,
        paths: &crate::store::Paths,
        map: &AddressMap,
        info: &InstanceInfo,
        request: &VerifyRequest,
    ) -> Result<Verified, OpsError> {
        let instance_id = info.instance.id();
        let ssl = info.ssl.clone().unwrap_or(SslState {
            SSLEnabled: false,
            ConnectAddress: None,
            CAUrl: None,
        });
        let address = match (&request.address, ssl.SSLEnabled, &ssl.ConnectAddress) {
            (Some(a), _, _) => a.clone(),
            (None, true, Some(a)) => a.clone(),
            _ => {
                return Err(OpsError::Invalid(format!(
                    "SSL is off on {instance_id}, so there is no protected address to check; pass --address to probe one anyway"
                )));
            }
        };
        let port = request.port.unwrap_or_else(|| {
            info.addresses
                .iter()
                .find(|a| a.ip == address)
                .map(Address::port_or_default)
                .unwrap_or(5432)
        });
        let ca = match &request.ca_file {
            Some(path) => load_ca_file(path)?,
            None => {
                let url = ssl.CAUrl.clone().ok_or_else(|| {
                    OpsError::Failed(format!(
                        "{instance_id} reports no CAUrl: pass --ca FILE with the instance's CA"
                    ))
                })?;
                match fetch_ca(paths, instance_id, &url).await {
                    Ok(b) => b,
                    // Fall back to the copy kept from an earlier fetch.
                    Err(e) => load_ca_file(&paths.ca_file(instance_id)).map_err(|_| e)?,
                }
            }
        };
        let via = request
            .via
            .or_else(|| map.iter().find(|(a, _)| *a == address).map(|(_, to)| *to));
        let target = crate::probe::Target {
            address: address.clone(),
            port,
            via,
        };
        let report =
            crate::probe::check(&target, &ca.certs, crate::probe::Timeouts::default()).await;
        if let Ok((entries, _)) = self.journal.entries()
            && let Some(entry) = entries
                .iter()
                .rev()
                .find(|e| e.request.DBInstanceId == instance_id)
        {
            self.note(Record::Verify {
                id: entry.request.id.clone(),
                time: now_rfc3339(),
                address: target.display(),
                result: report.verdict.word().into(),
                detail: report.verdict.sentence(&target.display()),
            });
        }
        Ok(Verified { report, ca, target })
    }
}
