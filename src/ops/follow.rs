//! A task followed to its end: DescribeTasks polled until Success, Fail or Pause, each
//! change of status journaled under the change it belongs to.

use std::time::Duration;

use super::check::{Wanted, check};
use super::{OpsError, Session, read};
use crate::domain::{CheckResult, Task, TaskStatus};
use crate::store::journal::{Entry, Outcome, Record, SETTLE_AFTER_SECS};
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

/// At most this many unfinished changes are looked at before a CLI change (oldest
/// first), all at once: a change never waits on a long tail of old tasks.
pub const SETTLE_AT_MOST: usize = 10;
/// ... and only those sent at least this long ago (seconds).
pub const SETTLE_MIN_AGE: i64 = 60;

/// A change the journal holds as not finished: its task was last seen running (or never
/// seen), or its outcome is unknown and no check has settled it. Sent by this process or
/// by another (the CLI, an earlier TUI that quit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unfinished {
    pub journal_id: String,
    pub region: String,
    pub instance_id: String,
    /// None: the outcome is unknown (a check, not a follow, comes first).
    pub task_id: Option<i64>,
    /// When it was sent (RFC 3339, as journaled).
    pub sent: String,
    /// Its last journaled status and progress, if any.
    pub last: Option<(TaskStatus, Option<i64>)>,
    /// What it asked for (to compare the instance with when its outcome is unknown).
    pub enabled: bool,
    pub address: Option<std::net::IpAddr>,
}

impl Unfinished {
    /// The change `entry` records, if it is unfinished at `now` (unix seconds). A request
    /// with no outcome line yet that is younger than `SETTLE_AFTER_SECS` is taken to be in
    /// flight in another process, not lost: that process will write its outcome.
    pub fn of(entry: &Entry, now: i64) -> Option<Unfinished> {
        if entry.request.action != crate::api::Action::ModifyDBInstanceSSLConfig {
            return None;
        }
        let task_id = match &entry.outcome {
            Some(Outcome::Ok {
                TaskId: Some(id), ..
            }) => Some(*id),
            // Accepted without a TaskId: nothing to follow.
            Some(Outcome::Ok { TaskId: None, .. } | Outcome::Error { .. }) => return None,
            Some(Outcome::Unknown { .. }) => {
                if !entry.is_unresolved_unknown() {
                    return None;
                }
                None
            }
            None => {
                let sent = pgssl_wire::clock::rfc3339_to_unix(&entry.request.time).unwrap_or(0);
                if !entry.is_unresolved_unknown() || now - sent < SETTLE_AFTER_SECS {
                    return None;
                }
                None
            }
        };
        if entry.task.as_ref().is_some_and(|t| t.status.is_finished()) {
            return None;
        }
        Some(Unfinished {
            journal_id: entry.request.id.clone(),
            region: entry.request.region.clone(),
            instance_id: entry.request.DBInstanceId.clone(),
            task_id,
            sent: entry.request.time.clone(),
            last: entry.task.as_ref().map(|t| (t.status, t.progress)),
            enabled: entry.request.SSLEnabled,
            address: entry.request.ConnectAddress,
        })
    }
}

/// The unfinished changes among `entries` at `now` (unix seconds), oldest first.
pub fn unfinished(entries: &[Entry], now: i64) -> Vec<Unfinished> {
    entries
        .iter()
        .filter_map(|e| Unfinished::of(e, now))
        .collect()
}

/// The unfinished changes the journal holds (from its small index, not the whole file).
pub fn unfinished_in(store: &crate::store::Store) -> Result<Vec<Unfinished>, OpsError> {
    let journal = &store.journal;
    let entries = journal
        .unfinished()
        .map_err(|e| OpsError::Journal(journal.read_error(&e)))?;
    Ok(unfinished(&entries, pgssl_wire::clock::unix_now()))
}

/// What picking up an unfinished change came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resumed {
    /// Its task was followed (to its end, or until the follow gave up).
    Followed(FollowEnd),
    /// Its outcome was unknown: the instance was looked at and the finding journaled.
    Checked(CheckResult),
}

/// Pick up an unfinished change: follow its task (journaling each new status under the
/// change), or, when its outcome is unknown, look at the instance and journal what was
/// found. Never sends anything.
pub async fn resume(
    session: &Session,
    u: &Unfinished,
    options: FollowOptions,
    on_update: impl FnMut(&Task),
) -> Result<Resumed, OpsError> {
    if let Some(task_id) = u.task_id {
        return follow_task(
            session,
            &u.region,
            task_id,
            Some(&u.journal_id),
            options,
            on_update,
        )
        .await
        .map(Resumed::Followed);
    }
    // Its outcome is unknown: look at the instance, and journal what was found.
    let wanted = Wanted {
        enabled: u.enabled,
        address: u.address,
        sent_at: pgssl_wire::clock::rfc3339_to_unix(&u.sent).unwrap_or(0),
    };
    let found = check(session, &u.region, &u.instance_id, wanted).await;
    let _ = session.store.journal.append(&Record::Check {
        id: u.journal_id.clone(),
        time: now_rfc3339(),
        result: found.result,
        detail: found.detail.clone(),
    });
    Ok(Resumed::Checked(found))
}

/// Look once at every unfinished change (no waiting): each task's status as it is now
/// is journaled, each unknown outcome checked. What the CLI does before a change, so the
/// journal and `pgssl log` never go on saying "Running 0%" about a task long ended.
pub async fn settle_unfinished(session: &Session) -> Vec<(Unfinished, Result<Resumed, OpsError>)> {
    let Ok(list) = unfinished_in(&session.store) else {
        return Vec::new();
    };
    let once = FollowOptions {
        poll: Duration::ZERO,
        timeout: Duration::ZERO,
    };
    // Changes sent in the last minute are someone's to follow (a bulk run, another
    // shell): only the ones left behind are looked at.
    let now = pgssl_wire::clock::unix_now();
    let left_behind = |u: &Unfinished| {
        pgssl_wire::clock::rfc3339_to_unix(&u.sent).is_none_or(|t| now - t >= SETTLE_MIN_AGE)
    };
    let looks = list
        .into_iter()
        .filter(left_behind)
        .take(SETTLE_AT_MOST)
        .map(|u| async move {
            let r = resume(session, &u, once, |_| {}).await;
            (u, r)
        });
    futures_util::future::join_all(looks).await
}
