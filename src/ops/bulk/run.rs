//! Carrying out a bulk plan. Each change goes through the single change's `send` (every
//! decision made at the moment it leaves: the stop switch, a fresh read, the journal's
//! word on other runs and processes), tagged with the run; the client's limiter keeps
//! the pace at the API's 20 a second; the `Schedule` decides what may go next; each task
//! is followed by the one `follow::Watch`, and the instance read again once it ends. The
//! run file records each step of the run's life (`store::runs::RunState`).

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use tokio::time::Instant;

use super::BulkPlan;
use super::schedule::{Item, Limits, Schedule, State};
use crate::api::ApiError;
use crate::domain::{CheckResult, Finding, Instance, Task, TaskStatus};
use crate::ops::follow::{FollowEnd, Step, Watch, journal};
use crate::ops::refusal::{Refusal, RunRefusal};
use crate::ops::send::{Dispatched, SendOptions, send};
use crate::ops::{FollowOptions, OpsError, Plan, Session, read};
use crate::store::now_rfc3339;
use crate::store::runs::{Held, RunFile, RunFileError, RunItem, RunState};

/// What a face hears while a run goes on.
pub trait BulkObserver {
    /// Change `index` is now in `item.state`.
    fn changed(&mut self, _index: usize, _item: &Item) {}
    /// Sending stopped early, and why.
    fn stopped(&mut self, _why: &str) {}
    /// An instance read again once its task ended (already kept in the inventory).
    fn refreshed(&mut self, _now: &Instance) {}
    /// The canary wave's check said this (passed: the rest goes on; else the run stops).
    fn canary(&mut self, _line: &str) {}
}

/// A canary wave: the first `n` changes go alone; once they succeeded, pgssl waits for
/// clients to reconnect, checks each over TLS (when SSL went on) and takes the census,
/// and goes on with the rest only if every check held and every instance has at least
/// half of its client connections back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Canary {
    pub n: usize,
    pub wait: Duration,
}

impl Canary {
    /// How long clients are given to reconnect when the person says nothing.
    pub const DEFAULT_WAIT: Duration = Duration::from_secs(60);
    /// The longest wait a canary wave takes.
    pub const MAX_WAIT: Duration = Duration::from_secs(3600);

    /// A wave of `n` changes (at least one) waiting `wait` (at most an hour), or why not:
    /// both faces ask for one through here.
    pub fn new(n: usize, wait: Option<Duration>) -> Result<Canary, String> {
        let wait = wait.unwrap_or(Self::DEFAULT_WAIT);
        if n == 0 {
            return Err(
                "--canary takes how many changes go first (1 or more); nothing was sent".into(),
            );
        }
        if wait > Self::MAX_WAIT {
            return Err(format!(
                "--canary-wait is at most {} seconds; nothing was sent",
                Self::MAX_WAIT.as_secs()
            ));
        }
        Ok(Canary { n, wait })
    }
}

impl BulkObserver for () {}

/// A run this process holds: no other process can carry it out while it lives.
#[derive(Debug)]
pub struct Carried {
    pub run: RunFile,
    pub schedule: Schedule,
    pub held: Held,
    /// A canary wave before the rest, if asked for.
    pub canary: Option<Canary>,
}

/// The census of an instance for a canary wave, when a login is set (None otherwise, or
/// when it could not be taken: the comparison is then not made).
async fn census_of(session: &Session, instance: &Instance) -> Option<crate::census::Census> {
    if !crate::ops::census::has_login(session) {
        return None;
    }
    crate::ops::census::take(
        session,
        instance,
        &crate::ops::census::CensusRequest::default(),
    )
    .await
    .ok()
    .map(|t| t.census)
}

