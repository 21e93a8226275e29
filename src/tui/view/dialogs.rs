//! Dialogs over the main screen: the SSL form, the confirm, regions, add, remove, help.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use super::confirm::confirm_width;
use super::{Theme, centered};
use crate::tui::app::form::{Field, SslForm};
use crate::tui::app::{App, Overlay};
use crate::tui::keys::{self, BINDINGS, Mode};

pub fn draw(frame: &mut Frame, app: &App, theme: Theme, area: Rect) {
    match &app.overlay {
        Overlay::None | Overlay::Filter => {}
        Overlay::Form(form) => form_dialog(frame, app, theme, area, form),
        Overlay::Confirm(c) => super::confirm::confirm_dialog(frame, app, theme, area, c),
        Overlay::Profiles(p) => profiles_dialog(frame, app, theme, area, p),
        Overlay::LogDetail(item, scroll) => {
            log_detail_dialog(frame, theme, area, item, *scroll, false);
        }
        Overlay::Text(item, line) => log_detail_dialog(frame, theme, area, item, *line, true),
        Overlay::Tasks(cursor) => tasks_dialog(frame, app, theme, area, *cursor),
        Overlay::Findings(audit, cursor) => {
            findings_dialog(frame, theme, area, audit.as_deref(), *cursor);
        }
        Overlay::BulkForm(form) => super::bulk::form(frame, app, theme, area, form),
        Overlay::BulkConfirm(c) => super::bulk::confirm(frame, app, theme, area, c),
        Overlay::Run(cursor) => super::bulk::run(frame, app, theme, area, *cursor),
        Overlay::Resume(o) => super::bulk::resume(frame, app, theme, area, o),
        Overlay::Regions(picker) => {
            let mut lines = vec![Line::from(Span::styled(
                "Regions shown and imported (none chosen shows all):",
                theme.dim(),
            ))];
            // A window around the cursor: DescribeRegions may list more than fit.
            let room = 18;
            let start = picker
                .cursor
                .saturating_sub(room / 2)
                .min(app.region_names.len().saturating_sub(room));
            for (i, r) in app.region_names.iter().enumerate().skip(start).take(room) {
                let on = picker.chosen.iter().any(|c| c == r);
                let text = format!(
                    "{} [{}] {r}",
                    if i == picker.cursor { ">" } else { " " },
                    if on { "x" } else { " " }
                );
                lines.push(if i == picker.cursor {
                    Line::from(Span::styled(text, theme.selected()))
                } else {
                    Line::from(text)
                });
            }
            lines.push(keys_line(theme, Mode::Regions));
            dialog(frame, theme, area, " Regions ", lines, 60, 22);
        }
        Overlay::Add(form) => {
            let field = |active: bool| {
                if active {
                    theme.selected()
                } else {
                    Style::default()
                }
            };
            let mut lines = vec![
                Line::from(vec![
                    Span::raw("Instance id: "),
                    Span::styled(
                        format!("{}{}", form.id, if form.on_region { "" } else { "█" }),
                        field(!form.on_region),
                    ),
                ]),
                Line::from(vec![
                    Span::raw("Region:      "),
                    Span::styled(
                        app.region_names
                            .get(form.region)
                            .cloned()
                            .unwrap_or_default(),
                        field(form.on_region),
                    ),
                    Span::styled(
                        if form.on_region {
                            format!(
                                "   filter: {}█ (type to narrow, ↑/↓ choose)",
                                form.region_filter
                            )
                        } else {
                            "   (Tab, then type to find a region)".to_string()
                        },
                        theme.dim(),
                    ),
                ]),
            ];
            if form.on_region {
                let matches = form.region_matches(&app.region_names);
                let at = matches.iter().position(|&i| i == form.region).unwrap_or(0);
                let start = at.saturating_sub(4);
                for &i in matches.iter().skip(start).take(8) {
                    let text = format!(
                        "{} {}",
                        if i == form.region { ">" } else { " " },
                        app.region_names.get(i).map_or("", String::as_str)
                    );
                    lines.push(if i == form.region {
                        Line::from(Span::styled(text, theme.selected()))
                    } else {
                        Line::from(text)
                    });
                }
                if matches.is_empty() {
                    lines.push(Line::from(Span::styled(
                        "no SSL region matches",
                        theme.error(),
                    )));
                }
            }
            if let Some(e) = &form.error {
                lines.push(Line::from(Span::styled(e.clone(), theme.error())));
            }
            lines.push(Line::from(""));
            lines.push(keys_line(theme, Mode::Add));
            let h = wrapped_height(&lines, 68);
            dialog(frame, theme, area, " Add an instance ", lines, 70, h);
        }
        Overlay::Remove(id) => {
            let lines = vec![
                Line::from(format!("Forget {id}?")),
                Line::from(Span::styled(
                    "It is only removed from pgssl's saved list; the instance is untouched.",
                    theme.dim(),
                )),
                Line::from(""),
                keys_line(theme, Mode::Remove),
            ];
            dialog(frame, theme, area, " Remove instance ", lines, 70, 6);
        }
        Overlay::Help(scroll) => {
            let mut lines = Vec::new();
            // Help is this overlay itself.
            for &mode in keys::MODES.iter().filter(|m| !matches!(m, Mode::Help)) {
                let mut spans = vec![Span::styled(format!("{}: ", mode.title()), theme.title())];
                for b in BINDINGS
                    .iter()
                    .filter(|b| b.modes.contains(&mode) && b.modes.len() < keys::MODE_COUNT)
                {
                    spans.push(Span::styled(b.label, theme.key()));
                    spans.push(Span::raw(format!(" {} · ", b.desc)));
                }
                lines.push(Line::from(spans));
            }
            let mut anywhere = vec![Span::styled("Anywhere: ", theme.title())];
            for b in BINDINGS
                .iter()
                .filter(|b| b.modes.len() == keys::MODE_COUNT)
            {
                anywhere.push(Span::styled(b.label, theme.key()));
                anywhere.push(Span::raw(format!(" {}", b.desc)));
            }
            lines.push(Line::from(anywhere));
            lines.push(Line::from(Span::styled(
                "Mouse capture is off: select text with the mouse as usual. j/k scroll, Esc closes this.",
                theme.dim(),
            )));
            let w = area.width.saturating_sub(4).clamp(40, 120);
            let h = area.height.saturating_sub(2);
            let shown = lines.into_iter().skip(*scroll).collect();
            dialog(frame, theme, area, " Keys ", shown, w, h);
        }
    }
}

