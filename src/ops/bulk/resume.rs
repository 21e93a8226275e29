//! Going on with a run that did not finish: stopped (by the person, or a failure with
//! --stop-on-failure), interrupted (Ctrl-C, a hangup), or left `sending` by a process that
//! died. The run is held first, then planned against the journal as it is then, so two
//! processes can never both resume it: each change the journal holds is followed or
//! checked (never sent again); each running task is looked at once, so what is offered
//! is what is true now; the never-sent changes are planned again from a fresh read.

use std::collections::{HashMap, HashSet};

use super::run::{Carried, hold, run_file_error, verdict};
use super::schedule::{Item, Limits, Schedule, State};
use super::{BulkPlan, SkipWhy, Skipped, plan_many};
use crate::addresses::AddressSpec;
use crate::domain::Instance;
use crate::ops::check::{Wanted, check};
use crate::ops::follow::{FollowEnd, FollowOptions, follow_task};
use crate::ops::refusal::RunRefusal;
use crate::ops::{OpsError, Plan, Session, Target, Want};
use crate::store::journal::{Entry, Outcome, Record};
use crate::store::now_rfc3339;
use crate::store::runs::{RunFile, RunItem};

/// A run that did not finish, as the journal shows it now, ready to go on once confirmed.
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

/// A run taken for resuming: held by this process while it is shown, confirmed and
/// carried out.
#[derive(Debug)]
pub struct Taken {
    pub found: Resumable,
    held: crate::store::runs::Held,
}

impl Taken {
    /// Carry it out (`run::execute`).
    pub fn into_carried(self) -> Carried {
        Carried {
            run: self.found.run,
            schedule: self.found.schedule,
            held: self.held,
            canary: None,
        }
    }

    /// As a plan, for the outcome table: what a resume will not send.
    pub fn leftovers(&self) -> BulkPlan {
        BulkPlan {
            want: Want::Disable,
            changes: vec![],
            unchanged: self.found.unchanged.clone(),
            skipped: self.found.skipped.clone(),
        }
    }
}

impl Resumable {
    /// Done (ended or refused), running (sent, task not ended), never sent (to send now).
    pub fn counts(&self) -> (usize, usize, usize) {
        let items = &self.schedule.items;
        let running = items.iter().filter(|i| i.state.is_restarting()).count();
        let waiting = items.iter().filter(|i| i.state == State::Waiting).count();
        (items.len() - running - waiting, running, waiting)
    }

    /// How going on must be confirmed: as a new plan of the never-sent changes (nothing
    /// to confirm when none is left to send).
    pub fn confirmation(&self, protected: Option<&str>) -> crate::ops::confirm::Confirmation {
        let waiting: Vec<&str> = self
            .schedule
            .items
            .iter()
            .filter(|i| i.state == State::Waiting)
            .map(|i| i.plan.instance.id.as_str())
            .collect();
        let only = match waiting.as_slice() {
            [one] => Some(*one),
            _ => None,
        };
        let protected = protected.filter(|_| !waiting.is_empty());
        crate::ops::confirm::for_many(waiting.len(), only, protected)
    }