/// The canary wave's check, once its changes ended: each succeeded; after `wait` for
/// clients to reconnect, each instance SSL went on at holds a TLS check, and each whose
/// clients were counted before has at least half of them back. Ok: what passed; Err: why
/// the run stops (resumable).
async fn check_canaries(
    session: &Session,
    schedule: &Schedule,
    canary: &Canary,
    before: &[Option<crate::census::Census>],
) -> Result<String, String> {
    let wave: Vec<&crate::ops::bulk::schedule::Item> =
        schedule.items.iter().take(canary.n).collect();
    for item in &wave {
        let ok = matches!(
            item.state,
            State::Ended {
                status: crate::domain::TaskStatus::Success,
                ..
            } | State::AsAsked { .. }
        );
        if !ok {
            return Err(format!(
                "canary {} did not succeed ({}): the rest is not sent",
                item.plan.instance.id,
                item.state.word()
            ));
        }
    }
    // Clients reconnect after the restart: give them the time asked for.
    tokio::time::sleep(canary.wait).await;
    let mut said = Vec::new();
    for (k, item) in wave.iter().enumerate() {
        let plan = &item.plan;
        let now = crate::ops::inventory::describe(session, plan.region(), plan.instance_id())
            .await
            .map_err(|e| {
                format!(
                    "canary {}: it could not be read again ({e})",
                    plan.instance.id
                )
            })?;
        if plan.enables() {
            let v = crate::ops::verify::verify_described(
                session,
                &now,
                &crate::ops::VerifyRequest::default(),
            )
            .await
            .map_err(|e| format!("canary {}: the TLS check could not run ({e})", now.id))?;
            if v.report.verdict.exit_code() != 0 {
                return Err(format!(
                    "canary {}: the TLS check failed: {}",
                    now.id,
                    v.report.verdict.sentence(&v.target.display())
                ));
            }
        }
        if let Some(Some(was)) = before.get(k) {
            let Some(is) = census_of(session, &now).await else {
                return Err(format!(
                    "canary {}: its clients could not be counted again",
                    now.id
                ));
            };
            if is.connections * 2 < was.connections {
                return Err(format!(
                    "canary {}: only {} of its {} client connections came back",
                    now.id, is.connections, was.connections
                ));
            }
            said.push(format!(
                "{}: {} of {} client connections back",
                now.id, is.connections, was.connections
            ));
        }
    }
    Ok(format!(
        "canary wave of {} passed{}{}: sending the rest",
        wave.len(),
        if said.is_empty() { "" } else { " (" },
        if said.is_empty() {
            String::new()
        } else {
            format!("{})", said.join("; "))
        }
    ))
}

/// Record the run before anything is sent (with the journal, it is what a resume reads),
/// and hold it.
pub fn begin(session: &Session, plan: &BulkPlan, limits: Limits) -> Result<Carried, OpsError> {
    let run = RunFile::new(
        format!(
            "{}-{}",
            now_rfc3339().replace([':', '-'], ""),
            &crate::ids::uuid4()[..8]
        ),
        session.source.tag(),
        session.client.endpoint().to_string(),
        (limits.max_running, limits.together, limits.stop_on_failure),
        plan.changes.iter().map(run_item).collect(),
    );
    let held = hold(session, &run.id)?;
    save(session, &run)?;
    let items = plan.changes.iter().cloned().map(Item::new).collect();
    Ok(Carried {
        run,
        schedule: Schedule::new(items, limits),
        held,
        canary: None,
    })
}

/// Hold run `id` (refused when another process does).
pub(super) fn hold(session: &Session, id: &str) -> Result<Held, OpsError> {
    session.store.runs.hold(id).map_err(run_file_error)
}

pub(super) fn run_file_error(e: RunFileError) -> OpsError {
    match e {
        RunFileError::Refused(r) => OpsError::refused(r),
        RunFileError::Unreadable(why) => OpsError::Failed(why),
    }
}

fn run_item(p: &Plan) -> RunItem {
    RunItem {
        region: p.instance.region.clone(),
        DBInstanceId: p.instance.id.clone(),
        SSLEnabled: p.enables(),
        ConnectAddress: p.target.host().cloned(),
    }
}

pub(super) fn save(session: &Session, run: &RunFile) -> Result<(), OpsError> {
    session.store.runs.save(run).map_err(|e| {
        OpsError::Failed(format!(
            "cannot write the run file in {} ({e})",
            crate::text::clean(&session.store.runs.dir().display().to_string())
        ))
    })
}

type Job<'a> = Pin<Box<dyn Future<Output = Event> + Send + 'a>>;