/// The keys of the open dialog that do something now (`App::hints`).
pub(super) fn app_keys_line(app: &App, theme: Theme) -> Line<'static> {
    let mut spans = Vec::new();
    for b in app.hints() {
        spans.push(Span::styled(b.label, theme.key()));
        spans.push(Span::raw(format!(" {}  ", b.desc)));
    }
    Line::from(spans)
}

pub(super) fn keys_line(theme: Theme, mode: Mode) -> Line<'static> {
    let mut spans = Vec::new();
    for b in keys::hints(mode) {
        spans.push(Span::styled(b.label, theme.key()));
        spans.push(Span::raw(format!(" {}  ", b.desc)));
    }
    Line::from(spans)
}

pub(super) fn dialog(
    frame: &mut Frame,
    theme: Theme,
    area: Rect,
    title: &str,
    lines: Vec<Line>,
    w: u16,
    h: u16,
) {
    let rect = centered(area, w, h.max(3) + 2);
    frame.render_widget(Clear, rect);
    let block = Block::default()
        .borders(Borders::ALL)
        .title(Span::styled(title.to_string(), theme.title()));
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        rect,
    );
}

/// Changes in flight and unresolved outcomes: TaskId, instance, status, step, age.
fn tasks_dialog(frame: &mut Frame, app: &App, theme: Theme, area: Rect, cursor: usize) {
    let rows = app.task_rows();
    let now = pgssl_wire::clock::unix_now();
    let mut lines = vec![Line::from(Span::styled(
        format!(
            "  {:<8} {:<18} {:<16} {:>6}  {}",
            "TASKID", "INSTANCE", "STATUS", "AGE", "STEP"
        ),
        theme.dim(),
    ))];
    if rows.is_empty() {
        lines.push(Line::from(
            "No change in flight, no unresolved outcome: every change in the journal has ended.",
        ));
    }
    for (i, r) in rows.iter().enumerate() {
        let age = pgssl_wire::clock::rfc3339_to_unix(&r.sent)
            .map_or_else(|| "?".to_string(), |t| age_text(now - t));
        let text = format!(
            "{} {:<8} {:<18} {:<16} {:>6}  {}",
            if i == cursor { ">" } else { " " },
            r.task_id.map_or_else(|| "-".to_string(), |t| t.to_string()),
            r.instance_id,
            r.status,
            age,
            r.step
        );
        lines.push(if i == cursor {
            Line::from(Span::styled(text, theme.selected()))
        } else {
            Line::from(text)
        });
    }
    lines.push(Line::from(""));
    lines.push(keys_line(theme, Mode::Tasks));
    let w = area.width.saturating_sub(4).clamp(40, 110);
    let h = wrapped_height(&lines, w.saturating_sub(2));
    dialog(frame, theme, area, " Tasks ", lines, w, h);
}

