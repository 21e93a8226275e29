//! One change, once, for both faces: `prepare` reads the instance fresh and plans (a dry
//! run stops there), the face confirms the `Plan` it shows, and `execute` carries out
//! exactly that plan: send it once as `send` decides at the moment it leaves, follow the
//! task, read and keep the new state, and check it over
//! TLS. A `ChangeObserver` hears each step: the CLI prints, the TUI turns them into
//! messages.

use super::follow::{FollowEnd, FollowOptions, follow_task};
use super::inventory::describe;
use super::plan::{Intent, Plan, Prepared, plan};
use super::send::{Dispatched, SendOptions, Sent, send};
use super::verify::{Verified, VerifyRequest, verify_described};
use super::{OpsError, Session};
use crate::domain::{Instance, SslSeen, Task};
use crate::store::journal::Record;

/// Check the account guards, read the instance fresh and plan the change. The same
/// function serves `--dry-run`, the CLI and the TUI, so each refuses exactly the same
/// things. What the read learned is kept in the inventory.
pub async fn prepare(session: &Session, intent: &Intent) -> Result<Prepared, OpsError> {
    // The account guards first: a change they refuse is never shown for confirming.
    session.guard_account().await?;
    // A region DescribeRegions no longer lists as AVAILABLE is not sent to.
    super::regions::confirm(session, &intent.region).await?;
    let instance = describe(session, &intent.region, &intent.instance_id).await?;
    plan(&instance, &intent.want).map_err(OpsError::refused)
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
    /// The instance as described once the task ended.
    pub now: Option<Instance>,
    pub verified: Option<Result<Verified, OpsError>>,
    /// Who is connected once the task succeeded (and the TLS check ran), with a login.
    pub census: Option<Result<super::census::Taken, OpsError>>,
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
    /// The census after the change was taken (or could not be), and its verdict.
    fn counted(&mut self, _result: &Result<super::census::Taken, OpsError>, _verdict: &str) {}
    /// When its turn came the instance already was as asked: nothing was sent.
    fn as_asked(&mut self, _now: &SslSeen) {}
    /// With `VerifyAfter::Ask`: whether to check now.
    fn want_verify(&mut self, _now: &Instance) -> bool {
        false
    }
}

/// `--dry-run`: the exact signed request of each plan, nothing sent. The account guards
/// refuse it as they would refuse the change; the key is the one a send would use (a
/// temporary one is fetched now).
pub async fn sign_only(
    session: &Session,
    plans: &[Plan],
) -> Result<Vec<crate::api::client::Prepared>, OpsError> {
    session.guard_account().await?;
    session
        .client
        .credential(crate::api::Action::ModifyDBInstanceSSLConfig)
        .await?;
    let now = crate::api::client::system_clock();
    plans
        .iter()
        .map(|p| {
            session
                .client
                .prepare(Some(p.region()), &p.request(), now)
                .ok_or_else(|| OpsError::Failed("the key to sign with is not held".into()))
        })
        .collect()
}

/// What carrying out a plan came to.
#[derive(Debug)]
pub enum Executed {
    Sent(Box<Outcome>),
    /// When it was about to leave, the instance already was as asked (someone else made
    /// the change): nothing was sent.
    AsAsked(Box<SslSeen>),
}

/// Carry out exactly `plan`.
pub async fn execute(
    session: &Session,
    plan: &Plan,
    options: &ExecuteOptions,
    observer: &mut impl ChangeObserver,
) -> Result<Executed, OpsError> {
    let sent = match send(session, plan, SendOptions::default()).await? {
        Dispatched::Sent(sent) => sent,
        Dispatched::AsAsked(now) => {
            observer.as_asked(&now);
            return Ok(Executed::AsAsked(now));
        }
    };
    observer.sent(&sent);
    let mut outcome = Outcome {
        sent,
        task: None,
        now: None,
        verified: None,
        census: None,
    };
    let (Some(follow), Some(task_id)) = (options.follow, outcome.sent.task_id) else {
        return Ok(Executed::Sent(Box::new(outcome)));
    };
    let end = follow_task(
        session,
        plan.region(),
        task_id,
        Some(&outcome.sent.journal_id),
        follow,
        |t| observer.task(t),
    )
    .await;
    observer.settled(&end);
    outcome.task = Some(end);
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
    // Who is connected now, and whether SSL is enforced in practice: the counts go to the
    // journal with the change (never the rows).
    if let (true, true, Some(now)) = (succeeded, super::census::has_login(session), &outcome.now) {
        let census =
            super::census::take(session, now, &super::census::CensusRequest::default()).await;
        let verdict = match &census {
            Ok(t) => super::census::verdict(&t.census, plan.enables()),
            Err(e) => format!("not counted ({e})"),
        };
        if let Ok(t) = &census {
            let _ = session.store.journal.append(&Record::Census {
                id: outcome.sent.journal_id.clone(),
                time: crate::store::now_rfc3339(),
                connections: t.census.connections,
                tls: t.census.tls,
                plaintext: t.census.plaintext,
                hidden: t.census.hidden,
                verdict: verdict.clone(),
            });
        }
        observer.counted(&census, &verdict);
        outcome.census = Some(census);
    }
    Ok(Executed::Sent(Box::new(outcome)))
}
