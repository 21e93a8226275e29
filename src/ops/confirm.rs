//! How a plan must be confirmed, decided once for both faces: the TUI draws it, the CLI
//! prompts for it (or checks `--yes --confirm` without a terminal). Never weaker in one
//! face than in the other:
//! - one change: `y`; on a protected profile (config.toml `protected = true`), the
//!   instance id typed;
//! - many changes (a bulk plan, a resume): `y` up to five, the count typed above; on a
//!   protected profile, the profile's name and the count (or the id, for one change).
//!
//! Without a terminal, `--yes` stands for `y`; a typed confirmation also needs
//! `--confirm` with what would be typed (the id, or the count: the profile is named by the
//! command line already), and a bare `--yes` is refused.

use super::refusal::ConfirmRefusal;

/// Above this many changes, the person types the count to confirm (a `y` is too easy to
/// give to a plan that restarts half the fleet).
pub const TYPE_THE_COUNT_ABOVE: usize = 5;

/// What confirming a plan takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirmation {
    /// None: `y` (or `yes`); else this text, typed exactly.
    pub typed: Option<String>,
    /// What the typed text is, in words ("the instance id").
    pub what: &'static str,
    /// What `--confirm` takes without a terminal: the instance id of one change, or the
    /// number of changes. Checked whenever it is given; needed on a protected profile.
    pub flag: String,
    /// A protected profile: `--yes` alone does not confirm.
    pub needs_flag: bool,
}

/// One change to `instance_id`; `protected`: the protected profile's name, if the
/// session's profile is protected.
pub fn for_change(instance_id: &str, protected: Option<&str>) -> Confirmation {
    Confirmation {
        typed: protected.map(|_| instance_id.to_string()),
        what: "the instance id",
        flag: instance_id.to_string(),
        needs_flag: protected.is_some(),
    }
}

/// Many changes (`only`: the instance, when there is exactly one).
pub fn for_many(count: usize, only: Option<&str>, protected: Option<&str>) -> Confirmation {
    let (what, flag) = match (count, only) {
        (1, Some(id)) => ("the instance id", id.to_string()),
        _ => ("the number of changes", count.to_string()),
    };
    let (typed, what) = match protected {
        Some(profile) => (
            Some(format!("{profile} {flag}")),
            if what == "the instance id" {
                "the profile's name and the instance id"
            } else {
                "the profile's name and the number of changes"
            },
        ),
        None if count > TYPE_THE_COUNT_ABOVE => (Some(flag.clone()), what),
        None => (None, what),
    };
    Confirmation {
        typed,
        what,
        flag,
        needs_flag: protected.is_some(),
    }
}

impl Confirmation {
    pub fn is_typed(&self) -> bool {
        self.typed.is_some()
    }

    /// The question a prompt asks.
    pub fn prompt(&self, what_is_sent: &str) -> String {
        match &self.typed {
            None => format!("Send {what_is_sent}? Type y to send, anything else cancels: "),
            Some(text) => format!(
                "Type {} ({text}) to send {what_is_sent}, anything else cancels: ",
                self.what
            ),
        }
    }

    /// In a dialog's words: what to type (or press) to send.
    pub fn hint(&self) -> String {
        match &self.typed {
            None => "y sends".into(),
            Some(text) => format!("type {text} ({}) exactly, then Enter", self.what),
        }
    }

    /// Whether `answer` confirms.
    pub fn accepts(&self, answer: &str) -> bool {
        let answer = answer.trim();
        match &self.typed {
            None => matches!(answer, "y" | "Y" | "yes"),
            Some(text) => answer == text,
        }
    }

    /// An answer given at a prompt: accepted, or cancelled with what was typed.
    pub fn check(&self, answer: &str) -> Result<(), ConfirmRefusal> {
        if self.accepts(answer) {
            return Ok(());
        }
        Err(ConfirmRefusal::Cancelled {
            typed: self
                .typed
                .as_ref()
                .map(|_| crate::text::clean(answer.trim())),
            expected: self.typed.clone().unwrap_or_else(|| "y".into()),
        })
    }

    /// Without a terminal: `--yes`, and `--confirm` when the confirmation is typed (and
    /// checked whenever given). `profile`: the protected profile's name, for the message.
    pub fn unattended(
        &self,
        yes: bool,
        confirm: Option<&str>,
        profile: Option<&str>,
    ) -> Result<(), ConfirmRefusal> {
        if !yes {
            return Err(ConfirmRefusal::NoTerminal {
                flags: if self.needs_flag {
                    format!("--yes --confirm {}", self.flag)
                } else {
                    "--yes".into()
                },
            });
        }
        let what = self.what.rsplit(" and ").next().unwrap_or(self.what);
        let what = what.strip_prefix("the ").unwrap_or(what).to_string();
        match confirm.map(str::trim) {
            Some(given) if given != self.flag => Err(ConfirmRefusal::ConfirmFlagWrong {
                given: crate::text::clean(given),
                expected: self.flag.clone(),
                what,
            }),
            None if self.needs_flag => Err(ConfirmRefusal::ConfirmFlagNeeded {
                profile: profile.unwrap_or("?").to_string(),
                expected: self.flag.clone(),
                what,
            }),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_protected_profile_types_the_id_and_many_changes_type_the_count() {
        assert!(!for_change("postgres-a", None).is_typed());
        let c = for_change("postgres-a", Some("prod"));
        assert!(c.accepts("postgres-a") && !c.accepts("y"));
        assert!(!for_many(5, None, None).is_typed());
        assert!(for_many(5, None, None).accepts("y"));
        let c = for_many(6, None, None);
        assert!(c.accepts("6") && !c.accepts("y") && !c.accepts("5"));
        let c = for_many(6, None, Some("prod"));
        assert!(c.accepts("prod 6") && !c.accepts("6"), "{c:?}");
        let c = for_many(1, Some("postgres-a"), Some("prod"));
        assert!(c.accepts("prod postgres-a"), "{c:?}");
    }

    #[test]
    fn without_a_terminal_a_protected_profile_needs_confirm_and_a_bare_yes_is_refused() {
        let c = for_change("postgres-a", Some("prod"));
        assert!(matches!(
            c.unattended(false, None, Some("prod")),
            Err(ConfirmRefusal::NoTerminal { flags }) if flags == "--yes --confirm postgres-a"
        ));
        assert!(matches!(
            c.unattended(true, None, Some("prod")),
            Err(ConfirmRefusal::ConfirmFlagNeeded { .. })
        ));
        assert!(matches!(
            c.unattended(true, Some("postgres-b"), Some("prod")),
            Err(ConfirmRefusal::ConfirmFlagWrong { .. })
        ));
        assert_eq!(c.unattended(true, Some("postgres-a"), Some("prod")), Ok(()));
        let many = for_many(9, None, Some("prod"));
        assert_eq!(many.unattended(true, Some("9"), Some("prod")), Ok(()));
        assert!(many.unattended(true, Some("8"), Some("prod")).is_err());
        // Unprotected: --yes is enough, even above five; a --confirm given is checked.
        assert_eq!(for_many(9, None, None).unattended(true, None, None), Ok(()));
        assert!(matches!(
            for_many(3, None, None).unattended(true, Some("4"), None),
            Err(ConfirmRefusal::ConfirmFlagWrong { expected, .. }) if expected == "3"
        ));
    }
}
