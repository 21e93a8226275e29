//! The add dialog: an instance by id, in a region.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::{App, Cmd, Overlay};
use crate::api::SSL_REGIONS;
use crate::tui::keys::Action;

impl App {
    pub(super) fn add_key(&mut self, action: Option<Action>, key: KeyEvent) -> Vec<Cmd> {
        let Overlay::Add(form) = &mut self.overlay else {
            return vec![];
        };
        match action {
            Some(Action::Back) => self.overlay = Overlay::None,
            Some(Action::NextField | Action::PrevField) => form.on_region = !form.on_region,
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
                    form.region = (form.region + SSL_REGIONS.len() - 1) % SSL_REGIONS.len();
                }
                KeyCode::Right | KeyCode::Down if form.on_region => {
                    form.region = (form.region + 1) % SSL_REGIONS.len();
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
