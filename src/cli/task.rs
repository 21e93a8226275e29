//! `pgssl task show`.

use serde::Serialize;

use super::args::TaskCommand;
use super::output::TaskProgress;
use super::ssl::TaskJson;
use super::{Io, Report, Text, open};
use crate::context::Context;
use crate::domain::Task;
use crate::ops::{self, FollowEnd, OpsError};
use crate::validate;

pub async fn run(ctx: &Context, cmd: TaskCommand, io: &mut Io<'_>) -> Result<(), OpsError> {
    let TaskCommand::Show {
        task_id,
        wait,
        follow,
        ..
    } = cmd;
    let task_id = validate::task_id(&task_id).map_err(OpsError::Invalid)?;
    let options = follow.options()?;
    let opened = open(ctx, io).await?;
    // The journal entry this task belongs to: its status is recorded there, and its
    // region is the task's.
    let entry = ctx.store.journal.for_task(task_id).ok().flatten();
    let region = match (&ctx.globals.region, &entry) {
        (None, Some(e)) => e.request.region.clone(),
        _ => super::region(ctx, &opened, None, io).await?,
    };
    let session = &opened.session;
    let (task, timed_out) = if wait {
        let mut progress = TaskProgress::default();
        let end = ops::follow::follow_task(
            session,
            &region,
            task_id,
            entry.as_ref().map(|e| e.request.id.as_str()),
            options,
            |t| progress.see(io, t),
        )
        .await?;
        match end {
            FollowEnd::Finished(t) => (t, false),
            FollowEnd::TimedOut(Some(t)) => (t, true),
            FollowEnd::TimedOut(None) => {
                return Err(OpsError::Failed(format!(
                    "gave up waiting after {}s: task {task_id} was never listed in {region}; check the id and --region",
                    options.timeout.as_secs()
                )));
            }
        }
    } else {
        ops::read::task(&session.client, &region, task_id)
            .await?
            .ok_or_else(|| match &entry {
                // The journal knows it: the API lists a task a moment after the change.
                Some(e) => OpsError::NotFound(format!(
                    "task {task_id} (the change to {} sent {}) is not listed yet: the API lists a task a moment after the change that made it; try again, or follow it with --wait",
                    e.request.DBInstanceId, e.request.time
                )),
                None => OpsError::NotFound(format!(
                    "no task {task_id} in {region}: check the id and --region"
                )),
            })
            .map(|t| (t, false))?
    };
    io.emit(&Shown {
        task: &task,
        timed_out,
    });
    if timed_out {
        return Err(OpsError::Failed(format!(
            "gave up waiting for task {task_id} after {}s; it continues on Tencent's side",
            options.timeout.as_secs()
        )));
    }
    Ok(())
}

struct Shown<'a> {
    task: &'a Task,
    timed_out: bool,
}

impl Serialize for Shown<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut v = serde_json::to_value(TaskJson::from(self.task, self.timed_out))
            .expect("a task serializes");
        v["DBInstanceId"] = serde_json::json!(self.task.instance_id);
        v["StartTime"] = serde_json::json!(self.task.start_time);
        v["EndTime"] = serde_json::json!(self.task.end_time);
        v.serialize(s)
    }
}

impl Report for Shown<'_> {
    fn text(&self, out: &mut Text) {
        let t = self.task;
        out.line(format!(
            "task {}: {} {}%  instance {}  started {} (UTC+8){}{}",
            t.task_id,
            t.status,
            t.progress.unwrap_or(0),
            t.instance_id.as_deref().unwrap_or("?"),
            t.start_time.as_deref().unwrap_or("?"),
            t.end_time
                .as_deref()
                .filter(|e| pgssl_wire::clock::beijing_to_unix(e).is_some())
                .map(|e| format!("  ended {e} (UTC+8)"))
                .unwrap_or_default(),
            t.current_step
                .as_deref()
                .map(|s| format!("  step {s}"))
                .unwrap_or_default(),
        ));
    }
}
