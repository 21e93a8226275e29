//! The one key table: the handler looks keys up here, the footer shows the bindings of
//! the current mode, and `?` shows them all. A key does what this table says, nowhere else.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

mod mode;
pub use mode::{MODE_COUNT, MODES, Mode};

/// What a key asks for. Text input is handled where text is typed, not here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Quit,
    ForceQuit,
    Up,
    Down,
    Top,
    Bottom,
    PageUp,
    PageDown,
    NextPane,
    PrevPane,
    StartFilter,
    OpenForm,
    Refresh,
    Import,
    Add,
    Remove,
    Regions,
    Copy,
    Verify,
    /// Who is connected to the instance (the census), taken again.
    Census,
    FetchCa,
    Help,
    Profiles,
    Back,
    Toggle,
    NextField,
    PrevField,
    Submit,
    Send,
    Cancel,
    ToggleReads,
    Tasks,
    Report,
    Notice,
    Sort,
    Audit,
    /// Mark or unmark the selected instance for a change of many.
    Mark,
    /// Mark every instance shown (or, when all are, unmark them).
    MarkAll,
    /// The bulk run's outcome table.
    Run,
    /// Send nothing more in the bulk run (what was sent is still followed).
    StopRun,
    /// Undo the change on the selected log line (`ops::undo`).
    Undo,
    /// Undo every change of the selected log line's bulk run.
    UndoRun,
    /// Copy everything shown (`Copy` copies the highlighted line).
    CopyAll,
}

pub struct Binding {
    pub keys: &'static [(KeyCode, KeyModifiers)],
    /// How the keys are written for people.
    pub label: &'static str,
    pub action: Action,
    pub desc: &'static str,
    pub modes: &'static [Mode],
    /// Shown in the footer (the rest only in `?`).
    pub hint: bool,
}

const NONE: KeyModifiers = KeyModifiers::NONE;
const SHIFT: KeyModifiers = KeyModifiers::SHIFT;
const CTRL: KeyModifiers = KeyModifiers::CONTROL;

use KeyCode::{BackTab, Char, Down, End, Enter, Esc, Home, PageDown, PageUp, Tab, Up};

