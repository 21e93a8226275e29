//! The outcome of a bulk run as the CLI gives it: a row per change (the table on
//! stdout, `--output json` for scripts), and the exit code.

use serde::Serialize;

use super::super::{Io, Report, Text};
use crate::ops::OpsError;
use crate::ops::bulk::schedule::{Item, Schedule, State};
use crate::ops::bulk::{BulkPlan, Skipped};

/// One change of the run as the table and `--output json` show it.
#[derive(Serialize)]
#[allow(non_snake_case)]
struct Row {
    DBInstanceId: String,
    Region: String,
    SSLEnabled: bool,
    ConnectAddress: Option<String>,
    result: &'static str,
    TaskId: Option<i64>,
    RequestId: Option<String>,
    since: String,
    error: Option<String>,
}

impl Row {
    fn of(item: &Item) -> Row {
        let request = item.plan.request();
        let (request_id, error) = match &item.state {
            State::Running { request_id, .. } => {
                (Some(request_id.clone()).filter(|r| !r.is_empty()), None)
            }
            State::Ended {
                request_id,
                message,
                status,
                ..
            } => (
                request_id.clone().filter(|r| !r.is_empty()),
                message
                    .clone()
                    .filter(|_| *status != crate::domain::TaskStatus::Success),
            ),
            State::Refused { error } | State::Unknown { error } => (None, Some(error.clone())),
            State::GaveUp { why, .. } | State::NotSent { why } => (None, Some(why.clone())),
            State::Waiting | State::Sending | State::AsAsked { .. } => (None, None),
        };
        Row {
            DBInstanceId: item.plan.instance.id.clone(),
            Region: item.plan.instance.region.clone(),
            SSLEnabled: request.SSLEnabled,
            ConnectAddress: request.ConnectAddress,
            result: item.state.word(),
            TaskId: item.state.task_id(),
            RequestId: request_id,
            since: item.since.clone(),
            error,
        }
    }
}

#[derive(Serialize)]
pub(super) struct Outcome {
    run: Option<String>,
    changes: Vec<Row>,
    unchanged: Vec<String>,
    skipped: Vec<Skipped>,
    stopped: Option<String>,
}

impl Outcome {
    /// No run: nothing to resume.
    pub(super) fn nothing() -> Outcome {
        Outcome {
            run: None,
            changes: vec![],
            unchanged: vec![],
            skipped: vec![],
            stopped: None,
        }
    }

    pub(super) fn planned(plan: &BulkPlan, run: Option<&str>) -> Outcome {
        Outcome {
            run: run.map(str::to_string),
            changes: vec![],
            unchanged: plan.unchanged.iter().map(|i| i.id.clone()).collect(),
            skipped: plan.skipped.clone(),
            stopped: None,
        }
    }
}

impl Report for Outcome {
    fn text(&self, out: &mut Text) {
        if self.changes.is_empty() {
            out.line("nothing to change: nothing sent");
            return;
        }
        out.line(format!(
            "{:<18} {:<9} {:>9}  {:<20}  ERROR",
            "INSTANCE", "RESULT", "TASKID", "SINCE"
        ));
        for r in &self.changes {
            out.line(format!(
                "{:<18} {:<9} {:>9}  {:<20}  {}",
                r.DBInstanceId,
                r.result,
                r.TaskId.map_or_else(|| "-".into(), |t| t.to_string()),
                r.since,
                r.error.as_deref().unwrap_or("")
            ));
        }
        let mut counts: Vec<(&str, usize)> = Vec::new();
        for r in &self.changes {
            match counts.iter_mut().find(|(w, _)| *w == r.result) {
                Some((_, n)) => *n += 1,
                None => counts.push((r.result, 1)),
            }
        }
        out.line(format!(
            "{} changes: {}{}{}",
            self.changes.len(),
            counts
                .iter()
                .map(|(w, n)| format!("{n} {w}"))
                .collect::<Vec<_>>()
                .join(", "),
            if self.unchanged.is_empty() {
                String::new()
            } else {
                format!("; {} already as asked", self.unchanged.len())
            },
            if self.skipped.is_empty() {
                String::new()
            } else {
                format!("; {} skipped", self.skipped.len())
            }
        ));
        if let Some(s) = &self.stopped {
            out.line(s.clone());
        }
    }
}

/// The table, the JSON, and the exit code (`Schedule::verdict`, the one contract).
pub(super) fn finish(
    plan: &BulkPlan,
    run: &str,
    schedule: &Schedule,
    io: &mut Io<'_>,
) -> Result<(), OpsError> {
    let mut outcome = Outcome::planned(plan, Some(run));
    outcome.changes = schedule.items.iter().map(Row::of).collect();
    outcome.stopped.clone_from(&schedule.stopped);
    io.emit(&outcome);
    schedule.verdict()
}
