//! `pgssl task show`.

use serde::Serialize;

use super::args::TaskCommand;
use super::output::TaskProgress;
use super::ssl::TaskJson;
use super::{Io, Report, Text};
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
    let task_id = validate::task_id(&task_id).map_err(OpsError::Usage)?;
    let options = follow.options()?;
    let opened = ctx.open().await?;
    // The change this task belongs to, if pgssl sent it: its status is recorded there, and
    // its region and instance are the task's. `--region` still decides; a task of the same
    // id in another region is another task.
    let entry = ctx
        .store
        .journal
        .for_task(task_id)
        .unwrap_or_else(|e| {
            io.info(format!("warning: {}", ctx.store.journal.read_error(&e)));
            None
        })
        .filter(|e| {
            ctx.globals
                .region
                .as_ref()
                .is_none_or(|r| *r == e.request.region)
        });
    // The region is settled before anything is asked of the API: without one, nothing is sent.
    let region = match (&ctx.globals.region, &entry) {
        (None, Some(e)) => e.request.region.clone(),
        (Some(_), _) => ctx.region_for(None, None)?,
        (None, None) => ctx
            .region_for(None, opened.credential_region.as_deref())
            .map_err(|_| {
                OpsError::Usage(format!(
                    "task {task_id} is not in pgssl's journal, so its region is unknown: pass --region REGION (e.g. --region ap-guangzhou); nothing was sent"
                ))
            })?,
    };
    super::announce(&opened, io).await;
    if entry.is_none() {
        super::confirm(ctx, &opened, &region).await?;
    }
    let session = &opened.session;
    let instance = entry.as_ref().map(|e| e.request.DBInstanceId.clone());
    let (mut task, end) = if wait {
        let mut progress = TaskProgress::default();
        let end = ops::follow::follow_task(
            session,
            &region,
            task_id,
            entry.as_ref().map(|e| e.request.id.as_str()),
            options,
            // The end is said once, by the result line below.
            |t| {
                if !t.status.is_finished() {
                    progress.see(io, t);
                }
            },
        )
        .await;
        match end.last().cloned() {
            Some(t) => (t, Some(end)),
            None => {
                return Err(end
                    .error(task_id, instance.as_deref(), &region)
                    .unwrap_or_else(|| OpsError::Failed(format!("task {task_id}: no state"))));
            }
        }
    } else {
        let task = ops::read::task(&session.client, &region, task_id)
            .await?
            .ok_or_else(|| match &entry {
                // The journal knows it: the API lists a task a moment after the change.
                Some(e) => OpsError::StillRunning(format!(
                    "task {task_id} (the change to {} sent {}) is not listed yet: the API lists a task a moment after the change that made it; try again, or follow it with --wait",
                    e.request.DBInstanceId, e.request.time
                )),
                None => OpsError::NotFound(format!(
                    "no task {task_id} in {region}: check the id and --region"
                )),
            })?;
        (task, None)
    };
    if let (None, Some(i)) = (&task.instance_id, &instance) {
        task.instance_id = Some(i.clone());
    }
    let timed_out = end
        .as_ref()
        .is_some_and(|e| !matches!(e, FollowEnd::Finished(_)));
    // A wait that ended otherwise than done says so in its error line; a result line
    // would say it twice (JSON still gets the document).
    let error = match &end {
        Some(end) => end.error(task_id, task.instance_id.as_deref(), &region),
        None if task.status.is_finished() => {
            FollowEnd::Finished(task.clone()).error(task_id, task.instance_id.as_deref(), &region)
        }
        None => None,
    };
    if error.is_none() || io.json_mode() {
        io.emit(&Shown {
            task: &task,
            region: &region,
            timed_out,
        });
    }
    error.map_or(Ok(()), Err)
}

struct Shown<'a> {
    task: &'a Task,
    region: &'a str,
    timed_out: bool,
}

impl Serialize for Shown<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut v = serde_json::to_value(TaskJson::from(self.task, self.timed_out))
            .map_err(serde::ser::Error::custom)?;
        v["DBInstanceId"] = serde_json::json!(self.task.instance_id);
        v["Region"] = serde_json::json!(self.region);
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
