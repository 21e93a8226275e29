//! One change for many instances: Space marks, `*` marks every instance shown, Enter on a
//! marking opens one form (SSL on/off, the address kind, how many may restart at once,
//! whether to stop at the first failure, and, for the group address, the rest of each
//! group). Its plan is made by `ops` from a fresh read; the confirm lists every change,
//! what is skipped and why, and above a few changes asks for the count to be typed. The
//! run's table (`b`) updates live; `x` stops sending. An interrupted run found at start
//! is offered for resuming.

use std::collections::BTreeSet;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::{App, Cmd, Overlay};
use crate::addresses::{AddressKind, AddressSpec};
use crate::domain::Instance;
use crate::ops::bulk::resume::Resumable;
use crate::ops::bulk::schedule::{DEFAULT_MAX_RUNNING, Item, Limits, State};
use crate::ops::bulk::{BulkPlan, GroupOffer, Skipped};
use crate::ops::confirm::Confirmation;
use crate::ops::{OpsError, Want};
use crate::tui::keys::Action;

/// The caps the form cycles through (None: no cap).
const MAX_RUNNING_CHOICES: [Option<usize>; 5] =
    [Some(1), Some(3), Some(DEFAULT_MAX_RUNNING), Some(10), None];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BulkField {
    Ssl,
    Address,
    MaxRunning,
    StopOnFailure,
    Together,
    /// A canary wave first (as `--canary N`, clients given 60 s to reconnect).
    Canary,
    Group,
}

/// The canary waves the form offers: none, or the first 1 or 3 changes.
const CANARY_CHOICES: [Option<usize>; 3] = [None, Some(1), Some(3)];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkForm {
    /// The marked instances, (region, id), in list order.
    pub ids: Vec<(String, String)>,
    pub enable: bool,
    pub kind: AddressKind,
    pub limits: Limits,
    /// With the group address: also the group members not marked.
    pub whole_group: bool,
    pub field: BulkField,
    /// A canary wave of this many changes first.
    pub canary: Option<usize>,
}

impl BulkForm {
    fn fields(&self, offers: bool) -> Vec<BulkField> {
        let mut f = vec![BulkField::Ssl];
        if self.enable {
            f.push(BulkField::Address);
        }
        f.extend([
            BulkField::MaxRunning,
            BulkField::StopOnFailure,
            BulkField::Together,
            BulkField::Canary,
        ]);
        if self.enable && self.kind == AddressKind::Group && offers {
            f.push(BulkField::Group);
        }
        f
    }

    pub fn want(&self) -> Want {
        if self.enable {
            Want::Enable(AddressSpec::Kind(self.kind))
        } else {
            Want::Disable
        }
    }

    fn toggle(&mut self) {
        match self.field {
            BulkField::Ssl => self.enable = !self.enable,
            BulkField::Address => {
                self.kind = match self.kind {
                    AddressKind::Private => AddressKind::Public,
                    AddressKind::Public => AddressKind::Group,
                    AddressKind::Group => AddressKind::Private,
                }
            }
            BulkField::MaxRunning => {
                let at = MAX_RUNNING_CHOICES
                    .iter()
                    .position(|c| *c == self.limits.max_running)
                    .unwrap_or(0);
                self.limits.max_running = MAX_RUNNING_CHOICES[(at + 1) % MAX_RUNNING_CHOICES.len()];
            }
            BulkField::StopOnFailure => self.limits.stop_on_failure = !self.limits.stop_on_failure,
            BulkField::Together => self.limits.together = !self.limits.together,
            BulkField::Canary => {
                let at = CANARY_CHOICES
                    .iter()
                    .position(|c| *c == self.canary)
                    .unwrap_or(0);
                self.canary = CANARY_CHOICES[(at + 1) % CANARY_CHOICES.len()];
            }
            BulkField::Group => self.whole_group = !self.whole_group,
        }
    }
}

