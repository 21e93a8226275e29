//! Carrying out the update's commands: tokio tasks that call `ops` and send the results
//! back as messages, so the render loop never waits on the network or the disk. Nothing
//! here decides anything: each command is one call into the core.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::mpsc::UnboundedSender;

use super::app::{ChangeEvent, CheckShown, Cmd, Msg, Switched, Who};
use crate::context::{Context, Opened};
use crate::domain::{Instance, Task};
use crate::ops::change::{self, ChangeObserver, ExecuteOptions, VerifyAfter};
use crate::ops::{self, FollowEnd, FollowOptions, OpsError, Sent, Session, Verified};
use crate::store::Store;

mod bulk;

/// How many of the latest changes the log pane holds (the journal itself may hold years).
const LOG_ENTRIES: usize = 500;

pub struct Effects {
    pub store: Store,
    /// The session commands use; replaced when the person switches credentials.
    pub session: Arc<Mutex<Result<Session, OpsError>>>,
    /// What sessions are opened from (a switch opens another with a different choice).
    pub ctx: Context,
    pub tx: UnboundedSender<Msg>,
    pub follow: FollowOptions,
    /// Which session the header speaks for: bumped by each switch, so that an account
    /// answer or a renewal of the session switched away from never reaches the header.
    pub generation: Generation,
    /// Stops the bulk run's sending (`x`); a new run gets a new switch.
    pub bulk_stop: Arc<Mutex<Arc<std::sync::atomic::AtomicBool>>>,
}

/// A counter of sessions: a message about session N is dropped once N is not the latest.
#[derive(Debug, Clone, Default)]
pub struct Generation(Arc<AtomicU64>);

impl Generation {
    fn current(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }

    fn next(&self) -> u64 {
        self.0.fetch_add(1, Ordering::SeqCst) + 1
    }

    /// Send `msg` only while `of` is still the latest session.
    fn send_if(&self, of: u64, tx: &UnboundedSender<Msg>, msg: Msg) {
        if self.current() == of {
            send(tx, msg);
        }
    }
}

/// The header's line for an opened session (the account is asked separately).
pub fn who_of(opened: &Opened) -> Who {
    let guard = &opened.session.guard;
    Who {
        credential: opened.short_line(),
        account: None,
        problem: None,
        profile: opened.session.profile.clone(),
        protected: guard.protected,
        readonly: guard.readonly,
    }
}

/// Wire a new session to the TUI: its requests and its key renewals become messages.
pub fn attach(mut session: Session, tx: &UnboundedSender<Msg>, generation: &Generation) -> Session {
    let calls = tx.clone();
    session.client = session.client.with_observer(Arc::new(move |record| {
        let _ = calls.send(Msg::Call(record.clone()));
    }));
    let events = tx.clone();
    let (of, generation) = (generation.current(), generation.clone());
    session.client.provider().on_event(Arc::new(move |event| {
        generation.send_if(of, &events, Msg::Credential(event.clone()));
    }));
    session
}

/// Ask who the credential is, then send the header's line with the account (and the
/// SecretId of a temporary key, now fetched).
pub fn announce(opened: Opened, tx: UnboundedSender<Msg>, generation: &Generation) {
    let (of, generation) = (generation.current(), generation.clone());
    tokio::spawn(async move {
        let identity = opened.session.identity().await;
        let mut who = who_of(&opened);
        who.account = Some(identity.line());
        who.problem = opened
            .session
            .client
            .provider()
            .status()
            .and_then(|s| s.problem);
        generation.send_if(of, &tx, Msg::Who(who));
    });
}

fn send(tx: &UnboundedSender<Msg>, msg: Msg) {
    // The loop is gone only when quitting; nothing to do then.
    let _ = tx.send(msg);
}

