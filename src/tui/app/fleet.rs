//! The fleet as the list shows it: its order (`o`), the SSL counts in the header, the
//! read of every saved instance at start (a read-only group's other members are `ops::group`'s).

use super::{App, Cmd, Row};

/// The order of the list (`o` cycles through them).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SortBy {
    /// Region, then id: as saved.
    #[default]
    Saved,
    /// SSL off first, then unknown, then on.
    Ssl,
    /// Not running first.
    Status,
    Region,
    /// Primary, then read-only.
    Type,
    /// The protected address's kind: none first, then private, public, group.
    Protected,
}

impl SortBy {
    pub fn next(self) -> SortBy {
        match self {
            SortBy::Saved => SortBy::Ssl,
            SortBy::Ssl => SortBy::Status,
            SortBy::Status => SortBy::Region,
            SortBy::Region => SortBy::Type,
            SortBy::Type => SortBy::Protected,
            SortBy::Protected => SortBy::Saved,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            SortBy::Saved => "as saved",
            SortBy::Ssl => "SSL (off first)",
            SortBy::Status => "status (not running first)",
            SortBy::Region => "region",
            SortBy::Type => "type",
            SortBy::Protected => "protected address kind",
        }
    }

    /// The key a row sorts by (rows with equal keys keep their saved order).
    pub(super) fn key(self, r: &Row) -> (u8, String) {
        match self {
            SortBy::Saved => (0, String::new()),
            SortBy::Ssl => (
                match r.ssl() {
                    Some(s) if !s.enabled => 0,
                    None => 1,
                    Some(_) => 2,
                },
                String::new(),
            ),
            SortBy::Status => (
                u8::from(
                    r.status()
                        .is_some_and(crate::domain::InstanceStatus::is_running),
                ),
                r.status()
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default(),
            ),
            SortBy::Region => (0, r.region().to_string()),
            SortBy::Type => (0, r.kind_label().to_string()),
            SortBy::Protected => {
                let kind = r
                    .learned
                    .as_deref()
                    .and_then(crate::domain::Instance::protected_address)
                    .map(|a| a.kind);
                (
                    match kind {
                        None => 0,
                        Some(crate::addresses::AddressKind::Private) => 1,
                        Some(crate::addresses::AddressKind::Public) => 2,
                        Some(crate::addresses::AddressKind::Group) => 3,
                    },
                    String::new(),
                )
            }
        }
    }
}

impl App {
    /// Read the SSL state of every saved instance of the regions shown (at start): the
    /// unknown first, then the longest unread; the client's limiter keeps the pace under
    /// the API's ceiling, and the log's reads line counts them.
    pub fn refresh_all(&mut self) -> Vec<Cmd> {
        self.refresh_where(|app, r| {
            app.regions.is_empty() || app.regions.iter().any(|g| g == r.region())
        })
    }

    /// `r` with instances marked: read every marked one (`*` marks every one shown, so
    /// `*` `r` reads the whole fleet shown), the least recently read first.
    pub fn refresh_marked(&mut self) -> Vec<Cmd> {
        self.notice = Some(format!(
            "reading the {} marked instances (Esc clears the marks)",
            self.marked.len()
        ));
        self.refresh_where(|app, r| app.marked.contains(r.id()))
    }

    fn refresh_where(&mut self, wanted: impl Fn(&Self, &Row) -> bool) -> Vec<Cmd> {
        let mut rows: Vec<&Row> = self.rows.iter().filter(|r| wanted(self, r)).collect();
        let read_at = |r: &Row| {
            r.learned
                .as_ref()
                .and_then(|i| i.ssl.as_ref())
                .map(|s| s.read_at.clone())
        };
        // None (never read) sorts first, then the oldest reads.
        rows.sort_by_key(|r| read_at(r));
        let targets: Vec<(String, String)> = rows
            .iter()
            .map(|r| (r.region().to_string(), r.id().to_string()))
            .collect();
        if targets.is_empty() {
            return vec![];
        }
        self.busy += 1;
        self.folded.refresh = Some((0, targets.len()));
        self.rebuild_log();
        vec![Cmd::Refresh(targets)]
    }

    /// SSL on, off and unknown among the instances shown.
    pub fn ssl_counts(&self) -> (usize, usize, usize) {
        let (mut on, mut off, mut unknown) = (0, 0, 0);
        for &i in &self.visible {
            match self.rows[i].ssl() {
                Some(s) if s.enabled => on += 1,
                Some(_) => off += 1,
                None => unknown += 1,
            }
        }
        (on, off, unknown)
    }
}
