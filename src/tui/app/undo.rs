//! `u` and `U` on a change in the log: its undo, or its whole bulk run's, planned by
//! `ops::undo` and shown in the same dialog as any change (a bulk one for a run): the
//! same confirmation, the same send. What cannot be undone is said in the status line.

use super::bulk::{BulkConfirm, BulkForm, BulkRun};
use super::{App, Cmd, Overlay};
use crate::addresses::AddressKind;
use crate::ops::bulk::schedule::Limits;
use crate::store::journal::Entry;
use crate::text::clean;

impl BulkConfirm {
    /// Where Esc goes: the form it came from, or (an undo) the log.
    pub(super) fn back(&self) -> Overlay {
        match self.undo {
            Some(_) => Overlay::None,
            None => Overlay::BulkForm(Box::new(self.form.clone())),
        }
    }
}

impl App {
    /// The change on the log line in view (the open detail, else the selected line).
    fn change_in_view(&self) -> Option<&Entry> {
        let item = match &self.overlay {
            Overlay::LogDetail(item, _) => Some(item.as_ref()),
            _ if self.focus == super::Pane::Log => self.log_items().get(self.log_selected),
            _ => None,
        };
        item.and_then(|i| i.change.as_deref())
    }

    /// `u` (`whole_run`: `U`).
    pub(super) fn undo(&mut self, whole_run: bool) -> Vec<Cmd> {
        if self.readonly {
            self.notice = Some("read-only mode: nothing is sent".into());
            return vec![];
        }
        let Some(entry) = self.change_in_view().cloned() else {
            self.notice = Some(
                "u undoes a change: choose a change's line in the log (Tab moves to the log)"
                    .into(),
            );
            return vec![];
        };
        if whole_run {
            return self.undo_run(&entry);
        }
        match crate::ops::undo::inverse(&entry) {
            Err(why) => {
                self.notice = Some(format!("cannot undo: {why}; nothing was sent"));
                vec![]
            }
            Ok(inverse) => {
                let intent = inverse.intent();
                self.show_confirm(None, Some(inverse.change_id.clone()), intent.clone());
                vec![Cmd::PrepareUndo {
                    change: inverse.change_id,
                    intent,
                }]
            }
        }
    }

    fn undo_run(&mut self, entry: &Entry) -> Vec<Cmd> {
        let Some(run) = entry.request.run.clone() else {
            self.notice = Some(format!(
                "change {} is not part of a bulk run: u undoes it alone",
                clean(&entry.request.id)
            ));
            return vec![];
        };
        if self.bulk.as_ref().is_some_and(BulkRun::is_running) {
            self.notice =
                Some("a bulk run is still going on (b shows it): wait for it to end".into());
            return vec![];
        }
        // The run's instances, as the journal names them (the plan reads them fresh).
        let mut ids: Vec<(String, String)> = Vec::new();
        for e in self.journal.iter().filter_map(|i| i.change.as_deref()) {
            let key = (e.request.region.clone(), e.request.DBInstanceId.clone());
            if e.request.run.as_deref() == Some(run.as_str()) && !ids.contains(&key) {
                ids.push(key);
            }
        }
        let form = BulkForm {
            ids,
            enable: false,
            kind: AddressKind::Private,
            limits: Limits::default(),
            whole_group: false,
            field: super::bulk::BulkField::Ssl,
            canary: None,
        };
        self.show_bulk_confirm(form, Some(run.clone()));
        self.notice = Some(format!(
            "undo of bulk run {}: every change of it back to SSL as it was before",
            clean(&run)
        ));
        vec![Cmd::PrepareUndoRun(run)]
    }
}
