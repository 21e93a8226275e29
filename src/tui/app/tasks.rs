//! Changes followed to their end whatever happens to the session: the journal's
//! unfinished changes (from an earlier run, or sent by the CLI meanwhile) are picked up
//! and followed; quitting while a change of this session still runs asks once, then
//! leaves the TaskId and the command to follow it on the terminal.

use super::{App, Cmd, Overlay};
use crate::ops::OpsError;
use crate::ops::follow::{Resumed, Unfinished, unfinished};
use crate::store::journal::Entry;
use crate::tui::keys::Action;

impl App {
    /// A fresh read of the journal: follow every unfinished change nobody here follows yet.
    pub(super) fn pick_up(&mut self, entries: &[Entry]) -> Vec<Cmd> {
        let mut cmds = Vec::new();
        self.open_changes = unfinished(entries, pgssl_wire::clock::unix_now());
        for u in self.open_changes.clone() {
            // A change this session is sending is followed by its own execute (a bulk
            // run's, by the run).
            let in_run = self
                .bulk
                .as_ref()
                .filter(|b| b.is_running())
                .is_some_and(|b| b.items.iter().any(|i| i.plan.instance.id == u.instance_id));
            if self.inflight.contains(&u.instance_id)
                || in_run
                || !self.following.insert(u.journal_id.clone())
            {
                continue;
            }
            cmds.push(Cmd::Resume(u));
        }
        if !cmds.is_empty() {
            let n = cmds.len();
            self.notice = Some(format!(
                "following {n} unfinished change{}",
                if n == 1 { "" } else { "s" }
            ));
        }
        cmds
    }

    pub(super) fn resumed(
        &mut self,
        u: &Unfinished,
        result: Result<Resumed, OpsError>,
    ) -> Vec<Cmd> {
        match result {
            // The follow's own Settled event said how it ended.
            Ok(Resumed::Followed(_)) => {}
            Ok(Resumed::Checked(found)) => {
                self.notice = Some(format!(
                    "earlier change to {} (outcome unknown): {}",
                    u.instance_id,
                    crate::text::clean(&found.detail)
                ));
            }
            Err(e) => {
                self.notice = Some(format!(
                    "could not follow {} on {}: {e}",
                    u.task_id
                        .map_or_else(|| "the earlier change".to_string(), |t| format!("task {t}")),
                    u.instance_id
                ));
            }
        }
        vec![Cmd::ReloadJournal]
    }

    /// This session's changes still under way: (instance, TaskId once known).
    pub fn running_changes(&self) -> Vec<(String, Option<i64>)> {
        let mut out: Vec<(String, Option<i64>)> = self
            .inflight
            .iter()
            .map(|id| (id.clone(), self.sent_tasks.get(id).copied()))
            .collect();
        out.sort();
        out
    }

    /// `q`: quits, unless a change of this session still runs and this is the first `q`.
    pub(super) fn quit_key(&mut self) {
        let running = self.running_changes();
        let bulk = self
            .bulk
            .as_ref()
            .is_some_and(super::bulk::BulkRun::is_running);
        if (running.is_empty() && !bulk) || self.quit_warned {
            self.quit = true;
            return;
        }
        self.quit_warned = true;
        if bulk {
            self.notice = Some(format!(
                "q again to quit: the bulk run stops sending (what was sent goes on without pgssl); {} ssl resume, or the next start, continues it",
                crate::hint::pgssl()
            ));
            return;
        }
        let what = running
            .iter()
            .map(|(id, task)| match task {
                Some(t) => format!("task {t} on {id}"),
                None => format!("the change to {id}"),
            })
            .collect::<Vec<_>>()
            .join(", ");
        // The request first: a narrow header cuts the end.
        self.notice = Some(format!(
            "q again to quit: {what} {} still running and will go on without pgssl",
            if running.len() == 1 { "is" } else { "are" }
        ));
    }