/// The plan of many changes, as the dialog shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct BulkConfirm {
    pub form: BulkForm,
    /// None while the instances are read.
    pub plan: Option<BulkPlan>,
    pub typed: String,
    pub scroll: usize,
    /// The frame count when the plan arrived: sending needs a frame drawn since.
    pub shown_at: u64,
    /// Why the last confirming key sent nothing (said in the dialog, not behind it).
    pub error: Option<String>,
    /// Who is connected to the instances the plan changes (`ops::census`), once counted.
    pub clients: Vec<String>,
    /// The bulk run this plan undoes (`U` in the log): Esc closes, no form behind it.
    pub undo: Option<String>,
}

impl BulkConfirm {
    /// How the plan must be confirmed (`ops` decides); None while it is read.
    pub fn confirmation(&self, protected: Option<&str>) -> Option<Confirmation> {
        self.plan.as_ref().map(|p| p.confirmation(protected))
    }

    /// Whether something must be typed to confirm.
    pub fn types(&self, protected: Option<&str>) -> bool {
        self.confirmation(protected).is_some_and(|c| c.is_typed())
    }
}

/// An interrupted run offered for resuming: above five never-sent changes (or with a
/// protected profile) their count is typed, as for a new plan.
#[derive(Debug, Clone, PartialEq)]
pub struct ResumeOffer {
    pub found: Resumable,
    pub typed: String,
    pub shown_at: u64,
    pub error: Option<String>,
}

impl ResumeOffer {
    /// Never sent: what a `y` would send.
    pub fn to_send(&self) -> usize {
        self.found.counts().2
    }

    /// How going on must be confirmed (`ops` decides), as for a new plan of the
    /// never-sent changes.
    pub fn confirmation(&self, protected: Option<&str>) -> Confirmation {
        self.found.confirmation(protected)
    }

    pub fn types(&self, protected: Option<&str>) -> bool {
        self.confirmation(protected).is_typed()
    }
}

/// A bulk run as the TUI follows it.
#[derive(Debug, Clone, PartialEq)]
pub struct BulkRun {
    pub run_id: Option<String>,
    pub items: Vec<Item>,
    pub unchanged: usize,
    pub skipped: Vec<Skipped>,
    pub stopped: Option<String>,
    /// Nothing more runs: every change ended or was never sent.
    pub done: bool,
    /// Why the run could not start or ended early.
    pub error: Option<String>,
    /// It stopped with this many changes never sent (a resume goes on with them).
    pub left: Option<usize>,
}

impl BulkRun {
    pub fn is_running(&self) -> bool {
        !self.done
    }

    /// How many were sent, of how many.
    pub fn sent_of(&self) -> (usize, usize) {
        let sent = self
            .items
            .iter()
            .filter(|i| {
                !matches!(
                    i.state,
                    State::Waiting | State::Sending | State::NotSent { .. }
                )
            })
            .count();
        (sent, self.items.len())
    }

    /// `37/140 sent, 5 restarting, 2 failed`.
    pub fn progress(&self) -> String {
        let (sent, _) = self.sent_of();
        let restarting = self
            .items
            .iter()
            .filter(|i| i.state.is_restarting())
            .count();
        let failed = self.items.iter().filter(|i| i.state.is_failure()).count();
        let ok = self
            .items
            .iter()
            .filter(|i| i.state.word() == "success")
            .count();
        format!(
            "{sent}/{} sent, {restarting} restarting, {ok} succeeded, {failed} failed{}",
            self.items.len(),
            if self.done { " (run over)" } else { "" }
        )
    }
}

/// What a bulk run reports to the TUI.
#[derive(Debug, Clone)]
pub enum BulkEvent {
    /// The run file is written: these changes will be sent.
    Started {
        run_id: String,
        items: Vec<Item>,
    },
    Changed {
        index: usize,
        item: Box<Item>,
    },
    Stopped(String),
    /// `execute` returned: where the run's life ended (finished, or stopped with changes
    /// never sent).
    Finished(Result<crate::store::runs::RunState, OpsError>),
    /// A resume taken after `y` no longer reads as it was shown: shown again.
    Revised(Box<Resumable>),
}