pub static BINDINGS: &[Binding] = &[
    // Browse
    Binding {
        keys: &[(Char('k'), NONE), (Up, NONE)],
        label: "k/↑",
        action: Action::Up,
        desc: "move up",
        modes: &[
            Mode::Browse,
            Mode::Regions,
            Mode::Form,
            Mode::Profiles,
            Mode::LogDetail,
            Mode::Tasks,
            Mode::Help,
            Mode::BulkForm,
            Mode::Run,
            Mode::Audit,
            Mode::Text,
        ],
        hint: false,
    },
    Binding {
        keys: &[(Char('j'), NONE), (Down, NONE)],
        label: "j/↓",
        action: Action::Down,
        desc: "move down",
        modes: &[
            Mode::Browse,
            Mode::Regions,
            Mode::Form,
            Mode::Profiles,
            Mode::LogDetail,
            Mode::Tasks,
            Mode::Help,
            Mode::BulkForm,
            Mode::Run,
            Mode::Audit,
            Mode::Text,
        ],
        hint: false,
    },
    Binding {
        keys: &[(Char('g'), NONE), (Home, NONE)],
        label: "g",
        action: Action::Top,
        desc: "jump to the first",
        modes: &[
            Mode::Browse,
            Mode::Regions,
            Mode::LogDetail,
            Mode::Help,
            Mode::Text,
        ],
        hint: false,
    },
    Binding {
        keys: &[(Char('G'), SHIFT), (Char('G'), NONE), (End, NONE)],
        label: "G",
        action: Action::Bottom,
        desc: "jump to the last",
        modes: &[Mode::Browse, Mode::Regions, Mode::LogDetail, Mode::Text],
        hint: false,
    },
    Binding {
        keys: &[(PageUp, NONE)],
        label: "PgUp",
        action: Action::PageUp,
        desc: "page up",
        modes: &[Mode::Browse, Mode::LogDetail, Mode::Help, Mode::Text],
        hint: false,
    },
    Binding {
        keys: &[(PageDown, NONE)],
        label: "PgDn",
        action: Action::PageDown,
        desc: "page down",
        modes: &[Mode::Browse, Mode::LogDetail, Mode::Help, Mode::Text],
        hint: false,
    },
    Binding {
        keys: &[(Tab, NONE)],
        label: "Tab",
        action: Action::NextPane,
        desc: "next pane (instances / log)",
        modes: &[Mode::Browse],
        hint: false,
    },
    Binding {
        keys: &[(BackTab, SHIFT), (BackTab, NONE)],
        label: "S-Tab",
        action: Action::PrevPane,
        desc: "previous pane",
        modes: &[Mode::Browse],
        hint: false,
    },
    Binding {
        keys: &[(Enter, NONE)],
        label: "Enter",
        action: Action::OpenForm,
        desc: "SSL form (in the log: the whole line)",
        modes: &[Mode::Browse],
        hint: true,
    },
    Binding {
        keys: &[(Char('/'), NONE)],
        label: "/",
        action: Action::StartFilter,
        desc: "filter: words, or ssl:off status:running region:sing type:ro protected:public",
        modes: &[Mode::Browse],
        hint: true,
    },
    Binding {
        keys: &[(Char('r'), NONE)],
        label: "r",
        action: Action::Refresh,
        desc: "refresh",
        modes: &[Mode::Browse],
        hint: true,
    },
    Binding {
        keys: &[(Char('i'), NONE)],
        label: "i",
        action: Action::Import,
        desc: "import",
        modes: &[Mode::Browse],
        hint: false,
    },
    Binding {
        keys: &[(Char('a'), NONE)],
        label: "a",
        action: Action::Add,
        desc: "add",
        modes: &[Mode::Browse],
        hint: false,
    },
    Binding {
        keys: &[(Char('d'), NONE)],
        label: "d",
        action: Action::Remove,
        desc: "remove saved",
        modes: &[Mode::Browse],
        hint: false,
    },
    Binding {
        keys: &[(Char('R'), SHIFT), (Char('R'), NONE)],
        label: "R",
        action: Action::Regions,
        desc: "regions",
        modes: &[Mode::Browse],
        hint: true,
    },
    Binding {
        keys: &[(Char('P'), SHIFT), (Char('P'), NONE)],
        label: "P",
        action: Action::Profiles,
        desc: "credentials: switch tccli profile, environment or CVM role",
        modes: &[Mode::Browse],
        hint: false,
    },
    Binding {
        keys: &[(Char('c'), NONE)],
        label: "c",
        action: Action::Copy,
        desc: "copy id / TaskId (OSC 52)",
        modes: &[Mode::Browse],
        hint: false,
    },
    Binding {
        keys: &[(Char('c'), NONE)],
        label: "c",
        action: Action::Copy,
        desc: "copy the whole line (OSC 52)",
        modes: &[Mode::LogDetail],
        hint: true,
    },
    Binding {
        keys: &[(Char('c'), NONE)],
        label: "c",
        action: Action::Copy,
        desc: "copy the highlighted line whole (OSC 52)",
        modes: &[Mode::Text],
        hint: true,
    },
    Binding {
        keys: &[(Char('C'), SHIFT), (Char('C'), NONE)],
        label: "C",
        action: Action::CopyAll,
        desc: "copy every line",
        modes: &[Mode::Text],
        hint: true,
    },
    Binding {
        keys: &[(Char('c'), NONE)],
        label: "c",
        action: Action::Copy,
        desc: "copy the tccli command (OSC 52; never sends)",
        modes: &[Mode::Confirm],
        // Said where the command is shown (the footer keeps the keys that decide).
        hint: false,
    },
    // Ctrl: letters are typed here (an instance id, a profile's name).
    Binding {
        keys: &[(Char('t'), CTRL)],
        label: "Ctrl-T",
        action: Action::Copy,
        desc: "copy the tccli command (OSC 52; never sends)",
        modes: &[Mode::TypeConfirm, Mode::TypeCount],
        hint: false,
    },
    Binding {
        keys: &[(Char('u'), NONE)],
        label: "u",
        action: Action::Undo,
        desc: "undo the log line's change",
        modes: &[Mode::Browse, Mode::LogDetail],
        hint: false,
    },
    Binding {
        keys: &[(Char('U'), SHIFT), (Char('U'), NONE)],
        label: "U",
        action: Action::UndoRun,
        desc: "undo its bulk run",
        modes: &[Mode::Browse, Mode::LogDetail],
        hint: false,
    },
    Binding {
        keys: &[(Char('!'), NONE), (Char('!'), SHIFT)],
        label: "!",
        action: Action::Notice,
        desc: "the header's last message in full, with its time",
        modes: &[Mode::Browse],
        hint: false,
    },
    Binding {
        keys: &[(Char('o'), NONE)],
        label: "o",
        action: Action::Sort,
        desc: "order the list: as saved, SSL off first, not running first, region, type, protected kind",
        modes: &[Mode::Browse],
        hint: false,
    },
    Binding {
        keys: &[(Char('A'), SHIFT), (Char('A'), NONE)],
        label: "A",
        action: Action::Audit,
        desc: "audit the regions: findings, most severe first (as the audit command)",
        modes: &[Mode::Browse],
        hint: false,
    },
    Binding {
        keys: &[(Char('t'), NONE)],
        label: "t",
        action: Action::Tasks,
        desc: "tasks: changes in flight and unresolved outcomes",
        modes: &[Mode::Browse],
        hint: false,
    },
    Binding {
        keys: &[(Char('L'), SHIFT), (Char('L'), NONE)],
        label: "L",
        action: Action::ToggleReads,
        desc: "log: show every read / fold reads into one line",
        modes: &[Mode::Browse],
        hint: false,
    },
    Binding {
        keys: &[(Char('v'), NONE)],
        label: "v",
        action: Action::Verify,
        desc: "check TLS",
        modes: &[Mode::Browse],
        hint: true,
    },
    Binding {
        keys: &[(Char('w'), NONE)],
        label: "w",
        action: Action::Census,
        desc: "who is connected: clients over TLS and plaintext (a monitoring login: PGUSER, ~/.pgpass or [monitor] in config.toml)",
        modes: &[Mode::Browse],
        hint: false,
    },
    Binding {
        keys: &[(Char('V'), SHIFT), (Char('V'), NONE)],
        label: "V",
        action: Action::Report,
        desc: "the last TLS report, CA and census in full, each with its time",
        modes: &[Mode::Browse],
        hint: false,
    },
    Binding {
        keys: &[(Char('C'), SHIFT), (Char('C'), NONE)],
        label: "C",
        action: Action::FetchCa,
        desc: "CA certificate",
        modes: &[Mode::Browse],
        hint: false,
    },
    Binding {
        keys: &[(Char('?'), NONE), (Char('?'), SHIFT)],
        label: "?",
        action: Action::Help,
        desc: "all keys",
        modes: &[Mode::Browse],
        hint: true,
    },
    Binding {
        keys: &[(Esc, NONE)],
        label: "Esc",
        action: Action::Back,
        desc: "clear a kept filter",
        modes: &[Mode::Browse],
        hint: false,
    },
    Binding {
        keys: &[(Char('q'), NONE)],
        label: "q",
        action: Action::Quit,
        desc: "quit",
        modes: &[Mode::Browse],
        hint: true,
    },
    Binding {
        keys: &[(Char(' '), NONE)],
        label: "Space",
        action: Action::Mark,
        desc: "mark / unmark (Enter then changes every marked instance)",
        modes: &[Mode::Browse],
        hint: false,
    },
    Binding {
        keys: &[(Char('*'), NONE), (Char('*'), SHIFT)],
        label: "*",
        action: Action::MarkAll,
        desc: "mark every instance shown (again: unmark)",
        modes: &[Mode::Browse],
        hint: false,
    },
    Binding {
        keys: &[(Char('b'), NONE)],
        label: "b",
        action: Action::Run,
        desc: "the bulk run's changes, live",
        modes: &[Mode::Browse],
        hint: false,
    },
    // Bulk form, count, run
    Binding {
        keys: &[(Char(' '), NONE)],
        label: "Space",
        action: Action::Toggle,
        desc: "change this field",
        modes: &[Mode::BulkForm],
        hint: true,
    },
    Binding {
        keys: &[(Enter, NONE)],
        label: "Enter",
        action: Action::Submit,
        desc: "read them fresh and plan",
        modes: &[Mode::BulkForm],
        hint: true,
    },
    Binding {
        keys: &[(Enter, NONE)],
        label: "Enter",
        action: Action::Send,
        desc: "send, once the count is typed",
        modes: &[Mode::TypeCount],
        hint: true,
    },
    Binding {
        keys: &[(Char('x'), NONE)],
        label: "x",
        action: Action::StopRun,
        desc: "send nothing more (what was sent is followed)",
        modes: &[Mode::Run],
        hint: true,
    },
    // Filter
    Binding {
        keys: &[(Enter, NONE)],
        label: "Enter",
        action: Action::Submit,
        desc: "keep the filter",
        modes: &[Mode::Filter],
        hint: true,
    },
    Binding {
        keys: &[(Esc, NONE)],
        label: "Esc",
        action: Action::Back,
        desc: "clear the filter",
        modes: &[Mode::Filter],
        hint: true,
    },
    // Form
    Binding {
        keys: &[(Char(' '), NONE)],
        label: "Space",
        action: Action::Toggle,
        desc: "switch SSL on / off",
        modes: &[Mode::Form],
        hint: true,
    },
    Binding {
        keys: &[(Char(' '), NONE)],
        label: "Space",
        action: Action::Toggle,
        desc: "choose / drop the region",
        modes: &[Mode::Regions],
        hint: true,
    },
    Binding {
        keys: &[(Tab, NONE)],
        label: "Tab",
        action: Action::NextField,
        desc: "next field",
        modes: &[Mode::Form, Mode::Add, Mode::BulkForm],
        hint: true,
    },
    Binding {
        keys: &[(BackTab, SHIFT), (BackTab, NONE)],
        label: "S-Tab",
        action: Action::PrevField,
        desc: "previous field",
        modes: &[Mode::Form, Mode::Add, Mode::BulkForm],
        hint: false,
    },
    Binding {
        keys: &[(Enter, NONE)],
        label: "Enter",
        action: Action::Submit,
        desc: "review the change",
        modes: &[Mode::Form],
        hint: true,
    },
    // Confirm
    // Only a lowercase `y` sends (docs/tui.md's word): a shifted key is not a yes.
    Binding {
        keys: &[(Char('y'), NONE)],
        label: "y",
        action: Action::Send,
        desc: "send the change",
        modes: &[Mode::Confirm],
        hint: true,
    },
    Binding {
        keys: &[(Char('y'), NONE)],
        label: "y",
        action: Action::Send,
        desc: "remove it from pgssl's list (nothing is sent to the API)",
        modes: &[Mode::Remove],
        hint: true,
    },
    Binding {
        keys: &[(Char('n'), NONE), (Char('N'), SHIFT)],
        label: "n",
        action: Action::Cancel,
        desc: "go back, nothing sent",
        modes: &[Mode::Confirm, Mode::Remove],
        hint: true,
    },
    Binding {
        keys: &[(Enter, NONE)],
        label: "Enter",
        action: Action::Send,
        desc: "send, once the instance id is typed",
        modes: &[Mode::TypeConfirm],
        hint: true,
    },
    Binding {
        keys: &[(Enter, NONE)],
        label: "Enter",
        action: Action::Submit,
        desc: "use this credential",
        modes: &[Mode::Profiles],
        hint: true,
    },
    Binding {
        keys: &[(Enter, NONE)],
        label: "Enter",
        action: Action::Submit,
        desc: "the change in full",
        modes: &[Mode::Tasks],
        hint: true,
    },
    Binding {
        keys: &[(Enter, NONE)],
        label: "Enter",
        action: Action::Submit,
        desc: "go to the finding's instance",
        modes: &[Mode::Audit],
        hint: true,
    },
    // Regions / Add
    Binding {
        keys: &[(Enter, NONE)],
        label: "Enter",
        action: Action::Submit,
        desc: "save",
        modes: &[Mode::Regions, Mode::Add],
        hint: true,
    },
    // Everywhere
    Binding {
        keys: &[(Esc, NONE)],
        label: "Esc",
        action: Action::Back,
        desc: "back (never confirms)",
        modes: &[
            Mode::Form,
            Mode::Confirm,
            Mode::Regions,
            Mode::Add,
            Mode::Remove,
            Mode::Help,
            Mode::Profiles,
            Mode::TypeConfirm,
            Mode::LogDetail,
            Mode::Tasks,
            Mode::BulkForm,
            Mode::TypeCount,
            Mode::Run,
            Mode::Audit,
            Mode::Text,
        ],
        hint: true,
    },
    Binding {
        keys: &[(Char('q'), NONE), (Char('?'), NONE)],
        label: "q/?",
        action: Action::Back,
        desc: "close",
        modes: &[
            Mode::Help,
            Mode::LogDetail,
            Mode::Tasks,
            Mode::Run,
            Mode::Audit,
            Mode::Text,
        ],
        hint: false,
    },
    Binding {
        keys: &[(Char('c'), CTRL)],
        label: "Ctrl-C",
        action: Action::ForceQuit,
        desc: "quit from anywhere",
        modes: MODES,
        hint: false,
    },
];

/// The action `key` means in `mode`, if any.
pub fn lookup(mode: Mode, key: &KeyEvent) -> Option<Action> {
    // Terminals disagree on whether Shift is reported with upper-case letters; ignore it there.
    let pressed = key.modifiers - KeyModifiers::SHIFT;
    BINDINGS
        .iter()
        .filter(|b| b.modes.contains(&mode))
        .find(|b| {
            b.keys
                .iter()
                .any(|(code, m)| *code == key.code && (*m - KeyModifiers::SHIFT) == pressed)
        })
        .map(|b| b.action)
}

/// The bindings the footer shows in `mode`.
pub fn hints(mode: Mode) -> impl Iterator<Item = &'static Binding> {
    BINDINGS
        .iter()
        .filter(move |b| b.hint && b.modes.contains(&mode))
}

pub mod markdown;

#[cfg(test)]
mod tests;
