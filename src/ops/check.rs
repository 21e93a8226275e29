//! After a change whose outcome is unknown: look at the instance (never send anything)
//! and say what happened; before the next change to that instance, look again.

use std::net::IpAddr;

use super::{OpsError, Session, read};
use crate::domain::{CheckResult, Finding, TaskStatus};
use crate::store::JournalError;
use crate::store::journal::{Record, SETTLE_AFTER_SECS, settles};
use crate::store::now_rfc3339;

/// What a change asked for, to compare the instance with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wanted {
    pub enabled: bool,
    pub address: Option<IpAddr>,
}

/// Look at an instance after a change whose outcome is unknown.
pub async fn check(
    session: &Session,
    region: &str,
    instance_id: &str,
    wanted: Wanted,
) -> CheckResult {
    match read::tasks_of(&session.client, region, instance_id).await {
        Ok(tasks) => {
            if let Some(t) = tasks
                .iter()
                .find(|t| matches!(t.status, TaskStatus::Running | TaskStatus::WaitSwitch))
            {
                return CheckResult {
                    result: Finding::InProgress,
                    detail: format!(
                        "task {} on {instance_id} is {} ({}%): the change was probably accepted; do not send it again, follow it with `pgssl task show {} --wait`",
                        t.task_id,
                        t.status,
                        t.progress.unwrap_or(0),
                        t.task_id,
                    ),
                };
            }
        }
        Err(e) => {
            return CheckResult {
                result: Finding::Undetermined,
                detail: format!("could not list tasks ({e})"),
            };
        }
    }
    match read::ssl_state(&session.client, region, instance_id).await {
        Ok(seen) => {
            let state = seen.state;
            let matches = state.enabled == wanted.enabled
                && (!wanted.enabled || state.protected == wanted.address);
            if matches {
                CheckResult {
                    result: Finding::Applied,
                    detail: format!(
                        "{instance_id} now has SSL {}: the change took effect; nothing to re-send",
                        state.describe()
                    ),
                }
            } else {
                CheckResult {
                    result: Finding::NotApplied,
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
            address: entry.request.ConnectAddress,
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
        match check.result {
            Finding::InProgress => {
                return Err(OpsError::Invalid(format!(
                    "an earlier change to {instance_id} (sent {sent}) had an unknown outcome and {}; nothing was sent",
                    check.detail
                )));
            }
            Finding::Undetermined => {
                return Err(OpsError::Invalid(format!(
                    "an earlier change to {instance_id} (sent {sent}) had an unknown outcome and pgssl cannot check it now: {}; nothing was sent",
                    check.detail
                )));
            }
            // Seen too soon after the request to be sure it will not still arrive.
            Finding::NotApplied if !settles(&entry.request.time, Finding::NotApplied, &checked) => {
                return Err(OpsError::Invalid(format!(
                    "an earlier change to {instance_id} (sent {sent}) had an unknown outcome and has not taken effect yet, but may still arrive: wait {} minutes from when it was sent, then try again; nothing was sent",
                    SETTLE_AFTER_SECS / 60
                )));
            }
            _ => {}
        }
    }
    Ok(())
}
