//! Drawing: a pure function of the model. One file per pane or dialog.

pub mod bulk;
mod details;
mod dialogs;
mod list;
mod log;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::app::{App, MIN_HEIGHT, MIN_WIDTH, Overlay};
use super::keys;

/// Where each pane goes. Pure, so the update can know the list's height.
pub struct Areas {
    pub header: Rect,
    pub list: Rect,
    pub details: Rect,
    pub log: Rect,
    pub footer: Rect,
}

pub fn layout(area: Rect) -> Areas {
    let body = area.height.saturating_sub(3);
    let details = 6.min(body / 3);
    let log = (body / 3).max(5).min(body.saturating_sub(details + 4));
    let [header, list, details, log, footer] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Fill(1),
        Constraint::Length(details),
        Constraint::Length(log),
        Constraint::Length(1),
    ])
    .areas(area);
    Areas {
        header,
        list,
        details,
        log,
        footer,
    }
}

/// Colours from the 16-colour palette; with NO_COLOR, modifiers only. The selection is
/// always reverse video plus a marker, so it shows without colour.
#[derive(Clone, Copy)]
pub struct Theme {
    pub no_color: bool,
}

impl Theme {
    fn fg(self, c: Color) -> Style {
        if self.no_color {
            Style::default()
        } else {
            Style::default().fg(c)
        }
    }
    pub fn selected(self) -> Style {
        Style::default().add_modifier(Modifier::REVERSED | Modifier::BOLD)
    }
    pub fn title(self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }
    pub fn dim(self) -> Style {
        if self.no_color {
            Style::default().add_modifier(Modifier::DIM)
        } else {
            Style::default().fg(Color::DarkGray)
        }
    }
    pub fn error(self) -> Style {
        self.fg(Color::Red).add_modifier(Modifier::BOLD)
    }
    pub fn ok(self) -> Style {
        self.fg(Color::Green)
    }
    pub fn warn(self) -> Style {
        self.fg(Color::Yellow)
    }
    pub fn key(self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }
    /// A protected profile: white on magenta, bold; reversed without colour.
    pub fn protected(self) -> Style {
        if self.no_color {
            Style::default().add_modifier(Modifier::REVERSED | Modifier::BOLD)
        } else {
            Style::default()
                .fg(Color::White)
                .bg(Color::Magenta)
                .add_modifier(Modifier::BOLD)
        }
    }
}

pub fn draw(frame: &mut Frame, app: &App) {
    let area = frame.area();
    let theme = Theme {
        no_color: app.no_color,
    };
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        let text = vec![
            Line::from("Terminal too small"),
            Line::from(format!("now {}x{}", area.width, area.height)),
            Line::from(format!("pgssl needs at least {MIN_WIDTH}x{MIN_HEIGHT}")),
        ];
        let y = area.height.saturating_sub(3) / 2;
        let rect = Rect::new(area.x, area.y + y, area.width, area.height.min(3));
        frame.render_widget(
            Paragraph::new(text).alignment(ratatui::layout::Alignment::Center),
            rect,
        );
        return;
    }
    let areas = layout(area);
    let notice_below = header(frame, app, theme, areas.header);
    list::draw(frame, app, theme, areas.list);
    details::draw(frame, app, theme, areas.details);
    log::draw(frame, app, theme, areas.log);
    footer(frame, app, theme, areas.footer);
    if notice_below
        && let Some(line) = footer_notice(app, theme, areas.footer.width)
        && areas.log.height > 2
    {
        // A message too long for the header takes the line above the keys, whole.
        let row = Rect::new(
            areas.log.x,
            areas.log.y + areas.log.height - 1,
            areas.log.width,
            1,
        );
        frame.render_widget(ratatui::widgets::Clear, row);
        frame.render_widget(Paragraph::new(line), row);
    }
    dialogs::draw(frame, app, theme, area);
}

