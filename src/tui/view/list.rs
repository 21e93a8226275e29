//! The instance list. Only the rows on screen are built, so 10,000 instances cost
//! no more per frame than 20.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Row, Table};

use super::Theme;
use crate::tui::app::{App, Pane};

pub fn draw(frame: &mut Frame, app: &App, theme: Theme, area: Rect) {
    let focused = app.focus == Pane::Instances;
    let title = Line::from(vec![Span::styled(
        format!(" Instances{} ", if focused { " ◆" } else { "" }),
        if focused { theme.title() } else { theme.dim() },
    )]);
    let block = Block::default().borders(Borders::TOP).title(title);
    let wide = area.width >= 110;
    // The region is a column whenever more than one region is shown; narrow, it is the
    // region's city (guangzhou, frankfurt) and the type a short word.
    let regions = app.regions.len() != 1;
    // A name has what it needs (40 columns), not the whole width of a wide terminal: past
    // that the protected address takes the rest.
    let roomy = area.width >= 160;
    let mut widths = vec![
        Constraint::Length(2),
        Constraint::Length(17),
        if roomy {
            Constraint::Length(40)
        } else {
            Constraint::Fill(1)
        },
        Constraint::Length(9),
        Constraint::Length(10),
        Constraint::Length(4),
        if roomy {
            Constraint::Fill(1)
        } else {
            Constraint::Length(if wide { 23 } else { 17 })
        },
    ];
    let mut header = vec!["", "ID", "NAME", "TYPE", "STATUS", "SSL", "PROTECTED"];
    // Narrow, the type goes (the id says it: pgro- is read-only) and the name gains.
    if !wide {
        widths.remove(3);
        header.remove(3);
    }
    if regions {
        widths.insert(2, Constraint::Length(if wide { 16 } else { 9 }));
        header.insert(2, "REGION");
    }
    // The protected column's width when fixed (roomy, it takes the rest).
    let room = (!roomy).then_some(if wide { 23 } else { 17 });
    let height = area.height.saturating_sub(2) as usize;
    let rows: Vec<Row> = app
        .visible
        .iter()
        .enumerate()
        .skip(app.offset)
        .take(height)
        .map(|(pos, &i)| {
            let row = &app.rows[i];
            let selected = pos == app.selected;
            let (ssl, ssl_style, protected) = match row.ssl() {
                Some(s) if s.enabled => (
                    "on",
                    theme.ok(),
                    row.learned
                        .as_deref()
                        .map(|i| protected_text(i, wide, room))
                        .unwrap_or_default(),
                ),
                Some(_) => ("off", theme.dim(), String::new()),
                None => ("?", theme.dim(), String::new()),
            };
            let status = row.status().map_or("?", |s| s.as_str()).to_string();
            let status_style = if row
                .status()
                .is_some_and(crate::domain::InstanceStatus::is_running)
            {
                Style::default()
            } else {
                theme.warn()
            };
            let kind = row.kind_label().to_string();
            let busy = app.inflight.contains(row.id());
            // The selection is the marker and the id in reverse video: visible without
            // colour, and cheap to move over a slow link (two short cells, not two rows).
            let id_style = if selected && focused {
                theme.selected()
            } else if selected {
                Style::default().add_modifier(Modifier::BOLD)
            } else {
                Style::default()
            };
            // Selected, marked for a change of many (+), a change in flight (*).
            let is_marked = app.marked.contains(row.id());
            let marker = match (selected, is_marked, busy) {
                (true, true, _) => ">+",
                (true, false, _) => "> ",
                (false, true, _) => " +",
                (false, false, true) => "* ",
                (false, false, false) => "  ",
            };
            let mut cells = vec![
                Cell::from(marker).style(id_style),
                Cell::from(row.id().to_string()).style(id_style),
                Cell::from(row.name().to_string()),
                Cell::from(kind),
                Cell::from(status).style(status_style),
                Cell::from(ssl).style(ssl_style),
                Cell::from(protected),
            ];
            if !wide {
                cells.remove(3);
            }
            if regions {
                let region = row.region();
                let shown = if wide {
                    region
                } else {
                    region.split_once('-').map_or(region, |(_, city)| city)
                };
                cells.insert(2, Cell::from(shown.to_string()));
            }
            Row::new(cells)
        })
        .collect();
    let table = Table::new(rows, widths)
        .header(Row::new(header).style(theme.dim()))
        .block(block)
        .column_spacing(1);
    frame.render_widget(table, area);
    if app.visible.is_empty() && area.height > 2 {
        // Said in the list's whole width, under its header.
        let line = Rect::new(area.x + 3, area.y + 2, area.width.saturating_sub(3), 1);
        let text = if app.rows.is_empty() {
            "no saved instances: press i to import, a to add"
        } else {
            "nothing matches: Esc clears the filter, R chooses regions"
        };
        frame.render_widget(
            ratatui::widgets::Paragraph::new(text).style(theme.dim()),
            line,
        );
    }
}

/// The protected address with its kind: `private 10.6.1.21` (`priv` when narrow). A DNS
/// name that does not fit the column ends in `…` (the details show it whole).
fn protected_text(instance: &crate::domain::Instance, wide: bool, room: Option<usize>) -> String {
    use crate::addresses::AddressKind;
    let Some(host) = instance.protected_host() else {
        return String::new();
    };
    let text = match instance.protected_address().map(|a| a.kind) {
        Some(kind) if wide => format!("{kind} {host}"),
        Some(AddressKind::Private) => format!("priv {host}"),
        Some(AddressKind::Public) => format!("pub {host}"),
        Some(AddressKind::Group) => format!("group {host}"),
        None => host.to_string(),
    };
    match room {
        Some(n) if text.chars().count() > n && n > 1 => {
            let mut cut: String = text.chars().take(n - 1).collect();
            cut.push('…');
            cut
        }
        _ => text,
    }
}
