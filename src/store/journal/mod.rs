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
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::api::Action;

mod fold;
mod pending;
mod tail;
mod tasks;

use crate::domain::{Finding, TaskStatus};
use crate::probe::VerifyResult;
pub use fold::fold;
pub use pending::{InstanceView, Latest};

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
    /// The task's status, as DescribeTasks reported it: written when the status or the
    /// step changes, with the API's message when it ends Fail or Pause.
    Task {
        id: String,
        time: String,
        TaskId: i64,
        Status: TaskStatus,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        Progress: Option<i64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        CurrentStep: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        Message: Option<String>,
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
    /// Who was connected after the change: the counts (never the rows), and the verdict.
    Census {
        id: String,
        time: String,
        connections: usize,
        tls: usize,
        plaintext: usize,
        hidden: usize,
        verdict: String,
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
    /// The task line of change `id`, as `task` was seen now (sanitized: the step and the
    /// message are the API's text).
    pub fn task(id: &str, task: &crate::domain::Task) -> Record {
        let clean = |s: &Option<String>| s.as_deref().map(crate::text::clean);
        Record::Task {
            id: id.to_string(),
            time: crate::store::now_rfc3339(),
            TaskId: task.task_id,
            Status: task.status,
            Progress: task.progress,
            CurrentStep: clean(&task.current_step),
            Message: clean(&task.message).filter(|_| task.status.is_failed()),
        }
    }

    pub fn id(&self) -> &str {
        match self {
            Record::Request(RequestInfo { id, .. })
            | Record::Outcome { id, .. }
            | Record::Task { id, .. }
            | Record::Check { id, .. }
            | Record::Verify { id, .. }
            | Record::Census { id, .. } => id,
        }
    }
}

/// The details of a change request, as journaled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(non_snake_case)]
pub struct RequestInfo {
    pub id: String,
    pub time: String,
    /// Which credential source was used (`env`, `profile:NAME`, `file:PATH`, `cvm-role`,
    /// `role:ARN via ...`, `sso:NAME`, `demo`).
    pub source: String,
    /// The tccli profile in effect, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// The account (GetCallerIdentity's AccountId), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// Masked: first and last 4 characters.
    pub SecretId: String,
    pub endpoint: String,
    pub region: String,
    pub action: Action,
    pub DBInstanceId: String,
    pub SSLEnabled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ConnectAddress: Option<crate::addresses::Host>,
    /// The bulk run this change belongs to (`store::runs`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<String>,
    /// SSL as it was when the change left (checked against a fresh read just before):
    /// what undoing the change would restore. None in journals written before it was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<SslBefore>,
}

/// SSL before a change, as journaled with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(non_snake_case)]
pub struct SslBefore {
    pub SSLEnabled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ConnectAddress: Option<crate::addresses::Host>,
}

/// A change and everything later learned about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub request: RequestInfo,
    pub outcome: Option<Outcome>,
    /// The task's latest status.
    pub task: Option<TaskSeen>,
    /// The latest check of an unknown outcome.
    pub check: Option<CheckSeen>,
    /// The latest TLS check of the protected address.
    pub verify: Option<VerifySeen>,
    /// The census after the change, if one was taken.
    pub census: Option<CensusSeen>,
}

/// The census after a change, as journaled: counts and the verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CensusSeen {
    pub connections: usize,
    pub tls: usize,
    pub plaintext: usize,
    pub hidden: usize,
    pub verdict: String,
    pub time: String,
}

/// A task's status as last recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskSeen {
    pub task_id: i64,
    pub status: TaskStatus,
    pub progress: Option<i64>,
    pub time: String,
    /// The step it was at (CurrentStep).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    /// Why it failed or paused (TaskDetail.Message).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// What a check of an unknown outcome found, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckSeen {
    pub result: Finding,
    pub detail: String,
    pub time: String,
}

