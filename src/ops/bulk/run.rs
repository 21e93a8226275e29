//! Carrying out a bulk plan, and picking up one that was interrupted. Each change goes
//! through the single change's `send` (journal, then send once, then journal the reply),
//! tagged with the run; the client's limiter keeps the pace at the API's 20 a second; the
//! `Schedule` decides what may go next; each task is polled to its end (DescribeTasks,
//! through the same limiter), and the instance read again once it ends.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;

use super::schedule::{Item, Limits, Schedule, State};
use super::{BulkPlan, Skipped, plan_many};
use crate::addresses::AddressSpec;
use crate::api::ApiError;
use crate::domain::{Finding, Instance, Task};
use crate::ops::check::{Wanted, check};
use crate::ops::{FollowOptions, OpsError, Plan, Session, Target, Want, read};
use crate::store::journal::{Entry, Outcome, Record};
use crate::store::now_rfc3339;
use crate::store::runs::{RunFile, RunItem};

/// What a face hears while a run goes on.
pub trait BulkObserver {
    /// Change `index` is now in `item.state`.
    fn changed(&mut self, _index: usize, _item: &Item) {}
    /// Sending stopped early, and why.
    fn stopped(&mut self, _why: &str) {}
    /// An instance read again once its task ended (already kept in the inventory).
    fn refreshed(&mut self, _now: &Instance) {}
}

impl BulkObserver for () {}

/// Record the run before anything is sent: with the journal, it is what a resume reads.
pub fn begin(
    session: &Session,
    plan: &BulkPlan,
    limits: Limits,
) -> Result<(RunFile, Schedule), OpsError> {
    let run = RunFile {
        id: format!(
            "{}-{}",
            now_rfc3339().replace([':', '-'], ""),
            &crate::ids::uuid4()[..8]
        ),
        created: now_rfc3339(),
        source: session.source.tag(),
        endpoint: session.client.endpoint().to_string(),
        max_running: limits.max_running,
        together: limits.together,
        stop_on_failure: limits.stop_on_failure,
        items: plan.changes.iter().map(run_item).collect(),
        finished: None,
    };
    save(session, &run)?;
    let items = plan.changes.iter().cloned().map(Item::new).collect();
    Ok((run, Schedule::new(items, limits)))
}

fn run_item(p: &Plan) -> RunItem {
    RunItem {
        region: p.instance.region.clone(),
        DBInstanceId: p.instance.id.clone(),
        SSLEnabled: p.enables(),
        ConnectAddress: match &p.target {
            Target::On(a) => Some(a.ip),
            Target::Off => None,
        },
    }
}

fn save(session: &Session, run: &RunFile) -> Result<(), OpsError> {
    session.store.runs.save(run).map_err(|e| {
        OpsError::Failed(format!(
            "cannot write the run file in {} ({e}); nothing was sent",
            crate::text::clean(&session.store.runs.dir().display().to_string())
        ))
    })
}

type Job<'a> = Pin<Box<dyn Future<Output = Event> + Send + 'a>>;

enum Event {
    Sent(usize, Result<crate::ops::Sent, OpsError>),
    Polled(usize, Result<Option<Task>, ApiError>),
    /// The instance read again after its task ended (kept in the inventory).
    Refreshed(Option<Box<Instance>>),
}

