//! A task followed to its end, by one set of rules wherever it is followed (a single
//! change, each change of a bulk run, `task show --wait`, the TUI): `Watch` decides,
//! purely, what each poll of DescribeTasks means (one deadline, one error budget, the
//! grace for a task not listed yet), and every status or step it sees is journaled under
//! the change, with the API's message when the task fails or pauses.

use std::time::Duration;

use tokio::time::Instant;

use super::check::{Wanted, check};
use super::{OpsError, Session, read};
use crate::api::ApiError;
use crate::domain::{CheckResult, Task, TaskStatus};
use crate::store::journal::{Entry, Outcome, Record, SETTLE_AFTER_SECS};
use crate::store::now_rfc3339;

/// The longest pgssl follows a task.
pub const MAX_FOLLOW: Duration = Duration::from_secs(7 * 86_400);

/// DescribeTasks failing this many times in a row ends a follow: the task's outcome is
/// then unknown (it goes on without pgssl), and saying so beats polling a dead endpoint
/// for half an hour.
pub const ERROR_BUDGET: u32 = 5;

/// How long a task neither the journal nor the API knows is waited for before pgssl says
/// there is no such task. The API lists a task a moment after the change that made it
/// (seconds); 30 s leaves room for a slow listing while a mistyped TaskId still ends
/// quickly instead of waiting out the whole follow (30 minutes by default).
pub const UNKNOWN_TASK_GRACE: Duration = Duration::from_secs(30);

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

impl FollowOptions {
    /// One look, no waiting.
    pub const ONCE: FollowOptions = FollowOptions {
        poll: Duration::ZERO,
        timeout: Duration::ZERO,
    };
}

/// How following a task ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FollowEnd {
    /// Success, Fail or Pause.
    Finished(Task),
    /// Waiting gave up after `waited` while the task still ran; the last state seen, if
    /// it was listed.
    TimedOut {
        last: Option<Task>,
        waited: Duration,
    },
    /// The API never listed it, and the journal does not know it: no such task.
    NeverListed { waited: Duration },
    /// DescribeTasks failed `ERROR_BUDGET` times in a row; the last error. The task may
    /// still be running.
    Unreadable { error: String, last: Option<Task> },
}

impl FollowEnd {
    /// The task ended with Success.
    pub fn succeeded(&self) -> bool {
        matches!(self, FollowEnd::Finished(t) if t.status == TaskStatus::Success)
    }

