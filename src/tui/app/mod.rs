//! The TUI's model and its pure update: messages in (keys, results), state changes and
//! commands out. No I/O happens here, so every behaviour is testable without a terminal.
//! One module per overlay (as gitui's `popups/`); `results` takes what commands report.

mod reports;
pub use reports::Reports;
mod add;
mod browse;
pub mod bulk;
mod confirm;
mod fleet;
pub mod form;
mod hints;
pub mod log;
mod msg;
mod regions;
mod results;
mod resume;
mod rows;
mod tasks;
mod undo;
mod who;

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};

use crossterm::event::KeyEvent;

pub use confirm::{Confirm, Shown};
pub use fleet::SortBy;
pub use form::SslForm;
pub use log::{LogItem, LogKind};
pub use msg::{ChangeEvent, CheckShown, Msg};
pub use rows::Row;
pub use tasks::TaskRow;
pub use who::{Guarded, ProfilePicker, Switched, Who};

use super::keys::{self, Action, Mode};
use crate::domain::{Instance, Task};
use crate::ops::{Intent, Plan};
use crate::store::SavedInstance;

/// How many request lines (besides the journal) the log keeps.
const CALLS_KEPT: usize = 500;
/// How far the help can scroll (it has a line per mode, and some wrap).
const HELP_LINES_MAX: usize = crate::tui::keys::MODE_COUNT - 2;
/// Smallest usable terminal.
pub const MIN_WIDTH: u16 = 64;
pub const MIN_HEIGHT: u16 = 18;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Instances,
    Log,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionPicker {
    pub chosen: Vec<String>,
    pub cursor: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddForm {
    pub id: String,
    /// Index into the regions offered (`App::region_names`).
    pub region: usize,
    pub on_region: bool,
    pub error: Option<String>,
    /// Typed on the region field: narrows the regions listed (as `R`'s list).
    pub region_filter: String,
}

impl AddForm {
    /// The regions the filter leaves, as indexes into `names` (the regions offered).
    pub fn region_matches(&self, names: &[String]) -> Vec<usize> {
        let f = self.region_filter.to_lowercase();
        names
            .iter()
            .enumerate()
            .filter(|(_, r)| r.contains(f.as_str()))
            .map(|(i, _)| i)
            .collect()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Overlay {
    None,
    Filter,
    Form(SslForm),
    /// Reviewing the exact plan `y` sends.
    Confirm(Box<Confirm>),
    Regions(RegionPicker),
    Add(AddForm),
    Remove(String),
    /// Every key, scrolled by this many lines.
    Help(usize),
    /// Choosing the credential.
    Profiles(ProfilePicker),
    /// One log line in full, scrolled by `scroll` lines.
    LogDetail(Box<LogItem>, usize),
    /// A report (`V`) or the last message (`!`) in full, and the highlighted line (the
    /// first shown): `c` copies it whole, however the dialog wraps it.
    Text(Box<LogItem>, usize),
    /// The tasks view, its cursor.
    Tasks(usize),
    /// The audit's findings (None while it runs), and the cursor.
    Findings(Option<Box<crate::ops::audit::Audit>>, usize),
    /// One change for the marked instances.
    BulkForm(Box<bulk::BulkForm>),
    /// Reviewing the plan of many changes.
    BulkConfirm(Box<bulk::BulkConfirm>),
    /// The bulk run's changes, live, and the cursor.
    Run(usize),
    /// An interrupted bulk run found at start, offered for resuming.
    Resume(Box<bulk::ResumeOffer>),
}

/// Effects the runner carries out; their results come back as messages.
#[derive(Debug, Clone, PartialEq)]
pub enum Cmd {
    /// Describe these (region, id) again and keep what was learned.
    Refresh(Vec<(String, String)>),
    /// Describe one instance fully (addresses, groups, SSL) for the form.
    Describe {
        region: String,
        id: String,
    },
    /// Read the instance fresh and plan the change (`ops::change::prepare`).
    Prepare(Intent),
    /// Carry out exactly this plan (`ops::change::execute`).
    Execute(Box<Plan>),
    /// Read fresh and plan the undo of this journaled change, `intent` its inverse, or of
    /// every change of this bulk run (`ops::undo`).
    PrepareUndo {
        change: String,
        intent: Intent,
    },
    PrepareUndoRun(String),
    Import(Vec<String>),
    Add {
        region: String,
        id: String,
    },
    Remove(String),
    SaveRegions(Vec<String>),
    Copy(String),
    ReloadJournal,
    /// Fetch and keep the instance's CA certificate.
    FetchCa {
        region: String,
        id: String,
    },
    /// The live TLS check of an instance's protected address.
    Verify {
        region: String,
        id: String,
    },
    /// Take the census of one instance.
    Census {
        region: String,
        id: String,
    },
    /// Find the credentials a person can switch to.
    ListChoices,
    /// Use this credential from now on.
    Switch(crate::credentials::choices::Choice),
    /// Follow a change the journal holds as unfinished (never sends anything).
    Resume(crate::ops::follow::Unfinished),
    /// Audit the regions (as `pgssl audit`, without live checks).
    Audit(Vec<String>),
    /// Read these (region, id) fresh and plan one change for them all (with the rest of
    /// each read-only group whose address it protects, when asked).
    PrepareBulk {
        ids: Vec<(String, String)>,
        want: crate::ops::Want,
        with_group: bool,
    },
    /// Carry out exactly this plan of many changes (`ops::bulk::run`).
    ExecuteBulk(
        Box<crate::ops::bulk::BulkPlan>,
        crate::ops::bulk::schedule::Limits,
        Option<crate::ops::bulk::run::Canary>,
    ),
    /// Go on with an interrupted run, as shown.
    ResumeBulk(Box<crate::ops::bulk::resume::Resumable>),
    /// Send nothing more in the bulk run.
    StopBulk,
}

pub struct App {
    pub rows: Vec<Row>,
    /// Regions shown; empty shows all.
    pub regions: Vec<String>,
    pub filter: String,
    pub visible: Vec<usize>,
    pub selected: usize,
    pub offset: usize,
    pub focus: Pane,
    pub overlay: Overlay,
    pub journal: Vec<LogItem>,
    pub calls: VecDeque<LogItem>,
    /// Latest live status of tasks being followed: TaskId to the task.
    pub progress: HashMap<i64, Task>,
    pub log_selected: usize,
    pub readonly: bool,
    /// `--readonly` itself (a read-only profile adds to it while in use).
    pub readonly_flag: bool,
    /// `--region` or the config's region: a credential's default region does not move it.
    pub region_fixed: bool,
    /// The credential, its account and guards, for the header.
    pub who: Who,
    pub notice: Option<String>,
    /// When the notice came (`!` shows it): set by `update` whenever the notice changes.
    pub notice_at: String,
    /// Another `pgssl --demo` owns the demo's state: this one only browses it.
    pub demo_follower: bool,
    /// Instances with a change in flight.
    pub inflight: HashSet<String>,
    /// The TaskId of each change in flight, once sent.
    pub sent_tasks: HashMap<String, i64>,
    /// Journal ids of the unfinished changes being (or already) picked up.
    pub following: HashSet<String>,
    /// `q` was pressed once while a change was running: the next `q` quits.
    pub quit_warned: bool,
    /// The exit status when it is not 0 (Ctrl-C: 130).
    pub exit_code: Option<i32>,
    /// The add dialog as last submitted: a failed add reopens it with what was typed.
    pub last_add: Option<AddForm>,
    /// The log shows every read (`L`), not one line counting them.
    pub show_reads: bool,
    /// The reads folded away and the refresh's progress.
    pub folded: log::Folded,
    /// The journal's changes still under way or of unknown outcome (the tasks view).
    pub open_changes: Vec<crate::ops::follow::Unfinished>,
    pub busy: usize,
    pub size: (u16, u16),
    pub quit: bool,
    pub label: String,
    pub no_color: bool,
    pub default_region: String,
    /// The regions offered (`R`, the add form): those DescribeRegions lists as
    /// AVAILABLE, as last kept or asked; the 18 documented ones until then.
    pub region_names: Vec<String>,
    /// The list's order.
    pub sort: SortBy,
    /// The latest TLS report and CA description of each instance this session: the
    /// details pane shows their first lines, `V` all of them.
    pub reports: HashMap<String, Reports>,
    /// Frames drawn so far: a plan is sent only after it has been on screen.
    pub frames: u64,
    /// The log, newest first, built when the journal, calls or progress change (not per frame).
    log_cache: Vec<LogItem>,
    /// Instances marked (Space, `*`) for one change of many.
    pub marked: BTreeSet<String>,
    /// The bulk run of this session, if any.
    pub bulk: Option<bulk::BulkRun>,
    /// An interrupted run found at start while a dialog was open: `b` offers it.
    pub pending_resume: Option<Box<crate::ops::bulk::resume::Resumable>>,
}

impl App {
    /// The saved instances with what pgssl learned of them, and the regions shown.
    pub fn new(
        saved: Vec<SavedInstance>,
        learned: HashMap<String, Box<Instance>>,
        regions: Vec<String>,
        readonly: bool,
    ) -> App {
        let mut learned = learned;
        let rows = saved
            .into_iter()
            .map(|s| {
                let l = learned.remove(&s.id);
                Row::new(s, l)
            })
            .collect();
        let mut app = App {
            rows,
            regions,
            filter: String::new(),
            visible: Vec::new(),
            selected: 0,
            offset: 0,
            focus: Pane::Instances,
            overlay: Overlay::None,
            journal: Vec::new(),
            calls: VecDeque::new(),
            progress: HashMap::new(),
            log_selected: 0,
            readonly,
            readonly_flag: readonly,
            region_fixed: false,
            who: Who::default(),
            notice: None,
            notice_at: String::new(),
            demo_follower: false,
            inflight: HashSet::new(),
            sent_tasks: HashMap::new(),
            following: HashSet::new(),
            quit_warned: false,
            exit_code: None,
            last_add: None,
            show_reads: false,
            folded: log::Folded::default(),
            open_changes: Vec::new(),
            busy: 0,
            size: (80, 24),
            quit: false,
            label: String::new(),
            no_color: false,
            default_region: "ap-guangzhou".into(),
            region_names: crate::api::SSL_REGIONS
                .iter()
                .map(|r| (*r).to_string())
                .collect(),
            reports: HashMap::new(),
            sort: SortBy::Saved,
            frames: 0,
            log_cache: Vec::new(),
            marked: BTreeSet::new(),
            bulk: None,
            pending_resume: None,
        };
        app.recompute();
        app
    }

    /// The runner drew a frame: what is on screen now has been seen. A frame of
    /// "terminal too small" shows nothing, so it does not count.
    pub fn drawn(&mut self) {
        if self.fits() {
            self.frames += 1;
        }
    }

    /// The terminal is large enough to show the screen (and any dialog) at all.
    pub fn fits(&self) -> bool {
        self.size.0 >= MIN_WIDTH && self.size.1 >= MIN_HEIGHT
    }

    pub fn mode(&self) -> Mode {
        match &self.overlay {
            Overlay::None => Mode::Browse,
            Overlay::Filter => Mode::Filter,
            Overlay::Form(_) => Mode::Form,
            Overlay::Confirm(c)
                if crate::ops::confirm::for_change(
                    &c.intent.instance_id,
                    self.who.protected_profile(),
                )
                .is_typed() =>
            {
                Mode::TypeConfirm
            }
            Overlay::BulkConfirm(c) if c.types(self.who.protected_profile()) => Mode::TypeCount,
            Overlay::Resume(o) if o.types(self.who.protected_profile()) => Mode::TypeCount,
            Overlay::Confirm(..) | Overlay::BulkConfirm(_) | Overlay::Resume(_) => Mode::Confirm,
            Overlay::Regions(_) => Mode::Regions,
            Overlay::Add(_) => Mode::Add,
            Overlay::Remove(_) => Mode::Remove,
            Overlay::Help(_) => Mode::Help,
            Overlay::Profiles(_) => Mode::Profiles,
            Overlay::LogDetail(..) => Mode::LogDetail,
            Overlay::Text(..) => Mode::Text,
            Overlay::Findings(..) => Mode::Audit,
            Overlay::Tasks(_) => Mode::Tasks,
            Overlay::BulkForm(_) => Mode::BulkForm,
            Overlay::Run(_) => Mode::Run,
        }
    }

    pub fn selected_row(&self) -> Option<&Row> {
        self.visible.get(self.selected).map(|&i| &self.rows[i])
    }

    fn selected_id(&self) -> Option<String> {
        self.selected_row().map(|r| r.id().to_string())
    }

    pub fn row(&self, id: &str) -> Option<&Row> {
        self.rows.iter().find(|r| r.id() == id)
    }

    /// Rows of the instance list that fit on screen (see view::layout).
    pub fn list_height(&self) -> usize {
        super::view::layout(ratatui::layout::Rect::new(0, 0, self.size.0, self.size.1))
            .list
            .height
            .saturating_sub(2) as usize
    }

    /// Recompute the visible rows after a change of rows, filter or regions,
    /// keeping the same instance selected when it is still shown.
    pub fn recompute(&mut self) {
        let keep = self.selected_id();
        let words: Vec<String> = self
            .filter
            .to_lowercase()
            .split_whitespace()
            .map(str::to_string)
            .collect();
        self.visible = self
            .rows
            .iter()
            .enumerate()
            .filter(|(_, r)| {
                self.regions.is_empty() || self.regions.iter().any(|g| g == r.region())
            })
            .filter(|(_, r)| words.iter().all(|w| r.matches(w)))
            .map(|(i, _)| i)
            .collect();
        if self.sort != SortBy::Saved {
            let sort = self.sort;
            let rows = &self.rows;
            self.visible.sort_by_cached_key(|&i| sort.key(&rows[i]));
        }
        self.selected = keep
            .and_then(|id| self.visible.iter().position(|&i| self.rows[i].id() == id))
            .unwrap_or(0);
        self.clamp_offset();
    }

    fn clamp_offset(&mut self) {
        let h = self.list_height().max(1);
        if self.selected < self.offset {
            self.offset = self.selected;
        } else if self.selected >= self.offset + h {
            self.offset = self.selected + 1 - h;
        }
        let max_offset = self.visible.len().saturating_sub(h);
        self.offset = self.offset.min(max_offset);
    }

    /// Select the visible row `to` (past the end: the last one).
    fn move_selection(&mut self, to: usize) {
        self.selected = to.min(self.visible.len().saturating_sub(1));
        self.clamp_offset();
    }

    /// All log lines, newest first: journal entries and other requests merged by time.
    pub fn log_items(&self) -> &[LogItem] {
        &self.log_cache
    }

    /// Rebuild the log after the journal, the calls or a task's progress changed.
    fn rebuild_log(&mut self) {
        // The cursor stays on the line it was on when lines come in above it (a new
        // change on top must not slide under it: `u` would then undo that one).
        let key = |i: &LogItem| {
            i.change.as_ref().map_or_else(
                || format!("{} {} {}", i.time, i.instance, i.action),
                |c| c.request.id.clone(),
            )
        };
        let selected = self.log_cache.get(self.log_selected).map(key);
        self.log_cache = log::shown(
            &self.journal,
            &self.calls,
            &self.progress,
            self.show_reads,
            self.folded,
        );
        if let Some(at) = selected.and_then(|k| self.log_cache.iter().position(|i| key(i) == k)) {
            self.log_selected = at;
        }
    }

    /// Keep what was learned about an instance (saved or not: an unsaved one is ignored).
    fn learn(&mut self, instance: Instance) {
        if let Some(r) = self.rows.iter_mut().find(|r| r.id() == instance.id) {
            r.learn(instance);
        }
    }

    /// Show an instance that is saved now (add, import), keeping a person's name for it.
    fn upsert(&mut self, instance: Instance) {
        if let Some(r) = self.rows.iter_mut().find(|r| r.id() == instance.id) {
            r.learn(instance);
        } else {
            let saved = SavedInstance {
                id: instance.id.clone(),
                region: instance.region.clone(),
                name: None,
            };
            self.rows.push(Row::new(saved, Some(Box::new(instance))));
            self.rows
                .sort_by(|a, b| (a.region(), a.id()).cmp(&(b.region(), b.id())));
        }
    }

    fn visible_targets(&self) -> Vec<(String, String)> {
        let h = self.list_height().max(1);
        self.visible
            .iter()
            .skip(self.offset)
            .take(h)
            .map(|&i| {
                (
                    self.rows[i].region().to_string(),
                    self.rows[i].id().to_string(),
                )
            })
            .collect()
    }

    /// Refresh what is on screen (on `r`).
    pub fn refresh_visible(&mut self) -> Vec<Cmd> {
        let targets = self.visible_targets();
        if targets.is_empty() {
            return vec![];
        }
        self.busy += 1;
        self.folded.refresh = Some((0, targets.len()));
        self.rebuild_log();
        vec![Cmd::Refresh(targets)]
    }

    /// The single entry point: apply a message, return the effects to run.
    pub fn update(&mut self, msg: Msg) -> Vec<Cmd> {
        let before = self.notice.clone();
        let cmds = self.apply(msg);
        if self.notice.is_some() && self.notice != before {
            self.notice_at = crate::store::now_rfc3339();
        }
        cmds
    }

    fn apply(&mut self, msg: Msg) -> Vec<Cmd> {
        match msg {
            Msg::Key(key) => self.on_key(key),
            Msg::Resize(w, h) => {
                self.size = (w, h);
                self.clamp_offset();
                vec![]
            }
            Msg::Quit => {
                self.quit = true;
                vec![]
            }
            other => self.on_result(other),
        }
    }

    fn on_key(&mut self, key: KeyEvent) -> Vec<Cmd> {
        let mode = self.mode();
        let action = keys::lookup(mode, &key);
        // A `q` warned about running changes; any other key makes the next `q` warn again.
        if action != Some(Action::Quit) {
            self.quit_warned = false;
        }
        if action == Some(Action::ForceQuit) {
            self.quit = true;
            self.exit_code = Some(130);
            return vec![];
        }
        match mode {
            Mode::Browse => self.browse_key(action),
            Mode::Filter => {
                self.filter_key(action, key);
                vec![]
            }
            Mode::Form => self.form_key(action, key),
            Mode::BulkForm => self.bulk_form_key(action),
            Mode::TypeCount if matches!(self.overlay, Overlay::Resume(_)) => {
                self.resume_key(action, key)
            }
            Mode::TypeCount => self.bulk_confirm_key(action, key),
            Mode::Confirm if matches!(self.overlay, Overlay::BulkConfirm(_)) => {
                self.bulk_confirm_key(action, key)
            }
            Mode::Confirm if matches!(self.overlay, Overlay::Resume(_)) => {
                self.resume_key(action, key)
            }
            Mode::Run => self.run_key(action),
            Mode::Confirm => self.confirm_key(action),
            Mode::TypeConfirm => self.typed_confirm_key(action, key),
            Mode::LogDetail | Mode::Text => self.log_detail_key(action),
            Mode::Audit => self.findings_key(action),
            Mode::Tasks => self.tasks_key(action),
            Mode::Profiles => self.profiles_key(action),
            Mode::Regions => self.regions_key(action),
            Mode::Add => self.add_key(action, key),
            Mode::Remove => self.remove_key(action),
            Mode::Help => {
                if let Overlay::Help(scroll) = &mut self.overlay {
                    match action {
                        Some(Action::Back) => self.overlay = Overlay::None,
                        Some(Action::Up) => *scroll = scroll.saturating_sub(1),
                        Some(Action::Down) => *scroll = (*scroll + 1).min(HELP_LINES_MAX),
                        Some(Action::PageUp) => *scroll = scroll.saturating_sub(10),
                        Some(Action::PageDown) => *scroll = (*scroll + 10).min(HELP_LINES_MAX),
                        Some(Action::Top) => *scroll = 0,
                        _ => {}
                    }
                }
                vec![]
            }
        }
    }

    fn remove_key(&mut self, action: Option<Action>) -> Vec<Cmd> {
        match action {
            Some(Action::Send) => {
                if let Overlay::Remove(id) = std::mem::replace(&mut self.overlay, Overlay::None) {
                    return vec![Cmd::Remove(id)];
                }
            }
            Some(Action::Cancel | Action::Back) => self.overlay = Overlay::None,
            _ => {}
        }
        vec![]
    }
}
