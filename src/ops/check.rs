//! After a change whose outcome is unknown: look at the instance (never send anything)
//! and say what happened; before the next change to that instance, look again.

use super::refusal::EarlierChange;
use super::{OpsError, Session, read};
use crate::addresses::Host;
use crate::domain::{CheckResult, Finding, Task, TaskStatus};
use crate::store::JournalError;
use crate::store::journal::{Record, SETTLE_AFTER_SECS, settles};
use crate::store::now_rfc3339;

/// What a change asked for, and when, to compare the instance with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wanted {
    pub enabled: bool,
    pub address: Option<Host>,
    /// When it was sent (seconds since the epoch).
    pub sent_at: i64,
}

/// How long before and after sending a task of the change can have started: the clocks
/// of this machine and Tencent's may differ by minutes, and a task starts seconds after.
const WINDOW_BEFORE: i64 = 300;
const WINDOW_AFTER: i64 = 600;

/// Which running task, if any, is the change. DescribeTasks lists every task of an
/// instance (backups, restores, restarts) and the SSL change's TaskType is undocumented:
/// a task whose type says SSL is the change; one whose type names another operation is
/// not; one of an unknown type counts when it started around the time the change was
/// sent, and the finding says that it could not be told apart for sure.
fn the_change<'t>(tasks: &'t [Task], wanted: &Wanted) -> Option<(&'t Task, bool)> {
    let running = |t: &&Task| matches!(t.status, TaskStatus::Running | TaskStatus::WaitSwitch);
    let in_window = |t: &&Task| {
        t.started_unix.is_none_or(|s| {
            (wanted.sent_at - WINDOW_BEFORE..=wanted.sent_at + WINDOW_AFTER).contains(&s)
        })
    };
    if let Some(t) = tasks.iter().filter(running).find(|t| t.says_ssl()) {
        return Some((t, true));
    }
    tasks
        .iter()
        .filter(running)
        .filter(|t| !t.is_other_operation())
        .find(in_window)
        .map(|t| (t, false))
}

fn describe(t: &Task) -> String {
    format!(
        "task {} ({}, started {} UTC+8)",
        t.task_id,
        t.task_type.as_deref().unwrap_or("type not given"),
        t.start_time.as_deref().unwrap_or("?")
    )
}

/// Look at an instance after a change whose outcome is unknown.
pub async fn check(
    session: &Session,
    region: &str,
    instance_id: &str,
    wanted: Wanted,
) -> CheckResult {
    let tasks = match read::tasks_of(&session.client, region, instance_id).await {
        Ok(tasks) => tasks,
        Err(e) => {
            return CheckResult {
                result: Finding::Undetermined,
                task_id: None,
                detail: format!("could not list tasks ({e})"),
            };
        }
    };
    if let Some((t, sure)) = the_change(&tasks.read, &wanted) {
        let how = if sure {
            "the change was accepted".to_string()
        } else {
            "it began when the change was sent, and pgssl cannot tell it apart from the change, so it counts as the change".to_string()
        };
        return CheckResult {
            result: Finding::InProgress,
            task_id: Some(t.task_id),
            detail: format!(
                "{} on {instance_id} is {} ({}%): {how}; do not send it again, follow it with `{} task show {} --wait`",
                describe(t),
                t.status,
                t.progress.unwrap_or(0),
                crate::hint::pgssl(),
                t.task_id,
            ),
        };
    }
    if tasks.unreadable > 0 {
        return CheckResult {
            result: Finding::Undetermined,
            task_id: None,
            detail: format!(
                "DescribeTasks listed {} task(s) on {instance_id} that pgssl cannot read, so it cannot tell whether the change is running; look in the console",
                tasks.unreadable
            ),
        };
    }
    // Other operations running say nothing about the change: said, then the state decides.
    let others: Vec<String> = tasks
        .read
        .iter()
        .filter(|t| matches!(t.status, TaskStatus::Running | TaskStatus::WaitSwitch))
        .map(describe)
        .collect();
    let mut result = state_check(session, region, instance_id, wanted).await;
    if !others.is_empty() {
        result.detail = format!(
            "{} (running on it, not the SSL change: {})",
            result.detail,
            others.join(", ")
        );
    }
    result
}

/// Compare the instance's SSL state with what the change asked for.
async fn state_check(
    session: &Session,
    region: &str,
    instance_id: &str,
    wanted: Wanted,
) -> CheckResult {
    match read::ssl_state(&session.client, region, instance_id).await {
        Ok(seen) => {
            let state = seen.state;
            let matches = state.enabled == wanted.enabled
                && (!wanted.enabled || state.protected == wanted.address);
            if matches {
                CheckResult {
                    result: Finding::Applied,
                    task_id: None,
                    detail: format!(
                        "{instance_id} now has SSL {}: the change took effect; nothing to re-send",
                        state.describe()
                    ),
                }
            } else {
                CheckResult {
                    result: Finding::NotApplied,
                    task_id: None,
                    detail: format!(
                        "{instance_id} has SSL {} and no task is running: the change has not taken effect so far; if it has not {} minutes after it was sent, it never will",
                        state.describe(),
                        SETTLE_AFTER_SECS / 60
                    ),
                }
            }
        }
        Err(e) => CheckResult {
            result: Finding::Undetermined,
            task_id: None,
            detail: format!("could not read the SSL state ({e})"),
        },
    }
}

/// Check earlier unknown outcomes for this instance before anything new is sent: refuse
/// while one may still be under way or cannot be checked.
pub async fn settle_unknowns(
    session: &Session,
    region: &str,
    instance_id: &str,
) -> Result<(), OpsError> {
    let journal = &session.store.journal;
    let pending = journal.unresolved(instance_id).map_err(|e| JournalError {
        before_send: true,
        ..journal.read_error(&e)
    })?;
    for entry in pending.iter().filter(|e| {
        e.request.action == crate::api::Action::ModifyDBInstanceSSLConfig
            && e.is_unresolved_unknown()
    }) {
        let wanted = Wanted {
            enabled: entry.request.SSLEnabled,
            address: entry.request.ConnectAddress.clone(),
            sent_at: pgssl_wire::clock::rfc3339_to_unix(&entry.request.time).unwrap_or(0),
        };
        let check = check(session, region, instance_id, wanted).await;
        let checked = now_rfc3339();
        journal
            .append(&Record::Check {
                id: entry.request.id.clone(),
                time: checked.clone(),
                result: check.result,
                detail: check.detail.clone(),
            })
            .map_err(|e| JournalError {
                before_send: true,
                ..journal.write_error(&e)
            })?;
        let sent = crate::text::clean(&entry.request.time);
        let (id, sent) = (instance_id.to_string(), sent);
        match check.result {
            Finding::InProgress => {
                return Err(OpsError::refused(EarlierChange::InProgress {
                    id,
                    sent,
                    detail: check.detail,
                }));
            }
            Finding::Undetermined => {
                return Err(OpsError::refused(EarlierChange::Undetermined {
                    id,
                    sent,
                    detail: check.detail,
                }));
            }
            // Seen too soon after the request to be sure it will not still arrive.
            Finding::NotApplied if !settles(&entry.request.time, Finding::NotApplied, &checked) => {
                return Err(OpsError::refused(EarlierChange::MayStillArrive {
                    id,
                    sent,
                    minutes: SETTLE_AFTER_SECS / 60,
                }));
            }
            _ => {}
        }
    }
    Ok(())
}
