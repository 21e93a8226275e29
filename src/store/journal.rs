//! The journal: one JSON line per event of every change pgssl sends, in `journal.jsonl`.
//!
//! A change is recorded *before* it is sent (`request`) and completed *after*
//! (`outcome`), so a crash or kill in between leaves a request without an outcome,
//! which reads as "outcome unknown". Later lines add the task's status, checks made
//! after an unknown outcome, and TLS verification. Lines are appended under an
//! exclusive lock and fsynced before pgssl reports, so concurrent pgssl processes
//! never interleave or lose lines.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::api::Action;
use crate::domain::{Finding, TaskStatus};
use crate::probe::VerifyResult;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[allow(non_snake_case)]
pub enum Record {
    /// Written before the change is sent.
    Request(RequestInfo),
    /// Written once the reply (or the lack of one) is known.
    Outcome {
        id: String,
        time: String,
        #[serde(flatten)]
        outcome: Outcome,
    },
    /// The task's status, as DescribeTasks last reported it.
    Task {
        id: String,
        time: String,
        TaskId: i64,
        Status: TaskStatus,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        Progress: Option<i64>,
    },
    /// What pgssl found when it checked an unknown outcome.
    Check {
        id: String,
        time: String,
        result: Finding,
        detail: String,
    },
    /// A live TLS check of the protected address after the change.
    Verify {
        id: String,
        time: String,
        address: String,
        result: VerifyResult,
        detail: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
#[allow(non_snake_case)]
pub enum Outcome {
    Ok {
        RequestId: String,
        TaskId: Option<i64>,
    },
    Error {
        Code: String,
        Message: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        RequestId: Option<String>,
    },
    Unknown {
        detail: String,
    },
}

impl Record {
    pub fn id(&self) -> &str {
        match self {
            Record::Request(RequestInfo { id, .. })
            | Record::Outcome { id, .. }
            | Record::Task { id, .. }
            | Record::Check { id, .. }
            | Record::Verify { id, .. } => id,
        }
    }
}

/// The details of a change request, as journaled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(non_snake_case)]
pub struct RequestInfo {
    pub id: String,
    pub time: String,
    /// Which credential source was used (`env`, `profile:NAME`, `file:PATH`, `demo`).
    pub source: String,
    /// Masked: first and last 4 characters.
    pub SecretId: String,
    pub endpoint: String,
    pub region: String,
    pub action: Action,
    pub DBInstanceId: String,
    pub SSLEnabled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ConnectAddress: Option<std::net::IpAddr>,
}

/// A change and everything later learned about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub request: RequestInfo,
    pub outcome: Option<Outcome>,
    /// The task's latest status.
    pub task: Option<TaskSeen>,
    /// The latest check of an unknown outcome.
    pub check: Option<CheckSeen>,
    /// The latest TLS check of the protected address.
    pub verify: Option<VerifySeen>,
}

/// A task's status as last recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TaskSeen {
    pub task_id: i64,
    pub status: TaskStatus,
    pub progress: Option<i64>,
    pub time: String,
}

/// What a check of an unknown outcome found, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckSeen {
    pub result: Finding,
    pub detail: String,
    pub time: String,
}

/// A TLS check of the protected address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifySeen {
    pub address: String,
    pub result: VerifyResult,
    pub detail: String,
    pub time: String,
}

impl Entry {
    pub fn task_id(&self) -> Option<i64> {
        match &self.outcome {
            Some(Outcome::Ok { TaskId, .. }) => *TaskId,
            _ => self.task.as_ref().map(|t| t.task_id),
        }
    }

    /// True when nobody knows whether the change happened and no check has settled it.
    /// Only "applied" settles it at once. "not_applied" settles it only when seen at least
    /// `SETTLE_AFTER_SECS` after the request: before that the request may still be in flight.
    /// "in_progress" never settles it: the task has to be looked at again.
    pub fn is_unresolved_unknown(&self) -> bool {
        let unknown = matches!(self.outcome, None | Some(Outcome::Unknown { .. }));
        let settled = self
            .check
            .as_ref()
            .is_some_and(|c| settles(&self.request.time, c.result, &c.time));
        unknown && !settled
    }

    /// One word for the outcome: ok, error, unknown.
    pub fn outcome_word(&self) -> &'static str {
        match &self.outcome {
            Some(Outcome::Ok { .. }) => "ok",
            Some(Outcome::Error { .. }) => "error",
            Some(Outcome::Unknown { .. }) | None => "unknown",
        }
    }
}

/// How long after sending a change an "it did not take effect" check is believed.
pub const SETTLE_AFTER_SECS: i64 = 120;