/// Draws the header; true when the notice did not fit and goes to the footer instead.
fn header(frame: &mut Frame, app: &App, theme: Theme, area: Rect) -> bool {
    let mut below = false;
    let mut spans = vec![Span::styled(" pgssl ", theme.title())];
    if !app.label.is_empty() {
        spans.push(Span::styled(format!("[{}] ", app.label), theme.warn()));
    }
    if app.readonly {
        spans.push(Span::styled("[read-only] ", theme.warn()));
    }
    let regions = if app.regions.is_empty() {
        "all regions".to_string()
    } else if app.regions.len() <= 2 {
        app.regions.join(", ")
    } else {
        format!("{} regions", app.regions.len())
    };
    spans.push(Span::raw(format!(
        "{regions} · {}/{} instances",
        app.visible.len(),
        app.rows.len()
    )));
    let (on, off, unknown) = app.ssl_counts();
    spans.push(Span::raw(" · SSL "));
    spans.push(Span::styled(format!("on {on}"), theme.ok()));
    spans.push(Span::raw(format!(" off {off}")));
    if unknown > 0 {
        spans.push(Span::styled(format!(" ? {unknown}"), theme.dim()));
    }
    if !app.filter.is_empty() {
        spans.push(Span::raw(format!(" · filter \"{}\"", app.filter)));
    }
    if app.sort != crate::tui::app::SortBy::Saved {
        spans.push(Span::raw(format!(" · by {}", app.sort.name())));
    }
    if !app.marked.is_empty() {
        spans.push(Span::styled(
            format!(" · {} marked", app.marked.len()),
            theme.title(),
        ));
    }
    if let Some(run) = app.bulk.as_ref().filter(|r| r.is_running()) {
        let (sent, total) = run.sent_of();
        spans.push(Span::styled(
            format!(" · run {sent}/{total} (b)"),
            theme.warn(),
        ));
    }
    if app.busy > 0 || !app.inflight.is_empty() {
        spans.push(Span::styled(
            format!(" · {} pending", app.busy + app.inflight.len()),
            theme.warn(),
        ));
    }
    if let Some(n) = &app.notice {
        spans.push(Span::raw(" · "));
        // Notices carry paths, API messages and errors: cleaned at the last moment too.
        let n = crate::text::clean(n);
        if notice_fits(app, &spans, area.width) {
            spans.push(Span::styled(n, theme.warn()));
        } else {
            // Too long for what is left of this line: it takes the footer's whole line.
            spans.push(Span::styled("↓", theme.warn()));
            below = true;
        }
    }
    frame.render_widget(
        Paragraph::new(vec![Line::from(spans), who_line(app, theme)]),
        area,
    );
    below
}

/// The header's second line: who pgssl acts as. A protected profile is marked in words
/// (`[PROTECTED]`, which survives NO_COLOR) and in colour.
fn who_line(app: &App, theme: Theme) -> Line<'static> {
    // Most important first, since a narrow terminal cuts the end: the protected mark,
    // the account, a failed renewal, then the key's source, masked id and expiry.
    let who = &app.who;
    let mut spans = vec![Span::raw(" ")];
    if who.protected {
        spans.push(Span::styled(
            format!(
                "[PROTECTED] {}",
                crate::text::clean(who.profile.as_deref().unwrap_or(""))
            ),
            theme.protected(),
        ));
        spans.push(Span::raw(" · "));
    }
    if who.credential.is_empty() {
        spans.push(Span::styled("no credentials", theme.dim()));
        return Line::from(spans);
    }
    match &who.account {
        Some(a) => spans.push(Span::raw(crate::text::clean(a))),
        None => spans.push(Span::styled("account: asking STS…", theme.dim())),
    }
    if let Some(p) = &who.problem {
        spans.push(Span::raw(" · "));
        spans.push(Span::styled(
            format!("key not renewed: {}", crate::text::clean(p)),
            theme.error(),
        ));
    }
    spans.push(Span::raw(" · "));
    spans.push(Span::styled(
        crate::text::clean(&who.credential),
        theme.dim(),
    ));
    Line::from(spans)
}

/// Whether the notice fits on the header's first line after `spans`.
fn notice_fits(app: &App, spans: &[Span], width: u16) -> bool {
    let used: usize = spans.iter().map(Span::width).sum();
    app.notice.as_deref().is_none_or(|n| {
        crate::text::clean(n).chars().count() <= usize::from(width).saturating_sub(used)
    })
}

/// The notice in the whole width (it did not fit in the header), cut with a hint when
/// even that is too short: `!` shows it whole.
fn footer_notice(app: &App, theme: Theme, width: u16) -> Option<Line<'static>> {
    const MORE: &str = "… (! all)";
    let n = crate::text::clean(app.notice.as_deref()?);
    let room = usize::from(width);
    if n.chars().count() <= room {
        return Some(Line::from(Span::styled(n, theme.warn())));
    }
    let keep = room.saturating_sub(MORE.chars().count());
    let cut: String = n.chars().take(keep).collect();
    Some(Line::from(vec![
        Span::styled(cut, theme.warn()),
        Span::styled(MORE, theme.key()),
    ]))
}

fn footer(frame: &mut Frame, app: &App, theme: Theme, area: Rect) {
    let mode = app.mode();
    let mut spans = Vec::new();
    if matches!(app.overlay, Overlay::Filter) {
        spans.push(Span::styled("/", theme.key()));
        spans.push(Span::raw(format!("{}█  ", app.filter)));
    }
    for b in keys::hints(mode) {
        if app.readonly && matches!(b.action, keys::Action::OpenForm) {
            continue;
        }
        // Enter does what the focused pane needs: the SSL form, or the log line in full.
        let desc = match b.action {
            keys::Action::OpenForm if app.focus == crate::tui::app::Pane::Log => "the whole line",
            keys::Action::OpenForm => "SSL form",
            keys::Action::StartFilter => "filter",
            _ => b.desc,
        };
        spans.push(Span::styled(b.label, theme.key()));
        spans.push(Span::raw(format!(" {desc}  ")));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// A rectangle of at most `w` x `h`, centred in `area`.
pub fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}