    /// What to leave on the terminal after quitting: each change still running, with the
    /// command that follows it.
    pub fn farewell(&self) -> Vec<String> {
        let pgssl = crate::hint::pgssl();
        let bulk = self
            .bulk
            .as_ref()
            .filter(|b| b.is_running())
            .map(|b| {
                format!(
                    "pgssl: the bulk run {} was interrupted ({}); see and continue it with: {pgssl} ssl resume",
                    b.run_id.as_deref().unwrap_or("(starting)"),
                    b.progress()
                )
            });
        bulk.into_iter()
            .chain(self.running_changes().into_iter()
            .map(|(id, task)| match task {
                Some(t) => format!(
                    "pgssl: task {t} on {id} is still running; follow it with: {pgssl} task show {t} --wait"
                ),
                None => format!(
                    "pgssl: the change to {id} was being sent when pgssl quit; see what came of it with: {pgssl} log"
                ),
            }))
            .collect()
    }
}

/// One row of the tasks view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskRow {
    pub task_id: Option<i64>,
    pub instance_id: String,
    /// Status and progress as last seen (live when followed), or the unknown outcome.
    pub status: String,
    pub step: String,
    /// When the change was sent (RFC 3339).
    pub sent: String,
}

impl App {
    /// Changes in flight and unresolved outcomes, oldest first, with the latest status
    /// pgssl has seen of each.
    pub fn task_rows(&self) -> Vec<TaskRow> {
        self.open_changes
            .iter()
            .map(|u| {
                let live = u.task_id.and_then(|t| self.progress.get(&t));
                let (status, step) = match (live, u.task_id, u.last) {
                    (Some(t), _, _) => (
                        format!(
                            "{}{}",
                            t.status,
                            t.progress.map(|p| format!(" {p}%")).unwrap_or_default()
                        ),
                        t.current_step
                            .as_deref()
                            .map(crate::text::clean)
                            .unwrap_or_default(),
                    ),
                    (None, Some(_), Some((s, p))) => (
                        format!("{s}{}", p.map(|p| format!(" {p}%")).unwrap_or_default()),
                        String::new(),
                    ),
                    (None, Some(_), None) => ("not listed yet".into(), String::new()),
                    (None, None, _) => ("outcome unknown".into(), "being checked".into()),
                };
                TaskRow {
                    task_id: u.task_id,
                    instance_id: crate::text::clean(&u.instance_id),
                    status,
                    step,
                    sent: crate::text::clean(&u.sent),
                }
            })
            .collect()
    }

    pub(super) fn tasks_key(&mut self, action: Option<Action>) -> Vec<Cmd> {
        let Overlay::Tasks(cursor) = &mut self.overlay else {
            return vec![];
        };
        let n = self.open_changes.len();
        match action {
            Some(Action::Up) => *cursor = cursor.saturating_sub(1),
            Some(Action::Down) => *cursor = (*cursor + 1).min(n.saturating_sub(1)),
            Some(Action::Back) => self.overlay = Overlay::None,
            Some(Action::Submit) => {
                let chosen = self.open_changes.get(*cursor).map(|u| u.journal_id.clone());
                // The change's log line in full, found by its journal entry's task or time.
                let item = chosen.and_then(|id| {
                    let u = self.open_changes.iter().find(|u| u.journal_id == id)?;
                    self.log_items()
                        .iter()
                        .find(|i| {
                            i.kind == super::LogKind::Change
                                && i.instance == u.instance_id
                                && i.time == crate::text::clean(&u.sent)
                        })
                        .cloned()
                });
                if let Some(mut item) = item {
                    // The journal may lag the follow: what the follow sees now comes first.
                    if let Some(t) = item.task_id.and_then(|t| self.progress.get(&t)) {
                        item.detail.insert(
                            0,
                            format!(
                                "Now: task {} {}{}{}",
                                t.task_id,
                                t.status,
                                t.progress.map(|p| format!(" {p}%")).unwrap_or_default(),
                                t.current_step
                                    .as_deref()
                                    .map(|s| format!(" ({})", crate::text::clean(s)))
                                    .unwrap_or_default()
                            ),
                        );
                    }
                    self.overlay = Overlay::LogDetail(Box::new(item), 0);
                }
            }
            _ => {}
        }
        vec![]
    }
}

