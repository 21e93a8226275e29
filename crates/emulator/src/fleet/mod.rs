//! The emulator's world: instances, read-only groups, SSL state and tasks.
//!
//! A fleet file is JSON whose objects use the API's own field names:
//! `DBInstanceSet`, `ReadOnlyGroupList`, `SSLConfigSet` (per-instance `SSLEnabled` and
//! `ConnectAddress`), and optionally `Generate` (bulk instances for paging). Time is
//! passed in, never read here, so task progress is a pure function of the clock.

use std::collections::HashMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use pgssl_wire::models::{DBInstance, DBInstanceNetInfo, ReadOnlyGroup, TaskDetail, TaskSet};

use crate::faults::TaskEnd;

/// The file format.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(non_snake_case)]
pub struct FleetFile {
    #[serde(default)]
    pub DBInstanceSet: Vec<DBInstance>,
    #[serde(default)]
    pub ReadOnlyGroupList: Vec<ReadOnlyGroup>,
    #[serde(default)]
    pub SSLConfigSet: Vec<SSLConfig>,
    /// Bulk primaries, generated: for paging tests and demos.
    #[serde(default)]
    pub Generate: Vec<Generate>,
    /// Tasks other operations left on instances (backups, restores, restarts), listed by
    /// DescribeTasks as given. A task without StartTime started when the fleet was loaded.
    #[serde(default)]
    pub TaskSet: Vec<TaskSet>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(non_snake_case)]
pub struct SSLConfig {
    pub DBInstanceId: String,
    pub SSLEnabled: bool,
    #[serde(default)]
    pub ConnectAddress: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(non_snake_case)]
pub struct Generate {
    pub Region: String,
    pub Count: usize,
    /// Names are `<NamePrefix>-0001` ...
    #[serde(default)]
    pub NamePrefix: Option<String>,
}

/// The demo fleet that ships with pgssl.
pub const DEMO_FLEET: &str = include_str!("../../assets/demo-fleet.json");

/// A task the emulator runs, or one the fleet file says another operation left behind.
#[derive(Debug, Clone)]
pub struct Task {
    pub id: i64,
    pub instance_id: String,
    pub region: String,
    /// TaskType. The SSL change's is undocumented; the emulator calls it
    /// `ModifyDBInstanceSSLConfig`, and pgssl must not rely on it.
    pub task_type: String,
    /// Seconds since the epoch.
    pub started: i64,
    /// DescribeTasks lists it from then on (the real API lags behind the change).
    pub listed_from: i64,
    pub duration: i64,
    /// What an SSL task sets when it succeeds; None for another operation's task.
    pub target: Option<SSLConfig>,
    pub end: TaskEnd,
    /// When it reached its end status (for WaitSwitch: when it began waiting).
    pub finished: Option<i64>,
    /// Another operation's task, as the fleet file gives it: shown as is.
    pub given: Option<TaskSet>,
}

