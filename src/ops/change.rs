//! One change, once, for both faces: `prepare` reads the instance fresh and plans (a dry
//! run stops there), the face confirms the `Plan` it shows, and `execute` carries out
//! exactly that plan: settle earlier unknown outcomes, journal the request, send it once,
//! journal the outcome, follow the task, read and keep the new state, and check it over
//! TLS. A `ChangeObserver` hears each step: the CLI prints, the TUI turns them into
//! messages.

use serde::Serialize;

use super::check::{self, Wanted};
use super::follow::{FollowEnd, FollowOptions, follow_task};
use super::inventory::describe;
use super::plan::{Intent, Plan, Prepared, plan};
use super::verify::{Verified, VerifyRequest, verify_described};
use super::{OpsError, Session};
use crate::api::{Action, ApiError};
use crate::domain::{Instance, Task};
use crate::store::JournalError;
use crate::store::journal::{Outcome as Reply, Record, RequestInfo};
use crate::store::now_rfc3339;
use crate::text::clean;

/// Check the account guards, read the instance fresh and plan the change. The same
/// function serves `--dry-run`, the CLI and the TUI, so each refuses exactly the same
/// things. What the read learned is kept in the inventory.
pub async fn prepare(session: &Session, intent: &Intent) -> Result<Prepared, OpsError> {
    // The account guards first: a change they refuse is never shown for confirming.
    session.guard_account().await?;
    let instance = describe(session, &intent.region, &intent.instance_id).await?;
    plan(&instance, &intent.want).map_err(OpsError::refused)
}

/// A change the API accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Sent {
    /// The journal entry this change is recorded under.
    pub journal_id: String,
    pub instance_id: String,
    pub region: String,
    #[serde(rename = "TaskId")]
    pub task_id: Option<i64>,
    #[serde(rename = "RequestId")]
    pub request_id: String,
}

/// Whether to check the protected address over TLS once an enabling task succeeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerifyAfter {
    Never,
    Always,
    /// Ask the observer (the CLI asks the person at the terminal).
    Ask,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExecuteOptions {
    /// Follow the task to its end (None: send, journal and return).
    pub follow: Option<FollowOptions>,
    pub verify: VerifyAfter,
}

/// Everything that happened after the change was sent. Failures after sending are kept
/// here, not returned as errors, so the sent change is always reported.
#[derive(Debug)]
pub struct Outcome {
    pub sent: Sent,
    pub task: Option<FollowEnd>,
    pub follow_error: Option<OpsError>,
    /// The instance as described once the task ended.
    pub now: Option<Instance>,
    pub verified: Option<Result<Verified, OpsError>>,
}

/// What a face hears while a change is carried out. Every method has a default that does
/// nothing, so a face implements only what it shows.
pub trait ChangeObserver {
    /// The API accepted the change.
    fn sent(&mut self, _sent: &Sent) {}
    /// A poll of the task.
    fn task(&mut self, _task: &Task) {}
    /// Following ended (the task ended, or waiting gave up).
    fn settled(&mut self, _end: &FollowEnd) {}
    /// The instance as described after the task.
    fn refreshed(&mut self, _now: &Instance) {}
    /// The TLS check ran (or could not).
    fn verified(&mut self, _result: &Result<Verified, OpsError>) {}
    /// With `VerifyAfter::Ask`: whether to check now.
    fn want_verify(&mut self, _now: &Instance) -> bool {
        false
    }
}

/// Carry out exactly `plan`.
pub async fn execute(
    session: &Session,
    plan: &Plan,
    options: &ExecuteOptions,
    observer: &mut impl ChangeObserver,
) -> Result<Outcome, OpsError> {
    let sent = send(session, plan, None).await?;
    observer.sent(&sent);
    let mut outcome = Outcome {
        sent,
        task: None,
        follow_error: None,
        now: None,
        verified: None,
    };
    let (Some(follow), Some(task_id)) = (options.follow, outcome.sent.task_id) else {
        return Ok(outcome);
    };
    match follow_task(
        session,
        plan.region(),
        task_id,
        Some(&outcome.sent.journal_id),
        follow,
        |t| observer.task(t),
    )
    .await
    {
        Ok(end) => {
            observer.settled(&end);
            outcome.task = Some(end);
        }
        Err(e) => outcome.follow_error = Some(e),
    }
    // Read it once more: what it looks like now is shown, kept and, if asked, checked.
    if let Ok(now) = describe(session, plan.region(), plan.instance_id()).await {
        observer.refreshed(&now);
        outcome.now = Some(now);
    }
    let succeeded = outcome.task.as_ref().is_some_and(FollowEnd::succeeded);
    if let (true, true, Some(now)) = (succeeded, plan.enables(), &outcome.now) {
        let wanted = match options.verify {
            VerifyAfter::Never => false,
            VerifyAfter::Always => true,
            VerifyAfter::Ask => observer.want_verify(now),
        };
        if wanted {
            let verified = verify_described(session, now, &VerifyRequest::default()).await;
            observer.verified(&verified);
            outcome.verified = Some(verified);
        }
    }
    Ok(outcome)
}