/// A confirmation being typed (a count, an id, a profile's name and a count): Backspace
/// and the characters it can hold edit it (digits only for a count, so `y`, `j` and `k`
/// keep their meaning), true when it changed.
pub(super) fn type_into(typed: &mut String, key: &KeyEvent, expected: &str) -> bool {
    let digits_only = expected.chars().all(|c| c.is_ascii_digit());
    match key.code {
        KeyCode::Backspace => typed.pop().is_some(),
        KeyCode::Char(ch)
            if !key.modifiers.contains(KeyModifiers::CONTROL)
                && !ch.is_control()
                && (!digits_only || ch.is_ascii_digit())
                && typed.chars().count() < 96 =>
        {
            typed.push(ch);
            true
        }
        _ => false,
    }
}

impl App {
    /// Space: mark or unmark the selected instance, and move on.
    pub(super) fn toggle_mark(&mut self) {
        let Some(id) = self.selected_id() else { return };
        if !self.marked.remove(&id) {
            self.marked.insert(id);
        }
        self.move_selection(self.selected + 1);
        self.say_marked();
    }

    /// `*`: mark every instance shown; when all are marked already, unmark them.
    pub(super) fn mark_all_shown(&mut self) {
        let shown: BTreeSet<String> = self
            .visible
            .iter()
            .map(|&i| self.rows[i].id().to_string())
            .collect();
        if shown.is_subset(&self.marked) {
            for id in &shown {
                self.marked.remove(id);
            }
        } else {
            self.marked.extend(shown);
        }
        self.say_marked();
    }

    fn say_marked(&mut self) {
        self.notice = Some(if self.marked.is_empty() {
            "nothing marked".into()
        } else {
            format!(
                "{} marked: Enter changes them all (Space unmarks, * marks every one shown)",
                self.marked.len()
            )
        });
    }

    /// Enter with instances marked.
    pub(super) fn open_bulk_form(&mut self) {
        let ids: Vec<(String, String)> = self
            .rows
            .iter()
            .filter(|r| self.marked.contains(r.id()))
            .map(|r| (r.region().to_string(), r.id().to_string()))
            .collect();
        self.overlay = Overlay::BulkForm(Box::new(BulkForm {
            ids,
            enable: true,
            kind: AddressKind::Private,
            limits: Limits::default(),
            whole_group: true,
            field: BulkField::Ssl,
            canary: None,
        }));
    }

    /// The group members the form's marking leaves out, judged on what was last read
    /// (only the marked instances are copied: this runs as the form is drawn).
    pub fn group_offers(&self, form: &BulkForm) -> Vec<GroupOffer> {
        if !(form.enable && form.kind == AddressKind::Group) {
            return vec![];
        }
        let known = || self.rows.iter().filter_map(|r| r.learned.as_deref());
        let marked: Vec<Result<Instance, Skipped>> = known()
            .filter(|i| form.ids.iter().any(|(_, id)| *id == i.id))
            .cloned()
            .map(Ok)
            .collect();
        crate::ops::bulk::plan_many(marked, &form.want()).group_offers(known())
    }

    pub(super) fn bulk_form_key(&mut self, action: Option<Action>) -> Vec<Cmd> {
        let Overlay::BulkForm(form) = &self.overlay else {
            return vec![];
        };
        let offers = !self.group_offers(form).is_empty();
        let Overlay::BulkForm(form) = &mut self.overlay else {
            return vec![];
        };
        let fields = form.fields(offers);
        let at = fields.iter().position(|f| *f == form.field).unwrap_or(0);
        match action {
            Some(Action::Back) => self.overlay = Overlay::None,
            Some(Action::Toggle) => form.toggle(),
            Some(Action::NextField | Action::Down) => form.field = fields[(at + 1) % fields.len()],
            Some(Action::PrevField | Action::Up) => {
                form.field = fields[(at + fields.len() - 1) % fields.len()];
            }
            Some(Action::Submit) => {
                let form = form.as_ref().clone();
                let with_group = form.whole_group && offers;
                return self.plan_bulk(form, with_group);
            }
            _ => {}
        }
        vec![]
    }

