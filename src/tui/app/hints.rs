//! What the keys on screen do here and now: the footer and each dialog offer only the
//! keys that do something in the current state (no `y` under a refusal), the reason the
//! TUI is read-only in words that say which reason it is, and the tccli command a plan
//! stands for, copyable (`c` in the confirm; Ctrl-T where letters are typed).

use super::{App, Cmd, Overlay, Shown};
use crate::tui::keys::{self, Action, Binding};

impl App {
    /// The bindings the footer and the open dialog show: those of the mode that do
    /// something now.
    pub fn hints(&self) -> Vec<&'static Binding> {
        keys::hints(self.mode())
            .filter(|b| self.key_works(b.action))
            .collect()
    }

    fn key_works(&self, action: Action) -> bool {
        match (&self.overlay, action) {
            (Overlay::None, Action::OpenForm) => !self.readonly,
            (Overlay::Confirm(c), Action::Send) => {
                !self.readonly && matches!(c.shown, Shown::Change(_))
            }
            (Overlay::BulkConfirm(c), Action::Send) => {
                !self.readonly && c.plan.as_ref().is_some_and(|p| !p.changes.is_empty())
            }
            _ => true,
        }
    }

    /// Why nothing can be changed, the one reason that applies.
    pub fn readonly_reason(&self) -> String {
        if self.demo_follower {
            "read-only: another pgssl --demo owns the demo's state; change instances there, or quit it and start this one again".into()
        } else if self.readonly_flag {
            "read-only (--readonly): changes are disabled".into()
        } else if self.who.readonly {
            format!(
                "read-only: profile {} is readonly in config.toml; changes are disabled (P switches credentials)",
                crate::text::clean(self.who.profile.as_deref().unwrap_or("default"))
            )
        } else {
            "read-only: changes are disabled".into()
        }
    }

    /// The tccli commands that send what the open confirm sends, one a change (the
    /// session's profile as `--profile`).
    pub fn tccli_lines(&self) -> Vec<String> {
        let profile = self.who.profile.as_deref();
        let line = |p| crate::text::clean(&crate::ops::tccli::modify(p, profile));
        match &self.overlay {
            Overlay::Confirm(c) => match &c.shown {
                Shown::Change(p) => vec![line(p)],
                _ => vec![],
            },
            Overlay::BulkConfirm(c) => c
                .plan
                .iter()
                .flat_map(|p| p.changes.iter())
                .map(line)
                .collect(),
            _ => vec![],
        }
    }

    /// The copy key in a confirm: the tccli commands to the clipboard. Never confirms.
    pub(super) fn copy_tccli(&mut self) -> Vec<Cmd> {
        let lines = self.tccli_lines();
        if lines.is_empty() {
            self.notice = Some("no change planned yet: no tccli command to copy".into());
            return vec![];
        }
        self.notice = Some(format!(
            "sent {} to the terminal's clipboard (OSC 52; if it does not arrive, select it by hand); nothing was sent to the API",
            if lines.len() == 1 {
                "the tccli command".to_string()
            } else {
                format!("{} tccli commands", lines.len())
            }
        ));
        vec![Cmd::Copy(lines.join("\n"))]
    }
}