/// Journal, send once, journal the outcome. Before sending, any earlier change to this
/// instance whose outcome is still unknown is checked first; if a task may still be
/// running, nothing is sent. `run` ties the change to a bulk run (`ops::bulk`).
pub(crate) async fn send(
    session: &Session,
    plan: &Plan,
    run: Option<&str>,
) -> Result<Sent, OpsError> {
    session.guard_change().await?;
    check::settle_unknowns(session, plan.region(), plan.instance_id()).await?;
    let request = plan.request();
    let id = crate::ids::uuid4();
    let journal = &session.store.journal;
    // The key is had before the journal says anything was sent, and exactly that key
    // signs the request: a temporary one that cannot be renewed stops here, unsent.
    let credential = session
        .client
        .credential(Action::ModifyDBInstanceSSLConfig)
        .await?;
    // Asked once per session (the guards may have asked already).
    let account = session.identity().await.account_id().map(str::to_string);
    let address = match &plan.target {
        super::Target::On(a) => Some(a.ip),
        super::Target::Off => None,
    };
    // The send slot first: the "request" line goes out the moment before the request
    // does, never seconds ahead while it waits for the API's per-second budget.
    let slot = session
        .client
        .reserve(Action::ModifyDBInstanceSSLConfig)
        .await;
    journal
        .append(&Record::Request(RequestInfo {
            id: id.clone(),
            time: now_rfc3339(),
            source: session.source.tag(),
            profile: session.profile.clone(),
            account,
            SecretId: credential.masked_id(),
            endpoint: session.client.endpoint().to_string(),
            region: plan.region().to_string(),
            action: Action::ModifyDBInstanceSSLConfig,
            DBInstanceId: request.DBInstanceId.clone(),
            SSLEnabled: request.SSLEnabled,
            ConnectAddress: address,
            run: run.map(str::to_string),
        }))
        .map_err(|e| JournalError {
            before_send: true,
            ..journal.write_error(&e)
        })?;
    // From here on the journal says a change may have been made: its outcome lines are
    // best effort, the reply is what counts.
    let note = |record: Record| {
        let _ = journal.append(&record);
    };
    let result = session
        .client
        .call_in(slot, &credential, Some(plan.region()), &request)
        .await;
    let time = now_rfc3339();
    match result {
        Ok(reply) => {
            let request_id = clean(&reply.RequestId);
            note(Record::Outcome {
                id: id.clone(),
                time,
                outcome: Reply::Ok {
                    RequestId: request_id.clone(),
                    TaskId: reply.TaskId,
                },
            });
            Ok(Sent {
                journal_id: id,
                instance_id: plan.instance_id().to_string(),
                region: plan.region().to_string(),
                task_id: reply.TaskId,
                request_id,
            })
        }
        Err(error @ (ApiError::OutcomeUnknown { .. } | ApiError::BadReply { .. })) => {
            note(Record::Outcome {
                id: id.clone(),
                time,
                outcome: Reply::Unknown {
                    detail: error.to_string(),
                },
            });
            let wanted = Wanted {
                enabled: request.SSLEnabled,
                address,
                sent_at: pgssl_wire::clock::unix_now(),
            };
            let check = check::check(session, plan.region(), plan.instance_id(), wanted).await;
            note(Record::Check {
                id,
                time: now_rfc3339(),
                result: check.result,
                detail: check.detail.clone(),
            });
            let error = match error {
                ApiError::BadReply {
                    action,
                    status,
                    excerpt,
                } => ApiError::OutcomeUnknown {
                    action,
                    detail: format!("the reply was not Tencent's (HTTP {status}: \"{excerpt}\")"),
                },
                e => e,
            };
            Err(OpsError::Unknown {
                error,
                check: Box::new(check),
            })
        }
        Err(error) => {
            note(Record::Outcome {
                id,
                time,
                outcome: Reply::Error {
                    Code: error.code().unwrap_or(error.kind()).to_string(),
                    Message: error.to_string(),
                    RequestId: error.request_id().map(str::to_string),
                },
            });
            Err(error.into())
        }
    }
}
