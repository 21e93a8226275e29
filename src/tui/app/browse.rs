//! The main screen: moving, filtering, and the keys that start something.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::{AddForm, App, Cmd, Overlay, Pane, RegionPicker, SslForm};
use crate::tui::keys::Action;

impl App {
    pub(super) fn browse_key(&mut self, action: Option<Action>) -> Vec<Cmd> {
        let Some(action) = action else { return vec![] };
        let page = self.list_height().max(1);
        let log_len = self.log_items().len();
        let on_log = self.focus == Pane::Log;
        match action {
            Action::Quit => self.quit_key(),
            Action::ForceQuit => {
                self.quit = true;
                self.exit_code = Some(130);
            }
            Action::Up if on_log => self.log_selected = self.log_selected.saturating_sub(1),
            Action::Down if on_log => {
                self.log_selected = (self.log_selected + 1).min(log_len.saturating_sub(1));
            }
            Action::Top if on_log => self.log_selected = 0,
            Action::Bottom if on_log => self.log_selected = log_len.saturating_sub(1),
            Action::Up => self.move_selection(self.selected.saturating_sub(1)),
            Action::Down => self.move_selection(self.selected + 1),
            Action::Top => self.move_selection(0),
            Action::Bottom => self.move_selection(usize::MAX),
            Action::PageUp => self.move_selection(self.selected.saturating_sub(page)),
            Action::PageDown => self.move_selection(self.selected.saturating_add(page)),
            Action::NextPane | Action::PrevPane => {
                self.focus = match self.focus {
                    Pane::Instances => Pane::Log,
                    Pane::Log => Pane::Instances,
                }
            }
            Action::StartFilter => self.overlay = Overlay::Filter,
            Action::Undo | Action::UndoRun => return self.undo(action == Action::UndoRun),
            Action::OpenForm if on_log => {
                if let Some(item) = self.log_items().get(self.log_selected).cloned() {
                    self.overlay = Overlay::LogDetail(Box::new(item), 0);
                }
            }
            Action::ToggleReads => {
                self.show_reads = !self.show_reads;
                self.notice = Some(if self.show_reads {
                    "the log shows every read (L folds them again)".into()
                } else {
                    "reads folded into one line; failed reads still show (L shows each)".into()
                });
                self.rebuild_log();
            }
            Action::Mark => self.toggle_mark(),
            Action::MarkAll => self.mark_all_shown(),
            Action::Run => {
                if let (None, Some(found)) = (&self.bulk, self.pending_resume.take()) {
                    self.offer_resume(found);
                } else if self.bulk.is_some() {
                    self.overlay = Overlay::Run(0);
                } else {
                    self.notice = Some(
                        "no bulk run this session: mark instances with Space (or * for all shown), then Enter".into(),
                    );
                }
            }
            Action::Back if self.filter.is_empty() && !self.marked.is_empty() => {
                self.marked.clear();
                self.notice = Some("marks cleared".into());
            }
            Action::OpenForm => {
                if self.readonly {
                    self.notice = Some(self.readonly_reason());
                    return vec![];
                }
                if !self.marked.is_empty() {
                    self.open_bulk_form();
                    return vec![];
                }
                let Some(row) = self.selected_row() else {
                    self.notice = Some("no instance selected: import (i) or add (a) one".into());
                    return vec![];
                };
                if self.inflight.contains(row.id()) {
                    self.notice = Some(format!("{}: a change is already in flight", row.id()));
                    return vec![];
                }
                let group = crate::ops::group::preselect(&self.groups_of(row.id()));
                let form = SslForm::new(row, group);
                let cmd = Cmd::Describe {
                    region: row.region().to_string(),
                    id: row.id().to_string(),
                };
                self.overlay = Overlay::Form(form);
                self.refresh_group_offer();
                self.busy += 1;
                return vec![cmd];
            }
            Action::Refresh if !self.marked.is_empty() => return self.refresh_marked(),
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
                let region = self
                    .region_names
                    .iter()
                    .position(|r| Some(r) == self.regions.first())
                    .or_else(|| {
                        self.region_names
                            .iter()
                            .position(|r| *r == self.default_region)
                    })
                    .unwrap_or(0);
                self.overlay = Overlay::Add(AddForm {
                    id: String::new(),
                    region,
                    on_region: false,
                    error: None,
                    region_filter: String::new(),
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
                });
            }
            Action::Copy => {
                let text = if on_log {
                    self.log_items()
                        .get(self.log_selected)
                        .and_then(|i: &super::LogItem| {
                            i.task_id
                                .map(|t| t.to_string())
                                .or_else(|| i.request_id.clone())
                        })
                } else {
                    self.selected_id()
                };
                if let Some(text) = text {
                    self.notice = Some(format!(
                        "sent {text} to the terminal's clipboard (OSC 52; if it does not arrive, select it by hand)"
                    ));
                    return vec![Cmd::Copy(text)];
                }
            }
            Action::Help => self.overlay = Overlay::Help(0),
            Action::Tasks => self.overlay = Overlay::Tasks(0),
            Action::Audit => return self.open_audit(),
            Action::Sort => {
                self.sort = self.sort.next();
                self.recompute();
                self.notice = Some(format!(
                    "ordered by {} (o for the next order)",
                    self.sort.name()
                ));
            }
            Action::Notice => {
                let Some(n) = self.notice.clone() else {
                    return vec![];
                };
                let item = super::LogItem {
                    // When the message came, not when it is looked at.
                    time: self.notice_at.clone(),
                    kind: super::LogKind::Read,
                    instance: String::new(),
                    action: "message".into(),
                    task_id: None,
                    request_id: None,
                    status: String::new(),
                    error: None,
                    detail: vec![crate::text::clean(&n)],
                    change: None,
                };
                self.overlay = Overlay::Text(Box::new(item), 0);
            }
            Action::Back if !self.filter.is_empty() => {
                self.filter.clear();
                self.recompute();
                self.notice = Some("filter cleared".into());
            }
            Action::Report => {
                let Some(id) = self.selected_id() else {
                    return vec![];
                };
                let report = self.reports.get(&id);
                let lines = report.map(super::Reports::lines).unwrap_or_default();
                let time = report.map(|r| r.latest().to_string()).unwrap_or_default();
                if lines.is_empty() {
                    self.notice = Some(format!(
                        "no TLS report or CA for {id} this session: v checks TLS, C fetches the CA"
                    ));
                    return vec![];
                }
                let item = super::LogItem {
                    // When the newest of them came.
                    time,
                    kind: super::LogKind::Verify,
                    instance: id,
                    action: "report".into(),
                    task_id: None,
                    request_id: None,
                    status: String::new(),
                    error: None,
                    detail: lines,
                    change: None,
                };
                self.overlay = Overlay::Text(Box::new(item), 0);
            }
            Action::Profiles => return self.open_profiles(),
            Action::FetchCa => {
                if let Some(row) = self.selected_row() {
                    let (region, id) = (row.region().to_string(), row.id().to_string());
                    self.notice = Some(format!("{id}: fetching the CA certificate…"));
                    self.busy += 1;
                    return vec![Cmd::FetchCa { region, id }];
                }
            }
            Action::Census => {
                if let Some(row) = self.selected_row() {
                    let (region, id) = (row.region().to_string(), row.id().to_string());
                    self.notice = Some(format!("{id}: counting who is connected…"));
                    self.busy += 1;
                    return vec![Cmd::Census { region, id }];
                }
            }
            Action::Verify => {
                if let Some(row) = self.selected_row() {
                    let (region, id) = (row.region().to_string(), row.id().to_string());
                    self.notice = Some(format!("{id}: checking TLS…"));
                    self.busy += 1;
                    return vec![Cmd::Verify { region, id }];
                }
            }
            _ => {}
        }
        vec![]
    }

    pub(super) fn filter_key(&mut self, action: Option<Action>, key: KeyEvent) {
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
    }
}

