//! A task followed to its end: DescribeTasks polled until Success, Fail or Pause, each
//! change of status journaled under the change it belongs to.

use std::time::Duration;

use super::{OpsError, Session, read};
use crate::domain::{Task, TaskStatus};
use crate::store::journal::Record;
use crate::store::now_rfc3339;

/// The longest pgssl follows a task.
pub const MAX_FOLLOW: Duration = Duration::from_secs(7 * 86_400);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FollowOptions {
    pub poll: Duration,
    pub timeout: Duration,
}

impl Default for FollowOptions {
    fn default() -> Self {
        FollowOptions {
            poll: Duration::from_secs(2),
            timeout: Duration::from_secs(30 * 60),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FollowEnd {
    Finished(Task),
    /// Waiting gave up; the last state seen, if the task was ever listed.
    TimedOut(Option<Task>),
}

impl FollowEnd {
    /// The task ended with Success.
    pub fn succeeded(&self) -> bool {
        matches!(self, FollowEnd::Finished(t) if t.status == TaskStatus::Success)
    }
}

/// Follow a task to Success/Fail/Pause or until `options.timeout` (at most a week),
/// journaling status changes under `journal_id` when given. `on_update` sees every poll
/// that lists the task.
pub async fn follow_task(
    session: &Session,
    region: &str,
    task_id: i64,
    journal_id: Option<&str>,
    options: FollowOptions,
    mut on_update: impl FnMut(&Task),
) -> Result<FollowEnd, OpsError> {
    let now = tokio::time::Instant::now();
    let deadline = now
        .checked_add(options.timeout.min(MAX_FOLLOW))
        .unwrap_or(now);
    let mut last_status: Option<TaskStatus> = None;
    let mut last: Option<Task> = None;
    loop {
        if let Some(task) = read::task(&session.client, region, task_id).await? {
            on_update(&task);
            if last_status != Some(task.status) {
                last_status = Some(task.status);
                if let Some(id) = journal_id {
                    // Best effort: a journal line after the fact must not stop the follow.
                    let _ = session.store.journal.append(&Record::Task {
                        id: id.to_string(),
                        time: now_rfc3339(),
                        TaskId: task_id,
                        Status: task.status,
                        Progress: task.progress,
                    });
                }
            }
            if task.status.is_finished() {
                return Ok(FollowEnd::Finished(task));
            }
            last = Some(task);
        }
        let now = tokio::time::Instant::now();
        if now >= deadline {
            return Ok(FollowEnd::TimedOut(last));
        }
        tokio::time::sleep(options.poll.min(deadline - now)).await;
    }
}