/// A TLS check of the protected address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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

    /// The records that say what is known of this change (its request, outcome, latest
    /// check and task status): what a rotation carries into the new file.
    pub fn records(&self) -> Vec<Record> {
        let mut out = vec![Record::Request(self.request.clone())];
        let id = &self.request.id;
        if let Some(o) = &self.outcome {
            out.push(Record::Outcome {
                id: id.clone(),
                time: self.request.time.clone(),
                outcome: o.clone(),
            });
        }
        if let Some(c) = &self.check {
            out.push(Record::Check {
                id: id.clone(),
                time: c.time.clone(),
                result: c.result,
                detail: c.detail.clone(),
            });
        }
        if let Some(t) = &self.task {
            out.push(Record::Task {
                id: id.clone(),
                time: t.time.clone(),
                TaskId: t.task_id,
                Status: t.status,
                Progress: t.progress,
                CurrentStep: t.step.clone(),
                Message: t.message.clone(),
            });
        }
        out
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
#[error("cannot {} the journal {} ({problem}){}", if *reading { "read" } else { "write" }, crate::text::sanitize(&path.display().to_string()), if *before_send { "; nothing was sent" } else { "" })]
pub struct JournalError {
    pub path: PathBuf,
    pub problem: String,
    pub reading: bool,
    /// It happened before a change was sent (which then was not).
    pub before_send: bool,
}

/// A journal grows for years: past `ROTATE_AT` bytes the current file becomes a segment
/// of its own (`journal.<time>.jsonl`, next to it) and a new one starts, carrying the
/// changes whose outcome is still unknown, so the current file alone answers the checks
/// before a send. `log` reads every segment.
pub const ROTATE_AT: u64 = 64 << 20;

#[derive(Debug, Clone)]
pub struct Journal {
    path: PathBuf,
    rotate_at: u64,
    /// The index of what is not over (`pending`), kept between looks.
    index: std::sync::Arc<std::sync::Mutex<Option<pending::Index>>>,
    /// How far the index on disk has read the current file (0: not written by us yet).
    kept_offset: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl Journal {
    pub fn new(path: PathBuf) -> Journal {
        Journal {
            path,
            rotate_at: ROTATE_AT,
            index: std::sync::Arc::default(),
            kept_offset: std::sync::Arc::default(),
        }
    }

    /// The same journal, rotating past `bytes` (tests use small sizes).
    pub fn rotating_at(mut self, bytes: u64) -> Journal {
        self.rotate_at = bytes;
        self
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reading failed.
    pub fn read_error(&self, e: &std::io::Error) -> JournalError {
        JournalError {
            path: self.path.clone(),
            problem: e.to_string(),
            reading: true,
            before_send: false,
        }
    }

    /// Writing failed.
    pub fn write_error(&self, e: &std::io::Error) -> JournalError {
        JournalError {
            reading: false,
            ..self.read_error(e)
        }
    }

    fn open_append(&self) -> std::io::Result<File> {
        if let Some(dir) = self.path.parent() {
            super::ensure_private_dir(dir)?;
        }
        super::bounded::refuse_if_special(&self.path)?;
        OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .mode(0o600)
            .open(&self.path)
    }

    /// The current file, opened and locked exclusively. A rotation by another process
    /// renames the file under us: after the lock, make sure it is still the current one.
    pub(super) fn lock_current(&self) -> std::io::Result<File> {
        loop {
            let file = self.open_append()?;
            file.lock()?;
            let current = std::fs::metadata(&self.path).ok().map(|m| m.ino());
            if current == Some(file.metadata()?.ino()) {
                return Ok(file);
            }
            let _ = file.unlock();
        }
    }

    /// Append one record durably: exclusive lock, one write of the whole line, fsync. A
    /// new change past `ROTATE_AT` first rotates the journal.
    pub fn append(&self, record: &Record) -> std::io::Result<()> {
        self.append_if(record, |_| Ok::<(), std::convert::Infallible>(()))
            .map(|_| ())
    }

    /// Append a change's `request` line only if `gate`, shown what the journal holds about
    /// the instance under the same exclusive lock, allows it. The look and the write are
    /// one step: two processes sending to one instance at once cannot both pass.
    pub fn append_request<E>(
        &self,
        request: &RequestInfo,
        gate: impl FnOnce(&pending::InstanceView<'_>) -> Result<(), E>,
    ) -> std::io::Result<Result<(), E>> {
        let record = Record::Request(request.clone());
        self.append_if(&record, |index| gate(&index.of(&request.DBInstanceId)))
    }

    fn append_if<E>(
        &self,
        record: &Record,
        gate: impl FnOnce(&pending::Index) -> Result<(), E>,
    ) -> std::io::Result<Result<(), E>> {
        let mut line = serde_json::to_vec(record).map_err(std::io::Error::other)?;
        line.push(b'\n');
        let mut file = self.lock_current()?;
        let is_request = matches!(record, Record::Request(_));
        if is_request && file.metadata()?.len() >= self.rotate_at {
            file = self.rotate_locked(&file)?.0;
        }
        if is_request {
            match pending::refresh_locked(self, &file, gate) {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    let _ = file.unlock();
                    return Ok(Err(e));
                }
                Err(e) => {
                    let _ = file.unlock();
                    return Err(e);
                }
            }
        }
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
        result.map(|()| Ok(()))
    }

    /// Start a new journal file now (`pgssl log --rotate`). Returns the segment the old
    /// one became, or None when the journal is empty.
    pub fn rotate(&self) -> std::io::Result<Option<PathBuf>> {
        let file = self.lock_current()?;
        if file.metadata()?.len() == 0 {
            let _ = file.unlock();
            return Ok(None);
        }
        let (new, segment) = self.rotate_locked(&file)?;
        let _ = new.unlock();
        Ok(Some(segment))
    }

    fn next_segment_name(&self) -> PathBuf {
        let stamp = time::OffsetDateTime::now_utc()
            .format(time::macros::format_description!(
                "[year][month][day]T[hour][minute][second]Z"
            ))
            .unwrap_or_else(|_| "00000000T000000Z".into());
        let dir = self.path.parent().unwrap_or(Path::new("."));
        (0..u32::MAX)
            .map(|n| {
                dir.join(if n == 0 {
                    format!("journal.{stamp}.jsonl")
                } else {
                    format!("journal.{stamp}-{n}.jsonl")
                })
            })
            .find(|p| !p.exists())
            .expect("an unused segment name exists")
    }

    /// Under the lock held by `old`: the current file becomes a segment, and a new current
    /// file starts with copies of the changes whose outcome is still unknown. Returns the
    /// new file, locked, and the segment's name.
    fn rotate_locked(&self, old: &File) -> std::io::Result<(File, PathBuf)> {
        let open = pending::refresh_locked(self, old, pending::Index::open)?;
        let segment = self.next_segment_name();
        let tmp = self.path.with_extension("jsonl.next");
        let mut carried = Vec::new();
        for e in open.0.iter().chain(&open.1) {
            carried.extend(e.records());
        }
        let mut body = Vec::new();
        for r in &carried {
            body.extend(serde_json::to_vec(r).map_err(std::io::Error::other)?);
            body.push(b'\n');
        }
        {
            let mut next = OpenOptions::new()
                .create(true)
                .truncate(true)
                .write(true)
                .mode(0o600)
                .open(&tmp)?;
            next.write_all(&body)?;
            next.sync_all()?;
        }
        let next = OpenOptions::new().read(true).append(true).open(&tmp)?;
        next.lock()?;
        // The old file keeps its lock until it is a segment, so no writer appends to it
        // believing it current (they check the inode after locking).
        std::fs::rename(&self.path, &segment)?;
        std::fs::rename(&tmp, &self.path)?;
        if let Some(dir) = self.path.parent() {
            File::open(dir)?.sync_all()?;
        }
        let _ = old.unlock();
        pending::reset_locked(self, &next, open)?;
        Ok((next, segment))
    }

    /// The rotated segments, oldest first, then the current file.
    pub fn files(&self) -> Vec<PathBuf> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        let mut segments: Vec<PathBuf> = std::fs::read_dir(dir)
            .map(|d| {
                d.flatten()
                    .map(|e| e.path())
                    .filter(|p| {
                        p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                            n.starts_with("journal.")
                                && Path::new(n).extension().is_some_and(|e| e == "jsonl")
                                && n != "journal.jsonl"
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        segments.sort();
        segments.push(self.path.clone());
        segments
    }

    /// All records of every file in order. Lines that do not parse (a foreign edit, a torn
    /// disk) are skipped and counted rather than failing the whole read.
    pub fn records(&self) -> std::io::Result<(Vec<Record>, usize)> {
        let mut records = Vec::new();
        let mut skipped = 0;
        for path in self.files() {
            let file = match open_segment(&path) {
                Ok(f) => f,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            };
            file.lock_shared()?;
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
        }
        Ok((records, skipped))
    }

    /// Every change ever journaled, oldest first (the whole history: `pgssl log`).
    pub fn entries(&self) -> std::io::Result<(Vec<Entry>, usize)> {
        let (records, skipped) = self.records()?;
        Ok((fold(records), skipped))
    }
}

/// The most one journal file may hold: rotation starts a new one past 64 MiB, so a file
/// far past that is not one pgssl wrote, and is refused rather than read into memory.
pub const SEGMENT_CAP: u64 = 1 << 30;

/// A journal file opened to read: a regular file (a FIFO or device is refused at once)
/// of at most `SEGMENT_CAP`.
pub(super) fn open_segment(path: &std::path::Path) -> std::io::Result<File> {
    let file = super::bounded::open_regular(path)?;
    let len = file.metadata()?.len();
    if len > SEGMENT_CAP {
        return Err(std::io::Error::new(
            std::io::ErrorKind::FileTooLarge,
            format!(
                "it holds {}, past the {} a journal file can reach (pgssl rotates at 64 MiB)",
                super::bounded::size(len),
                super::bounded::size(SEGMENT_CAP)
            ),
        ));
    }
    Ok(file)
}

#[cfg(test)]
mod tests;