    /// One word for scripts: finished, timed_out, never_listed, unreadable.
    pub fn word(&self) -> &'static str {
        match self {
            FollowEnd::Finished(_) => "finished",
            FollowEnd::TimedOut { .. } => "timed_out",
            FollowEnd::NeverListed { .. } => "never_listed",
            FollowEnd::Unreadable { .. } => "unreadable",
        }
    }

    /// The task was last seen in this state.
    pub fn last(&self) -> Option<&Task> {
        match self {
            FollowEnd::Finished(t) => Some(t),
            FollowEnd::TimedOut { last, .. } | FollowEnd::Unreadable { last, .. } => last.as_ref(),
            FollowEnd::NeverListed { .. } => None,
        }
    }

    /// The exit-code contract (`ops::exit`): done, failed, or still running/unknown.
    pub fn exit(&self) -> i32 {
        match self {
            FollowEnd::Finished(t) if t.status == TaskStatus::Success => super::exit::DONE,
            FollowEnd::Finished(_) | FollowEnd::NeverListed { .. } => super::exit::FAILED,
            FollowEnd::TimedOut { .. } | FollowEnd::Unreadable { .. } => super::exit::UNKNOWN,
        }
    }

    /// One sentence for how following task `task_id` (of `instance`, in `region`) ended,
    /// the same in every face: the status and, when it failed, the API's reason; when it
    /// goes on without pgssl, the command that follows it.
    pub fn describe(&self, task_id: i64, instance: Option<&str>, region: &str) -> String {
        let on = instance.map(|i| format!(" on {i}")).unwrap_or_default();
        // The journal knows the region of a task pgssl sent: no --region needed.
        let follow = format!(
            "follow it with: {} task show {task_id} --wait",
            crate::hint::pgssl()
        );
        let last = |t: &Option<Task>| {
            t.as_ref().map_or_else(
                || "not listed yet".to_string(),
                |t| format!("last status {} {}%", t.status, t.progress.unwrap_or(0)),
            )
        };
        match self {
            FollowEnd::Finished(t) => format!(
                "task {task_id}{on} ended {}{}",
                t.status,
                t.message
                    .as_deref()
                    .filter(|m| t.status.is_failed() && !m.is_empty())
                    .map(|m| format!(": {}", crate::text::clean(m)))
                    .unwrap_or_default()
            ),
            FollowEnd::TimedOut { last: t, waited } => format!(
                "gave up waiting after {}s: task {task_id}{on} is still running ({}) and goes on without pgssl; {follow}",
                waited.as_secs(),
                last(t)
            ),
            FollowEnd::NeverListed { waited } => format!(
                "task {task_id} is not listed in {region} (waited {}s) and pgssl's journal does not know it: check the TaskId and --region",
                waited.as_secs()
            ),
            FollowEnd::Unreadable { error, last: t } => format!(
                "could not follow task {task_id}{on}: {error}; it may still be running ({}); {follow}",
                last(t)
            ),
        }
    }

    /// The command's error for this end, None when the task succeeded: what the faces
    /// exit with (`exit`).
    pub fn error(&self, task_id: i64, instance: Option<&str>, region: &str) -> Option<OpsError> {
        let text = || self.describe(task_id, instance, region);
        match self.exit() {
            super::exit::DONE => None,
            super::exit::FAILED => Some(OpsError::Failed(text())),
            _ => Some(OpsError::StillRunning(text())),
        }
    }
}

/// What a poll came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Poll again after this long.
    Again(Duration),
    Ended(FollowEnd),
}

/// One task followed: pure (the caller polls and passes the time), so the rules are the
/// same for every face and path, and tested without a clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watch {
    pub task_id: i64,
    /// The change it belongs to in the journal: the journal then knows the task, so a
    /// late listing is waited for as long as the follow lasts.
    pub journal_id: Option<String>,
    poll: Duration,
    started: Instant,
    deadline: Instant,
    errors: u32,
    last_error: Option<String>,
    last: Option<Task>,
    /// What was last journaled: the status and the step.
    journaled: Option<(TaskStatus, Option<String>)>,
}

impl Watch {
    pub fn new(
        task_id: i64,
        journal_id: Option<String>,
        options: FollowOptions,
        now: Instant,
    ) -> Watch {
        Watch {
            task_id,
            journal_id,
            poll: options.poll,
            started: now,
            deadline: now
                .checked_add(options.timeout.min(MAX_FOLLOW))
                .unwrap_or(now),
            errors: 0,
            last_error: None,
            last: None,
            journaled: None,
        }
    }

    /// The last state seen.
    pub fn last(&self) -> Option<&Task> {
        self.last.as_ref()
    }