/// Carry out the run: send what the schedule lets go, follow every task to its end.
/// Returns when nothing is running and nothing more will be sent; `stop` halts sending
/// (what was sent is still followed). The run file is then marked finished.
pub async fn execute(
    session: &Session,
    run: &mut RunFile,
    schedule: &mut Schedule,
    follow: FollowOptions,
    stop: &AtomicBool,
    observer: &mut impl BulkObserver,
) -> Result<(), OpsError> {
    // One process carries a run out at a time; the hold ends with this call.
    let _held = session.store.runs.hold(&run.id).map_err(OpsError::Usage)?;
    let mut jobs: FuturesUnordered<Job<'_>> = FuturesUnordered::new();
    let mut deadlines: Vec<Option<tokio::time::Instant>> = vec![None; schedule.items.len()];
    let mut errors: Vec<u32> = vec![0; schedule.items.len()];
    // Changes already sent (a resumed run) are followed from the start.
    for (i, item) in schedule.items.iter().enumerate() {
        if let State::Running {
            task_id: Some(t), ..
        } = item.state
        {
            deadlines[i] = tokio::time::Instant::now().checked_add(follow.timeout);
            jobs.push(poll(session, &item.plan, i, t, Duration::ZERO));
        }
    }
    let mut told_stop = false;
    let mut told: Vec<Option<State>> = vec![None; schedule.items.len()];
    tell(schedule, &mut told, observer);
    loop {
        if stop.load(Ordering::SeqCst) {
            schedule.stop("stopped by the person at the keyboard");
        }
        if let (Some(why), false) = (&schedule.stopped, told_stop) {
            observer.stopped(why);
            told_stop = true;
        }
        while let Some(i) = schedule.next_to_send() {
            let plan = schedule.items[i].plan.clone();
            let run_id = run.id.clone();
            tell(schedule, &mut told, observer);
            jobs.push(Box::pin(async move {
                let sent = crate::ops::change::send(session, &plan, Some(&run_id)).await;
                Event::Sent(i, sent)
            }));
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
                // What to follow: the task the API answered with or, when the reply was
                // lost, the task the check found running (it is restarting the instance,
                // so it holds its place).
                let followed = match &result {
                    Ok(sent) => {
                        schedule.items[i].journal_id = Some(sent.journal_id.clone());
                        sent.task_id.map(|t| (t, sent.request_id.clone()))
                    }
                    Err(OpsError::Unknown { check, .. }) => {
                        check.task_id.map(|t| (t, String::new()))
                    }
                    Err(_) => None,
                };
                if let Some((t, request_id)) = followed {
                    schedule.set(
                        i,
                        State::Running {
                            task_id: Some(t),
                            request_id,
                            status: None,
                            progress: None,
                        },
                    );
                    deadlines[i] = tokio::time::Instant::now().checked_add(follow.timeout);
                    jobs.push(poll(session, &schedule.items[i].plan, i, t, follow.poll));
                } else {
                    unfollowed(schedule, i, result);
                }
            }
            Event::Polled(i, result) => {
                let item = &schedule.items[i];
                let Some(task_id) = item.state.task_id() else {
                    continue;
                };
                match result {
                    Ok(Some(task)) => {
                        errors[i] = 0;
                        let before = match &item.state {
                            State::Running { status, .. } => *status,
                            _ => None,
                        };
                        if before != Some(task.status)
                            && let Some(id) = &item.journal_id
                        {
                            let _ = session.store.journal.append(&Record::Task {
                                id: id.clone(),
                                time: now_rfc3339(),
                                TaskId: task_id,
                                Status: task.status,
                                Progress: task.progress,
                            });
                        }
                        schedule.task(i, &task);
                    }
                    Ok(None) => errors[i] = 0,
                    Err(_) => errors[i] += 1,
                }
                let item = &schedule.items[i];
                if item.state.is_final() {
                    let plan = item.plan.clone();
                    jobs.push(Box::pin(async move {
                        let now = crate::ops::inventory::describe(
                            session,
                            plan.region(),
                            plan.instance_id(),
                        )
                        .await;
                        Event::Refreshed(now.ok().map(Box::new))
                    }));
                } else if errors[i] >= 5 {
                    schedule.set(
                        i,
                        State::GaveUp {
                            task_id: Some(task_id),
                            why: "DescribeTasks failed five times in a row".into(),
                        },
                    );
                } else if deadlines[i].is_some_and(|d| tokio::time::Instant::now() >= d) {
                    schedule.set(
                        i,
                        State::GaveUp {
                            task_id: Some(task_id),
                            why: format!(
                                "still running after {} s of waiting",
                                follow.timeout.as_secs()
                            ),
                        },
                    );
                } else {
                    jobs.push(poll(session, &item.plan, i, task_id, follow.poll));
                }
            }
        }
        tell(schedule, &mut told, observer);
    }
    schedule.close();
    tell(schedule, &mut told, observer);
    run.finished = Some(now_rfc3339());
    save(session, run)
}

