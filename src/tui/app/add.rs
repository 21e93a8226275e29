//! The add dialog: an instance by id, in a region.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::{App, Cmd, Overlay};
use crate::tui::keys::Action;

impl App {
    pub(super) fn add_key(&mut self, action: Option<Action>, key: KeyEvent) -> Vec<Cmd> {
        let Overlay::Add(form) = &mut self.overlay else {
            return vec![];
        };
        // On the region field, typing narrows the list (as `R`); arrows move in it.
        if form.on_region {
            match key.code {
                KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) && c != ' ' => {
                    if form.region_filter.chars().count() < 24 {
                        form.region_filter.push(c);
                    }
                    if let Some(&first) = form.region_matches(&self.region_names).first() {
                        form.region = first;
                    }
                    return vec![];
                }
                KeyCode::Backspace => {
                    form.region_filter.pop();
                    return vec![];
                }
                KeyCode::Up | KeyCode::Down | KeyCode::Left | KeyCode::Right => {
                    let matches = form.region_matches(&self.region_names);
                    let at = matches.iter().position(|&i| i == form.region).unwrap_or(0);
                    let next = if matches!(key.code, KeyCode::Up | KeyCode::Left) {
                        at.saturating_sub(1)
                    } else {
                        (at + 1).min(matches.len().saturating_sub(1))
                    };
                    if let Some(&i) = matches.get(next) {
                        form.region = i;
                    }
                    return vec![];
                }
                _ => {}
            }
        }
        match action {
            Some(Action::Back) => self.overlay = Overlay::None,
            Some(Action::NextField | Action::PrevField) => form.on_region = !form.on_region,
            Some(Action::Submit)
                if form.on_region && form.region_matches(&self.region_names).is_empty() =>
            {
                form.error = Some(format!(
                    "no region matches '{}': Backspace to widen",
                    crate::text::clean(&form.region_filter)
                ));
            }
            Some(Action::Submit) => match crate::validate::instance_id(&form.id) {
                Ok(id) => {
                    let Some(region) = self.region_names.get(form.region).cloned() else {
                        form.error = Some("choose a region".into());
                        return vec![];
                    };
                    self.last_add = Some(form.clone());
                    self.overlay = Overlay::None;
                    self.busy += 1;
                    self.notice = Some(format!("looking up {id} in {region}…"));
                    return vec![Cmd::Add { region, id }];
                }
                Err(e) => form.error = Some(e),
            },
            _ if form.on_region => {}
            _ => match key.code {
                KeyCode::Backspace => {
                    form.id.pop();
                    form.error = None;
                }
                KeyCode::Char(c)
                    if form.id.chars().count() < 32
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
