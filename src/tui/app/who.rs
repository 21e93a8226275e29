//! Who the TUI acts as: the credential line and account in the header, renewals of a
//! temporary key in the log, the profile picker (`P`) that switches credentials without
//! restarting, and the protected profile's confirm (type the instance id, not `y`).

use crossterm::event::KeyEvent;

use super::log::{LogItem, LogKind};
use super::{App, Cmd, Overlay};
use crate::credentials::CredentialEvent;
use crate::credentials::choices::Choice;
use crate::tui::keys::Action;

const RENEW_FAILED: &str = "temporary key not renewed: ";

/// The header's second line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Who {
    /// Source, masked SecretId, temporary until when.
    pub credential: String,
    /// The account line; None while STS is being asked.
    pub account: Option<String>,
    /// Renewing the temporary key failed, and why.
    pub problem: Option<String>,
    /// The tccli profile in effect.
    pub profile: Option<String>,
    /// config.toml marks the profile protected: typed confirms, a marked header.
    pub protected: bool,
    /// config.toml marks the profile read-only.
    pub readonly: bool,
}

impl Who {
    /// The protected profile's name, when the profile is protected: confirming then takes
    /// more than `y` (`ops::confirm`), as in the CLI.
    pub fn protected_profile(&self) -> Option<&str> {
        self.protected
            .then(|| self.profile.as_deref().unwrap_or("default"))
    }
}

/// A credential switched to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Switched {
    pub who: Who,
    /// The credential's default region (profile or TENCENTCLOUD_REGION).
    pub region: Option<String>,
    pub warnings: Vec<String>,
}

/// What config.toml says of a credential in the `P` list (the guards it would bring).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Guarded {
    pub protected: bool,
    pub readonly: bool,
}

impl Guarded {
    /// `[PROTECTED] `, `[read-only] `, both, or nothing: in words, so NO_COLOR keeps it.
    pub fn marks(self) -> String {
        let mut out = String::new();
        if self.protected {
            out.push_str("[PROTECTED] ");
        }
        if self.readonly {
            out.push_str("[read-only] ");
        }
        out
    }
}

/// The `P` overlay: the credentials found (None while looking), their guards, and the
/// cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfilePicker {
    pub items: Option<Vec<Choice>>,
    /// Beside `items`, one each.
    pub guards: Vec<Guarded>,
    pub cursor: usize,
}

impl App {
    pub(super) fn open_profiles(&mut self) -> Vec<Cmd> {
        self.overlay = Overlay::Profiles(ProfilePicker {
            items: None,
            guards: Vec::new(),
            cursor: 0,
        });
        vec![Cmd::ListChoices]
    }

    pub(super) fn profiles_key(&mut self, action: Option<Action>) -> Vec<Cmd> {
        let Overlay::Profiles(p) = &mut self.overlay else {
            return vec![];
        };
        let len = p.items.as_ref().map_or(0, Vec::len);
        match action {
            Some(Action::Up) => p.cursor = p.cursor.saturating_sub(1),
            Some(Action::Down) => p.cursor = (p.cursor + 1).min(len.saturating_sub(1)),
            Some(Action::Back) => self.overlay = Overlay::None,
            Some(Action::Submit) => {
                let chosen = p.items.as_ref().and_then(|i| i.get(p.cursor)).cloned();
                if let Some(choice) = chosen {
                    if !self.inflight.is_empty() {
                        self.notice = Some(
                            "a change is in flight: switch credentials once it has been sent"
                                .into(),
                        );
                        return vec![];
                    }
                    self.overlay = Overlay::None;
                    self.busy += 1;
                    self.notice = Some(format!("switching to {}…", choice.label()));
                    return vec![Cmd::Switch(choice)];
                }
            }
            _ => {}
        }
        vec![]
    }