impl App {
    /// `A`: audit the regions shown (all when none is chosen), as `pgssl audit`.
    pub(super) fn open_audit(&mut self) -> Vec<Cmd> {
        let regions = if self.regions.is_empty() {
            let mut r: Vec<String> = self.rows.iter().map(|r| r.region().to_string()).collect();
            r.sort();
            r.dedup();
            r
        } else {
            self.regions.clone()
        };
        if regions.is_empty() {
            self.notice =
                Some("nothing to audit: no region chosen and no instance saved (R, i)".into());
            return vec![];
        }
        self.overlay = Overlay::Findings(None, 0);
        self.busy += 1;
        vec![Cmd::Audit(regions)]
    }

    pub(super) fn audited(&mut self, result: Result<crate::ops::audit::Audit, OpsError>) {
        self.busy = self.busy.saturating_sub(1);
        match result {
            Ok(audit) => {
                self.notice = Some(format!(
                    "audit: {} instances, SSL on {}, off {}, unknown {}; {} finding(s){}",
                    audit.instances,
                    audit.ssl_on,
                    audit.ssl_off,
                    audit.ssl_unknown,
                    audit.findings.len(),
                    audit.since.as_ref().map_or_else(String::new, |s| format!(
                        "; {} change(s) since the last audit, {} for the worse",
                        s.changes.len(),
                        s.worse
                    ))
                ));
                self.learn_cas(&audit);
                if let Overlay::Findings(slot, _) = &mut self.overlay {
                    *slot = Some(Box::new(audit));
                }
            }
            Err(e) => {
                if matches!(self.overlay, Overlay::Findings(..)) {
                    self.overlay = Overlay::None;
                }
                self.notice = Some(format!("audit not run: {e}"));
            }
        }
    }

    /// What the audit fetched of each CA, with its pin, onto the rows: the details say
    /// when a CA is not the one pinned.
    fn learn_cas(&mut self, audit: &crate::ops::audit::Audit) {
        for r in &audit.rows {
            let Some(ca) = &r.ca else { continue };
            let Some(row) = self.rows.iter_mut().find(|row| row.id() == r.DBInstanceId) else {
                continue;
            };
            let Some(inst) = row.learned.as_mut() else {
                continue;
            };
            let path = inst.ca.as_ref().map(|c| c.path.clone()).unwrap_or_default();
            inst.ca = Some(crate::domain::CaKnown {
                path,
                subject: ca.subject.clone(),
                not_after: ca.not_after.clone(),
                sha256: ca.sha256.clone(),
                fetched_at: audit.about.taken_at.clone(),
                pin: Some(crate::domain::CaPin {
                    sha256: ca.pinned_sha256.clone(),
                    since: ca.pinned_since.clone(),
                }),
            });
        }
    }

    pub(super) fn findings_key(&mut self, action: Option<Action>) -> Vec<Cmd> {
        let Overlay::Findings(audit, cursor) = &mut self.overlay else {
            return vec![];
        };
        let n = audit.as_ref().map_or(0, |a| a.findings.len());
        match action {
            Some(Action::Up) => *cursor = cursor.saturating_sub(1),
            Some(Action::Down) => *cursor = (*cursor + 1).min(n.saturating_sub(1)),
            Some(Action::Back) => self.overlay = Overlay::None,
            Some(Action::Submit) => {
                // Go to the instance of the finding.
                let id = audit
                    .as_ref()
                    .and_then(|a| a.findings.get(*cursor))
                    .map(|f| f.DBInstanceId.clone());
                if let Some(id) = id {
                    self.overlay = Overlay::None;
                    self.filter.clear();
                    self.recompute();
                    if let Some(pos) = self.visible.iter().position(|&i| self.rows[i].id() == id) {
                        self.move_selection(pos);
                    } else {
                        self.notice = Some(format!("{id} is not saved: i imports its region"));
                    }
                }
            }
            _ => {}
        }
        vec![]
    }
}