/// A change sent with nothing to follow: no TaskId, a refusal, an unknown outcome, or
/// never sent at all.
fn unfollowed(schedule: &mut Schedule, i: usize, result: Result<crate::ops::Sent, OpsError>) {
    let state = match result {
        Ok(sent) => State::GaveUp {
            task_id: None,
            why: format!(
                "the API gave no TaskId (RequestId {}): watch the instance",
                sent.request_id
            ),
        },
        Err(e) => {
            // A lost reply whose change may still be restarting its instance, untracked:
            // nothing more is sent, whatever the limits say.
            if let OpsError::Unknown { check, .. } = &e
                && check.result == Finding::InProgress
            {
                schedule.stop(format!(
                    "stopped: the reply to {} was lost and it may still be restarting",
                    schedule.items[i].plan.instance.id
                ));
            }
            // The journal cannot be written: nothing more may be sent.
            if matches!(e, OpsError::Journal(_)) {
                schedule.stop(format!("stopped: {e}"));
            }
            match &e {
                OpsError::Unknown { .. } => State::Unknown {
                    error: e.to_string(),
                },
                OpsError::Api(_) => State::Refused {
                    error: e.to_string(),
                },
                _ => State::NotSent { why: e.to_string() },
            }
        }
    };
    schedule.set(i, state);
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

fn poll<'a>(session: &'a Session, plan: &Plan, i: usize, task_id: i64, after: Duration) -> Job<'a> {
    let region = plan.region().to_string();
    Box::pin(async move {
        tokio::time::sleep(after).await;
        Event::Polled(i, read::task(&session.client, &region, task_id).await)
    })
}

/// An interrupted run, as the journal shows it, ready to go on once confirmed.
#[derive(Debug, Clone, PartialEq)]
pub struct Resumable {
    pub run: RunFile,
    /// Sent changes in their state (followed again if running) and never-sent ones
    /// planned again from a fresh read (`Waiting`).
    pub schedule: Schedule,
    /// Never sent, and already as asked now (someone else made the change).
    pub unchanged: Vec<Instance>,
    /// Never sent, and cannot be planned now.
    pub skipped: Vec<Skipped>,
}

impl Resumable {
    /// Done (ended or refused), running (sent, task not ended), never sent (to send now).
    pub fn counts(&self) -> (usize, usize, usize) {
        let items = &self.schedule.items;
        let running = items.iter().filter(|i| i.state.is_restarting()).count();
        let waiting = items.iter().filter(|i| i.state == State::Waiting).count();
        (items.len() - running - waiting, running, waiting)
    }

    pub fn summary(&self) -> Vec<String> {
        let (done, running, waiting) = self.counts();
        let mut lines = vec![format!(
            "Run {} ({} changes, confirmed {}): {done} done, {running} running, {waiting} never sent",
            self.run.id,
            self.run.items.len(),
            self.run.created
        )];
        // What needs a decision first: running, never sent, failed; the successes in one line.
        let items = &self.schedule.items;
        let succeeded: Vec<&str> = items
            .iter()
            .filter(|i| i.state.word() == "success")
            .map(|i| i.plan.instance.id.as_str())
            .collect();
        for item in items.iter().filter(|i| i.state.word() != "success") {
            lines.push(format!(
                "  {:<18} {:<8} {}",
                item.plan.instance.id,
                item.state.word(),
                match &item.state {
                    State::Waiting => format!("never sent: to send, SSL {}", item.plan.new_state()),
                    State::Unknown { error } | State::Refused { error } => error.clone(),
                    s => s
                        .task_id()
                        .map(|t| format!("TaskId {t}"))
                        .unwrap_or_default(),
                }
            ));
        }
        if !succeeded.is_empty() {
            lines.push(format!(
                "  {} succeeded: {}{}",
                succeeded.len(),
                succeeded
                    .iter()
                    .take(5)
                    .copied()
                    .collect::<Vec<_>>()
                    .join(", "),
                if succeeded.len() > 5 { ", …" } else { "" }
            ));
        }
        for i in &self.unchanged {
            lines.push(format!("  {:<18} already as asked: nothing to send", i.id));
        }
        for s in &self.skipped {
            lines.push(format!("  {:<18} skipped: {}", s.instance_id, s.why));
        }
        lines
    }
}