impl Task {
    pub fn to_task_set(&self, now: i64) -> TaskSet {
        if let Some(given) = &self.given {
            return given.clone();
        }
        let (status, progress, end) = match (self.finished, self.end) {
            (Some(at), TaskEnd::Success) => ("Success", 100, fmt_time(at)),
            (Some(at), TaskEnd::Fail) => ("Fail", progress_at(self, at), fmt_time(at)),
            (Some(at), TaskEnd::Pause) => ("Pause", progress_at(self, at), fmt_time(at)),
            (Some(_), TaskEnd::WaitSwitch) => ("WaitSwitch", 99, String::new()),
            (None, _) => ("Running", progress_at(self, now), String::new()),
        };
        // As official example 1 shows a running task: empty steps until there is
        // progress, then AllSteps as a JSON string and the current step's name.
        let detail = if status == "Running" && progress == 0 {
            TaskDetail {
                AllSteps: Some(String::new()),
                Input: Some(String::new()),
                Output: Some(String::new()),
                ..TaskDetail::default()
            }
        } else {
            let current = match status {
                "Running" => "Restart Instance",
                "WaitSwitch" => "Wait Switch",
                _ => "Task Complete",
            };
            TaskDetail {
                CurrentStep: Some(current.into()),
                AllSteps: Some(
                    r#"[{"StepId":1,"StepName":"Pre-check"},{"StepId":2,"StepName":"Issue Certificate"},{"StepId":3,"StepName":"Restart Instance"},{"StepId":4,"StepName":"Wait Switch"},{"StepId":5,"StepName":"Task Complete"}]"#
                        .into(),
                ),
                Input: Some(
                    self.target
                        .as_ref()
                        .and_then(|t| serde_json::to_string(t).ok())
                        .unwrap_or_default(),
                ),
                Output: Some(String::new()),
                SwitchTag: Some(0),
                SwitchTime: Some(String::new()),
                Message: Some(match status {
                    "Fail" => "emulated failure: the SSL change did not complete".into(),
                    "Pause" => "emulated pause: the SSL change was paused".into(),
                    _ => String::new(),
                }),
            }
        };
        TaskSet {
            TaskId: Some(self.id),
            TaskType: Some(self.task_type.clone()),
            DBInstanceId: Some(self.instance_id.clone()),
            StartTime: Some(fmt_time(self.started)),
            EndTime: Some(end),
            Status: Some(status.into()),
            Progress: Some(progress),
            TaskDetail: Some(detail),
        }
    }
}

fn progress_at(task: &Task, now: i64) -> i64 {
    if task.duration <= 0 {
        return 99;
    }
    (((now - task.started).max(0) * 100) / task.duration).clamp(0, 99)
}

/// Task times are Beijing time (UTC+8), `YYYY-MM-DD HH:MM:SS`, as the API writes them
/// (DescribeTasks examples; `1970-01-01 08:00:00` is the epoch there).
const BEIJING: time::UtcOffset = time::macros::offset!(+8);