    /// One plan for these instances and the rest of their read-only groups, on the group's
    /// address (from the single form's "whole group"): read fresh and planned by `ops`.
    pub(super) fn open_group_plan(&mut self, ids: Vec<(String, String)>) -> Vec<Cmd> {
        let form = BulkForm {
            ids,
            enable: true,
            kind: AddressKind::Group,
            limits: Limits::default(),
            whole_group: true,
            field: BulkField::Ssl,
            canary: None,
        };
        self.plan_bulk(form, true)
    }

    /// Ask `ops` for the plan of the form's instances, and show the confirm (reading).
    fn plan_bulk(&mut self, form: BulkForm, with_group: bool) -> Vec<Cmd> {
        let cmd = Cmd::PrepareBulk {
            ids: form.ids.clone(),
            want: form.want(),
            with_group,
        };
        self.show_bulk_confirm(form, None);
        vec![cmd]
    }

    /// The bulk confirm, reading: the plan for the form's instances, or (`undo`) a run's.
    pub(super) fn show_bulk_confirm(&mut self, form: BulkForm, undo: Option<String>) {
        self.busy += 1;
        self.overlay = Overlay::BulkConfirm(Box::new(BulkConfirm {
            form,
            plan: None,
            typed: String::new(),
            scroll: 0,
            shown_at: self.frames,
            error: None,
            clients: Vec::new(),
            undo,
        }));
    }

    /// The plan came back from the fresh read.
    pub(super) fn bulk_prepared(&mut self, result: Result<BulkPlan, OpsError>) {
        self.busy = self.busy.saturating_sub(1);
        let frames = self.frames;
        match (&mut self.overlay, result) {
            (Overlay::BulkConfirm(c), Ok(plan)) if c.plan.is_none() => {
                c.plan = Some(plan);
                c.shown_at = frames;
            }
            (Overlay::BulkConfirm(c), Err(e)) => {
                self.notice = Some(format!("cannot plan the change: {e}; nothing was sent"));
                self.overlay = c.back();
            }
            _ => {}
        }
    }

    pub(super) fn bulk_confirm_key(&mut self, action: Option<Action>, key: KeyEvent) -> Vec<Cmd> {
        let protected = self.who.protected_profile().map(str::to_string);
        let Overlay::BulkConfirm(c) = &self.overlay else {
            return vec![];
        };
        let expected = c
            .confirmation(protected.as_deref())
            .and_then(|c| c.typed)
            .unwrap_or_default();
        let typing = !expected.is_empty();
        // Letters are part of the answer (a profile's name): j and k do not scroll then.
        let letters = expected.chars().any(|c| !c.is_ascii_digit());
        let (room, len) = crate::tui::view::bulk::confirm_room(self, c);
        let Overlay::BulkConfirm(c) = &mut self.overlay else {
            return vec![];
        };
        let last = len.saturating_sub(room);
        let page = room.max(1);
        c.scroll = match key.code {
            KeyCode::Up => c.scroll.saturating_sub(1),
            KeyCode::Char('k') if !letters => c.scroll.saturating_sub(1),
            KeyCode::Down => c.scroll + 1,
            KeyCode::Char('j') if !letters => c.scroll + 1,
            KeyCode::PageUp => c.scroll.saturating_sub(page),
            KeyCode::PageDown => c.scroll + page,
            KeyCode::Home => 0,
            KeyCode::End => last,
            _ => c.scroll,
        }
        .min(last);
        if typing && type_into(&mut c.typed, &key, &expected) {
            c.error = None;
        }
        match action {
            Some(Action::Cancel | Action::Back) => {
                self.overlay = c.back();
                self.notice = Some("nothing was sent".into());
                vec![]
            }
            Some(Action::Send) => self.send_bulk(),
            Some(Action::Copy) => self.copy_tccli(),
            _ => vec![],
        }
    }