/// The audit's findings, most severe first.
fn findings_dialog(
    frame: &mut Frame,
    theme: Theme,
    area: Rect,
    audit: Option<&crate::ops::audit::Audit>,
    cursor: usize,
) {
    let mut lines = Vec::new();
    match audit {
        None => lines.push(Line::from(Span::styled(
            "Reading every instance of the regions (SSL state, CAs)…",
            theme.dim(),
        ))),
        Some(a) => {
            lines.push(Line::from(format!(
                "{} instances: SSL on {}, off {}, unknown {}; {} finding(s)",
                a.instances,
                a.ssl_on,
                a.ssl_off,
                a.ssl_unknown,
                a.findings.len()
            )));
            if a.findings.is_empty() {
                lines.push(Line::from(Span::styled(
                    "Compliant: nothing to report.",
                    theme.ok(),
                )));
            }
            // Named, not only counted: the instances whose SSL state is not known.
            let unread: Vec<String> = a
                .rows
                .iter()
                .filter_map(|r| {
                    r.unread
                        .as_ref()
                        .map(|why| format!("{} ({})", r.DBInstanceId, crate::text::clean(why)))
                })
                .collect();
            if !unread.is_empty() {
                lines.push(Line::from(Span::styled(
                    format!("SSL not known: {}", unread.join(", ")),
                    theme.warn(),
                )));
            }
            // What changed since the last audit seen here; new findings are marked below.
            let mut new_findings = std::collections::BTreeSet::new();
            if let Some(s) = &a.since {
                lines.push(Line::from(Span::styled(
                    format!(
                        "Since the last audit{}: {} change(s), {} for the worse",
                        s.taken_at
                            .as_deref()
                            .map(|t| format!(" ({})", crate::text::clean(t)))
                            .unwrap_or_default(),
                        s.changes.len(),
                        s.worse
                    ),
                    if s.worse > 0 {
                        theme.error()
                    } else {
                        theme.dim()
                    },
                )));
                // Other regions shown than last time: what was compared.
                if let Some(note) = &s.note {
                    lines.push(Line::from(Span::styled(
                        format!("  {}", crate::text::clean(note)),
                        theme.dim(),
                    )));
                }
                for c in &s.changes {
                    if let crate::ops::audit::Change::FindingNew {
                        DBInstanceId, kind, ..
                    } = c
                    {
                        new_findings.insert((DBInstanceId.clone(), kind.clone()));
                    }
                }
                for c in s
                    .changes
                    .iter()
                    .filter(|c| {
                        !matches!(
                            c,
                            crate::ops::audit::Change::FindingNew { .. }
                                | crate::ops::audit::Change::FindingResolved { .. }
                        )
                    })
                    .take(4)
                {
                    lines.push(Line::from(Span::styled(
                        format!("  {}", crate::text::clean(&c.line())),
                        if c.worse() {
                            theme.error()
                        } else {
                            theme.dim()
                        },
                    )));
                }
            }
            let h = usize::from(area.height.saturating_sub(8)).max(3);
            let start = cursor.saturating_sub(h.saturating_sub(1));
            for (i, f) in a.findings.iter().enumerate().skip(start).take(h) {
                let sev = f.severity.as_str();
                let new =
                    new_findings.contains(&(f.DBInstanceId.clone(), f.kind.as_str().to_string()));
                let text = format!(
                    "{}{} {:<6} {:<18} {}",
                    if i == cursor { ">" } else { " " },
                    if new { "new" } else { "   " },
                    sev,
                    f.DBInstanceId,
                    crate::text::clean(&f.detail)
                );
                let style = if i == cursor {
                    theme.selected()
                } else if sev == "high" {
                    theme.error()
                } else {
                    theme.warn()
                };
                lines.push(Line::from(Span::styled(text, style)));
            }
        }
    }
    lines.push(Line::from(""));
    lines.push(keys_line(theme, Mode::Audit));
    let w = area.width.saturating_sub(4).clamp(40, 120);
    let h = area.height.saturating_sub(2);
    dialog(frame, theme, area, " Audit ", lines, w, h.saturating_sub(2));
}