pub fn fmt_time(secs: i64) -> String {
    let Ok(t) = time::OffsetDateTime::from_unix_timestamp(secs) else {
        return String::new();
    };
    let t = t.to_offset(BEIJING);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

pub fn parse_time(s: &str) -> Option<i64> {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    time::PrimitiveDateTime::parse(s, &format)
        .ok()
        .map(|t| t.assume_offset(BEIJING).unix_timestamp())
}

mod check;
mod saved;
use check::{check, check_known_fields, expand_generated};
pub use saved::{SavedState, SavedTask};

/// The live state.
#[derive(Debug, Clone)]
pub struct Fleet {
    /// In file order; region-scoped queries filter this.
    pub instances: Vec<DBInstance>,
    pub groups: Vec<ReadOnlyGroup>,
    pub ssl: HashMap<String, SSLConfig>,
    pub tasks: Vec<Task>,
    next_task_id: i64,
    /// The most instances ever restarting at once (what `--max-running` must bound).
    pub peak_restarting: usize,
    /// How many SSL changes started while the instance's primary or one of its read-only
    /// instances was restarting (what a bulk run must avoid unless asked).
    pub family_overlaps: usize,
}

impl Fleet {
    pub fn load(path: &Path) -> Result<Fleet, String> {
        // A hand-written fleet is KiBs; `Generate` makes large ones without a large file.
        const FLEET_CAP: u64 = 64 << 20;
        let shown = pgssl_wire::text::clean(&path.display().to_string());
        let text = pgssl_wire::bounded::read_to_string(path, FLEET_CAP)
            .map_err(|e| format!("{shown}: cannot read the fleet file ({e})"))?;
        Fleet::parse(&text).map_err(|e| format!("{shown}: {e}"))
    }

    /// Parse and check a fleet; every error message is sanitized (a fleet file is input).
    pub fn parse(text: &str) -> Result<Fleet, String> {
        Self::parse_unsanitized(text)
            .map_err(|e| pgssl_wire::text::truncate(&pgssl_wire::text::sanitize(&e), 400))
    }

    pub fn demo() -> Fleet {
        // The shipped fleet is checked by a test; a broken one is a bug to stop on, never
        // an empty fleet that would make every demo and test quietly wrong.
        Fleet::parse(DEMO_FLEET).expect("the embedded demo fleet parses (checked by a test)")
    }

    /// Errors name the field, e.g. `DBInstanceSet[2].Region: ...`.
    fn parse_unsanitized(text: &str) -> Result<Fleet, String> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
        // serde would take `[]` or `[[],[]]` for the struct as an empty fleet: a fleet is an
        // object, and one with no instance is a mistake, not a fleet.
        if !value.is_object() {
            return Err(
                "a fleet is a JSON object with DBInstanceSet (and ReadOnlyGroupList, SSLConfigSet, Generate)"
                    .into(),
            );
        }
        check_known_fields(&value)?;
        let de = &mut serde_json::Deserializer::from_str(text);
        let file: FleetFile = serde_path_to_error::deserialize(de)
            .map_err(|e| format!("{}: {}", e.path(), e.inner()))?;
        let mut file = file;
        expand_generated(&mut file)?;
        if file.DBInstanceSet.is_empty() {
            return Err(
                "the fleet has no instance: give DBInstanceSet (or Generate) at least one".into(),
            );
        }
        check(&file)?;
        Ok(Fleet::from_parts(file))
    }

    fn from_parts(file: FleetFile) -> Fleet {
        let ssl = file
            .SSLConfigSet
            .into_iter()
            .map(|s| (s.DBInstanceId.clone(), s))
            .collect();
        let now = pgssl_wire::clock::unix_now();
        let tasks = file
            .TaskSet
            .into_iter()
            .map(|mut given| {
                let instance_id = given.DBInstanceId.clone().unwrap_or_default();
                let region = file
                    .DBInstanceSet
                    .iter()
                    .find(|i| i.id() == instance_id)
                    .and_then(|i| i.Region.clone())
                    .unwrap_or_default();
                let started = given
                    .StartTime
                    .as_deref()
                    .and_then(parse_time)
                    .unwrap_or(now);
                given.StartTime = Some(fmt_time(started));
                Task {
                    id: given.TaskId.unwrap_or_default(),
                    instance_id,
                    region,
                    task_type: given.TaskType.clone().unwrap_or_default(),
                    started,
                    listed_from: started,
                    duration: 0,
                    target: None,
                    end: TaskEnd::Success,
                    finished: given.EndTime.as_deref().and_then(parse_time),
                    given: Some(given),
                }
            })
            .collect();
        Fleet {
            instances: file.DBInstanceSet,
            groups: file.ReadOnlyGroupList,
            ssl,
            tasks,
            next_task_id: 100_017,
            peak_restarting: 0,
            family_overlaps: 0,
        }
    }

    pub fn regions(&self) -> Vec<String> {
        let mut r: Vec<String> = self
            .instances
            .iter()
            .filter_map(|i| i.Region.clone())
            .collect();
        r.sort();
        r.dedup();
        r
    }

    pub fn instance(&self, region: &str, id: &str) -> Option<&DBInstance> {
        self.instances
            .iter()
            .find(|i| i.id() == id && i.Region.as_deref() == Some(region))
    }

    pub fn ssl_of(&self, id: &str) -> SSLConfig {
        self.ssl.get(id).cloned().unwrap_or(SSLConfig {
            DBInstanceId: id.to_string(),
            SSLEnabled: false,
            ConnectAddress: None,
        })
    }

    /// Every address the instance's certificate may protect.
    pub fn allowed_addresses(&self, instance: &DBInstance) -> Vec<String> {
        addresses_of(instance, &self.groups)
    }

    pub fn groups_of_master<'a>(
        &'a self,
        region: &'a str,
        master: &'a str,
    ) -> impl Iterator<Item = &'a ReadOnlyGroup> + 'a {
        self.groups.iter().filter(move |g| {
            g.MasterDBInstanceId.as_deref() == Some(master) && g.Region.as_deref() == Some(region)
        })
    }

    /// Bring tasks up to `now`: finished tasks apply their change and free the instance.
    pub fn advance(&mut self, now: i64) {
        let mut done = Vec::new();
        for task in self
            .tasks
            .iter_mut()
            .filter(|t| t.finished.is_none() && t.given.is_none())
        {
            if now >= task.started + task.duration {
                task.finished = Some(task.started + task.duration);
                done.push((task.instance_id.clone(), task.target.clone(), task.end));
            }
        }
        for (id, target, end) in done {
            if let (TaskEnd::Success, Some(target)) = (end, target) {
                self.ssl.insert(id.clone(), target);
            }
            if let Some(i) = self.instances.iter_mut().find(|i| i.id() == id) {
                // A task waiting for its switch window leaves the instance in
                // `waitSwitch` (one of DBInstanceStatus's documented values in
                // tencentcloud-sdk-go models.go), not running, until the switch.
                let status = if end == TaskEnd::WaitSwitch {
                    "waitSwitch"
                } else {
                    "running"
                };
                i.DBInstanceStatus = Some(status.into());
            }
        }
    }

    /// Start an SSL change: the instance goes to `restarting` until the task ends.
    pub fn start_task(
        &mut self,
        region: &str,
        target: SSLConfig,
        now: i64,
        duration: i64,
        end: TaskEnd,
        listed_after: i64,
    ) -> i64 {
        let id = self.next_task_id;
        self.next_task_id += 1;
        let family = |i: &DBInstance| i.master_id().unwrap_or(i.id()).to_string();
        let restarting = |i: &&DBInstance| i.status() == "restarting";
        if let Some(mine) = self
            .instances
            .iter()
            .find(|i| i.id() == target.DBInstanceId)
            .map(family)
            && self
                .instances
                .iter()
                .filter(restarting)
                .any(|i| i.id() != target.DBInstanceId && family(i) == mine)
        {
            self.family_overlaps += 1;
        }
        if let Some(i) = self
            .instances
            .iter_mut()
            .find(|i| i.id() == target.DBInstanceId)
        {
            i.DBInstanceStatus = Some("restarting".into());
        }

        self.tasks.push(Task {
            id,
            instance_id: target.DBInstanceId.clone(),
            region: region.to_string(),
            task_type: "ModifyDBInstanceSSLConfig".into(),
            started: now,
            listed_from: now + listed_after,
            duration,
            target: Some(target),
            end,
            finished: None,
            given: None,
        });
        self.peak_restarting = self.peak_restarting.max(
            self.tasks
                .iter()
                .filter(|t| t.finished.is_none() && t.given.is_none())
                .count(),
        );
        id
    }

    /// The instance as DescribeDBInstances shows it (read-only members listed in groups).
    pub fn group_view(&self, group: &ReadOnlyGroup) -> ReadOnlyGroup {
        let mut g = group.clone();
        g.ReadOnlyDBInstanceList = Some(
            group
                .members()
                .filter_map(|m| self.instances.iter().find(|i| i.id() == m).cloned())
                .collect(),
        );
        g
    }
}