impl App {
    /// A log line in full (or a report, a message): scroll, copy, Esc back. In a report
    /// or a message the first line shown is highlighted: `c` copies it whole.
    pub(super) fn log_detail_key(&mut self, action: Option<Action>) -> Vec<Cmd> {
        let text_view = matches!(self.overlay, Overlay::Text(..));
        let (Overlay::LogDetail(item, scroll) | Overlay::Text(item, scroll)) = &mut self.overlay
        else {
            return vec![];
        };
        let last = item.detail.len().saturating_sub(1);
        let page = usize::from(self.size.1 / 2).max(1);
        match action {
            Some(Action::Up) => *scroll = scroll.saturating_sub(1),
            Some(Action::Down) => *scroll = (*scroll + 1).min(last),
            Some(Action::PageUp) => *scroll = scroll.saturating_sub(page),
            Some(Action::PageDown) => *scroll = (*scroll + page).min(last),
            Some(Action::Top) => *scroll = 0,
            Some(Action::Bottom) => *scroll = last,
            Some(a @ (Action::Undo | Action::UndoRun)) => return self.undo(a == Action::UndoRun),
            Some(Action::Copy) if text_view => {
                let line = item.detail.get(*scroll).map_or("", String::as_str);
                let text = copied_line(line);
                if text.is_empty() {
                    self.notice = Some("an empty line: nothing to copy (j/k choose a line)".into());
                    return vec![];
                }
                self.notice = Some(format!(
                    "sent {text} to the terminal's clipboard (OSC 52; some terminals ignore it: select the text by hand)"
                ));
                return vec![Cmd::Copy(text)];
            }
            Some(Action::Copy | Action::CopyAll) => {
                let text = item.detail.join("\n");
                self.notice = Some(format!(
                    "sent {} lines to the terminal's clipboard (OSC 52; some terminals ignore it: select the text by hand)",
                    item.detail.len()
                ));
                return vec![Cmd::Copy(text)];
            }
            Some(Action::Back) => self.overlay = Overlay::None,
            _ => {}
        }
        vec![]
    }
}

/// What copying a line of a report gives: the line without its indent; for a fingerprint
/// (`sha256: AB:CD:…`), the fingerprint alone, as `--fingerprint` takes it.
pub fn copied_line(line: &str) -> String {
    let line = line.trim();
    if line.to_ascii_lowercase().starts_with("sha256") {
        return line
            .split_whitespace()
            .last()
            .unwrap_or_default()
            .to_string();
    }
    line.to_string()
}