/// `45s`, `12m`, `3h`, `2d`.
pub(super) fn age_text(secs: i64) -> String {
    match secs.max(0) {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m", s / 60),
        s if s < 86_400 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}

/// One log line in full: every field wrapped to the width there is, scrolled, copyable.
/// A report or a message (`text`) highlights its first line shown: `c` copies it whole.
fn log_detail_dialog(
    frame: &mut Frame,
    theme: Theme,
    area: Rect,
    item: &crate::tui::app::LogItem,
    scroll: usize,
    text: bool,
) {
    let w = area.width.saturating_sub(4).max(20);
    // As tall as the text, up to the screen (a report keeps its height as its line moves).
    let text_rows: u16 = item
        .detail
        .iter()
        .skip(if text { 0 } else { scroll })
        .map(|l| {
            let n = l
                .chars()
                .count()
                .div_ceil(usize::from(w.saturating_sub(2)).max(1));
            u16::try_from(n.max(1)).unwrap_or(u16::MAX)
        })
        .fold(0u16, u16::saturating_add);
    let h = text_rows
        .saturating_add(4)
        .min(area.height.saturating_sub(2))
        .max(5);
    let rect = centered(area, w, h);
    frame.render_widget(Clear, rect);
    let title = format!(
        " {} {} ",
        item.time.get(..19).unwrap_or(&item.time),
        if item.instance.is_empty() {
            &item.action
        } else {
            &item.instance
        }
    );
    let block = Block::default()
        .borders(Borders::ALL)
        .title(Span::styled(crate::text::clean(&title), theme.title()));
    let mut lines: Vec<Line> = item
        .detail
        .iter()
        .skip(scroll)
        .enumerate()
        .map(|(i, l)| {
            let l = crate::text::clean(l);
            if text && i == 0 {
                Line::from(Span::styled(l, theme.selected()))
            } else {
                Line::from(l)
            }
        })
        .collect();
    lines.push(Line::from(""));
    lines.push(keys_line(
        theme,
        if text { Mode::Text } else { Mode::LogDetail },
    ));
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        rect,
    );
}

fn profiles_dialog(
    frame: &mut Frame,
    app: &App,
    theme: Theme,
    area: Rect,
    p: &crate::tui::app::ProfilePicker,
) {
    let mut lines = vec![Line::from(Span::styled(
        format!("Now: {}", crate::text::clean(&app.who.credential)),
        theme.dim(),
    ))];
    match &p.items {
        None => lines.push(Line::from(Span::styled(
            "Looking for tccli profiles, the environment and a CVM role…",
            theme.dim(),
        ))),
        Some(items) if items.is_empty() => lines.push(Line::from(
            "No tccli profiles (~/.tccli), no TENCENTCLOUD_SECRET_ID/KEY, no CVM role found.",
        )),
        Some(items) => {
            for (i, c) in items.iter().enumerate() {
                let guarded = p.guards.get(i).copied().unwrap_or_default();
                let text = format!(
                    "{} {:<16} ",
                    if i == p.cursor { ">" } else { " " },
                    crate::text::truncate(&crate::text::clean(&c.label()), 16),
                );
                let detail = crate::text::clean(&c.detail());
                let marks = guarded.marks();
                lines.push(if i == p.cursor {
                    Line::from(Span::styled(
                        format!("{text}{marks}{detail}"),
                        theme.selected(),
                    ))
                } else {
                    Line::from(vec![
                        Span::raw(text),
                        Span::styled(marks, theme.warn()),
                        Span::raw(detail),
                    ])
                });
            }
        }
    }
    lines.push(keys_line(theme, Mode::Profiles));
    let h = wrapped_height(&lines, 76.min(area.width).saturating_sub(2));
    dialog(frame, theme, area, " Credentials ", lines, 76, h);
}