/// The newest unfinished run, if any, with what became of each of its changes: read from
/// the journal (records tagged with the run), the instances read fresh. A change the
/// journal holds is never sent again: one whose reply was lost is checked instead.
pub async fn resumable(session: &Session) -> Result<Option<Resumable>, OpsError> {
    let Some(run) = session.store.runs.unfinished().map_err(OpsError::Failed)? else {
        return Ok(None);
    };
    let journal = &session.store.journal;
    let (entries, _) = journal.entries().map_err(|e| journal.read_error(&e))?;
    let mine: Vec<&Entry> = entries
        .iter()
        .filter(|e| e.request.run.as_deref() == Some(run.id.as_str()))
        .collect();
    let mut fresh: Vec<(String, Result<Instance, OpsError>)> = Vec::new();
    let mut regions: Vec<&str> = run.items.iter().map(|i| i.region.as_str()).collect();
    regions.sort_unstable();
    regions.dedup();
    for region in regions {
        let ids: Vec<String> = run
            .items
            .iter()
            .filter(|i| i.region == region)
            .map(|i| i.DBInstanceId.clone())
            .collect();
        fresh.extend(read::describe_many(&session.client, region, &ids).await);
    }
    let mut items = Vec::new();
    let mut unsent = Vec::new();
    for want in &run.items {
        let instance = fresh
            .iter()
            .find(|(id, _)| *id == want.DBInstanceId)
            .map(|(_, r)| r.clone());
        let entry = mine
            .iter()
            .rev()
            .find(|e| e.request.DBInstanceId == want.DBInstanceId);
        match entry {
            None => unsent.push(match instance {
                Some(Ok(i)) => {
                    crate::ops::inventory::remember(session, &i);
                    Ok(i)
                }
                Some(Err(e)) => Err(Skipped {
                    instance_id: want.DBInstanceId.clone(),
                    region: want.region.clone(),
                    why: super::SkipWhy::Unreadable(e.to_string()),
                }),
                None => Err(Skipped {
                    instance_id: want.DBInstanceId.clone(),
                    region: want.region.clone(),
                    why: super::SkipWhy::Unreadable("not read".into()),
                }),
            }),
            Some(entry) => {
                let instance = match instance {
                    Some(Ok(i)) => i,
                    _ => placeholder(want),
                };
                let plan = Plan {
                    target: target(&instance, want),
                    instance,
                };
                let state = sent_state(session, entry, want).await;
                items.push(Item {
                    journal_id: Some(entry.request.id.clone()),
                    since: now_rfc3339(),
                    plan,
                    state,
                });
            }
        }
    }
    // Never sent: planned again from what the instance is now, as the run asked.
    let mut by_want: Vec<(Want, Vec<Result<Instance, Skipped>>)> = Vec::new();
    for r in unsent {
        let id = match &r {
            Ok(i) => i.id.clone(),
            Err(s) => s.instance_id.clone(),
        };
        let Some(w) = run.items.iter().find(|w| w.DBInstanceId == id) else {
            continue;
        };
        let want = if w.SSLEnabled {
            match w.ConnectAddress {
                Some(ip) => Want::Enable(AddressSpec::Ip(ip)),
                None => continue,
            }
        } else {
            Want::Disable
        };
        match by_want.iter_mut().find(|(x, _)| *x == want) {
            Some((_, v)) => v.push(r),
            None => by_want.push((want, vec![r])),
        }
    }
    let mut unchanged = Vec::new();
    let mut skipped = Vec::new();
    for (want, read) in by_want {
        let p = plan_many(read, &want);
        items.extend(p.changes.into_iter().map(Item::new));
        unchanged.extend(p.unchanged);
        skipped.extend(p.skipped);
    }
    let limits = Limits {
        max_running: run.max_running,
        together: run.together,
        stop_on_failure: run.stop_on_failure,
    };
    Ok(Some(Resumable {
        schedule: Schedule::new(items, limits),
        run,
        unchanged,
        skipped,
    }))
}

