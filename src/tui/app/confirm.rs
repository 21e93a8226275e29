//! The confirm dialog. It holds the exact plan `y` sends: planned by `ops` from a read
//! made when the form was submitted, and planned again, here, whenever a fresher read of
//! the instance arrives while it is open. When that changes what the dialog says, the
//! dialog shows the new plan and asks again: `y` sends only a plan that has been drawn.

use super::{App, Cmd, Overlay, SslForm};
use crate::domain::Instance;
use crate::ops::{Intent, Plan, Prepared, plan};
use crate::tui::keys::Action;

/// What the dialog shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shown {
    /// The fresh read has not come back yet.
    Reading,
    /// The change `y` sends.
    Change(Box<Plan>),
    /// The instance already is as asked: nothing to send.
    Unchanged(Box<Instance>),
    /// Planning refused (not running, not its address, the read failed...).
    Refused(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Confirm {
    /// The form it came from (Esc goes back to it); None for an undo from the log.
    pub form: Option<SslForm>,
    /// The journaled change this plan undoes (`u` in the log), if it is an undo.
    pub undo: Option<String>,
    pub intent: Intent,
    pub shown: Shown,
    /// The frame count when `shown` last changed: `y` needs a frame drawn since.
    pub shown_at: u64,
    /// Fresher data changed the plan after it was first shown.
    pub revised: bool,
    /// After a revision, a first `y` only says it was seen: a `y` typed for the old plan
    /// must never send the new one. The next `y` sends.
    pub acknowledged: bool,
    /// With a protected profile: what has been typed of the instance id.
    pub typed: String,
    /// Enter with a typed id that does not match: said in the dialog until the next key.
    pub wrong: Option<String>,
    /// Who is connected, and what the change means for them (`ops::census`), once known.
    pub clients: Vec<String>,
}

impl From<Prepared> for Shown {
    fn from(p: Prepared) -> Shown {
        match p {
            Prepared::Change(plan) => Shown::Change(Box::new(plan)),
            Prepared::Unchanged(i) => Shown::Unchanged(Box::new(i)),
        }
    }
}

impl Shown {
    /// What a person reads in the dialog: two plans that read the same are the same plan
    /// to them (and send the same request).
    fn reads_as(&self) -> (Vec<String>, Option<String>) {
        match self {
            Shown::Reading => (vec![], None),
            Shown::Refused(e) => (vec![e.clone()], None),
            Shown::Change(p) => (p.summary(), serde_json::to_string(&p.request()).ok()),
            Shown::Unchanged(i) => (
                vec![
                    i.id.clone(),
                    i.ssl_state()
                        .map(crate::domain::SslState::describe)
                        .unwrap_or_default(),
                ],
                None,
            ),
        }
    }
}

impl App {
    pub(super) fn open_confirm(&mut self, form: SslForm, intent: Intent) -> Vec<Cmd> {
        self.show_confirm(Some(form), None, intent.clone());
        vec![Cmd::Prepare(intent)]
    }

    /// The dialog, reading, for `intent`: a change from the form, or the undo of a change.
    pub(super) fn show_confirm(
        &mut self,
        form: Option<SslForm>,
        undo: Option<String>,
        intent: Intent,
    ) {
        self.busy += 1;
        self.overlay = Overlay::Confirm(Box::new(Confirm {
            form,
            undo,
            intent,
            shown: Shown::Reading,
            shown_at: self.frames,
            revised: false,
            acknowledged: false,
            typed: String::new(),
            wrong: None,
            clients: Vec::new(),
        }));
    }

    /// The plan came back from `ops::change::prepare`.
    pub(super) fn prepared(&mut self, intent: &Intent, shown: Shown) {
        let frames = self.frames;
        if let Overlay::Confirm(c) = &mut self.overlay
            && c.intent == *intent
            && c.shown == Shown::Reading
        {
            // An undo refused (changed since...): the status line says why too.
            if let (Some(_), Shown::Refused(e)) = (&c.undo, &shown) {
                self.notice = Some(format!("cannot undo: {e}"));
            }
            c.shown = shown;
            c.shown_at = frames;
        } else if let Shown::Refused(e) = shown {
            self.notice = Some(e);
        }
    }

    /// A fresher read of an instance arrived: if the dialog is about it, plan again from
    /// it and, when the dialog would read differently, show the new plan.
    pub(super) fn replan(&mut self, fresh: &Instance) {
        let frames = self.frames;
        let Overlay::Confirm(c) = &mut self.overlay else {
            return;
        };
        if c.intent.instance_id != fresh.id {
            return;
        }
        let basis = match &c.shown {
            // The prepare under way reads after this one was made.
            Shown::Reading => return,
            Shown::Change(p) => Some(p.instance.read_at.as_str()),
            Shown::Unchanged(i) => Some(i.read_at.as_str()),
            Shown::Refused(_) => None,
        };
        if basis.is_some_and(|b| pgssl_wire::clock::later(b, &fresh.read_at)) {
            return;
        }
        let new = match plan::plan(fresh, &c.intent.want) {
            Ok(p) => Shown::from(p),
            Err(e) => Shown::Refused(e.to_string()),
        };
        if new.reads_as() != c.shown.reads_as() {
            // An undo was judged against the read it was planned from: a change since
            // is judged again by ops (refused unless as the undone change left it).
            let new = match &c.undo {
                Some(change) => Shown::Refused(format!(
                    "{} changed while this was open: press u on change {change} again to judge the undo afresh; nothing was sent",
                    fresh.id
                )),
                None => new,
            };
            c.shown = new;
            c.shown_at = frames;
            c.revised = true;
            c.acknowledged = false;
        }
    }

    pub(super) fn confirm_key(&mut self, action: Option<Action>) -> Vec<Cmd> {
        match action {
            Some(Action::Send) => self.send_shown(),
            Some(Action::Copy) => self.copy_tccli(),
            Some(Action::Cancel | Action::Back) => {
                if let Overlay::Confirm(c) = std::mem::replace(&mut self.overlay, Overlay::None)
                    && let Some(form) = c.form
                {
                    self.overlay = Overlay::Form(form);
                }
                self.notice = Some("nothing was sent".into());
                vec![]
            }
            _ => vec![],
        }
    }

    pub(super) fn send_shown(&mut self) -> Vec<Cmd> {
        if self.readonly {
            self.notice = Some("read-only mode: nothing is sent".into());
            return vec![];
        }
        let frames = self.frames;
        if !self.fits() {
            // The dialog is not on screen ("terminal too small"): nothing can be confirmed.
            self.notice =
                Some("the terminal is too small to show the plan: enlarge it, then press y".into());
            return vec![];
        }
        let Overlay::Confirm(c) = &mut self.overlay else {
            return vec![];
        };
        match &c.shown {
            Shown::Reading => {
                self.notice =
                    Some("still reading the instance's current state: wait for the plan".into());
                vec![]
            }
            Shown::Refused(_) | Shown::Unchanged(_) => {
                self.notice = Some("nothing to send: Esc goes back".into());
                vec![]
            }
            Shown::Change(_) if frames <= c.shown_at => {
                self.notice = Some("the plan has just changed: read it, then press y".into());
                vec![]
            }
            Shown::Change(_) if c.revised && !c.acknowledged => {
                c.acknowledged = true;
                self.notice = Some(
                    "the plan changed while this was open: read the new one, then press y again to send it"
                        .into(),
                );
                vec![]
            }
            Shown::Change(plan) => {
                let plan = plan.clone();
                let id = plan.instance_id().to_string();
                self.overlay = Overlay::None;
                self.inflight.insert(id.clone());
                self.notice = Some(format!("{id}: sending ModifyDBInstanceSSLConfig…"));
                vec![Cmd::Execute(plan)]
            }
        }
    }
}
