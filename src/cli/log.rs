//! `pgssl log`: the journal, one line per change (or one JSON object per line), newest
//! first.

use serde::Serialize;
use serde_json::json;

use super::args::LogArgs;
use super::{Io, instance_id};
use crate::context::Context;
use crate::ops::OpsError;
use crate::store::journal::{Entry, Outcome};

pub fn run(ctx: &Context, args: &LogArgs, io: &mut Io<'_>) -> Result<(), OpsError> {
    let only = args.instance.as_deref().map(instance_id).transpose()?;
    let journal = &ctx.store.journal;
    let path = crate::text::clean(&journal.path().display().to_string());
    if args.rotate {
        match journal.rotate().map_err(|e| journal.write_error(&e))? {
            Some(segment) => io.line(format!(
                "started a new journal; the old one is kept at {} (pgssl log still reads it)",
                crate::text::clean(&segment.display().to_string())
            )),
            None => io.info(format!("the journal {path} is empty: nothing to rotate")),
        }
        return Ok(());
    }
    // With --limit, read from the end: the cost is the changes shown, not the journal's size.
    let (mut entries, skipped) = match args.limit {
        Some(n) => journal.latest(n, only.as_deref()),
        None => journal.entries().map(|(all, skipped)| {
            let mine: Vec<Entry> = all
                .into_iter()
                .filter(|e| only.as_ref().is_none_or(|id| &e.request.DBInstanceId == id))
                .collect();
            (mine, skipped)
        }),
    }
    .map_err(|e| journal.read_error(&e))?;
    // Newest first, as the TUI's log; --oldest-first for the journal's own order.
    if !args.oldest_first {
        entries.reverse();
    }
    if skipped > 0 {
        io.info(format!(
            "warning: {skipped} unreadable lines in {path} were skipped"
        ));
    }
    if io.json_mode() {
        for e in &entries {
            io.json_line(&EntryJson(e));
        }
    } else if entries.is_empty() {
        io.info(match (&only, args.limit) {
            (Some(id), _) => format!("no change to {id} in {path}"),
            (None, Some(0)) => "--limit 0: nothing to show".to_string(),
            (None, _) => format!("no changes recorded yet in {path}"),
        });
    } else {
        for e in &entries {
            io.line(entry_line(e));
        }
    }
    Ok(())
}

/// One line per change for people.
pub fn entry_line(e: &Entry) -> String {
    let r = &e.request;
    let what = match (r.SSLEnabled, &r.ConnectAddress) {
        (true, Some(a)) => format!("enable {a}"),
        (true, None) => "enable ?".into(),
        (false, _) => "disable".into(),
    };
    let outcome = match &e.outcome {
        Some(Outcome::Ok { RequestId, TaskId }) => format!(
            "ok TaskId {} RequestId {RequestId}",
            TaskId.map_or_else(|| "-".into(), |t| t.to_string())
        ),
        Some(Outcome::Error {
            Code, RequestId, ..
        }) => format!(
            "error {Code}{}",
            RequestId
                .as_deref()
                .map(|r| format!(" RequestId {r}"))
                .unwrap_or_default()
        ),
        Some(Outcome::Unknown { .. }) => "outcome unknown".into(),
        None => "outcome unknown (interrupted before a reply)".into(),
    };
    let task = e
        .task
        .as_ref()
        .map(|t| {
            format!(
                "  task {}{}{}",
                t.status,
                t.progress.map(|p| format!(" {p}%")).unwrap_or_default(),
                t.message
                    .as_deref()
                    .filter(|_| t.status.is_failed())
                    .map(|m| format!(": {m}"))
                    .unwrap_or_default()
            )
        })
        .unwrap_or_default();
    let check = e
        .check
        .as_ref()
        .map(|c| format!("  checked: {}", c.result))
        .unwrap_or_default();
    let verify = e
        .verify
        .as_ref()
        .map(|v| format!("  tls: {}", v.result))
        .unwrap_or_default();
    // The ids `pgssl undo` takes: the change's, and its bulk run's.
    let run = r
        .run
        .as_deref()
        .map(|run| format!(" run {run}"))
        .unwrap_or_default();
    crate::text::clean(&format!(
        "{}  {}  {:<18} {:<22} {outcome}{task}{check}{verify}  change {}{run}",
        r.time, r.region, r.DBInstanceId, what, r.id
    ))
}

/// One change as `log --json` gives it, in the vocabulary of every command's JSON: the
/// request and its reply flat, what was learned later (task, check, verify) as objects.
struct EntryJson<'a>(&'a Entry);

impl Serialize for EntryJson<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let e = self.0;
        let r = &e.request;
        let (request_id, code, message, detail) = match &e.outcome {
            Some(Outcome::Ok { RequestId, .. }) => (Some(RequestId), None, None, None),
            Some(Outcome::Error {
                Code,
                Message,
                RequestId,
            }) => (RequestId.as_ref(), Some(Code), Some(Message), None),
            Some(Outcome::Unknown { detail }) => (None, None, None, Some(detail.as_str())),
            None => (None, None, None, Some("interrupted before a reply")),
        };
        json!({
            "change_id": r.id,
            // The bulk run it belongs to (`pgssl undo RUN` undoes them all).
            "run": r.run,
            "time": r.time,
            "DBInstanceId": r.DBInstanceId,
            "Region": r.region,
            "Action": r.action,
            "SSLEnabled": r.SSLEnabled,
            "ConnectAddress": r.ConnectAddress,
            // SSL as it was when the change left (what undoing it would restore).
            "before": r.before,
            "source": r.source,
            "profile": r.profile,
            "account": r.account,
            "SecretId": r.SecretId,
            "endpoint": r.endpoint,
            "outcome": e.outcome_word(),
            "RequestId": request_id,
            "TaskId": e.task_id(),
            "Code": code,
            // The API's refusal, or why the task failed or paused (TaskDetail.Message).
            "Message": message.map(String::as_str).or_else(|| {
                e.task
                    .as_ref()
                    .filter(|t| t.status.is_failed())
                    .and_then(|t| t.message.as_deref())
            }),
            "detail": detail,
            "task": e.task.as_ref().map(|t| json!({
                "TaskId": t.task_id,
                "Status": t.status,
                "Progress": t.progress,
                "CurrentStep": t.step,
                "Message": t.message,
                "time": t.time,
            })),
            "check": e.check.as_ref().map(|c| json!({
                "result": c.result,
                "detail": c.detail,
                "time": c.time,
            })),
            "verify": e.verify.as_ref().map(|v| json!({
                "address": v.address,
                "result": v.result,
                "detail": v.detail,
                "time": v.time,
            })),
            "census": &e.census,
        })
        .serialize(s)
    }
}