impl Effects {
    /// Start one command. Returns immediately.
    pub fn run(&self, cmd: Cmd) {
        let tx = self.tx.clone();
        match cmd {
            Cmd::Copy(text) => super::term::copy_osc52(&text),
            Cmd::ReloadJournal => {
                let journal = self.store.journal.clone();
                tokio::task::spawn_blocking(move || {
                    if let Ok((entries, _)) = journal.latest(LOG_ENTRIES, None) {
                        send(&tx, Msg::Journal(entries));
                    }
                });
            }
            Cmd::Remove(id) => {
                let store = self.store.clone();
                tokio::task::spawn_blocking(move || {
                    let result = ops::inventory::remove(&store, &id).map(|()| id);
                    send(&tx, Msg::Removed(result));
                });
            }
            Cmd::SaveRegions(regions) => {
                let store = self.store.clone();
                tokio::task::spawn_blocking(move || {
                    let result =
                        ops::inventory::regions(&store, ops::inventory::Regions::Set(regions));
                    send(&tx, Msg::RegionsSaved(result));
                });
            }
            Cmd::ListChoices => {
                let ctx = self.ctx.clone();
                tokio::spawn(async move {
                    let listed = ctx
                        .choices()
                        .await
                        .into_iter()
                        .map(|c| {
                            let guard = ctx.config.guards.effective(match &c {
                                crate::credentials::choices::Choice::Profile { name, .. } => {
                                    Some(name.as_str())
                                }
                                _ => None,
                            });
                            let guarded = crate::tui::app::Guarded {
                                protected: guard.protected,
                                readonly: guard.readonly,
                            };
                            (c, guarded)
                        })
                        .collect();
                    send(&tx, Msg::Choices(listed));
                });
            }
            Cmd::Switch(choice) => {
                let ctx = self.ctx.with_choice(&choice);
                let shared = self.session.clone();
                let generation = self.generation.clone();
                tokio::spawn(async move {
                    match ctx.open().await {
                        Ok(mut opened) => {
                            generation.next();
                            opened.session = attach(opened.session, &tx, &generation);
                            if let Ok(mut current) = shared.lock() {
                                *current = Ok(opened.session.clone());
                            }
                            send(
                                &tx,
                                Msg::Switched(Ok(Switched {
                                    who: who_of(&opened),
                                    region: opened.credential_region.clone(),
                                    warnings: opened.warnings.clone(),
                                })),
                            );
                            announce(opened, tx, &generation);
                        }
                        Err(e) => send(&tx, Msg::Switched(Err(e))),
                    }
                });
            }
            bulk @ (Cmd::PrepareBulk { .. }
            | Cmd::PrepareUndoRun(_)
            | Cmd::ExecuteBulk(..)
            | Cmd::ResumeBulk(_)
            | Cmd::StopBulk) => self.bulk(bulk),
            api_cmd => {
                let session = match self.session.lock() {
                    Ok(s) => s.clone(),
                    Err(p) => p.into_inner().clone(),
                };
                match session {
                    Ok(session) => {
                        let follow = self.follow;
                        tokio::spawn(async move { api(session, follow, api_cmd, tx).await });
                    }
                    Err(e) => send(&tx, failed(&api_cmd, &e)),
                }
            }
        }
    }

