//! The log pane's lines: every change from the journal (CLI runs included), the reads
//! this session made, and TLS checks, newest first.

use std::collections::{HashMap, VecDeque};

use crate::api::client::CallRecord;
use crate::domain::Task;
use crate::store::journal::{Entry, Outcome};
use crate::text::clean;

/// What a log line is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogKind {
    /// A change from the journal.
    Change,
    /// A read this session made.
    Read,
    /// A TLS check.
    Verify,
    /// A temporary key renewed, or not.
    Credential,
}

/// One line of the log pane.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogItem {
    pub time: String,
    pub kind: LogKind,
    pub instance: String,
    pub action: String,
    pub task_id: Option<i64>,
    pub request_id: Option<String>,
    /// Outcome, task status and progress, e.g. "ok" or "Running 40%".
    pub status: String,
    pub error: Option<String>,
}

/// Journal lines (with live task progress) and other lines, merged newest first.
pub fn merged<S: std::hash::BuildHasher>(
    journal: &[LogItem],
    calls: &VecDeque<LogItem>,
    progress: &HashMap<i64, Task, S>,
) -> Vec<LogItem> {
    let mut items: Vec<LogItem> = journal
        .iter()
        .map(|i| {
            let mut i = i.clone();
            if let Some(t) = i.task_id.and_then(|t| progress.get(&t)) {
                i.status = format!(
                    "{}{}",
                    t.status,
                    t.progress.map(|p| format!(" {p}%")).unwrap_or_default()
                );
            }
            i
        })
        .chain(calls.iter().cloned())
        .collect();
    // Stable: equal times keep journal order.
    items.sort_by(|a, b| b.time.cmp(&a.time));
    items
}

pub fn from_call(r: &CallRecord) -> LogItem {
    LogItem {
        time: crate::store::now_rfc3339(),
        kind: LogKind::Read,
        instance: r.region.as_deref().map(clean).unwrap_or_default(),
        action: r.action.name().into(),
        task_id: None,
        request_id: r.request_id.as_deref().map(clean),
        status: if r.error.is_some() {
            "error".into()
        } else {
            "ok".into()
        },
        error: r.error.as_ref().map(|e| clean(&e.to_string())),
    }
}

pub fn from_entry(e: &Entry) -> LogItem {
    let r = &e.request;
    let (status, request_id, error) = match &e.outcome {
        Some(Outcome::Ok { RequestId, .. }) => ("ok".to_string(), Some(RequestId.clone()), None),
        Some(Outcome::Error {
            Code,
            Message,
            RequestId,
        }) => (
            format!("error {Code}"),
            RequestId.clone(),
            Some(Message.clone()),
        ),
        Some(Outcome::Unknown { detail }) => ("outcome unknown".into(), None, Some(detail.clone())),
        None => (
            "outcome unknown".into(),
            None,
            Some("interrupted before a reply: check before sending again".into()),
        ),
    };
    let status = match (&e.task, &e.check) {
        (Some(t), _) => format!(
            "{}{}",
            t.status,
            t.progress.map(|p| format!(" {p}%")).unwrap_or_default()
        ),
        (None, Some(c)) => format!("{status}, checked: {}", c.result),
        _ => status,
    };
    let status = match &e.verify {
        Some(v) => format!("{status} · tls {}", v.result),
        None => status,
    };
    let what = match (r.SSLEnabled, r.ConnectAddress) {
        (true, Some(a)) => format!("enable {a}"),
        (true, None) => "enable ?".into(),
        (false, _) => "disable".into(),
    };
    LogItem {
        time: clean(&r.time),
        kind: LogKind::Change,
        instance: clean(&r.DBInstanceId),
        action: what,
        task_id: e.task_id(),
        request_id: request_id.as_deref().map(clean),
        status: clean(&status),
        error: error.as_deref().map(clean),
    }
}
