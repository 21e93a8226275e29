//! The log: every change from the journal (CLI runs included) and the requests this
//! session made, newest on top, with TaskId, RequestId, task progress and errors.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::Theme;
use crate::tui::app::{App, LogKind, Pane};

pub fn draw(frame: &mut Frame, app: &App, theme: Theme, area: Rect) {
    let focused = app.focus == Pane::Log;
    let block = Block::default().borders(Borders::TOP).title(Span::styled(
        format!(" Log{} ", if focused { " ◆" } else { "" }),
        if focused { theme.title() } else { theme.dim() },
    ));
    let items = app.log_items();
    let height = area.height.saturating_sub(1) as usize;
    let start = if focused {
        app.log_selected.saturating_sub(height.saturating_sub(2))
    } else {
        0
    };
    let mut lines = Vec::new();
    for (i, item) in items.iter().enumerate().skip(start) {
        if lines.len() >= height {
            break;
        }
        let time = item.time.get(11..19).unwrap_or(&item.time).to_string();
        // A long action (an address that is a DNS name) gives way to the status: the
        // line keeps what happened, the detail (Enter) keeps the whole address.
        let fixed = time.chars().count() + item.instance.chars().count() + 3;
        let room = usize::from(area.width)
            .saturating_sub(fixed + item.status.chars().count())
            .max(16);
        let action = if item.action.chars().count() > room {
            let mut cut: String = item.action.chars().take(room - 1).collect();
            cut.push('…');
            cut
        } else {
            item.action.clone()
        };
        let mut spans = vec![
            Span::styled(format!("{time} "), theme.dim()),
            Span::raw(format!("{} ", item.instance)),
            Span::styled(
                format!("{action} "),
                if item.kind == LogKind::Change {
                    theme.title()
                } else {
                    theme.dim()
                },
            ),
        ];
        let status_style = if item.status.starts_with("error")
            || item.status.contains("unknown")
            || item.status.starts_with("Fail")
        {
            theme.error()
        } else if item.status.starts_with("Success") || item.status == "ok" {
            theme.ok()
        } else {
            theme.warn()
        };
        spans.push(Span::styled(item.status.clone(), status_style));
        if let Some(t) = item.task_id {
            spans.push(Span::raw(format!("  TaskId {t}")));
        }
        if let Some(r) = &item.request_id {
            spans.push(Span::styled(format!("  RequestId {r}"), theme.dim()));
        }
        let mut line = Line::from(spans);
        if focused && i == app.log_selected {
            line = line.style(theme.selected());
        }
        lines.push(line);
        if let Some(e) = &item.error
            && lines.len() < height
        {
            lines.push(Line::from(Span::styled(format!("  {e}"), theme.error())));
        }
    }
    if items.is_empty() {
        lines.push(Line::from(Span::styled(
            "no requests yet: changes you send (here or with the CLI) appear here",
            theme.dim(),
        )));
    }
    frame.render_widget(Paragraph::new(lines).block(block), area);
}
