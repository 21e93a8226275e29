//! The emulator's world: instances, read-only groups, SSL state and tasks.
//!
//! A fleet file is JSON whose objects use the API's own field names:
//! `DBInstanceSet`, `ReadOnlyGroupList`, `SSLConfigSet` (per-instance `SSLEnabled` and
//! `ConnectAddress`), and optionally `Generate` (bulk instances for paging). Time is
//! passed in, never read here, so task progress is a pure function of the clock.

use std::collections::{BTreeMap, HashMap, HashSet};
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
pub const DEMO_FLEET: &str = include_str!("../assets/demo-fleet.json");

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

/// What changes in a running fleet (SSL states, the SSL tasks the emulator ran, the next
/// TaskId), kept between runs by `--demo` so a change made in one run is seen by the next.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedState {
    pub ssl: Vec<SSLConfig>,
    pub tasks: Vec<SavedTask>,
    pub next_task_id: i64,
}

/// An SSL task the emulator ran (times in seconds since the epoch).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedTask {
    pub id: i64,
    pub instance_id: String,
    pub region: String,
    pub started: i64,
    pub listed_from: i64,
    pub duration: i64,
    pub target: Option<SSLConfig>,
    pub end: TaskEnd,
    pub finished: Option<i64>,
}

/// The live state.
#[derive(Debug, Clone)]
pub struct Fleet {
    /// In file order; region-scoped queries filter this.
    pub instances: Vec<DBInstance>,
    pub groups: Vec<ReadOnlyGroup>,
    pub ssl: HashMap<String, SSLConfig>,
    pub tasks: Vec<Task>,
    next_task_id: i64,
}

