//! The regions dialog: which regions are shown and imported.

use super::{App, Cmd, Overlay};
use crate::tui::keys::Action;

impl App {
    pub(super) fn regions_key(&mut self, action: Option<Action>) -> Vec<Cmd> {
        let Overlay::Regions(picker) = &mut self.overlay else {
            return vec![];
        };
        let names = &self.region_names;
        let n = names.len().max(1);
        match action {
            Some(Action::Up) => picker.cursor = picker.cursor.saturating_sub(1),
            Some(Action::Down) => picker.cursor = (picker.cursor + 1).min(n - 1),
            Some(Action::Top) => picker.cursor = 0,
            Some(Action::Bottom) => picker.cursor = n - 1,
            Some(Action::Toggle) => {
                let Some(r) = names.get(picker.cursor).cloned() else {
                    return vec![];
                };
                if let Some(pos) = picker.chosen.iter().position(|c| *c == r) {
                    picker.chosen.remove(pos);
                } else {
                    picker.chosen.push(r);
                    picker
                        .chosen
                        .sort_by_key(|c| names.iter().position(|r| r == c));
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
}