/// The instance of a run item that could not be read now (it is shown, never sent to).
fn placeholder(want: &RunItem) -> Instance {
    Instance::unread(&want.DBInstanceId, &want.region)
}

fn target(instance: &Instance, want: &RunItem) -> Target {
    match (want.SSLEnabled, want.ConnectAddress) {
        (true, Some(ip)) => Target::On(
            instance
                .addresses
                .iter()
                .find(|a| a.ip == ip)
                .cloned()
                .unwrap_or_else(|| crate::addresses::Address::unverified(ip)),
        ),
        _ => Target::Off,
    }
}

/// What became of a change the journal holds: its task's last status (followed again
/// when not ended), the API's refusal, or, when the reply never came, a check of the
/// instance (journaled), never a resend.
async fn sent_state(session: &Session, entry: &Entry, want: &RunItem) -> State {
    match &entry.outcome {
        Some(Outcome::Ok {
            RequestId,
            TaskId: None,
        }) => State::GaveUp {
            task_id: None,
            why: format!("the API gave no TaskId (RequestId {RequestId}): watch the instance"),
        },
        Some(Outcome::Ok { RequestId, TaskId }) => {
            let last = entry.task.as_ref();
            match last.map(|t| t.status) {
                Some(status) if status.is_finished() => State::Ended {
                    task_id: *TaskId,
                    request_id: Some(RequestId.clone()),
                    status,
                    message: None,
                },
                status => State::Running {
                    task_id: *TaskId,
                    request_id: RequestId.clone(),
                    status,
                    progress: last.and_then(|t| t.progress),
                },
            }
        }
        Some(Outcome::Error { Code, Message, .. }) => State::Refused {
            error: format!("{Code}: {Message}"),
        },
        Some(Outcome::Unknown { .. }) | None => {
            let wanted = Wanted {
                enabled: want.SSLEnabled,
                address: want.ConnectAddress,
                sent_at: pgssl_wire::clock::rfc3339_to_unix(&entry.request.time).unwrap_or(0),
            };
            let found = check(session, &want.region, &want.DBInstanceId, wanted).await;
            let _ = session.store.journal.append(&Record::Check {
                id: entry.request.id.clone(),
                time: now_rfc3339(),
                result: found.result,
                detail: found.detail.clone(),
            });
            match found.result {
                Finding::InProgress if found.task_id.is_some() => State::Running {
                    task_id: found.task_id,
                    request_id: String::new(),
                    status: None,
                    progress: None,
                },
                Finding::Applied => State::Ended {
                    task_id: None,
                    request_id: None,
                    status: crate::domain::TaskStatus::Success,
                    message: Some(format!("its reply was lost; checked: {}", found.detail)),
                },
                _ => State::Unknown {
                    error: format!(
                        "its reply was lost; checked: {}; not sent again (see `pgssl log`)",
                        found.detail
                    ),
                },
            }
        }
    }
}

/// A stop switch a face can share with a running `execute`.
pub fn stop_switch() -> Arc<AtomicBool> {
    Arc::new(AtomicBool::new(false))
}