    /// What a person reads before going on; two offers that read the same are the same
    /// offer (the TUI sends only what was drawn).
    pub fn summary(&self) -> Vec<String> {
        let (done, running, waiting) = self.counts();
        let mut lines = vec![format!(
            "Run {} ({} changes, confirmed {}): {done} done, {running} running, {waiting} never sent",
            self.run.id,
            self.run.items.len(),
            self.run.created,
        )];
        if let crate::store::runs::RunState::Stopped { why, at } = &self.run.state {
            lines.push(format!("  {why} ({at})"));
        }
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
                    State::Ended {
                        message: Some(m), ..
                    } => m.clone(),
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

/// The newest run waiting to go on (or run `id`), held by this process and planned
/// against the journal as it is now; None when nothing waits. Refused while another
/// process holds it, and when it was made against another endpoint.
pub async fn take(session: &Session, id: Option<&str>) -> Result<Option<Taken>, OpsError> {
    let runs = &session.store.runs;
    let picked = match id {
        Some(id) => Some(runs.load(id).map_err(run_file_error)?.ok_or_else(|| {
            OpsError::refused(RunRefusal::NoSuchRun {
                run: crate::text::clean(id),
                what: "resume",
            })
        })?),
        None => runs.unfinished().map_err(run_file_error)?,
    };
    let Some(picked) = picked else {
        // Nothing waits here, but one is being carried out by another process: say so
        // (a resume there is not "nothing to resume").
        if let (None, Some(run)) = (id, runs.active().into_iter().next()) {
            return Err(OpsError::refused(RunRefusal::Held { run }));
        }
        return Ok(None);
    };
    let held = hold(session, &picked.id)?;
    // As its file says now that it is held: another process may have finished it
    // between the look and the hold.
    let Some(run) = runs.load(&picked.id).map_err(run_file_error)? else {
        return Ok(None);
    };
    if !run.state.is_open() {
        return match id {
            Some(_) => Err(OpsError::refused(RunRefusal::Over {
                run: run.id,
                state: run.state.word(),
                what: "resume",
            })),
            None => Ok(None),
        };
    }
    let now = session.client.endpoint().to_string();
    if run.endpoint != now {
        return Err(OpsError::refused(RunRefusal::OtherEndpoint {
            run: run.id,
            was: crate::text::clean(&run.endpoint),
            now: crate::text::clean(&now),
        }));
    }
    let found = plan(session, run).await?;
    Ok(Some(Taken { found, held }))
}

/// What `take` would offer, without keeping the run held (shown at TUI start; a `y`
/// takes it again and goes on only if it still reads the same).
pub async fn peek(session: &Session) -> Result<Option<Resumable>, OpsError> {
    Ok(take(session, None).await?.map(|t| t.found))
}

/// The instances the journal holds a change of `run` to.
pub(super) fn sent_of(session: &Session, run: &RunFile) -> Result<HashSet<String>, OpsError> {
    Ok(entries_of(session, run)?
        .into_iter()
        .map(|e| e.request.DBInstanceId)
        .collect())
}

fn entries_of(session: &Session, run: &RunFile) -> Result<Vec<Entry>, OpsError> {
    let journal = &session.store.journal;
    let (entries, _) = journal.entries().map_err(|e| journal.read_error(&e))?;
    Ok(entries
        .into_iter()
        .filter(|e| e.request.run.as_deref() == Some(run.id.as_str()))
        .collect())
}

/// Plan a held run against the journal: each change it holds in its state now, the
/// never-sent ones planned again from a fresh read.
async fn plan(session: &Session, run: RunFile) -> Result<Resumable, OpsError> {
    let journal = &session.store.journal;
    let (all, _) = journal.entries().map_err(|e| journal.read_error(&e))?;
    // The latest change to each instance journaled by anyone else since the run was
    // planned: a never-sent change of the run must not overwrite it.
    let since: HashMap<&str, &Entry> = all
        .iter()
        .filter(|e| e.request.run.as_deref() != Some(run.id.as_str()))
        .filter(|e| e.request.time.as_str() > run.created.as_str())
        .map(|e| (e.request.DBInstanceId.as_str(), e))
        .collect();
    let mine: Vec<Entry> = all
        .iter()
        .filter(|e| e.request.run.as_deref() == Some(run.id.as_str()))
        .cloned()
        .collect();
    let ids: Vec<(String, String)> = run
        .items
        .iter()
        .map(|i| (i.region.clone(), i.DBInstanceId.clone()))
        .collect();
    // Read as a new plan reads them (kept in the inventory); by id, so a large run is
    // not a quadratic search.
    let mut fresh: HashMap<String, Result<Instance, Skipped>> =
        super::prepare::listed(session, &ids)
            .await
            .into_iter()
            .map(|r| {
                let id = match &r {
                    Ok(i) => i.id.clone(),
                    Err(s) => s.instance_id.clone(),
                };
                (id, r)
            })
            .collect();
    // The latest change the journal holds for each instance of the run.
    let latest: HashMap<&str, &Entry> = mine
        .iter()
        .map(|e| (e.request.DBInstanceId.as_str(), e))
        .collect();
    let mut items = Vec::new();
    let mut unsent = Vec::new();
    for want in &run.items {
        let instance = fresh.remove(&want.DBInstanceId);
        let Some(entry) = latest.get(want.DBInstanceId.as_str()) else {
            let elsewhere = since.get(want.DBInstanceId.as_str());
            unsent.push((
                want,
                match (elsewhere, instance) {
                    (Some(e), _) => Err(SkipWhy::ChangedSince {
                        change_id: e.request.id.clone(),
                        at: e.request.time.clone(),
                    }),
                    (None, Some(Ok(i))) => Ok(i),
                    (None, Some(Err(s))) => Err(s.why),
                    (None, None) => Err(SkipWhy::Unreadable("not read".into())),
                },
            ));
            continue;
        };
        let instance = match instance {
            Some(Ok(i)) => i,
            _ => Instance::unread(&want.DBInstanceId, &want.region),
        };
        let mut item = Item::new(Plan {
            target: target(&instance, want),
            instance,
        });
        item.journal_id = Some(entry.request.id.clone());
        item.state = sent_state(session, entry, want).await;
        items.push(item);
    }
    // Never sent: planned again from what the instance is now, as the run asked.
    let mut by_want: Vec<(Want, Vec<Result<Instance, Skipped>>)> = Vec::new();
    for (w, r) in unsent {
        let want = match (w.SSLEnabled, &w.ConnectAddress) {
            (true, Some(host)) => Want::Enable(AddressSpec::Host(host.clone())),
            (true, None) => continue,
            (false, _) => Want::Disable,
        };
        let r = r.map_err(|why| Skipped {
            instance_id: w.DBInstanceId.clone(),
            region: w.region.clone(),
            why,
        });
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
    Ok(Resumable {
        schedule: Schedule::new(items, limits),
        run,
        unchanged,
        skipped,
    })
}

fn target(instance: &Instance, want: &RunItem) -> Target {
    match (want.SSLEnabled, &want.ConnectAddress) {
        (true, Some(host)) => Target::On(
            instance
                .addresses
                .iter()
                .find(|a| a.is(host))
                .cloned()
                .map_or_else(
                    || crate::addresses::Address::unverified(host.clone()),
                    |mut a| {
                        a.host = host.clone();
                        a
                    },
                ),
        ),
        _ => Target::Off,
    }
}

/// What became of a change the journal holds: its task as it is now (looked at once,
/// journaled), the API's refusal, or, when no reply was heard, a check of the instance
/// (journaled), never a resend. One verdict: a change the check finds applied is a
/// success here as in the run that sent it.
async fn sent_state(session: &Session, entry: &Entry, want: &RunItem) -> State {
    match &entry.outcome {
        Some(Outcome::Ok {
            RequestId,
            TaskId: None,
        }) => State::GaveUp {
            task_id: None,
            why: format!("the API gave no TaskId (RequestId {RequestId}): watch the instance"),
        },
        Some(Outcome::Ok {
            RequestId,
            TaskId: Some(task_id),
        }) => {
            let last = entry.task.as_ref();
            if let Some(t) = last.filter(|t| t.status.is_finished()) {
                return State::Ended {
                    task_id: Some(*task_id),
                    request_id: Some(RequestId.clone()),
                    status: t.status,
                    message: t.message.clone(),
                };
            }
            // Looked at once now: what is offered is what is true.
            let end = follow_task(
                session,
                &want.region,
                *task_id,
                Some(&entry.request.id),
                FollowOptions::ONCE,
                |_| {},
            )
            .await;
            match end {
                FollowEnd::Finished(t) => State::Ended {
                    task_id: Some(*task_id),
                    request_id: Some(RequestId.clone()),
                    status: t.status,
                    message: t.message.filter(|_| t.status.is_failed()),
                },
                other => {
                    let seen = other.last();
                    State::Running {
                        task_id: Some(*task_id),
                        request_id: RequestId.clone(),
                        status: seen.map(|t| t.status).or(last.map(|t| t.status)),
                        progress: seen.map_or(last.and_then(|t| t.progress), |t| t.progress),
                    }
                }
            }
        }
        Some(Outcome::Error { Code, Message, .. }) => State::Refused {
            error: format!("{Code}: {Message}"),
        },
        Some(Outcome::Unknown { .. }) | None => {
            let wanted = Wanted {
                enabled: want.SSLEnabled,
                address: want.ConnectAddress.clone(),
                sent_at: pgssl_wire::clock::rfc3339_to_unix(&entry.request.time).unwrap_or(0),
            };
            let found = check(session, &want.region, &want.DBInstanceId, wanted).await;
            let _ = session.store.journal.append(&Record::Check {
                id: entry.request.id.clone(),
                time: now_rfc3339(),
                result: found.result,
                detail: found.detail.clone(),
            });
            // Killed between its journal line and hearing back: it may never have left.
            let how = if entry.outcome.is_none() {
                "not known to have been sent (pgssl stopped between journaling it and hearing back)"
            } else {
                "its reply was lost"
            };
            verdict(&found, how)
        }
    }
}