/// How many rows `lines` take once wrapped to `width` columns.
pub(super) fn wrapped_height(lines: &[Line], width: u16) -> u16 {
    let width = usize::from(width.max(1));
    let rows: usize = lines.iter().map(|l| l.width().div_ceil(width).max(1)).sum();
    u16::try_from(rows).unwrap_or(u16::MAX)
}

fn form_dialog(frame: &mut Frame, app: &App, theme: Theme, area: Rect, form: &SslForm) {
    let row = app.row(&form.instance_id);
    let focus = |f: Field| form.field == f;
    let marker = |f: Field| if focus(f) { "›" } else { " " };
    let mut lines = Vec::new();
    if let Some(row) = row {
        lines.push(Line::from(format!(
            "{} ({}), {} in {}",
            row.id(),
            if row.name().is_empty() {
                "no name"
            } else {
                row.name()
            },
            row.kind_label(),
            row.region()
        )));
        let now = row
            .ssl()
            .map_or_else(|| "unknown".into(), crate::domain::SslState::describe);
        lines.push(Line::from(Span::styled(
            format!("SSL now: {now}"),
            theme.dim(),
        )));
    }
    lines.push(Line::from(""));
    let ssl_style = if focus(Field::Ssl) {
        theme.selected()
    } else {
        Style::default()
    };
    lines.push(Line::from(vec![
        Span::raw(format!("{} SSL      ", marker(Field::Ssl))),
        Span::styled(if form.enable { "[x] on " } else { "[ ] off" }, ssl_style),
    ]));
    let grey = !form.enable;
    let addr_style = |selected: bool, focused: bool| {
        if grey {
            theme.dim()
        } else if selected && focused {
            theme.selected()
        } else if selected {
            theme.ok()
        } else {
            Style::default()
        }
    };
    for (i, a) in form.choices.iter().enumerate() {
        let chosen = form.choice == i;
        let lead = if i == 0 {
            format!("{} Address  ", marker(Field::Address))
        } else {
            "           ".to_string()
        };
        lines.push(Line::from(vec![
            Span::raw(lead),
            Span::styled(
                format!(
                    "({}) {}",
                    if chosen { "•" } else { " " },
                    a.label_with_port()
                ),
                addr_style(chosen, focus(Field::Address)),
            ),
        ]));
    }
    let other_chosen = form.choice >= form.choices.len();
    lines.push(Line::from(vec![
        Span::raw(if form.choices.is_empty() {
            format!("{} Address  ", marker(Field::OtherIp))
        } else {
            format!("{}          ", marker(Field::OtherIp))
        }),
        Span::styled(
            format!(
                "({}) other address: {}{}",
                if other_chosen { "•" } else { " " },
                form.other_ip,
                if form.typing_ip() { "█" } else { "" }
            ),
            addr_style(other_chosen, focus(Field::OtherIp)),
        ),
    ]));
    if grey {
        lines.push(Line::from(Span::styled(
            "  (disabling SSL ignores the address)",
            theme.dim(),
        )));
    }
    if !form.left_out.is_empty() {
        lines.push(Line::from(vec![
            Span::raw(format!("{} Group    ", marker(Field::Group))),
            Span::styled(
                format!(
                    "[{}] the whole group: also {}",
                    if form.whole_group { "x" } else { " " },
                    form.left_out.join(", ")
                ),
                if focus(Field::Group) {
                    theme.selected()
                } else {
                    Style::default()
                },
            ),
        ]));
    }
    for note in app.group_notes(form) {
        lines.push(Line::from(Span::styled(note, theme.warn())));
    }
    lines.push(Line::from(""));
    match row.map(|r| form.problem(r)) {
        Some(None) => lines.push(Line::from(Span::styled(
            "ready: Enter reviews the change before anything is sent",
            theme.ok(),
        ))),
        Some(Some(problem)) if problem.starts_with(crate::tui::app::form::UNCHANGED_PREFIX) => {
            lines.push(Line::from(Span::styled(problem, theme.dim())));
        }
        Some(Some(problem)) => lines.push(Line::from(Span::styled(
            format!("✗ {problem}"),
            theme.error(),
        ))),
        None => {}
    }
    lines.push(keys_line(theme, Mode::Form));
    let w = confirm_width(area);
    let h = wrapped_height(&lines, w.min(area.width).saturating_sub(2));
    dialog(frame, theme, area, " SSL ", lines, w, h);
}
