//! The TUI's model and its pure update: messages in (keys, results), state changes and
//! commands out. No I/O happens here, so every behaviour is testable without a terminal.

use std::collections::{HashMap, HashSet, VecDeque};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::form::{Field, SslForm};
use super::keys::{self, Action, Mode};
use crate::api::SSL_REGIONS;
use crate::api::client::CallRecord;
use crate::ops::{Applied, SslChange, SslState};
use crate::store::config::SavedInstance;
use crate::store::journal::{Entry, Outcome};
use crate::text::clean;

/// How many request lines (besides the journal) the log keeps.
const CALLS_KEPT: usize = 500;
/// Smallest usable terminal.
pub const MIN_WIDTH: u16 = 64;
pub const MIN_HEIGHT: u16 = 18;

/// An instance in the list, with its search text prepared once.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub inst: SavedInstance,
    haystack: String,
}

impl Row {
    pub fn new(inst: SavedInstance) -> Row {
        let inst = sanitize_instance(inst);
        let mut haystack = format!("{} {} {}", inst.id, inst.name, inst.region);
        for a in &inst.addresses {
            haystack.push(' ');
            haystack.push_str(&a.ip);
            if let Some(g) = &a.group_name {
                haystack.push(' ');
                haystack.push_str(g);
            }
        }
        Row {
            haystack: haystack.to_lowercase(),
            inst,
        }
    }
}

/// Config files are edited by people: clean what came from there too.
fn sanitize_instance(mut i: SavedInstance) -> SavedInstance {
    i.name = clean(&i.name);
    i.id = clean(&i.id);
    i.status = i.status.as_deref().map(clean);
    i.kind = i.kind.as_deref().map(clean);
    for a in &mut i.addresses {
        a.ip = clean(&a.ip);
        a.group_name = a.group_name.as_deref().map(clean);
        a.group_id = a.group_id.as_deref().map(clean);
    }
    i
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Instances,
    Log,
}