    /// The session commands use now, or why there is none.
    fn session(&self) -> Result<Session, OpsError> {
        match self.session.lock() {
            Ok(s) => s.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    /// Look for an interrupted bulk run (at start).
    pub fn find_interrupted_run(&self) {
        if let Ok(session) = self.session() {
            tokio::spawn(bulk::find(session, self.tx.clone()));
        }
    }

    /// The regions to offer, as DescribeRegions lists them (kept a day; asked when old).
    pub fn list_regions(&self) {
        if let Ok(session) = self.session() {
            let tx = self.tx.clone();
            tokio::spawn(async move {
                let catalog = ops::regions::catalog(&session, false).await;
                let names = catalog.available().map(str::to_string).collect();
                send(&tx, Msg::RegionsListed(names));
            });
        }
    }

    fn bulk(&self, cmd: Cmd) {
        if cmd == Cmd::StopBulk {
            if let Ok(stop) = self.bulk_stop.lock() {
                stop.store(true, Ordering::SeqCst);
            }
            return;
        }
        let tx = self.tx.clone();
        let session = match self.session() {
            Ok(s) => s,
            Err(e) => {
                send(
                    &tx,
                    Msg::Bulk(super::app::bulk::BulkEvent::Finished(Err(e))),
                );
                return;
            }
        };
        let follow = self.follow;
        match cmd {
            Cmd::PrepareBulk {
                ids,
                want,
                with_group,
            } => {
                tokio::spawn(async move {
                    let result = bulk::prepare(&session, &ids, &want, with_group).await;
                    bulk::planned(&session, &tx, result);
                });
            }
            Cmd::PrepareUndoRun(run) => {
                tokio::spawn(async move {
                    let result = ops::undo::prepare_run_id(&session, &run, false).await;
                    bulk::planned(&session, &tx, result);
                });
            }
            Cmd::ExecuteBulk(plan, limits, canary) => {
                let stop = self.new_stop();
                tokio::spawn(bulk::execute(
                    session, *plan, limits, canary, follow, stop, tx,
                ));
            }
            Cmd::ResumeBulk(found) => {
                let stop = self.new_stop();
                tokio::spawn(bulk::resume(session, *found, follow, stop, tx));
            }
            _ => {}
        }
    }

    fn new_stop(&self) -> Arc<std::sync::atomic::AtomicBool> {
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        if let Ok(mut s) = self.bulk_stop.lock() {
            *s = stop.clone();
        }
        stop
    }

    /// Watch the journal for lines other processes (the CLI) write, and send it on change.
    pub fn watch_journal(&self) {
        let journal = self.store.journal.clone();
        let tx = self.tx.clone();
        tokio::spawn(async move {
            let mut last = None;
            loop {
                let stamp = std::fs::metadata(journal.path())
                    .ok()
                    .map(|m| (m.len(), m.modified().ok()));
                if stamp != last {
                    last = stamp;
                    let j = journal.clone();
                    if let Ok(Ok((entries, _))) =
                        tokio::task::spawn_blocking(move || j.latest(LOG_ENTRIES, None)).await
                        && tx.send(Msg::Journal(entries)).is_err()
                    {
                        return;
                    }
                }
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
        });
    }
}

/// The CA as the details pane shows it: where it is kept, or that it came
/// unauthenticated and how to confirm it.
fn ca_lines(id: &str, found: &ops::ca::InstanceCa) -> Vec<String> {
    let now = crate::api::client::system_clock();
    let mut lines = vec![match &found.kept {
        Some(bundle) => format!(
            "CA kept at {}",
            crate::text::sanitize(&bundle.path.display().to_string())
        ),
        None => format!(
            "CA from {}: NOT kept; compare its sha256 with the console's, then `{} ssl ca {id} --fingerprint SHA256`",
            found.ca.origin.describe(),
            crate::hint::pgssl()
        ),
    }];
    for c in &found.ca.infos {
        lines.push(format!(
            "{}, valid to {} ({})",
            c.subject,
            c.not_after,
            c.time_left(now)
        ));
        // On a line of its own: V copies it whole (`c` on the line).
        lines.push(format!("  sha256 {}", c.sha256));
    }
    lines
}

fn check_shown(v: &Verified) -> CheckShown {
    CheckShown {
        result: v.report.verdict.result(),
        lines: v.lines(),
    }
}

/// The failure message for a command that needs the API when there is no session.
fn failed(cmd: &Cmd, error: &OpsError) -> Msg {
    let e = error.clone();
    match cmd {
        Cmd::Refresh(_) => Msg::RefreshDone(Some(e)),
        Cmd::Describe { id, .. } => Msg::Described {
            id: id.clone(),
            result: Err(e),
        },
        Cmd::Prepare(intent) | Cmd::PrepareUndo { intent, .. } => Msg::Prepared {
            intent: intent.clone(),
            result: Err(e),
        },
        Cmd::Execute(plan) => Msg::Executed {
            id: plan.instance_id().to_string(),
            result: Err(e),
        },
        Cmd::Import(_) => Msg::Imported(Err(e)),
        Cmd::Add { .. } => Msg::Added(Err(e)),
        Cmd::Verify { id, .. } => Msg::Verified {
            id: id.clone(),
            result: Err(e),
        },
        Cmd::FetchCa { id, .. } => Msg::CaFetched {
            id: id.clone(),
            result: Err(e),
        },
        Cmd::Census { id, .. } => Msg::Counted {
            id: id.clone(),
            result: Err(e),
            asked: true,
        },
        Cmd::Audit(_) => Msg::Audited(Err(e)),
        _ => Msg::Notice(format!("cannot reach the API: {e}")),
    }
}

/// Hears `execute`'s steps and turns them into messages.
struct Relay {
    tx: UnboundedSender<Msg>,
    instance_id: String,
}

impl ChangeObserver for Relay {
    fn sent(&mut self, sent: &Sent) {
        send(&self.tx, Msg::Change(ChangeEvent::Sent(sent.clone())));
    }
    fn task(&mut self, task: &Task) {
        send(
            &self.tx,
            Msg::Change(ChangeEvent::Task {
                instance_id: self.instance_id.clone(),
                task: task.clone(),
            }),
        );
    }
    fn settled(&mut self, end: &FollowEnd) {
        send(
            &self.tx,
            Msg::Change(ChangeEvent::Settled {
                instance_id: self.instance_id.clone(),
                end: end.clone(),
            }),
        );
    }
    fn refreshed(&mut self, now: &Instance) {
        send(
            &self.tx,
            Msg::Change(ChangeEvent::Refreshed(Box::new(now.clone()))),
        );
    }
    fn counted(&mut self, result: &Result<ops::census::Taken, OpsError>, verdict: &str) {
        // After the change: the verdict first, then the census as `w` shows it.
        let result = result.as_ref().map_err(Clone::clone).map(|t| {
            let mut lines = vec![format!("after the change: {verdict}")];
            lines.extend(census_lines(t));
            lines
        });
        send(
            &self.tx,
            Msg::Counted {
                id: self.instance_id.clone(),
                result,
                asked: false,
            },
        );
    }
    fn as_asked(&mut self, now: &crate::domain::SslSeen) {
        send(
            &self.tx,
            Msg::Notice(format!(
                "{} already has SSL {} (changed meanwhile): nothing sent",
                self.instance_id,
                now.state.describe()
            )),
        );
    }
    fn verified(&mut self, result: &Result<Verified, OpsError>) {
        send(
            &self.tx,
            Msg::Change(ChangeEvent::Verified {
                instance_id: self.instance_id.clone(),
                result: result.as_ref().map(check_shown).map_err(Clone::clone),
            }),
        );
    }
}

async fn api(session: Session, follow: FollowOptions, cmd: Cmd, tx: UnboundedSender<Msg>) {
    let msg = match cmd {
        Cmd::Census { region, id } => {
            let result = match ops::inventory::describe(&session, &region, &id).await {
                Ok(info) => {
                    ops::census::take(&session, &info, &ops::census::CensusRequest::default())
                        .await
                        .map(|t| census_lines(&t))
                }
                Err(e) => Err(e),
            };
            Msg::Counted {
                id,
                result,
                asked: true,
            }
        }
        Cmd::FetchCa { region, id } => {
            let result = ops::ca::instance_ca(&session, &region, &id, &[])
                .await
                .map(|found| ca_lines(&id, &found));
            Msg::CaFetched { id, result }
        }
        Cmd::Verify { region, id } => {
            let result =
                ops::verify::verify(&session, &region, &id, &ops::VerifyRequest::default())
                    .await
                    .map(|v| check_shown(&v));
            Msg::Verified { id, result }
        }
        Cmd::Refresh(targets) => {
            let result = ops::inventory::refresh(&session, &targets, |id, result| {
                send(
                    &tx,
                    Msg::Refreshed {
                        id: id.to_string(),
                        result: result.clone(),
                    },
                );
            })
            .await;
            Msg::RefreshDone(result.err())
        }
        Cmd::Describe { region, id } => {
            let result = ops::inventory::describe(&session, &region, &id).await;
            Msg::Described { id, result }
        }
        Cmd::Prepare(intent) => {
            let result = change::prepare(&session, &intent).await.map(Box::new);
            // Who is connected comes after the plan, never holding the dialog up.
            if let Ok(prepared) = &result
                && let ops::Prepared::Change(plan) = prepared.as_ref()
            {
                let (session, plan, tx, intent) =
                    (session.clone(), plan.clone(), tx.clone(), intent.clone());
                tokio::spawn(async move {
                    let lines = ops::census::plan_lines(&session, &plan).await;
                    send(&tx, Msg::PlanCensus { intent, lines });
                });
            }
            Msg::Prepared { intent, result }
        }
        Cmd::PrepareUndo { change, intent } => Msg::Prepared {
            intent,
            result: ops::undo::prepare_change(&session, &change, false)
                .await
                .map(|(_, _, prepared)| Box::new(prepared)),
        },
        Cmd::Execute(plan) => {
            let id = plan.instance_id().to_string();
            let mut relay = Relay {
                tx: tx.clone(),
                instance_id: id.clone(),
            };
            // The TUI follows every change to its end. The TLS check stays one key away
            // (v): it opens a connection from this machine, which a person starts.
            let options = ExecuteOptions {
                follow: Some(follow),
                verify: VerifyAfter::Never,
            };
            let result = change::execute(&session, &plan, &options, &mut relay)
                .await
                .map(|_| ());
            Msg::Executed { id, result }
        }
        Cmd::Resume(u) => {
            let mut relay = Relay {
                tx: tx.clone(),
                instance_id: u.instance_id.clone(),
            };
            let result = ops::follow::resume(&session, &u, follow, |t| relay.task(t)).await;
            if let Ok(ops::follow::Resumed::Followed(end)) = &result {
                relay.settled(end);
                if let Ok(now) = ops::inventory::describe(&session, &u.region, &u.instance_id).await
                {
                    relay.refreshed(&now);
                }
            }
            Msg::Resumed {
                unfinished: u,
                result,
            }
        }
        Cmd::Audit(regions) => Msg::Audited(
            ops::audit::run(&session, &regions, false, None, |_, _| {})
                .await
                .map(|mut audit| {
                    // Marked against the last audit this data dir saw, which this one
                    // then replaces.
                    audit.since = ops::audit::against_last(&session.store, &audit);
                    audit
                }),
        ),
        Cmd::Add { region, id } => Msg::Added(ops::inventory::add(&session, &region, &id).await),
        Cmd::Import(regions) => Msg::Imported(ops::inventory::import(&session, &regions).await),
        Cmd::PrepareBulk { .. }
        | Cmd::PrepareUndoRun(_)
        | Cmd::ExecuteBulk(..)
        | Cmd::ResumeBulk(_)
        | Cmd::StopBulk => {
            return;
        }
        Cmd::Copy(_)
        | Cmd::ReloadJournal
        | Cmd::Remove(_)
        | Cmd::SaveRegions(_)
        | Cmd::ListChoices
        | Cmd::Switch(_) => return,
    };
    send(&tx, msg);
}

/// A census as the TUI shows it: the summary, how it was taken, then a line per client.
fn census_lines(t: &ops::census::Taken) -> Vec<String> {
    let mut lines = vec![
        t.census.summary(),
        format!("at {}, {}, as {}", t.address, t.channel.said(), t.user),
    ];
    lines.extend(t.note.clone());
    for c in &t.census.clients {
        lines.push(format!(
            "{:<9} {:<7} {:<15} {:<18} {:<12} x{}",
            if c.ssl { "tls" } else { "PLAINTEXT" },
            c.version.as_deref().unwrap_or("-"),
            c.client_addr.as_deref().unwrap_or("local"),
            if c.application_name.is_empty() {
                "-"
            } else {
                c.application_name.as_str()
            },
            c.usename.as_deref().unwrap_or("-"),
            c.count
        ));
    }
    lines
}

#[cfg(test)]
mod generation_tests {
    use super::{Generation, Msg};

    #[test]
    fn an_answer_about_a_session_switched_away_from_is_dropped() {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let generation = Generation::default();
        let first = generation.current();
        generation.send_if(first, &tx, Msg::Notice("first".into()));
        let second = generation.next();
        // The first session's late answer: dropped; the second's: delivered.
        generation.send_if(first, &tx, Msg::Notice("late".into()));
        generation.send_if(second, &tx, Msg::Notice("second".into()));
        let mut got = Vec::new();
        while let Ok(Msg::Notice(n)) = rx.try_recv() {
            got.push(n);
        }
        assert_eq!(got, ["first", "second"]);
    }
}
