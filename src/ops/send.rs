//! One change sent once, decided at the moment it leaves (a plan is a proposal, not a
//! promise). Just before the request goes out, in this order:
//! 1. the guards on the credential;
//! 2. earlier changes to the instance whose outcome is unknown are checked, and changes
//!    the journal holds as running on it are looked at once (a task long ended must not
//!    block it forever);
//! 3. the instance's SSL state is read afresh: already as asked, nothing is sent; changed
//!    since the plan was read (by someone else), nothing is sent;
//! 4. the send slot is taken from the client's limiter (the API's 20 a second), and only
//!    then the stop switch is looked at: a stop takes effect for every send not yet on
//!    the wire, however long it waited for its turn;
//! 5. the journal's "request" line is written under the journal's exclusive lock, in the
//!    same step as a look at what the journal holds about the instance: a change to it
//!    by another run or process still in flight (no reply yet, or a task not ended), or
//!    sent after this plan was read, refuses it. That one lock is the exclusion between
//!    processes: two of them cannot both pass it for one instance;
//! 6. the request is sent once, and its outcome journaled; a lost reply is checked,
//!    never resent.

use std::sync::atomic::{AtomicBool, Ordering};

use serde::Serialize;

use super::check::{self, Wanted};
use super::follow::{FollowOptions, Unfinished, resume};
use super::refusal::{EarlierChange, PlanRefusal, Refusal};
use super::{OpsError, Plan, Session, Target, read};
use crate::api::{Action, ApiError};
use crate::domain::SslSeen;
use crate::store::JournalError;
use crate::store::journal::{Entry, InstanceView, Outcome as Reply, Record, RequestInfo};
use crate::store::now_rfc3339;
use crate::text::clean;

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

/// What sending came to when nothing stood in the way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dispatched {
    Sent(Sent),
    /// When its turn came the instance already was as asked (someone else made the
    /// change): nothing was sent.
    AsAsked(Box<SslSeen>),
}

/// What ties a send to more than its plan.
#[derive(Debug, Clone, Copy, Default)]
pub struct SendOptions<'a> {
    /// The bulk run it belongs to (journaled with it).
    pub run: Option<&'a str>,
    /// The run's stop switch.
    pub stop: Option<&'a AtomicBool>,
}