    fn send_bulk(&mut self) -> Vec<Cmd> {
        if self.readonly {
            self.notice = Some("read-only mode: nothing is sent".into());
            return vec![];
        }
        if self.bulk.as_ref().is_some_and(BulkRun::is_running) {
            self.notice =
                Some("a bulk run is still going on (b shows it): wait for it to end".into());
            return vec![];
        }
        if !self.fits() {
            self.notice =
                Some("the terminal is too small to show the plan: enlarge it, then confirm".into());
            return vec![];
        }
        let frames = self.frames;
        let protected = self.who.protected_profile().map(str::to_string);
        let Overlay::BulkConfirm(c) = &mut self.overlay else {
            return vec![];
        };
        let Some(plan) = &c.plan else {
            self.notice = Some("still reading the instances: wait for the plan".into());
            return vec![];
        };
        let n = plan.changes.len();
        if n == 0 {
            self.notice = Some("nothing to send: Esc goes back".into());
            return vec![];
        }
        if frames <= c.shown_at {
            self.notice = Some("the plan has just arrived: read it, then confirm".into());
            return vec![];
        }
        let confirmation = plan.confirmation(protected.as_deref());
        if confirmation.is_typed() && !confirmation.accepts(&c.typed) {
            let said = format!("{} (Esc goes back)", confirmation.hint());
            c.error = Some(said.clone());
            self.notice = Some(said);
            return vec![];
        }
        let plan = plan.clone();
        let limits = c.form.limits;
        // The form offers only waves `Canary::new` takes (1 or 3, the default wait).
        let canary = c
            .form
            .canary
            .and_then(|n| crate::ops::bulk::run::Canary::new(n, None).ok());
        self.marked.clear();
        self.bulk = Some(BulkRun {
            run_id: None,
            items: vec![],
            unchanged: plan.unchanged.len(),
            skipped: plan.skipped.clone(),
            stopped: None,
            done: false,
            error: None,
            left: None,
        });
        self.overlay = Overlay::Run(0);
        self.notice = Some(format!("{n} changes: sending, paced at the API's ceiling…"));
        vec![Cmd::ExecuteBulk(Box::new(plan), limits, canary)]
    }

    pub(super) fn run_key(&mut self, action: Option<Action>) -> Vec<Cmd> {
        let len = self.bulk.as_ref().map_or(0, |b| b.items.len());
        let Overlay::Run(cursor) = &mut self.overlay else {
            return vec![];
        };
        match action {
            Some(Action::Up) => *cursor = cursor.saturating_sub(1),
            Some(Action::Down) => *cursor = (*cursor + 1).min(len.saturating_sub(1)),
            Some(Action::Back) => self.overlay = Overlay::None,
            Some(Action::StopRun) if self.bulk.as_ref().is_some_and(BulkRun::is_running) => {
                self.notice = Some(
                    "stopping: nothing more is sent; what was sent is followed to its end".into(),
                );
                return vec![Cmd::StopBulk];
            }
            _ => {}
        }
        vec![]
    }

    pub(super) fn bulk_event(&mut self, event: BulkEvent) -> Vec<Cmd> {
        let Some(run) = self.bulk.as_mut() else {
            return vec![];
        };
        match event {
            BulkEvent::Started { run_id, items } => {
                run.run_id = Some(run_id);
                run.items = items;
            }
            BulkEvent::Changed { index, item } => {
                if let Some(slot) = run.items.get_mut(index) {
                    *slot = *item;
                }
            }
            BulkEvent::Stopped(why) => run.stopped = Some(why),
            BulkEvent::Finished(result) => {
                run.done = true;
                let unsent = run.items.iter().filter(|i| i.state.is_unsent()).count();
                match result {
                    Err(e) => run.error = Some(e.to_string()),
                    Ok(crate::store::runs::RunState::Stopped { .. }) if unsent > 0 => {
                        run.left = Some(unsent);
                    }
                    Ok(_) => {}
                }
                self.notice = Some(match run.left {
                    Some(n) => format!(
                        "bulk run: {}; {n} never sent: {} ssl resume (or b after the next start) goes on with them",
                        run.progress(),
                        crate::hint::pgssl()
                    ),
                    None => format!("bulk run: {}", run.progress()),
                });
                return vec![Cmd::ReloadJournal];
            }
            BulkEvent::Revised(found) => {
                self.bulk = None;
                self.offer_resume(found);
                if let Overlay::Resume(o) = &mut self.overlay {
                    o.error = Some(
                        "it changed since it was shown (another pgssl, or a task ended): read it again, then confirm".into(),
                    );
                }
                return vec![];
            }
        }
        vec![]
    }
}