/// Whether a check finding `result` at `checked` settles a change sent at `sent`.
pub fn settles(sent: &str, result: Finding, checked: &str) -> bool {
    match result {
        Finding::Applied => true,
        Finding::NotApplied => match (unix(sent), unix(checked)) {
            (Some(sent), Some(checked)) => checked - sent >= SETTLE_AFTER_SECS,
            _ => false,
        },
        _ => false,
    }
}

fn unix(rfc3339: &str) -> Option<i64> {
    time::OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(time::OffsetDateTime::unix_timestamp)
}

/// The journal could not be read or written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} ({problem})", crate::text::sanitize(&path.display().to_string()))]
pub struct JournalError {
    pub path: PathBuf,
    pub problem: String,
}

#[derive(Debug, Clone)]
pub struct Journal {
    path: PathBuf,
}

impl Journal {
    pub fn new(path: PathBuf) -> Journal {
        Journal { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The journal's path, as an error about it names it.
    pub fn error(&self, e: &std::io::Error) -> JournalError {
        JournalError {
            path: self.path.clone(),
            problem: e.to_string(),
        }
    }

    fn open_append(&self) -> std::io::Result<File> {
        if let Some(dir) = self.path.parent() {
            super::ensure_private_dir(dir)?;
        }
        OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .mode(0o600)
            .open(&self.path)
    }

    /// Append one record durably: exclusive lock, one write of the whole line, fsync.
    pub fn append(&self, record: &Record) -> std::io::Result<()> {
        let mut line = serde_json::to_vec(record).map_err(std::io::Error::other)?;
        line.push(b'\n');
        let mut file = self.open_append()?;
        file.lock()?;
        // A crash mid-write can leave a last line without its newline: end it first, so
        // this record stays a line of its own and readable.
        let len = file.metadata()?.len();
        if len > 0 {
            let mut last = [0u8; 1];
            std::os::unix::fs::FileExt::read_exact_at(&file, &mut last, len - 1)?;
            if last[0] != b'\n' {
                line.insert(0, b'\n');
            }
        }
        let result = file.write_all(&line).and_then(|()| file.sync_data());
        let _ = file.unlock();
        result
    }

    /// All records in order. Lines that do not parse (a foreign edit, a torn disk) are
    /// skipped and counted rather than failing the whole read.
    pub fn records(&self) -> std::io::Result<(Vec<Record>, usize)> {
        let file = match File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((vec![], 0)),
            Err(e) => return Err(e),
        };
        file.lock_shared()?;
        let mut records = Vec::new();
        let mut skipped = 0;
        for line in BufReader::new(&file).split(b'\n') {
            let line = line?;
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            match serde_json::from_slice::<Record>(&line) {
                Ok(r) => records.push(r),
                Err(_) => skipped += 1,
            }
        }
        let _ = file.unlock();
        Ok((records, skipped))
    }

    /// Records folded into one entry per change, oldest first.
    pub fn entries(&self) -> std::io::Result<(Vec<Entry>, usize)> {
        let (records, skipped) = self.records()?;
        Ok((fold(records), skipped))
    }
}

/// Fold records into entries, oldest first. Records about unknown ids are ignored.
pub fn fold(records: Vec<Record>) -> Vec<Entry> {
    let mut entries: Vec<Entry> = Vec::new();
    let mut index: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for record in records {
        if let Record::Request(request) = record {
            index.insert(request.id.clone(), entries.len());
            entries.push(Entry {
                request,
                outcome: None,
                task: None,
                check: None,
                verify: None,
            });
            continue;
        }
        let Some(&i) = index.get(record.id()) else {
            continue;
        };
        let entry = &mut entries[i];
        match record {
            Record::Outcome { outcome, .. } => entry.outcome = Some(outcome),
            Record::Task {
                TaskId,
                Status,
                Progress,
                time,
                ..
            } => {
                entry.task = Some(TaskSeen {
                    task_id: TaskId,
                    status: Status,
                    progress: Progress,
                    time,
                });
            }
            Record::Check {
                result,
                detail,
                time,
                ..
            } => {
                entry.check = Some(CheckSeen {
                    result,
                    detail,
                    time,
                });
            }
            Record::Verify {
                address,
                result,
                detail,
                time,
                ..
            } => {
                entry.verify = Some(VerifySeen {
                    address,
                    result,
                    detail,
                    time,
                });
            }
            Record::Request(_) => {}
        }
    }
    entries
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn request(id: &str) -> Record {
        Record::Request(RequestInfo {
            id: id.into(),
            time: "2026-11-28T00:00:00Z".into(),
            source: "env".into(),
            SecretId: "AKID****abcd".into(),
            endpoint: "http://127.0.0.1:1".into(),
            region: "ap-guangzhou".into(),
            action: Action::ModifyDBInstanceSSLConfig,
            DBInstanceId: "postgres-6bwgamo3".into(),
            SSLEnabled: true,
            ConnectAddress: Some("10.0.0.8".parse().expect("ip")),
        })
    }

    #[test]
    fn request_then_outcome_folds_into_one_entry() {
        let dir = tempfile::tempdir().expect("tmp");
        let j = Journal::new(dir.path().join("data/journal.jsonl"));
        j.append(&request("a")).expect("append");
        j.append(&request("b")).expect("append");
        j.append(&Record::Outcome {
            id: "a".into(),
            time: "t".into(),
            outcome: Outcome::Ok {
                RequestId: "r".into(),
                TaskId: Some(7),
            },
        })
        .expect("append");
        j.append(&Record::Task {
            id: "a".into(),
            time: "t".into(),
            TaskId: 7,
            Status: TaskStatus::Success,
            Progress: Some(100),
        })
        .expect("append");
        let (entries, skipped) = j.entries().expect("read");
        assert_eq!(skipped, 0);
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].task_id(), Some(7));
        assert_eq!(entries[0].outcome_word(), "ok");
        assert!(!entries[0].is_unresolved_unknown());
        // "b" never got an outcome: it reads as unknown until a check settles it.
        assert!(entries[1].is_unresolved_unknown());
        assert_eq!(
            std::fs::metadata(j.path())
                .expect("meta")
                .permissions()
                .mode()
                & 0o777,
            0o600
        );
        // The line format is stable and names fields as the API does.
        let text = std::fs::read_to_string(j.path()).expect("read");
        let first: serde_json::Value =
            serde_json::from_str(text.lines().next().expect("line")).expect("json");
        assert_eq!(first["kind"], "request");
        assert_eq!(first["DBInstanceId"], "postgres-6bwgamo3");
        let third: serde_json::Value =
            serde_json::from_str(text.lines().nth(2).expect("line")).expect("json");
        assert_eq!(third["outcome"], "ok");
        assert_eq!(third["TaskId"], 7);
    }

    #[test]
    fn garbage_lines_are_skipped_not_fatal() {
        let dir = tempfile::tempdir().expect("tmp");
        let j = Journal::new(dir.path().join("journal.jsonl"));
        j.append(&request("a")).expect("append");
        let mut f = OpenOptions::new()
            .append(true)
            .open(j.path())
            .expect("open");
        f.write_all(b"{not json\n\n").expect("write");
        j.append(&request("b")).expect("append");
        let (entries, skipped) = j.entries().expect("read");
        assert_eq!((entries.len(), skipped), (2, 1));
    }

    #[test]
    fn a_torn_last_line_does_not_swallow_the_next_record() {
        let dir = tempfile::tempdir().expect("tmp");
        let j = Journal::new(dir.path().join("journal.jsonl"));
        std::fs::write(j.path(), b"{\"kind\":\"request\",\"id\":\"torn").expect("torn");
        j.append(&request("b")).expect("append");
        let (entries, skipped) = j.entries().expect("read");
        assert_eq!((entries.len(), skipped), (1, 1));
        assert_eq!(entries[0].request.id, "b");
    }

    #[test]
    fn only_applied_or_a_late_not_applied_settles_an_unknown_outcome() {
        let entry = |result: Finding, checked: &str| {
            let mut e = fold(vec![request("a")]).remove(0);
            e.check = Some(CheckSeen {
                result,
                detail: String::new(),
                time: checked.into(),
            });
            e
        };
        // request("a") was sent at 2026-11-28T00:00:00Z.
        assert!(!entry(Finding::Applied, "2026-11-28T00:00:05Z").is_unresolved_unknown());
        assert!(entry(Finding::InProgress, "2026-11-28T01:00:00Z").is_unresolved_unknown());
        assert!(entry(Finding::Undetermined, "2026-11-28T01:00:00Z").is_unresolved_unknown());
        assert!(entry(Finding::NotApplied, "2026-11-28T00:00:30Z").is_unresolved_unknown());
        assert!(!entry(Finding::NotApplied, "2026-11-28T00:05:00Z").is_unresolved_unknown());
    }

    #[test]
    fn concurrent_writers_never_interleave() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("journal.jsonl");
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let j = Journal::new(path.clone());
                std::thread::spawn(move || {
                    for i in 0..50 {
                        j.append(&request(&format!("{t}-{i}-{}", "x".repeat(3000))))
                            .expect("append");
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().expect("thread");
        }
        let (entries, skipped) = Journal::new(path).entries().expect("read");
        assert_eq!((entries.len(), skipped), (400, 0));
    }
}