    /// A poll's answer at `now`: the journal line it calls for (a new status or step,
    /// under the change), and what comes next.
    pub fn seen(
        &mut self,
        polled: &Result<Option<Task>, ApiError>,
        now: Instant,
    ) -> (Option<Record>, Step) {
        let mut line = None;
        match polled {
            Ok(Some(task)) => {
                let task = task.clone();
                self.errors = 0;
                let key = (task.status, task.current_step.clone());
                if self.journaled.as_ref() != Some(&key) {
                    self.journaled = Some(key);
                    line = self.journal_id.as_deref().map(|id| Record::task(id, &task));
                }
                let finished = task.status.is_finished();
                self.last = Some(task);
                if finished {
                    let task = self.last.clone().expect("just set");
                    return (line, Step::Ended(FollowEnd::Finished(task)));
                }
            }
            Ok(None) => {
                self.errors = 0;
                let waited = now.saturating_duration_since(self.started);
                if self.last.is_none() && self.journal_id.is_none() && waited >= UNKNOWN_TASK_GRACE
                {
                    return (line, Step::Ended(FollowEnd::NeverListed { waited }));
                }
            }
            Err(e) => {
                self.errors += 1;
                self.last_error = Some(e.to_string());
                if self.errors >= ERROR_BUDGET {
                    return (
                        line,
                        Step::Ended(FollowEnd::Unreadable {
                            error: format!(
                                "DescribeTasks failed {ERROR_BUDGET} times in a row ({e})"
                            ),
                            last: self.last.clone(),
                        }),
                    );
                }
            }
        }
        let waited = now.saturating_duration_since(self.started);
        if now >= self.deadline && self.last.is_none() && self.journal_id.is_none() {
            // A wait shorter than the grace: still nobody knows the task.
            return (line, Step::Ended(FollowEnd::NeverListed { waited }));
        }
        if now >= self.deadline {
            return (
                line,
                Step::Ended(FollowEnd::TimedOut {
                    last: self.last.clone(),
                    waited: now.saturating_duration_since(self.started),
                }),
            );
        }
        let mut wait = self.poll.min(self.deadline - now);
        // A task not listed yet, unknown to the journal: the grace ends the wait, not the
        // deadline.
        if self.last.is_none() && self.journal_id.is_none() {
            let grace_end = self.started + UNKNOWN_TASK_GRACE;
            wait = wait.min(grace_end.saturating_duration_since(now));
        }
        (line, Step::Again(wait))
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
) -> FollowEnd {
    let mut watch = Watch::new(
        task_id,
        journal_id.map(str::to_string),
        options,
        Instant::now(),
    );
    loop {
        let polled = read::task(&session.client, region, task_id).await;
        if let Ok(Some(task)) = &polled {
            on_update(task);
        }
        let (line, step) = watch.seen(&polled, Instant::now());
        journal(session, line);
        match step {
            Step::Ended(end) => return end,
            Step::Again(after) => tokio::time::sleep(after).await,
        }
    }
}

/// Best effort: a journal line after the fact must not stop a follow.
pub(crate) fn journal(session: &Session, line: Option<Record>) {
    if let Some(line) = line {
        let _ = session.store.journal.append(&line);
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
    pub address: Option<crate::addresses::Host>,
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
            address: entry.request.ConnectAddress.clone(),
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
        return Ok(Resumed::Followed(
            follow_task(
                session,
                &u.region,
                task_id,
                Some(&u.journal_id),
                options,
                on_update,
            )
            .await,
        ));
    }
    // Its outcome is unknown: look at the instance, and journal what was found.
    let wanted = Wanted {
        enabled: u.enabled,
        address: u.address.clone(),
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
    let once = FollowOptions::ONCE;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn task(status: TaskStatus, step: &str) -> Task {
        Task {
            task_id: 7,
            status,
            progress: Some(50),
            instance_id: Some("postgres-aaaa0001".into()),
            task_type: None,
            start_time: None,
            end_time: None,
            started_unix: None,
            message: Some("disk full".into()),
            current_step: Some(step.into()),
        }
    }

    fn options(timeout: u64) -> FollowOptions {
        FollowOptions {
            poll: Duration::from_secs(2),
            timeout: Duration::from_secs(timeout),
        }
    }

    #[test]
    fn each_new_status_or_step_is_journaled_once_and_a_failure_keeps_its_message() {
        let t0 = Instant::now();
        let mut w = Watch::new(7, Some("j1".into()), options(60), t0);
        let (line, step) = w.seen(&Ok(Some(task(TaskStatus::Running, "a"))), t0);
        assert!(matches!(line, Some(Record::Task { Message: None, .. })));
        assert_eq!(step, Step::Again(Duration::from_secs(2)));
        let (line, _) = w.seen(&Ok(Some(task(TaskStatus::Running, "a"))), t0);
        assert_eq!(line, None, "nothing new");
        let (line, _) = w.seen(&Ok(Some(task(TaskStatus::Running, "b"))), t0);
        assert!(
            matches!(line, Some(Record::Task { CurrentStep: Some(s), .. }) if s == "b"),
            "a new step is journaled"
        );
        let (line, step) = w.seen(&Ok(Some(task(TaskStatus::Fail, "b"))), t0);
        assert!(
            matches!(&line, Some(Record::Task { Message: Some(m), Status: TaskStatus::Fail, .. }) if m == "disk full"),
            "{line:?}"
        );
        let Step::Ended(end) = step else {
            panic!("{step:?}")
        };
        assert_eq!(end.exit(), crate::ops::exit::FAILED);
    }

    #[test]
    fn an_unknown_task_ends_after_the_grace_a_journaled_one_is_waited_for() {
        let t0 = Instant::now();
        let mut unknown = Watch::new(7, None, options(1800), t0);
        assert!(matches!(unknown.seen(&Ok(None), t0).1, Step::Again(_)));
        let (_, step) = unknown.seen(&Ok(None), t0 + UNKNOWN_TASK_GRACE);
        let Step::Ended(end) = step else {
            panic!("{step:?}")
        };
        assert!(matches!(end, FollowEnd::NeverListed { .. }));
        assert_eq!(end.exit(), crate::ops::exit::FAILED);
        // The wait never runs past the grace.
        let mut unknown = Watch::new(7, None, options(1800), t0);
        assert_eq!(
            unknown.seen(&Ok(None), t0 + Duration::from_secs(29)).1,
            Step::Again(Duration::from_secs(1))
        );
        // Sent by pgssl: listed late is still listed.
        let mut known = Watch::new(7, Some("j1".into()), options(1800), t0);
        assert!(matches!(
            known.seen(&Ok(None), t0 + Duration::from_secs(600)).1,
            Step::Again(_)
        ));
    }

    #[test]
    fn the_error_budget_and_the_deadline_end_a_follow_as_unknown() {
        let t0 = Instant::now();
        let e = ApiError::OutcomeUnknown {
            action: crate::api::Action::DescribeTasks,
            detail: "timed out".into(),
        };
        let mut w = Watch::new(7, Some("j1".into()), options(1800), t0);
        w.seen(&Ok(Some(task(TaskStatus::Running, "a"))), t0);
        for _ in 1..ERROR_BUDGET {
            assert!(matches!(w.seen(&Err(e.clone()), t0).1, Step::Again(_)));
        }
        let Step::Ended(end) = w.seen(&Err(e.clone()), t0).1 else {
            panic!("budget")
        };
        assert!(matches!(&end, FollowEnd::Unreadable { last: Some(_), .. }));
        assert_eq!(end.exit(), crate::ops::exit::UNKNOWN);
        // A success in between starts the count again.
        let mut w = Watch::new(7, Some("j1".into()), options(1800), t0);
        for _ in 0..10 {
            w.seen(&Err(e.clone()), t0);
            w.seen(&Ok(None), t0);
        }
        assert!(matches!(w.seen(&Ok(None), t0).1, Step::Again(_)));
        // The deadline: still running.
        let mut w = Watch::new(7, Some("j1".into()), options(60), t0);
        let Step::Ended(end) = w
            .seen(
                &Ok(Some(task(TaskStatus::Running, "a"))),
                t0 + Duration::from_secs(60),
            )
            .1
        else {
            panic!("deadline")
        };
        assert!(matches!(end, FollowEnd::TimedOut { last: Some(_), .. }));
        assert_eq!(end.exit(), crate::ops::exit::UNKNOWN);
    }
}