    pub(super) fn choices_listed(&mut self, listed: Vec<(Choice, Guarded)>) {
        if let Overlay::Profiles(p) = &mut self.overlay {
            let (items, guards): (Vec<Choice>, Vec<Guarded>) = listed.into_iter().unzip();
            p.cursor = p.cursor.min(items.len().saturating_sub(1));
            p.items = Some(items);
            p.guards = guards;
        }
    }

    /// A new credential is in use: its line, guards and default region.
    pub(super) fn switched(&mut self, s: Switched) {
        self.readonly = self.readonly_flag || s.who.readonly;
        self.notice = Some(
            s.warnings
                .first()
                .cloned()
                // The source only: its key and account arrive a moment later (header).
                .unwrap_or_else(|| {
                    format!(
                        "now {}",
                        s.who.credential.split(" · ").next().unwrap_or_default()
                    )
                }),
        );
        self.who = s.who;
        if let Some(r) = s.region
            && !self.region_fixed
        {
            self.default_region = r;
        }
    }

    pub(super) fn credential_event(&mut self, event: &CredentialEvent) {
        let (status, error) = match event {
            CredentialEvent::Renewed { what, expires_at } => {
                self.who.problem = None;
                if self
                    .notice
                    .as_deref()
                    .is_some_and(|n| n.starts_with(RENEW_FAILED))
                {
                    self.notice = None;
                }
                (
                    format!(
                        "renewed {what} until {}",
                        pgssl_wire::clock::rfc3339(*expires_at).unwrap_or_default()
                    ),
                    None,
                )
            }
            CredentialEvent::RenewFailed { message } => {
                let message = crate::text::clean(message);
                self.who.problem = Some(message.clone());
                self.notice = Some(format!("{RENEW_FAILED}{message}"));
                ("renewal failed".to_string(), Some(message))
            }
        };
        self.calls.push_back(LogItem {
            time: crate::store::now_rfc3339(),
            kind: LogKind::Credential,
            instance: String::new(),
            action: "credential".into(),
            task_id: None,
            request_id: None,
            detail: std::iter::once(format!("Credential: {}", crate::text::clean(&status)))
                .chain(error.iter().map(|e| format!("Error: {e}")))
                .collect(),
            status: crate::text::clean(&status),
            error,
            change: None,
        });
        while self.calls.len() > super::CALLS_KEPT {
            self.calls.pop_front();
        }
        self.rebuild_log();
    }

    /// The protected confirm: typing the instance id, Backspace, Enter to send.
    pub(super) fn typed_confirm_key(&mut self, action: Option<Action>, key: KeyEvent) -> Vec<Cmd> {
        let protected = self.protected_confirmation();
        let Overlay::Confirm(c) = &mut self.overlay else {
            return vec![];
        };
        match action {
            Some(Action::Send) => {
                let confirmation =
                    crate::ops::confirm::for_change(&c.intent.instance_id, protected.as_deref());
                if confirmation.accepts(&c.typed) {
                    return self.send_shown();
                }
                let wrong = if c.typed.trim().is_empty() {
                    format!(
                        "nothing typed yet: {}; nothing was sent",
                        confirmation.hint()
                    )
                } else {
                    format!(
                        "'{}' does not match {}: nothing was sent; type it exactly, then Enter (Esc goes back)",
                        crate::text::clean(c.typed.trim()),
                        c.intent.instance_id
                    )
                };
                c.wrong = Some(wrong.clone());
                self.notice = Some(format!("protected profile: {wrong}"));
                vec![]
            }
            Some(Action::Back) => self.confirm_key(Some(Action::Back)),
            Some(Action::Copy) => self.copy_tccli(),
            _ => {
                let id = c.intent.instance_id.clone();
                if super::bulk::type_into(&mut c.typed, &key, &id) {
                    c.wrong = None;
                }
                vec![]
            }
        }
    }

    fn protected_confirmation(&self) -> Option<String> {
        self.who.protected_profile().map(str::to_string)
    }
}
