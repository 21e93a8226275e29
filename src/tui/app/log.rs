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
    /// Every field, one per line, in full (Enter on the line shows them; `c` copies them).
    pub detail: Vec<String>,
    /// The change on this line, as the journal holds it (what `u` undoes); None for
    /// other lines.
    pub change: Option<Box<Entry>>,
}

/// The line that stands for the reads folded away, and a refresh in progress.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Folded {
    /// Reads that succeeded and are not shown one by one.
    pub reads: usize,
    /// The refresh under way (or last run): instances read so far, of how many.
    pub refresh: Option<(usize, usize)>,
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

/// The log as shown: with reads folded (`show_reads` off), successful reads leave the list
/// and one line on top counts them, with the refresh's progress.
pub fn shown<S: std::hash::BuildHasher>(
    journal: &[LogItem],
    calls: &VecDeque<LogItem>,
    progress: &HashMap<i64, Task, S>,
    show_reads: bool,
    folded: Folded,
) -> Vec<LogItem> {
    if show_reads {
        return merged(journal, calls, progress);
    }
    let kept: VecDeque<LogItem> = calls
        .iter()
        .filter(|c| c.kind != LogKind::Read || c.error.is_some())
        .cloned()
        .collect();
    let mut items = merged(journal, &kept, progress);
    if folded.reads > 0 || folded.refresh.is_some() {
        let refresh = folded
            .refresh
            .map(|(done, total)| format!("refreshed {done}/{total} · "))
            .unwrap_or_default();
        let status = format!("{refresh}{} reads ok (L shows each)", folded.reads);
        items.insert(
            0,
            LogItem {
                time: crate::store::now_rfc3339(),
                kind: LogKind::Read,
                instance: String::new(),
                action: "reads".into(),
                task_id: None,
                request_id: None,
                detail: vec![status.clone()],
                status,
                error: None,
                change: None,
            },
        );
    }
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
        detail: call_detail(r),
        change: None,
    }
}

fn call_detail(r: &CallRecord) -> Vec<String> {
    let mut d = vec![format!("Action: {}", r.action.name())];
    if let Some(region) = &r.region {
        d.push(format!("Region: {}", clean(region)));
    }
    d.push(format!(
        "RequestId: {}",
        r.request_id.as_deref().map_or_else(|| "-".into(), clean)
    ));
    match &r.error {
        Some(e) => d.push(format!("Error: {}", clean(&e.to_string()))),
        None => d.push("Result: ok".into()),
    }
    d
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
    let what = match (r.SSLEnabled, &r.ConnectAddress) {
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
        detail: entry_detail(e),
        change: Some(Box::new(e.clone())),
    }
}

/// Every field of a change, as the journal holds it.
fn entry_detail(e: &Entry) -> Vec<String> {
    let r = &e.request;
    let mut d = vec![
        format!("Change: {} on {}", r.action.name(), clean(&r.DBInstanceId)),
        format!(
            "Id: {}{}",
            clean(&r.id),
            r.run
                .as_deref()
                .map(|run| format!(" (bulk run {})", clean(run)))
                .unwrap_or_default()
        ),
        format!("Sent: {}", clean(&r.time)),
        format!("Region: {}", clean(&r.region)),
        format!(
            "Request: SSLEnabled {}, ConnectAddress {}",
            r.SSLEnabled,
            r.ConnectAddress
                .as_ref()
                .map_or_else(|| "-".into(), ToString::to_string)
        ),
        format!(
            "Credential: {}, SecretId {}{}{}",
            clean(&r.source),
            clean(&r.SecretId),
            r.profile
                .as_deref()
                .map(|p| format!(", profile {}", clean(p)))
                .unwrap_or_default(),
            r.account
                .as_deref()
                .map(|a| format!(", account {}", clean(a)))
                .unwrap_or_default()
        ),
        format!("Endpoint: {}", clean(&r.endpoint)),
    ];
    match &e.outcome {
        Some(Outcome::Ok { RequestId, TaskId }) => {
            d.push("Outcome: accepted".into());
            d.push(format!("RequestId: {}", clean(RequestId)));
            d.push(format!(
                "TaskId: {}",
                TaskId.map_or_else(|| "-".into(), |t| t.to_string())
            ));
        }
        Some(Outcome::Error {
            Code,
            Message,
            RequestId,
        }) => {
            d.push(format!("Outcome: error {}", clean(Code)));
            d.push(format!("Message: {}", clean(Message)));
            d.push(format!(
                "RequestId: {}",
                RequestId.as_deref().map_or_else(|| "-".into(), clean)
            ));
        }
        Some(Outcome::Unknown { detail }) => {
            d.push(format!("Outcome: unknown ({})", clean(detail)));
        }
        None => d.push(
            "Outcome: unknown (interrupted before a reply: check before sending again)".into(),
        ),
    }
    if let Some(t) = &e.task {
        d.push(format!(
            "Task {}: {}{} (as of {})",
            t.task_id,
            t.status,
            t.progress.map(|p| format!(" {p}%")).unwrap_or_default(),
            clean(&t.time)
        ));
        if let Some(m) = t.message.as_deref().filter(|_| t.status.is_failed()) {
            d.push(format!("Why: {}", clean(m)));
        }
        if !t.status.is_finished() {
            d.push(format!(
                "Follow it: {} task show {} --wait",
                crate::hint::pgssl(),
                t.task_id
            ));
        }
    }
    if let Some(c) = &e.check {
        d.push(format!(
            "Checked {}: {} — {}",
            clean(&c.time),
            c.result,
            clean(&c.detail)
        ));
    }
    if let Some(v) = &e.verify {
        d.push(format!(
            "TLS check {} of {}: {} — {}",
            clean(&v.time),
            clean(&v.address),
            v.result,
            clean(&v.detail)
        ));
    }
    d
}
