//! The offer to resume a bulk run that was interrupted (found at start), and its keys.

use crossterm::event::KeyEvent;

use super::bulk::{BulkRun, ResumeOffer, type_into};
use super::{App, Cmd, Overlay};
use crate::ops::OpsError;
use crate::ops::bulk::resume::Resumable;
use crate::tui::keys::Action;

impl App {
    /// At start: an interrupted run was found. Offered at once on the bare list; over a
    /// dialog (or while a filter is typed) it waits for `b`, so no key meant for
    /// something else answers it.
    pub(super) fn resumable(&mut self, found: Result<Option<Box<Resumable>>, OpsError>) {
        match found {
            Ok(Some(r)) if self.readonly => {
                self.notice = Some(format!(
                    "a bulk run ({}, {}) is waiting; it can be resumed where changes are allowed: {} ssl resume",
                    r.run.id,
                    r.run.state.word(),
                    crate::hint::pgssl()
                ));
            }
            Ok(Some(r)) if matches!(self.overlay, Overlay::None) && self.bulk.is_none() => {
                self.offer_resume(r);
            }
            Ok(Some(r)) => {
                self.notice = Some(format!(
                    "a bulk run that did not finish ({}, {}) was found: b shows it and offers to go on with it",
                    r.run.id,
                    r.run.state.word()
                ));
                self.pending_resume = Some(r);
            }
            Ok(None) => {}
            Err(e) => self.notice = Some(format!("cannot look for an interrupted bulk run: {e}")),
        }
    }

    pub(super) fn offer_resume(&mut self, found: Box<Resumable>) {
        self.overlay = Overlay::Resume(Box::new(ResumeOffer {
            found: *found,
            typed: String::new(),
            shown_at: self.frames,
            error: None,
        }));
    }

    pub(super) fn resume_key(&mut self, action: Option<Action>, key: KeyEvent) -> Vec<Cmd> {
        let frames = self.frames;
        let protected = self.who.protected_profile().map(str::to_string);
        let Overlay::Resume(o) = &mut self.overlay else {
            return vec![];
        };
        let confirmation = o.confirmation(protected.as_deref());
        if let Some(expected) = &confirmation.typed
            && type_into(&mut o.typed, &key, expected)
        {
            o.error = None;
        }
        match action {
            Some(Action::Send) => {
                if frames <= o.shown_at {
                    o.error = Some("it has just appeared: read it, then confirm".into());
                    return vec![];
                }
                if confirmation.is_typed() && !confirmation.accepts(&o.typed) {
                    o.error = Some(format!("{} (Esc: not now)", confirmation.hint()));
                    return vec![];
                }
                let Overlay::Resume(o) = std::mem::replace(&mut self.overlay, Overlay::None) else {
                    return vec![];
                };
                let r = o.found;
                self.bulk = Some(BulkRun {
                    run_id: Some(r.run.id.clone()),
                    items: r.schedule.items.clone(),
                    unchanged: r.unchanged.len(),
                    skipped: r.skipped.clone(),
                    stopped: None,
                    done: false,
                    error: None,
                    left: None,
                });
                self.overlay = Overlay::Run(0);
                vec![Cmd::ResumeBulk(Box::new(r))]
            }
            Some(Action::Cancel | Action::Back) => {
                // Not dropped: `b` shows it again, and the next start offers it.
                let Overlay::Resume(o) = std::mem::replace(&mut self.overlay, Overlay::None) else {
                    return vec![];
                };
                self.pending_resume = Some(Box::new(o.found));
                self.notice = Some(format!(
                    "the run waits: b shows it again; {} ssl resume (or the next start) continues it, {} ssl resume --abandon RUN gives it up",
                    crate::hint::pgssl(),
                    crate::hint::pgssl()
                ));
                vec![]
            }
            _ => vec![],
        }
    }
}