enum Event {
    Sent(usize, Result<Dispatched, OpsError>),
    Polled(usize, Result<Option<Task>, ApiError>),
    /// The instance read again after its task ended (kept in the inventory).
    Refreshed(Option<Box<Instance>>),
}

/// Carry out the run: send what the schedule lets go, follow every task to its end.
/// Returns when nothing is running and nothing more will be sent. `stop` halts sending:
/// a send waiting for its turn sends nothing once it is on (what was sent is still
/// followed); the run sets it too when it stops on its own (a failure with
/// `stop_on_failure`, a task that outlived the wait). The run file then says `finished`,
/// or `stopped` when changes were never sent (a resume offers them).
pub async fn execute(
    session: &Session,
    carried: &mut Carried,
    follow: FollowOptions,
    stop: &AtomicBool,
    observer: &mut impl BulkObserver,
) -> Result<(), OpsError> {
    let Carried {
        run,
        schedule,
        canary,
        ..
    } = carried;
    run.state = RunState::Sending;
    save(session, run)?;
    // A canary wave: its instances' clients counted before, to compare after.
    let mut before: Vec<Option<crate::census::Census>> = Vec::new();
    if let Some(c) = canary.filter(|c| c.n > 0 && c.n < schedule.items.len()) {
        schedule.gate = Some(c.n);
        for item in schedule.items.iter().take(c.n) {
            before.push(census_of(session, &item.plan.instance).await);
        }
    }
    let mut jobs: FuturesUnordered<Job<'_>> = FuturesUnordered::new();
    let mut watches: Vec<Option<Watch>> = vec![None; schedule.items.len()];
    // Changes already sent (a resumed run) are followed from the start.
    for (i, item) in schedule.items.iter().enumerate() {
        if let State::Running {
            task_id: Some(t), ..
        } = item.state
        {
            watches[i] = Some(Watch::new(
                t,
                item.journal_id.clone(),
                follow,
                Instant::now(),
            ));
            jobs.push(poll(session, &item.plan, i, t, Duration::ZERO));
        }
    }
    let mut told_stop = false;
    let mut told: Vec<Option<State>> = vec![None; schedule.items.len()];
    // Changes whose task ended, to read again.
    let mut refresh: Vec<usize> = Vec::new();
    tell(schedule, &mut told, observer);
    loop {
        if stop.load(Ordering::SeqCst) {
            schedule.stop("stopped by the person at the keyboard");
        }
        if let (Some(c), true) = (canary.as_ref(), schedule.canaries_ended())
            && schedule.stopped.is_none()
        {
            match check_canaries(session, schedule, c, &before).await {
                Ok(line) => {
                    schedule.gate = None;
                    observer.canary(&line);
                }
                Err(why) => {
                    observer.canary(&why);
                    schedule.stop(why);
                }
            }
        }
        if let Some(why) = &schedule.stopped {
            // Every send still waiting for its turn sees it.
            stop.store(true, Ordering::SeqCst);
            if !told_stop {
                observer.stopped(why);
                told_stop = true;
            }
        }
        while let Some(i) = schedule.next_to_send() {
            let plan = schedule.items[i].plan.clone();
            let run_id = run.id.clone();
            tell(schedule, &mut told, observer);
            jobs.push(Box::pin(async move {
                let options = SendOptions {
                    run: Some(&run_id),
                    stop: Some(stop),
                };
                Event::Sent(i, send(session, &plan, options).await)
            }));
        }
        // The reads after each task wait until nothing more is to be sent: the API's
        // budget for SSL reads then goes to the fresh read before each send.
        let sending = schedule.stopped.is_none()
            && schedule
                .items
                .iter()
                .any(|i| matches!(i.state, State::Waiting | State::Sending));
        if !sending || jobs.is_empty() {
            for i in refresh.drain(..) {
                jobs.push(reread(session, &schedule.items[i].plan));
            }
        }
        let Some(event) = jobs.next().await else {
            break;
        };
        match event {
            Event::Refreshed(now) => {
                if let Some(now) = now {
                    observer.refreshed(&now);
                }
                continue;
            }
            Event::Sent(i, result) => {
                if let Some((task_id, journal_id)) = sent(schedule, i, result) {
                    watches[i] = Some(Watch::new(task_id, journal_id, follow, Instant::now()));
                    jobs.push(poll(
                        session,
                        &schedule.items[i].plan,
                        i,
                        task_id,
                        follow.poll,
                    ));
                }
            }
            Event::Polled(i, result) => {
                let Some(watch) = watches[i].as_mut() else {
                    continue;
                };
                if let Ok(Some(task)) = &result
                    && !task.status.is_finished()
                {
                    schedule.task(i, task);
                }
                let (line, next) = watch.seen(&result, Instant::now());
                journal(session, line);
                match next {
                    Step::Again(after) => {
                        let t = watch.task_id;
                        jobs.push(poll(session, &schedule.items[i].plan, i, t, after));
                    }
                    Step::Ended(end) => {
                        ended(schedule, i, &end);
                        refresh.push(i);
                    }
                }
            }
        }
        tell(schedule, &mut told, observer);
    }
    schedule.close();
    tell(schedule, &mut told, observer);
    let at = now_rfc3339();
    run.state = match (schedule.unsent(), &schedule.stopped) {
        (0, _) => RunState::Finished { at },
        (_, Some(why)) => RunState::Stopped {
            why: why.clone(),
            at,
        },
        (n, None) => RunState::Stopped {
            why: format!("{n} changes were not sent"),
            at,
        },
    };
    save(session, run)
}