/// One line of the log pane.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogItem {
    pub time: String,
    pub instance: String,
    pub action: String,
    pub task_id: Option<i64>,
    pub request_id: Option<String>,
    /// Outcome, task status and progress, e.g. "ok" or "Running 40%".
    pub status: String,
    pub error: Option<String>,
    pub is_change: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionPicker {
    pub chosen: Vec<String>,
    pub cursor: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddForm {
    pub id: String,
    pub region: usize,
    pub on_region: bool,
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Overlay {
    None,
    Filter,
    Form(SslForm),
    Confirm(SslForm, Box<SslChange>),
    Regions(RegionPicker),
    Add(AddForm),
    Remove(String),
    Help,
}

/// Effects the runner carries out; their results come back as messages.
#[derive(Debug, Clone, PartialEq)]
pub enum Cmd {
    /// Re-read SSL state and status of these (region, id).
    Refresh(Vec<(String, String)>),
    /// Describe one instance fully (addresses, groups, SSL) for the form.
    Describe {
        region: String,
        id: String,
    },
    Send(Box<SslChange>),
    Follow {
        region: String,
        instance_id: String,
        task_id: i64,
        journal_id: String,
    },
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
}

/// What happens to the app.
#[derive(Debug, Clone)]
pub enum Msg {
    Key(KeyEvent),
    Resize(u16, u16),
    Quit,
    Refreshed {
        id: String,
        result: Result<(Option<String>, SslState), String>,
    },
    /// A refresh command finished (each instance was reported by `Refreshed`).
    RefreshDone(Option<String>),
    Described(Result<SavedInstance, String>),
    Sent {
        id: String,
        region: String,
        /// The change the API accepted, or the one line saying why not (or that its
        /// outcome is unknown).
        result: Result<Applied, String>,
    },
    Task {
        instance_id: String,
        region: String,
        task_id: i64,
        status: String,
        progress: Option<i64>,
        done: bool,
    },
    Imported(Result<Vec<SavedInstance>, String>),
    Added(Result<SavedInstance, String>),
    Removed(Result<String, String>),
    RegionsSaved(Result<Vec<String>, String>),
    Journal(Vec<Entry>),
    Call(CallRecord),
    Notice(String),
    /// The CA was fetched and kept: lines describing it, or why not.
    CaFetched {
        id: String,
        result: Result<Vec<String>, String>,
    },
    /// A TLS check finished: (verdict word, report lines), or why it could not run.
    Verified {
        id: String,
        result: Result<(String, Vec<String>), String>,
    },
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
    /// Latest live status of tasks being followed.
    pub progress: HashMap<i64, (String, Option<i64>)>,
    pub log_selected: usize,
    pub readonly: bool,
    pub notice: Option<String>,
    /// Instances with a change in flight.
    pub inflight: HashSet<String>,
    pub busy: usize,
    pub size: (u16, u16),
    pub quit: bool,
    pub label: String,
    pub no_color: bool,
    pub default_region: String,
    /// The last TLS report: (instance id, lines), shown in the details pane.
    pub verify_report: Option<(String, Vec<String>)>,
}

impl App {
    pub fn new(instances: Vec<SavedInstance>, regions: Vec<String>, readonly: bool) -> App {
        let mut app = App {
            rows: instances.into_iter().map(Row::new).collect(),
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
            notice: None,
            inflight: HashSet::new(),
            busy: 0,
            size: (80, 24),
            quit: false,
            label: String::new(),
            no_color: false,
            default_region: "ap-guangzhou".into(),
            verify_report: None,
        };
        app.recompute();
        app
    }

    pub fn mode(&self) -> Mode {
        match &self.overlay {
            Overlay::None => Mode::Browse,
            Overlay::Filter => Mode::Filter,
            Overlay::Form(_) => Mode::Form,
            Overlay::Confirm(..) => Mode::Confirm,
            Overlay::Regions(_) => Mode::Regions,
            Overlay::Add(_) => Mode::Add,
            Overlay::Remove(_) => Mode::Remove,
            Overlay::Help => Mode::Help,
        }
    }

    pub fn selected_row(&self) -> Option<&Row> {
        self.visible.get(self.selected).map(|&i| &self.rows[i])
    }

    fn selected_id(&self) -> Option<String> {
        self.selected_row().map(|r| r.inst.id.clone())
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
            .filter(|(_, r)| self.regions.is_empty() || self.regions.contains(&r.inst.region))
            .filter(|(_, r)| words.iter().all(|w| r.haystack.contains(w.as_str())))
            .map(|(i, _)| i)
            .collect();
        self.selected = keep
            .and_then(|id| {
                self.visible
                    .iter()
                    .position(|&i| self.rows[i].inst.id == id)
            })
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

    fn move_selection(&mut self, to: isize) {
        let n = self.visible.len();
        if n == 0 {
            self.selected = 0;
            return;
        }
        self.selected = to.clamp(0, n as isize - 1) as usize;
        self.clamp_offset();
    }

    /// All log lines, newest first: journal entries and other requests merged by time.
    pub fn log_items(&self) -> Vec<LogItem> {
        let mut items: Vec<LogItem> = self
            .journal
            .iter()
            .map(|i| {
                let mut i = i.clone();
                if let Some((status, progress)) = i.task_id.and_then(|t| self.progress.get(&t)) {
                    i.status = format!(
                        "{status}{}",
                        progress.map(|p| format!(" {p}%")).unwrap_or_default()
                    );
                }
                i
            })
            .chain(self.calls.iter().cloned())
            .collect();
        // Stable: equal times keep journal order.
        items.sort_by(|a, b| b.time.cmp(&a.time));
        items
    }

    fn upsert(&mut self, inst: SavedInstance) {
        let row = Row::new(inst);
        match self.rows.iter_mut().find(|r| r.inst.id == row.inst.id) {
            Some(r) => *r = row,
            None => {
                self.rows.push(row);
                self.rows.sort_by(|a, b| {
                    (&a.inst.region, &a.inst.id).cmp(&(&b.inst.region, &b.inst.id))
                });
            }
        }
        self.recompute();
    }

    fn row_mut(&mut self, id: &str) -> Option<&mut Row> {
        self.rows.iter_mut().find(|r| r.inst.id == id)
    }

    fn visible_targets(&self) -> Vec<(String, String)> {
        let h = self.list_height().max(1);
        self.visible
            .iter()
            .skip(self.offset)
            .take(h)
            .map(|&i| {
                (
                    self.rows[i].inst.region.clone(),
                    self.rows[i].inst.id.clone(),
                )
            })
            .collect()
    }

    /// Refresh what is on screen (used at start and on `r`).
    pub fn refresh_visible(&mut self) -> Vec<Cmd> {
        let targets = self.visible_targets();
        if targets.is_empty() {
            return vec![];
        }
        self.busy += 1;
        vec![Cmd::Refresh(targets)]
    }

    /// The single entry point: apply a message, return the effects to run.
    pub fn update(&mut self, msg: Msg) -> Vec<Cmd> {
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
            Msg::RefreshDone(error) => {
                self.busy = self.busy.saturating_sub(1);
                if let Some(e) = error {
                    self.notice = Some(clean(&e));
                }
                vec![]
            }
            Msg::Refreshed { id, result } => {
                match result {
                    Ok((status, ssl)) => {
                        if let Some(row) = self.row_mut(&id) {
                            let mut inst = row.inst.clone();
                            if status.is_some() {
                                inst.status = status;
                            }
                            inst.ssl = Some(crate::ops::saved_ssl(&ssl));
                            *row = Row::new(inst);
                        }
                    }
                    Err(e) => self.notice = Some(format!("refresh {id}: {e}")),
                }
                vec![]
            }
            Msg::Described(result) => {
                self.busy = self.busy.saturating_sub(1);
                match result {
                    Ok(inst) => {
                        let addresses = inst.addresses.clone();
                        let id = inst.id.clone();
                        self.upsert(inst);
                        match &mut self.overlay {
                            Overlay::Form(form) | Overlay::Confirm(form, _)
                                if form.instance_id == id =>
                            {
                                form.update_choices(addresses)
                            }
                            _ => {}
                        }
                    }
                    Err(e) => self.notice = Some(e),
                }
                vec![]
            }
            Msg::Sent { id, region, result } => {
                self.inflight.remove(&id);
                match result {
                    Ok(applied) => {
                        self.notice = Some(format!(
                            "{id}: change sent, TaskId {}; following the task",
                            applied
                                .TaskId
                                .map(|t| t.to_string())
                                .unwrap_or_else(|| "-".into())
                        ));
                        let mut cmds = vec![Cmd::ReloadJournal];
                        if let Some(task_id) = applied.TaskId {
                            self.progress.insert(task_id, ("Running".into(), Some(0)));
                            cmds.push(Cmd::Follow {
                                region,
                                instance_id: id,
                                task_id,
                                journal_id: applied.journal_id,
                            });
                        }
                        cmds
                    }
                    Err(line) => {
                        self.notice = Some(line);
                        vec![Cmd::ReloadJournal]
                    }
                }
            }
            Msg::Task {
                instance_id,
                region,
                task_id,
                status,
                progress,
                done,
            } => {
                self.progress.insert(task_id, (clean(&status), progress));
                if done {
                    self.notice = Some(format!(
                        "task {task_id} on {instance_id} ended {}",
                        clean(&status)
                    ));
                    self.busy += 1;
                    vec![
                        Cmd::ReloadJournal,
                        Cmd::Refresh(vec![(region, instance_id)]),
                    ]
                } else {
                    if let Some(row) = self.row_mut(&instance_id) {
                        let mut inst = row.inst.clone();
                        inst.status = Some("restarting".into());
                        *row = Row::new(inst);
                    }
                    vec![]
                }
            }
            Msg::Imported(result) => {
                self.busy = self.busy.saturating_sub(1);
                match result {
                    Ok(list) => {
                        self.notice = Some(format!("imported {} instances", list.len()));
                        for inst in list {
                            self.upsert(inst);
                        }
                    }
                    Err(e) => self.notice = Some(e),
                }
                vec![]
            }
            Msg::Added(result) => {
                self.busy = self.busy.saturating_sub(1);
                match result {
                    Ok(inst) => {
                        self.notice = Some(format!("saved {}", inst.id));
                        let id = inst.id.clone();
                        self.upsert(inst);
                        if let Some(pos) = self
                            .visible
                            .iter()
                            .position(|&i| self.rows[i].inst.id == id)
                        {
                            self.move_selection(pos as isize);
                        }
                    }
                    Err(e) => self.notice = Some(e),
                }
                vec![]
            }
            Msg::Removed(result) => {
                match result {
                    Ok(id) => {
                        self.rows.retain(|r| r.inst.id != id);
                        self.notice = Some(format!("removed {id} from the saved list"));
                        self.recompute();
                    }
                    Err(e) => self.notice = Some(e),
                }
                vec![]
            }
            Msg::RegionsSaved(result) => {
                match result {
                    Ok(regions) => {
                        self.regions = regions;
                        self.recompute();
                    }
                    Err(e) => self.notice = Some(e),
                }
                vec![]
            }
            Msg::Journal(entries) => {
                self.journal = entries.iter().map(log_item_from_entry).collect();
                vec![]
            }
            Msg::Call(record) => {
                // Task polls show up as the task's progress, not as lines of their own.
                let quiet = record.error.is_none()
                    && matches!(record.action, crate::api::Action::DescribeTasks);
                if !quiet && record.action.is_read() {
                    self.calls.push_back(log_item_from_call(&record));
                    while self.calls.len() > CALLS_KEPT {
                        self.calls.pop_front();
                    }
                }
                vec![]
            }
            Msg::Notice(text) => {
                self.notice = Some(clean(&text));
                vec![]
            }
            Msg::CaFetched { id, result } => {
                self.busy = self.busy.saturating_sub(1);
                match result {
                    Ok(lines) => {
                        self.notice = lines.first().map(|l| clean(l));
                        self.verify_report = Some((id, lines.iter().map(|l| clean(l)).collect()));
                    }
                    Err(e) => self.notice = Some(format!("{id}: CA not fetched: {}", clean(&e))),
                }
                vec![]
            }
            Msg::Verified { id, result } => {
                self.busy = self.busy.saturating_sub(1);
                let (status, error) = match result {
                    Ok((word, lines)) => {
                        self.notice = lines.first().map(|l| format!("{id}: {}", clean(l)));
                        self.verify_report =
                            Some((id.clone(), lines.iter().map(|l| clean(l)).collect()));
                        (format!("tls {word}"), None)
                    }
                    Err(e) => {
                        self.notice = Some(format!("{id}: TLS check not run: {}", clean(&e)));
                        ("tls not run".to_string(), Some(clean(&e)))
                    }
                };
                self.calls.push_back(LogItem {
                    time: crate::store::now_rfc3339(),
                    instance: id,
                    action: "verify".into(),
                    task_id: None,
                    request_id: None,
                    status,
                    error,
                    is_change: false,
                });
                vec![Cmd::ReloadJournal]
            }
        }
    }

    fn on_key(&mut self, key: KeyEvent) -> Vec<Cmd> {
        let mode = self.mode();
        let action = keys::lookup(mode, &key);
        if action == Some(Action::ForceQuit) {
            self.quit = true;
            return vec![];
        }
        match mode {
            Mode::Browse => self.browse_key(action),
            Mode::Filter => {
                match action {
                    Some(Action::Submit) => self.overlay = Overlay::None,
                    Some(Action::Back) => {
                        self.filter.clear();
                        self.overlay = Overlay::None;
                        self.recompute();
                    }
                    _ => match key.code {
                        KeyCode::Backspace => {
                            self.filter.pop();
                            self.recompute();
                        }
                        KeyCode::Char(c)
                            if !key.modifiers.contains(KeyModifiers::CONTROL)
                                && self.filter.chars().count() < 64 =>
                        {
                            self.filter.push(c);
                            self.recompute();
                        }
                        _ => {}
                    },
                }
                vec![]
            }
            Mode::Form => self.form_key(action, key),
            Mode::Confirm => {
                match action {
                    Some(Action::Send) => {
                        let Overlay::Confirm(_, change) =
                            std::mem::replace(&mut self.overlay, Overlay::None)
                        else {
                            return vec![];
                        };
                        if self.readonly {
                            self.notice = Some("read-only mode: nothing is sent".into());
                            return vec![];
                        }
                        self.inflight.insert(change.instance_id.clone());
                        self.notice = Some(format!(
                            "{}: sending ModifyDBInstanceSSLConfig…",
                            change.instance_id
                        ));
                        return vec![Cmd::Send(change)];
                    }
                    Some(Action::Cancel) | Some(Action::Back) => {
                        if let Overlay::Confirm(form, _) =
                            std::mem::replace(&mut self.overlay, Overlay::None)
                        {
                            self.overlay = Overlay::Form(form);
                        }
                    }
                    _ => {}
                }
                vec![]
            }
            Mode::Regions => self.regions_key(action),
            Mode::Add => self.add_key(action, key),
            Mode::Remove => {
                match action {
                    Some(Action::Send) => {
                        if let Overlay::Remove(id) =
                            std::mem::replace(&mut self.overlay, Overlay::None)
                        {
                            return vec![Cmd::Remove(id)];
                        }
                    }
                    Some(Action::Cancel) | Some(Action::Back) => self.overlay = Overlay::None,
                    _ => {}
                }
                vec![]
            }
            Mode::Help => {
                if action == Some(Action::Back) {
                    self.overlay = Overlay::None;
                }
                vec![]
            }
        }
    }

    fn browse_key(&mut self, action: Option<Action>) -> Vec<Cmd> {
        let Some(action) = action else { return vec![] };
        let page = self.list_height().max(1) as isize;
        // Derived, not built: log_items() clones and sorts the whole log.
        let log_len = self.journal.len() + self.calls.len();
        let on_log = self.focus == Pane::Log;
        match action {
            Action::Quit | Action::ForceQuit => self.quit = true,
            Action::Up if on_log => self.log_selected = self.log_selected.saturating_sub(1),
            Action::Down if on_log => {
                self.log_selected = (self.log_selected + 1).min(log_len.saturating_sub(1))
            }
            Action::Top if on_log => self.log_selected = 0,
            Action::Bottom if on_log => self.log_selected = log_len.saturating_sub(1),
            Action::Up => self.move_selection(self.selected as isize - 1),
            Action::Down => self.move_selection(self.selected as isize + 1),
            Action::Top => self.move_selection(0),
            Action::Bottom => self.move_selection(self.visible.len() as isize - 1),
            Action::PageUp => self.move_selection(self.selected as isize - page),
            Action::PageDown => self.move_selection(self.selected as isize + page),
            Action::NextPane | Action::PrevPane => {
                self.focus = match self.focus {
                    Pane::Instances => Pane::Log,
                    Pane::Log => Pane::Instances,
                }
            }
            Action::StartFilter => self.overlay = Overlay::Filter,
            Action::OpenForm => {
                if self.readonly {
                    self.notice = Some("read-only mode (--readonly): changes are disabled".into());
                    return vec![];
                }
                let Some(row) = self.selected_row() else {
                    self.notice = Some("no instance selected: import (i) or add (a) one".into());
                    return vec![];
                };
                if self.inflight.contains(&row.inst.id) {
                    self.notice = Some(format!("{}: a change is already in flight", row.inst.id));
                    return vec![];
                }
                let form = SslForm::new(&row.inst);
                let cmd = Cmd::Describe {
                    region: row.inst.region.clone(),
                    id: row.inst.id.clone(),
                };
                self.overlay = Overlay::Form(form);
                self.busy += 1;
                return vec![cmd];
            }
            Action::Refresh => return self.refresh_visible(),
            Action::Import => {
                let regions = if self.regions.is_empty() {
                    vec![self.default_region.clone()]
                } else {
                    self.regions.clone()
                };
                self.notice = Some(format!("importing from {}…", regions.join(", ")));
                self.busy += 1;
                return vec![Cmd::Import(regions)];
            }
            Action::Add => {
                let region = SSL_REGIONS
                    .iter()
                    .position(|r| Some(*r) == self.regions.first().map(String::as_str))
                    .or_else(|| SSL_REGIONS.iter().position(|r| *r == self.default_region))
                    .unwrap_or(0);
                self.overlay = Overlay::Add(AddForm {
                    id: String::new(),
                    region,
                    on_region: false,
                    error: None,
                });
            }
            Action::Remove => {
                if let Some(id) = self.selected_id() {
                    self.overlay = Overlay::Remove(id);
                }
            }
            Action::Regions => {
                self.overlay = Overlay::Regions(RegionPicker {
                    chosen: self.regions.clone(),
                    cursor: 0,
                })
            }
            Action::Copy => {
                let text = if on_log {
                    self.log_items().get(self.log_selected).and_then(|i| {
                        i.task_id
                            .map(|t| t.to_string())
                            .or_else(|| i.request_id.clone())
                    })
                } else {
                    self.selected_id()
                };
                if let Some(text) = text {
                    self.notice = Some(format!("copied {text} to the clipboard (OSC 52)"));
                    return vec![Cmd::Copy(text)];
                }
            }
            Action::Help => self.overlay = Overlay::Help,
            Action::FetchCa => {
                if let Some(row) = self.selected_row() {
                    let (region, id) = (row.inst.region.clone(), row.inst.id.clone());
                    self.notice = Some(format!("{id}: fetching the CA certificate…"));
                    self.busy += 1;
                    return vec![Cmd::FetchCa { region, id }];
                }
            }
            Action::Verify => {
                if let Some(row) = self.selected_row() {
                    let (region, id) = (row.inst.region.clone(), row.inst.id.clone());
                    self.notice = Some(format!("{id}: checking TLS…"));
                    self.busy += 1;
                    return vec![Cmd::Verify { region, id }];
                }
            }
            _ => {}
        }
        vec![]
    }

    fn form_key(&mut self, action: Option<Action>, key: KeyEvent) -> Vec<Cmd> {
        let Overlay::Form(form) = &mut self.overlay else {
            return vec![];
        };
        // While typing an IP, printable keys are text, not commands.
        if form.typing_ip()
            && let KeyCode::Char(c) = key.code
            && c != ' '
            && !key.modifiers.contains(KeyModifiers::CONTROL)
        {
            form.type_char(c);
            return vec![];
        }
        match action {
            Some(Action::Back) => self.overlay = Overlay::None,
            // Space on an address keeps it chosen: only the SSL switch toggles.
            Some(Action::Toggle) => form.toggle(),
            Some(Action::NextField) => form.next_field(true),
            Some(Action::PrevField) => form.next_field(false),
            Some(Action::Up) if form.field != Field::Ssl => form.move_choice(false),
            Some(Action::Down) if form.field != Field::Ssl => form.move_choice(true),
            Some(Action::Down) => form.next_field(true),
            Some(Action::Submit) => {
                let form = form.clone();
                let Some(row) = self.rows.iter().find(|r| r.inst.id == form.instance_id) else {
                    self.overlay = Overlay::None;
                    return vec![];
                };
                // An invalid form cannot be sent: the problem is shown inline.
                if let Ok(change) = form.change(&row.inst) {
                    self.overlay = Overlay::Confirm(form, Box::new(change));
                }
            }
            _ => {
                if key.code == KeyCode::Backspace {
                    form.backspace();
                }
            }
        }
        vec![]
    }

    fn regions_key(&mut self, action: Option<Action>) -> Vec<Cmd> {
        let Overlay::Regions(picker) = &mut self.overlay else {
            return vec![];
        };
        let n = SSL_REGIONS.len();
        match action {
            Some(Action::Up) => picker.cursor = picker.cursor.saturating_sub(1),
            Some(Action::Down) => picker.cursor = (picker.cursor + 1).min(n - 1),
            Some(Action::Top) => picker.cursor = 0,
            Some(Action::Bottom) => picker.cursor = n - 1,
            Some(Action::Toggle) => {
                let r = SSL_REGIONS[picker.cursor].to_string();
                if let Some(pos) = picker.chosen.iter().position(|c| *c == r) {
                    picker.chosen.remove(pos);
                } else {
                    picker.chosen.push(r);
                    picker
                        .chosen
                        .sort_by_key(|c| SSL_REGIONS.iter().position(|r| r == c));
                }
            }
            Some(Action::Submit) => {
                let chosen = picker.chosen.clone();
                self.overlay = Overlay::None;
                return vec![Cmd::SaveRegions(chosen)];
            }
            Some(Action::Back) => self.overlay = Overlay::None,
            _ => {}
        }
        vec![]
    }

    fn add_key(&mut self, action: Option<Action>, key: KeyEvent) -> Vec<Cmd> {
        let Overlay::Add(form) = &mut self.overlay else {
            return vec![];
        };
        match action {
            Some(Action::Back) => self.overlay = Overlay::None,
            Some(Action::NextField) | Some(Action::PrevField) => form.on_region = !form.on_region,
            Some(Action::Submit) => match crate::validate::instance_id(&form.id) {
                Ok(id) => {
                    let region = SSL_REGIONS[form.region].to_string();
                    self.overlay = Overlay::None;
                    self.busy += 1;
                    self.notice = Some(format!("looking up {id} in {region}…"));
                    return vec![Cmd::Add { region, id }];
                }
                Err(e) => form.error = Some(e),
            },
            _ => match key.code {
                KeyCode::Left | KeyCode::Up if form.on_region => {
                    form.region = (form.region + SSL_REGIONS.len() - 1) % SSL_REGIONS.len()
                }
                KeyCode::Right | KeyCode::Down if form.on_region => {
                    form.region = (form.region + 1) % SSL_REGIONS.len()
                }
                KeyCode::Backspace if !form.on_region => {
                    form.id.pop();
                    form.error = None;
                }
                KeyCode::Char(c)
                    if !form.on_region
                        && form.id.len() < 32
                        && !key.modifiers.contains(KeyModifiers::CONTROL) =>
                {
                    form.id.push(c);
                    form.error = None;
                }
                _ => {}
            },
        }
        vec![]
    }
}

fn log_item_from_call(r: &CallRecord) -> LogItem {
    LogItem {
        time: crate::store::now_rfc3339(),
        instance: r.region.clone().unwrap_or_default(),
        action: r.action.name().into(),
        task_id: None,
        request_id: r.request_id.as_deref().map(clean),
        status: if r.error.is_some() {
            "error".into()
        } else {
            "ok".into()
        },
        error: r.error.as_ref().map(|e| e.to_string()),
        is_change: false,
    }
}

pub fn log_item_from_entry(e: &Entry) -> LogItem {
    let r = &e.request;
    let (status, request_id, error) = match &e.outcome {
        Some(Outcome::Ok { RequestId, .. }) => ("ok".to_string(), Some(RequestId.clone()), None),
        Some(Outcome::Error {
            Code,
            Message,
            RequestId,
        }) => (
            format!("error {Code}"),
            RequestId.clone(),
            Some(Message.clone()),
        ),
        Some(Outcome::Unknown { detail }) => ("outcome unknown".into(), None, Some(detail.clone())),
        None => (
            "outcome unknown".into(),
            None,
            Some("interrupted before a reply: check before sending again".into()),
        ),
    };
    let status = match (&e.task, &e.check) {
        (Some((_, s, p)), _) => format!("{s}{}", p.map(|p| format!(" {p}%")).unwrap_or_default()),
        (None, Some((result, _, _))) => format!("{status}, checked: {result}"),
        _ => status,
    };
    let status = match &e.verify {
        Some((_, result, _)) => format!("{status} · tls {result}"),
        None => status,
    };
    let what = if r.SSLEnabled {
        format!("enable {}", r.ConnectAddress.as_deref().unwrap_or("?"))
    } else {
        "disable".into()
    };
    LogItem {
        time: clean(&r.time),
        instance: clean(&r.DBInstanceId),
        action: clean(&what),
        task_id: e.task_id(),
        request_id: request_id.as_deref().map(clean),
        status: clean(&status),
        error: error.as_deref().map(clean),
        is_change: true,
    }
}