/// Send `plan` once, as decided at the moment it leaves (the module's steps).
pub async fn send(
    session: &Session,
    plan: &Plan,
    options: SendOptions<'_>,
) -> Result<Dispatched, OpsError> {
    let (region, instance_id) = (plan.region(), plan.instance_id());
    session.guard_change().await?;
    check::settle_unknowns(session, region, instance_id).await?;
    look_at_running(session, instance_id).await;
    if let Some(now) = fresh(session, plan).await? {
        return Ok(Dispatched::AsAsked(Box::new(now)));
    }
    let request = plan.request();
    let id = crate::ids::uuid4();
    let journal = &session.store.journal;
    // The key is had before the journal says anything was sent, and exactly that key
    // signs the request: a temporary one that cannot be renewed stops here, unsent.
    let credential = session
        .client
        .credential(Action::ModifyDBInstanceSSLConfig)
        .await?;
    // As known now: kept from an earlier command, answered beside this one, or had by
    // the guards. Without guards a change does not wait for STS to say it.
    let account = session
        .identity_now()
        .and_then(|i| i.account_id().map(str::to_string));
    let address = match &plan.target {
        Target::On(a) => Some(a.host.clone()),
        Target::Off => None,
    };
    // The send slot first: the "request" line goes out the moment before the request
    // does, never seconds ahead while it waits for the API's per-second budget.
    let slot = session
        .client
        .reserve(Action::ModifyDBInstanceSSLConfig)
        .await;
    if options.stop.is_some_and(|s| s.load(Ordering::SeqCst)) {
        return Err(OpsError::refused(Refusal::Stopped {
            id: instance_id.to_string(),
        }));
    }
    let info = RequestInfo {
        id: id.clone(),
        time: now_rfc3339(),
        source: session.source.tag(),
        profile: session.profile.clone(),
        account,
        SecretId: credential.masked_id(),
        endpoint: session.client.endpoint().to_string(),
        region: region.to_string(),
        action: Action::ModifyDBInstanceSSLConfig,
        DBInstanceId: request.DBInstanceId.clone(),
        SSLEnabled: request.SSLEnabled,
        ConnectAddress: address.clone(),
        run: options.run.map(str::to_string),
        before: plan.current().map(|s| crate::store::journal::SslBefore {
            SSLEnabled: s.enabled,
            ConnectAddress: s.protected.clone().filter(|_| s.enabled),
        }),
    };
    let basis = plan
        .instance
        .ssl
        .as_ref()
        .map_or(plan.instance.read_at.as_str(), |s| s.read_at.as_str());
    journal
        .append_request(&info, |view| gate(view, instance_id, basis))
        .map_err(|e| JournalError {
            before_send: true,
            ..journal.write_error(&e)
        })?
        .map_err(OpsError::refused)?;
    // From here on the journal says a change may have been made: its outcome lines are
    // best effort, the reply is what counts.
    let note = |record: Record| {
        let _ = journal.append(&record);
    };
    let result = session
        .client
        .call_in(slot, &credential, Some(region), &request)
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
            Ok(Dispatched::Sent(Sent {
                journal_id: id,
                instance_id: instance_id.to_string(),
                region: region.to_string(),
                task_id: reply.TaskId,
                request_id,
            }))
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
                address: address.clone(),
                sent_at: pgssl_wire::clock::unix_now(),
            };
            let check = check::check(session, region, instance_id, wanted).await;
            note(Record::Check {
                id: id.clone(),
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
                journal_id: id.into(),
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

/// The instance's SSL state now: `Some` when it already is as the plan asks (nothing to
/// send); refused when it is busy, unreadable, or no longer what the plan was read from.
async fn fresh(session: &Session, plan: &Plan) -> Result<Option<SslSeen>, OpsError> {
    let id = plan.instance_id().to_string();
    let now = match read::ssl_state(&session.client, plan.region(), &id).await {
        Ok(now) => now,
        Err(e) if e.is_status_refusal() => {
            return Err(OpsError::refused(PlanRefusal::BusyNow {
                id,
                code: e.code().unwrap_or_default().to_string(),
            }));
        }
        Err(e) => {
            return Err(OpsError::refused(PlanRefusal::Unreadable {
                id,
                why: e.to_string(),
            }));
        }
    };
    let as_asked = plan.target.is_now(&now.state);
    if as_asked {
        return Ok(Some(now));
    }
    if let Some(before) = plan.current()
        && (before.enabled, &before.protected) != (now.state.enabled, &now.state.protected)
    {
        return Err(OpsError::refused(PlanRefusal::ChangedSincePlan {
            id,
            before: before.describe(),
            now: now.state.describe(),
        }));
    }
    Ok(None)
}

/// Look once at each change the journal holds as running on this instance (its task may
/// have ended while nobody followed it): what it comes to is journaled, so the gate sees
/// only what still runs. Never sends anything.
async fn look_at_running(session: &Session, instance_id: &str) {
    let Ok(open) = session.store.journal.unfinished() else {
        return;
    };
    let now = pgssl_wire::clock::unix_now();
    for entry in open
        .iter()
        .filter(|e| e.request.DBInstanceId == instance_id && e.task_id().is_some())
    {
        if let Some(u) = Unfinished::of(entry, now) {
            let _ = resume(session, &u, FollowOptions::ONCE, |_| {}).await;
        }
    }
}

/// Who sent a change the journal holds, in a person's words.
fn by(e: &Entry) -> String {
    match &e.request.run {
        Some(run) => format!("bulk run {}", clean(run)),
        None => format!("change {}", clean(&e.request.id)),
    }
}

/// The journal's word on one instance, under its lock (pure): no change to it still in
/// flight or running, and none sent since `basis` (when the plan was read).
pub fn gate(view: &InstanceView<'_>, instance_id: &str, basis: &str) -> Result<(), EarlierChange> {
    let id = || instance_id.to_string();
    if let Some(e) = view.pending.first().or(view.running.first()) {
        return Err(EarlierChange::InFlight {
            id: id(),
            sent: clean(&e.request.time),
            by: by(e),
            task: e.task_id(),
        });
    }
    if let Some(l) = view.latest
        && !l.refused
        && pgssl_wire::clock::later(&l.time, basis)
    {
        return Err(EarlierChange::SinceThePlan {
            id: id(),
            sent: clean(&l.time),
            by: l.run.as_deref().map_or_else(
                || "another change".to_string(),
                |r| format!("bulk run {}", clean(r)),
            ),
        });
    }
    Ok(())
}