/// What a send came to: the task to follow (and the change's journal id), if any.
fn sent(
    schedule: &mut Schedule,
    i: usize,
    result: Result<Dispatched, OpsError>,
) -> Option<(i64, Option<String>)> {
    let state = match result {
        Ok(Dispatched::Sent(sent)) => {
            schedule.items[i].journal_id = Some(sent.journal_id.clone());
            match sent.task_id {
                Some(t) => State::Running {
                    task_id: Some(t),
                    request_id: sent.request_id,
                    status: None,
                    progress: None,
                },
                None => State::GaveUp {
                    task_id: None,
                    why: format!(
                        "the API gave no TaskId (RequestId {}): watch the instance",
                        sent.request_id
                    ),
                },
            }
        }
        Ok(Dispatched::AsAsked(now)) => State::AsAsked {
            now: format!("already {} when its turn came", now.state.describe()),
        },
        Err(OpsError::Unknown {
            check, journal_id, ..
        }) => {
            schedule.items[i].journal_id = Some(journal_id.into());
            lost_reply(schedule, i, &check)
        }
        // Never sent: a stop, the instance changed since the plan, another run's change
        // in flight, a guard. A resume plans it again.
        Err(OpsError::Refused(r)) => State::NotSent {
            why: match r {
                Refusal::Stopped { .. } => schedule
                    .stopped
                    .clone()
                    .unwrap_or_else(|| "stopped before it was sent".into()),
                r => r.to_string(),
            },
        },
        Err(e @ OpsError::Api(_)) => State::Refused {
            error: e.to_string(),
        },
        Err(e) => {
            // The journal cannot be written, or a file of ours failed: nothing more may
            // be sent.
            schedule.stop(format!("stopped: {e}"));
            State::NotSent { why: e.to_string() }
        }
    };
    let follow = match &state {
        State::Running {
            task_id: Some(t), ..
        } => Some((*t, schedule.items[i].journal_id.clone())),
        _ => None,
    };
    schedule.set(i, state);
    follow
}

/// A lost reply, as the check after it found the instance: one verdict wherever it is
/// read (here, in the table and the exit code, as on resume). One that may still be
/// restarting its instance, untracked, stops the sending.
fn lost_reply(schedule: &mut Schedule, i: usize, check: &CheckResult) -> State {
    if check.result == Finding::InProgress && check.task_id.is_none() {
        schedule.stop(format!(
            "stopped: the reply to {} was lost and it may still be restarting",
            schedule.items[i].plan.instance.id
        ));
    }
    verdict(check, "its reply was lost")
}

