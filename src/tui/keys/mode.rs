//! The modes of the key table: where a binding applies, and how `?` titles it.

/// Where a binding applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    /// The instance list and log.
    Browse,
    /// Typing a filter.
    Filter,
    /// The SSL form.
    Form,
    /// Reviewing a change before it is sent.
    Confirm,
    /// Choosing regions.
    Regions,
    /// Adding an instance by id.
    Add,
    /// Confirming a removal.
    Remove,
    /// The help overlay.
    Help,
    /// Choosing the credential (`P`).
    Profiles,
    /// Confirming a change with a protected profile: the instance id is typed.
    TypeConfirm,
    /// One log line in full (Enter in the log).
    LogDetail,
    /// Changes in flight and unresolved outcomes (`t`).
    Tasks,
    /// One change for the marked instances.
    BulkForm,
    /// Confirming many changes: the count is typed.
    TypeCount,
    /// A bulk run's changes, live (`b`).
    Run,
    /// The audit's findings (`A`).
    Audit,
    /// A report or a message in full (`V`, `!`): a line at a time can be copied.
    Text,
}

impl Mode {
    pub fn title(self) -> &'static str {
        match self {
            Mode::Browse => "Browse",
            Mode::Filter => "Filter",
            Mode::Form => "SSL form",
            Mode::Confirm => "Confirm change",
            Mode::Regions => "Regions",
            Mode::Add => "Add instance",
            Mode::Remove => "Remove instance",
            Mode::Help => "Help",
            Mode::Profiles => "Credentials",
            Mode::TypeConfirm => "Confirm change (protected profile)",
            Mode::LogDetail => "Log line",
            Mode::Tasks => "Tasks",
            Mode::BulkForm => "Change the marked instances",
            Mode::TypeCount => "Confirm changes (type the count)",
            Mode::Run => "Bulk run",
            Mode::Audit => "Audit (A)",
            Mode::Text => "Report (V) and message (!)",
        }
    }
}

/// How many modes there are: a binding listed for all of them works anywhere.
pub const MODE_COUNT: usize = 17;

pub const MODES: &[Mode; MODE_COUNT] = &[
    Mode::Browse,
    Mode::Filter,
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
];