impl Fleet {
    pub fn load(path: &Path) -> Result<Fleet, String> {
        let shown = pgssl_wire::text::clean(&path.display().to_string());
        let text = std::fs::read_to_string(path)
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

    /// What a later run needs to go on from here.
    pub fn saved_state(&self) -> SavedState {
        let mut ssl: Vec<SSLConfig> = self.ssl.values().cloned().collect();
        ssl.sort_by(|a, b| a.DBInstanceId.cmp(&b.DBInstanceId));
        SavedState {
            ssl,
            tasks: self
                .tasks
                .iter()
                .filter(|t| t.given.is_none())
                .map(|t| SavedTask {
                    id: t.id,
                    instance_id: t.instance_id.clone(),
                    region: t.region.clone(),
                    started: t.started,
                    listed_from: t.listed_from,
                    duration: t.duration,
                    target: t.target.clone(),
                    end: t.end,
                    finished: t.finished,
                })
                .collect(),
            next_task_id: self.next_task_id,
        }
    }

    /// Go on from a saved state: its SSL states and tasks replace the fleet file's (tasks
    /// of other operations stay as the file gives them); an instance whose task has not
    /// ended is restarting until `advance` ends it. Entries about instances the fleet does
    /// not have are dropped.
    pub fn restore(&mut self, saved: SavedState, now: i64) {
        let known: HashSet<String> = self.instances.iter().map(|i| i.id().to_string()).collect();
        for s in saved
            .ssl
            .into_iter()
            .filter(|s| known.contains(&s.DBInstanceId))
        {
            self.ssl.insert(s.DBInstanceId.clone(), s);
        }
        let mut max_id = self.next_task_id - 1;
        for t in saved
            .tasks
            .into_iter()
            .filter(|t| known.contains(&t.instance_id))
        {
            max_id = max_id.max(t.id);
            if t.finished.is_none()
                && let Some(i) = self.instances.iter_mut().find(|i| i.id() == t.instance_id)
            {
                i.DBInstanceStatus = Some("restarting".into());
            }
            self.tasks.push(Task {
                id: t.id,
                instance_id: t.instance_id,
                region: t.region,
                task_type: "ModifyDBInstanceSSLConfig".into(),
                started: t.started,
                listed_from: t.listed_from,
                duration: t.duration,
                target: t.target,
                end: t.end,
                finished: t.finished,
                given: None,
            });
        }
        self.next_task_id = saved.next_task_id.max(max_id + 1);
        self.advance(now);
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
                i.DBInstanceStatus = Some("running".into());
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

/// Keys the fleet file may use at each level: those of the API's own types.
fn check_known_fields(value: &serde_json::Value) -> Result<(), String> {
    fn keys_of<T: Serialize + Default>() -> HashSet<String> {
        match serde_json::to_value(T::default()) {
            Ok(serde_json::Value::Object(m)) => m.keys().cloned().collect(),
            _ => HashSet::new(),
        }
    }
    let instance = keys_of::<DBInstance>();
    let net = keys_of::<DBInstanceNetInfo>();
    let group = keys_of::<ReadOnlyGroup>();
    let check_obj =
        |path: &str, v: &serde_json::Value, known: &HashSet<String>| -> Result<(), String> {
            if let Some(obj) = v.as_object() {
                for k in obj.keys() {
                    if !known.contains(k) {
                        let hint = known
                            .iter()
                            .map(|c| {
                                let d =
                                    edit_distance(&c.to_ascii_lowercase(), &k.to_ascii_lowercase());
                                (d, c)
                            })
                            .filter(|(d, _)| *d <= 2)
                            .min()
                            .map(|(_, c)| format!(" (did you mean {c}?)"))
                            .unwrap_or_default();
                        return Err(format!(
                            "{path}.{}: unknown field{hint}",
                            pgssl_wire::text::sanitize(k)
                        ));
                    }
                }
            }
            Ok(())
        };
    let list = |key: &str| {
        value
            .get(key)
            .and_then(|v| v.as_array())
            .cloned()
            .unwrap_or_default()
    };
    for (i, inst) in list("DBInstanceSet").iter().enumerate() {
        let path = format!("DBInstanceSet[{i}]");
        check_obj(&path, inst, &instance)?;
        if let Some(nets) = inst.get("DBInstanceNetInfo").and_then(|v| v.as_array()) {
            for (j, n) in nets.iter().enumerate() {
                check_obj(&format!("{path}.DBInstanceNetInfo[{j}]"), n, &net)?;
            }
        }
    }
    for (i, g) in list("ReadOnlyGroupList").iter().enumerate() {
        let path = format!("ReadOnlyGroupList[{i}]");
        check_obj(&path, g, &group)?;
        if let Some(nets) = g.get("DBInstanceNetInfo").and_then(|v| v.as_array()) {
            for (j, n) in nets.iter().enumerate() {
                check_obj(&format!("{path}.DBInstanceNetInfo[{j}]"), n, &net)?;
            }
        }
        if let Some(members) = g.get("ReadOnlyDBInstanceList").and_then(|v| v.as_array()) {
            for (j, m) in members.iter().enumerate() {
                check_obj(&format!("{path}.ReadOnlyDBInstanceList[{j}]"), m, &instance)?;
            }
        }
    }
    Ok(())
}

/// Levenshtein distance, for "did you mean" hints.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// Deterministic 8-character id suffix for generated instances.
fn generated_suffix(region: &str, n: usize) -> String {
    let digest = pgssl_wire::sign::sha256_hex(format!("{region}/{n}").as_bytes());
    let alphabet = b"abcdefghijklmnopqrstuvwxyz0123456789";
    digest
        .as_bytes()
        .chunks(2)
        .take(8)
        .map(|pair| {
            alphabet[(usize::from(pair[0]) * 7 + usize::from(pair[1])) % alphabet.len()] as char
        })
        .collect()
}

fn expand_generated(file: &mut FleetFile) -> Result<(), String> {
    for (gi, g) in file.Generate.iter().enumerate() {
        if !pgssl_wire::is_ssl_region(&g.Region) {
            return Err(format!(
                "Generate[{gi}].Region: '{}' is not one of the 18 SSL regions",
                pgssl_wire::text::sanitize(&g.Region)
            ));
        }
        if g.Count > 20_000 {
            return Err(format!("Generate[{gi}].Count: at most 20000"));
        }
        let prefix = g.NamePrefix.clone().unwrap_or_else(|| "bulk".into());
        for n in 1..=g.Count {
            let octet3 = (n / 250) % 250;
            let octet4 = n % 250 + 2;
            file.DBInstanceSet.push(DBInstance {
                Region: Some(g.Region.clone()),
                Zone: Some(format!("{}-1", g.Region)),
                VpcId: Some("vpc-bulk0001".into()),
                SubnetId: Some("subnet-bulk0001".into()),
                DBInstanceId: Some(format!("postgres-{}", generated_suffix(&g.Region, n))),
                DBInstanceName: Some(format!("{prefix}-{n:04}")),
                DBInstanceStatus: Some("running".into()),
                DBInstanceType: Some("primary".into()),
                DBVersion: Some("15.4".into()),
                DBMajorVersion: Some("15".into()),
                DBInstanceMemory: Some(2),
                DBInstanceStorage: Some(20),
                DBInstanceCpu: Some(1),
                CreateTime: Some("2025-01-01 00:00:00".into()),
                MasterDBInstanceId: Some(String::new()),
                ReadOnlyInstanceNum: Some(0),
                DBInstanceNetInfo: Some(vec![DBInstanceNetInfo {
                    Address: Some(String::new()),
                    Ip: Some(format!("10.{}.{octet3}.{octet4}", 100 + gi)),
                    Port: Some(5432),
                    NetType: Some("private".into()),
                    Status: Some("opened".into()),
                    VpcId: Some("vpc-bulk0001".into()),
                    SubnetId: Some("subnet-bulk0001".into()),
                    ProtocolType: Some("postgresql".into()),
                }]),
                ..Default::default()
            });
        }
    }
    Ok(())
}

/// Relations the API guarantees: ids unique and well formed, read-only instances point
/// at a primary, groups at their members, SSL state at a real address.
fn check_tasks(file: &FleetFile) -> Result<(), String> {
    let mut seen = HashSet::new();
    for (i, t) in file.TaskSet.iter().enumerate() {
        let path = format!("TaskSet[{i}]");
        let id = t.TaskId.ok_or_else(|| format!("{path}.TaskId: missing"))?;
        if !(1..100_017).contains(&id) || !seen.insert(id) {
            return Err(format!(
                "{path}.TaskId: {id} must be unique and below 100017 (the emulator numbers its own from there)"
            ));
        }
        let instance = t.DBInstanceId.as_deref().unwrap_or("");
        if !file.DBInstanceSet.iter().any(|d| d.id() == instance) {
            return Err(format!(
                "{path}.DBInstanceId: no instance '{}' in DBInstanceSet",
                pgssl_wire::text::sanitize(instance)
            ));
        }
        for (name, time) in [("StartTime", &t.StartTime), ("EndTime", &t.EndTime)] {
            if let Some(v) = time.as_deref().filter(|v| !v.is_empty())
                && parse_time(v).is_none()
            {
                return Err(format!(
                    "{path}.{name}: '{}' is not YYYY-MM-DD HH:MM:SS (Beijing time)",
                    pgssl_wire::text::sanitize(v)
                ));
            }
        }
    }
    Ok(())
}

fn check(file: &FleetFile) -> Result<(), String> {
    check_tasks(file)?;
    let mut ids: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, inst) in file.DBInstanceSet.iter().enumerate() {
        let path = format!("DBInstanceSet[{i}]");
        let id = inst.id();
        pgssl_wire::ids::instance_id(id).map_err(|e| format!("{path}.DBInstanceId: {e}"))?;
        if ids.insert(id, i).is_some() {
            return Err(format!("{path}.DBInstanceId: {id} appears twice"));
        }
        if inst.Region.as_deref().is_none_or(str::is_empty) {
            return Err(format!("{path}.Region: missing"));
        }
        match inst.DBInstanceType.as_deref() {
            Some("primary" | "readonly") => {}
            other => {
                return Err(format!(
                    "{path}.DBInstanceType: '{}' must be primary or readonly",
                    pgssl_wire::text::sanitize(other.unwrap_or(""))
                ));
            }
        }
        if inst.DBInstanceStatus.as_deref().is_none_or(str::is_empty) {
            return Err(format!("{path}.DBInstanceStatus: missing"));
        }
        for (j, n) in inst.net_info().iter().enumerate() {
            if let Some(ip) = n.Ip.as_deref().filter(|ip| !ip.is_empty()) {
                ip.parse::<std::net::IpAddr>().map_err(|_| {
                    format!(
                        "{path}.DBInstanceNetInfo[{j}].Ip: '{}' is not an IP address",
                        pgssl_wire::text::sanitize(ip)
                    )
                })?;
            }
        }
    }
    for (i, inst) in file.DBInstanceSet.iter().enumerate() {
        if inst.is_readonly() {
            let path = format!("DBInstanceSet[{i}].MasterDBInstanceId");
            let master = inst
                .master_id()
                .ok_or_else(|| format!("{path}: a readonly instance needs its primary's id"))?;
            let m = ids
                .get(master)
                .map(|&k| &file.DBInstanceSet[k])
                .ok_or_else(|| format!("{path}: no instance {master} in DBInstanceSet"))?;
            if m.is_readonly() || m.Region != inst.Region {
                return Err(format!(
                    "{path}: {master} must be a primary in the same region"
                ));
            }
        }
    }
    for (i, g) in file.ReadOnlyGroupList.iter().enumerate() {
        let path = format!("ReadOnlyGroupList[{i}]");
        if g.id().is_empty() {
            return Err(format!("{path}.ReadOnlyGroupId: missing"));
        }
        let master = g.MasterDBInstanceId.as_deref().unwrap_or("");
        if !ids.contains_key(master) {
            return Err(format!(
                "{path}.MasterDBInstanceId: no instance '{}' in DBInstanceSet",
                pgssl_wire::text::sanitize(master)
            ));
        }
        if g.Region.as_deref().is_none_or(str::is_empty) {
            return Err(format!("{path}.Region: missing"));
        }
        for (j, m) in g.members().enumerate() {
            let member = ids.get(m).map(|&k| &file.DBInstanceSet[k]).ok_or_else(|| {
                format!(
                    "{path}.ReadOnlyDBInstanceList[{j}]: no instance '{}' in DBInstanceSet",
                    pgssl_wire::text::sanitize(m)
                )
            })?;
            if member.master_id() != Some(master) {
                return Err(format!(
                    "{path}.ReadOnlyDBInstanceList[{j}]: {m} is not a read-only instance of {master}"
                ));
            }
        }
    }
    for (i, s) in file.SSLConfigSet.iter().enumerate() {
        let path = format!("SSLConfigSet[{i}]");
        let inst = ids
            .get(s.DBInstanceId.as_str())
            .map(|&k| &file.DBInstanceSet[k])
            .ok_or_else(|| {
                format!(
                    "{path}.DBInstanceId: no instance '{}' in DBInstanceSet",
                    pgssl_wire::text::sanitize(&s.DBInstanceId)
                )
            })?;
        if s.SSLEnabled {
            let addr = s.ConnectAddress.as_deref().ok_or_else(|| {
                format!("{path}.ConnectAddress: required when SSLEnabled is true")
            })?;
            let allowed: Vec<String> = addresses_of(inst, &file.ReadOnlyGroupList);
            if !allowed.iter().any(|a| a == addr) {
                return Err(format!(
                    "{path}.ConnectAddress: {} is not one of {}'s addresses ({})",
                    pgssl_wire::text::sanitize(addr),
                    s.DBInstanceId,
                    allowed.join(", ")
                ));
            }
        }
    }
    Ok(())
}

/// The addresses the API accepts as ConnectAddress for `instance`: the IPs of its own
/// networks and, for a read-only instance, those of the read-only group it belongs to.
/// Written here from the server's side on purpose, apart from pgssl's `addresses`
/// module: a rule shared by client and emulator could not catch the client's mistakes.
fn addresses_of(instance: &DBInstance, groups: &[ReadOnlyGroup]) -> Vec<String> {
    let ips = |nets: &[DBInstanceNetInfo]| -> Vec<String> {
        nets.iter()
            .filter_map(|n| n.Ip.as_deref())
            .filter(|ip| !ip.is_empty())
            .map(str::to_string)
            .collect()
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