/// What the check of a change with no reply found, as its state in a run (`how`: why
/// there was no reply).
pub(super) fn verdict(check: &CheckResult, how: &str) -> State {
    match check.result {
        // Restarting the instance: it holds its place and is followed.
        Finding::InProgress if check.task_id.is_some() => State::Running {
            task_id: check.task_id,
            request_id: String::new(),
            status: None,
            progress: None,
        },
        Finding::Applied => State::Ended {
            task_id: None,
            request_id: None,
            status: TaskStatus::Success,
            message: Some(format!("{how}; checked: {}", check.detail)),
        },
        _ => State::Unknown {
            error: format!(
                "{how}; checked: {}; not sent again (see `{} log`)",
                check.detail,
                crate::hint::pgssl()
            ),
        },
    }
}

/// A followed task ended (or the follow did).
fn ended(schedule: &mut Schedule, i: usize, end: &FollowEnd) {
    match end {
        FollowEnd::Finished(task) => schedule.task(i, task),
        other => {
            let item = &schedule.items[i];
            let task_id = item.state.task_id();
            let why = other.describe(
                task_id.unwrap_or_default(),
                Some(&item.plan.instance.id),
                item.plan.region(),
            );
            schedule.set(i, State::GaveUp { task_id, why });
        }
    }
}

/// Tell the observer of every change whose state it has not heard yet.
fn tell(schedule: &Schedule, told: &mut [Option<State>], observer: &mut impl BulkObserver) {
    for ((i, item), last) in schedule.items.iter().enumerate().zip(told.iter_mut()) {
        if last.as_ref() != Some(&item.state) {
            *last = Some(item.state.clone());
            observer.changed(i, item);
        }
    }
}

/// Read an instance again once its task ended (kept in the inventory).
fn reread<'a>(session: &'a Session, plan: &Plan) -> Job<'a> {
    let plan = plan.clone();
    Box::pin(async move {
        let now = crate::ops::inventory::describe(session, plan.region(), plan.instance_id()).await;
        Event::Refreshed(now.ok().map(Box::new))
    })
}

fn poll<'a>(session: &'a Session, plan: &Plan, i: usize, task_id: i64, after: Duration) -> Job<'a> {
    let region = plan.region().to_string();
    Box::pin(async move {
        tokio::time::sleep(after).await;
        Event::Polled(i, read::task(&session.client, &region, task_id).await)
    })
}

/// Mark run `id` abandoned: its never-sent changes are given up, explicitly (`ssl resume
/// --abandon`). Refused while another process carries it out, or once it is over.
pub fn abandon(session: &Session, id: &str) -> Result<RunFile, OpsError> {
    let _held = hold(session, id)?;
    let mut run = session
        .store
        .runs
        .load(id)
        .map_err(run_file_error)?
        .ok_or_else(|| {
            OpsError::refused(RunRefusal::NoSuchRun {
                run: crate::text::clean(id),
                what: "abandon",
            })
        })?;
    if !run.state.is_open() {
        return Err(OpsError::refused(RunRefusal::Over {
            run: run.id,
            state: run.state.word(),
            what: "abandon",
        }));
    }
    let sent = super::resume::sent_of(session, &run)?;
    let unsent = run
        .items
        .iter()
        .filter(|i| !sent.contains(&i.DBInstanceId))
        .count();
    run.state = RunState::Abandoned {
        at: now_rfc3339(),
        unsent,
    };
    save(session, &run)?;
    Ok(run)
}

/// A stop switch a face can share with a running `execute`.
pub fn stop_switch() -> Arc<AtomicBool> {
    Arc::new(AtomicBool::new(false))
}

#[cfg(test)]
mod canary_tests {
    use super::*;

    #[test]
    fn a_canary_wave_is_one_change_or_more_waiting_at_most_an_hour() {
        assert_eq!(
            Canary::new(2, None),
            Ok(Canary {
                n: 2,
                wait: Canary::DEFAULT_WAIT
            })
        );
        assert!(
            Canary::new(0, None)
                .expect_err("none")
                .contains("1 or more")
        );
        assert!(
            Canary::new(1, Some(Duration::from_secs(3601)))
                .expect_err("too long")
                .contains("at most 3600")
        );
        assert!(Canary::new(1, Some(Duration::ZERO)).is_ok());
    }
}