/// The addresses the API accepts as ConnectAddress for `instance`: the IPs (VIPs) of its
/// own networks and the public network's domain name (Tencent's SSL page, 409/115986:
/// "one VIP or one public domain name"), and, for a read-only instance, the IPs of the
/// read-only group it belongs to. Written here from the server's side on purpose, apart
/// from pgssl's `addresses` module: a rule shared by client and emulator could not catch
/// the client's mistakes.
fn addresses_of(instance: &DBInstance, groups: &[ReadOnlyGroup]) -> Vec<String> {
    let ips = |nets: &[DBInstanceNetInfo]| -> Vec<String> {
        let mut out = Vec::new();
        for n in nets {
            out.extend(
                n.Ip.as_deref()
                    .filter(|ip| !ip.is_empty())
                    .map(str::to_string),
            );
            if n.NetType.as_deref() == Some("public") {
                out.extend(
                    n.Address
                        .as_deref()
                        .filter(|a| !a.is_empty())
                        .map(str::to_string),
                );
            }
        }
        out
    };
    let mut out = ips(instance.net_info());
    if instance.is_readonly() {
        for group in groups
            .iter()
            .filter(|g| g.members().any(|m| m == instance.id()))
        {
            out.extend(ips(group.net_info()));
        }
    }
    out
}

#[cfg(test)]
mod tests;
