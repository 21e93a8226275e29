//! Drawing: a pure function of the model. One file per pane or dialog.

pub mod bulk;
mod confirm;
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

/// A piece of the header: its spans (with the separator before it), and how soon it
/// gives way when the line is too narrow: 0 never, else the highest first. A piece is
/// shown whole or not at all, so nothing is cut mid-word.
struct Piece {
    drop: u8,
    spans: Vec<Span<'static>>,
}

fn piece(drop: u8, spans: Vec<Span<'static>>) -> Piece {
    Piece { drop, spans }
}

fn width_of(pieces: &[Piece]) -> usize {
    pieces.iter().flat_map(|p| &p.spans).map(Span::width).sum()
}

/// The pieces that fit in `width`, dropping those that give way first; what must stay
/// stays (the terminal cuts it only when even that is too wide).
fn fit(mut pieces: Vec<Piece>, width: usize) -> Vec<Piece> {
    while width_of(&pieces) > width {
        let Some(i) = pieces
            .iter()
            .enumerate()
            .filter(|(_, p)| p.drop > 0)
            .max_by_key(|(i, p)| (p.drop, *i))
            .map(|(i, _)| i)
        else {
            break;
        };
        pieces.remove(i);
    }
    pieces
}

/// What runs in the background, in words: reads (and checks) under way, changes in
/// flight. Nothing here is a change waiting to be sent.
pub fn work_line(app: &App) -> Option<String> {
    let plural =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let mut parts = Vec::new();
    if app.busy > 0 {
        parts.push(plural(app.busy, "read running", "reads running"));
    }
    if !app.inflight.is_empty() {
        parts.push(plural(
            app.inflight.len(),
            "change in flight",
            "changes in flight",
        ));
    }
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// Draws the header; true when the notice did not fit and goes to the footer instead.
/// Laid out by priority: the label, read-only, a bulk run, the protected mark and the
/// account always show; the rest gives way, whole, when the terminal is narrow.
fn header(frame: &mut Frame, app: &App, theme: Theme, area: Rect) -> bool {
    let width = usize::from(area.width);
    let mut pieces = vec![piece(0, vec![Span::styled(" pgssl ", theme.title())])];
    if !app.label.is_empty() {
        pieces.push(piece(
            0,
            vec![Span::styled(format!("[{}] ", app.label), theme.warn())],
        ));
    }
    if app.readonly {
        pieces.push(piece(0, vec![Span::styled("[read-only] ", theme.warn())]));
    }
    let regions = if app.regions.is_empty() {
        "all regions".to_string()
    } else if app.regions.len() <= 2 {
        app.regions.join(", ")
    } else {
        format!("{} regions", app.regions.len())
    };
    pieces.push(piece(
        2,
        vec![Span::raw(format!(
            "{regions} · {}/{} instances · ",
            app.visible.len(),
            app.rows.len()
        ))],
    ));
    let (on, off, unknown) = app.ssl_counts();
    let mut ssl = vec![
        Span::raw("SSL "),
        Span::styled(format!("on {on}"), theme.ok()),
        Span::raw(format!(" off {off}")),
    ];
    if unknown > 0 {
        ssl.push(Span::styled(format!(" ? {unknown}"), theme.dim()));
    }
    pieces.push(piece(1, ssl));
    if !app.filter.is_empty() {
        pieces.push(piece(
            2,
            vec![Span::raw(format!(
                " · filter \"{}\"",
                crate::text::clean(&app.filter)
            ))],
        ));
    }
    if app.sort != crate::tui::app::SortBy::Saved {
        pieces.push(piece(
            4,
            vec![Span::raw(format!(" · by {}", app.sort.name()))],
        ));
    }
    if !app.marked.is_empty() {
        pieces.push(piece(
            1,
            vec![Span::styled(
                format!(" · {} marked", app.marked.len()),
                theme.title(),
            )],
        ));
    }
    if let Some(run) = app.bulk.as_ref().filter(|r| r.is_running()) {
        let (sent, total) = run.sent_of();
        pieces.push(piece(
            0,
            vec![Span::styled(
                format!(" · run {sent}/{total} (b)"),
                theme.warn(),
            )],
        ));
    }
    if let Some(work) = work_line(app) {
        pieces.push(piece(
            3,
            vec![Span::styled(format!(" · {work}"), theme.warn())],
        ));
    }
    // Notices carry paths, API messages and errors: cleaned at the last moment too.
    let notice = app.notice.as_deref().map(crate::text::clean);
    if notice.is_some() {
        // Room for the arrow at least: the message goes below when it does not fit.
        pieces.push(piece(0, vec![Span::styled(" · ↓", theme.warn())]));
    }
    let mut pieces = fit(pieces, width);
    let mut below = false;
    if let Some(n) = notice {
        pieces.pop();
        let used = width_of(&pieces) + 3;
        if n.chars().count() <= width.saturating_sub(used) {
            pieces.push(piece(
                0,
                vec![Span::raw(" · "), Span::styled(n, theme.warn())],
            ));
        } else {
            // Too long for what is left of this line: it takes the footer's whole line.
            pieces.push(piece(0, vec![Span::styled(" · ↓", theme.warn())]));
            below = true;
        }
    }
    let first: Vec<Span> = pieces.into_iter().flat_map(|p| p.spans).collect();
    frame.render_widget(
        Paragraph::new(vec![Line::from(first), who_line(app, theme, width)]),
        area,
    );
    below
}

/// The header's second line: who pgssl acts as. A protected profile is marked in words
/// (`[PROTECTED]`, which survives NO_COLOR) and in colour.
fn who_line(app: &App, theme: Theme, width: usize) -> Line<'static> {
    // The protected mark and the account always show; a failed renewal, then the key's
    // source, masked id and expiry give way when the terminal is narrow.
    let who = &app.who;
    let mut pieces = vec![piece(0, vec![Span::raw(" ")])];
    if who.protected {
        pieces.push(piece(
            0,
            vec![
                Span::styled(
                    format!(
                        "[PROTECTED] {}",
                        crate::text::clean(who.profile.as_deref().unwrap_or(""))
                    ),
                    theme.protected(),
                ),
                Span::raw(" · "),
            ],
        ));
    }
    if who.credential.is_empty() {
        pieces.push(piece(0, vec![Span::styled("no credentials", theme.dim())]));
        return Line::from(pieces.into_iter().flat_map(|p| p.spans).collect::<Vec<_>>());
    }
    pieces.push(piece(
        0,
        vec![match &who.account {
            Some(a) => Span::raw(crate::text::clean(a)),
            None => Span::styled("account: asking STS…", theme.dim()),
        }],
    ));
    if let Some(p) = &who.problem {
        pieces.push(piece(
            1,
            vec![
                Span::raw(" · "),
                Span::styled(
                    format!("key not renewed: {}", crate::text::clean(p)),
                    theme.error(),
                ),
            ],
        ));
    }
    // Source, masked id, expiry: the later parts give way first.
    for (i, part) in who.credential.split(" · ").enumerate() {
        pieces.push(piece(
            u8::try_from(i).unwrap_or(u8::MAX).saturating_add(2),
            vec![
                Span::raw(" · "),
                Span::styled(crate::text::clean(part), theme.dim()),
            ],
        ));
    }
    Line::from(
        fit(pieces, width)
            .into_iter()
            .flat_map(|p| p.spans)
            .collect::<Vec<_>>(),
    )
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
    let mut spans = Vec::new();
    if matches!(app.overlay, Overlay::Filter) {
        spans.push(Span::styled("/", theme.key()));
        spans.push(Span::raw(format!("{}█  ", app.filter)));
    }
    for b in app.hints() {
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
