//! The confirm of one change: the plan, the exact request, the tccli command it stands
//! for, and only the keys that do something in the state it is in.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::Theme;
use super::dialogs::{app_keys_line, dialog, wrapped_height};
use crate::tui::app::{App, Confirm, Shown};

pub(super) fn confirm_dialog(frame: &mut Frame, app: &App, theme: Theme, area: Rect, c: &Confirm) {
    let mut lines: Vec<Line> = Vec::new();
    lines.extend(protected_line(app, theme, "the instance id"));
    if let Some(change) = &c.undo {
        lines.push(Line::from(Span::styled(
            crate::text::clean(&format!(
                "Undo of change {change}: SSL back to what it was before it"
            )),
            theme.title(),
        )));
    }
    if c.revised {
        lines.push(Line::from(Span::styled(
            "The instance changed while this was open: this is the new plan. Read it again.",
            theme.warn(),
        )));
    }
    match &c.shown {
        Shown::Reading => lines.push(Line::from(Span::styled(
            format!("Reading the current state of {}…", c.intent.instance_id),
            theme.dim(),
        ))),
        Shown::Refused(e) => lines.push(Line::from(Span::styled(format!("✗ {e}"), theme.error()))),
        Shown::Unchanged(i) => lines.push(Line::from(format!(
            "{} already has SSL {}: nothing to send.",
            i.id,
            i.ssl_state()
                .map(crate::domain::SslState::describe)
                .unwrap_or_default()
        ))),
        Shown::Change(plan) => {
            lines.extend(plan.summary().into_iter().map(Line::from));
            // How the change leaves the instance's read-only group (`ops::group`).
            for note in crate::ops::group::notes(plan, &app.groups_of(plan.instance_id())) {
                lines.push(Line::from(Span::styled(note, theme.warn())));
            }
            // Who is connected (`ops::census`), once counted.
            for line in &c.clients {
                lines.push(Line::from(Span::styled(line.clone(), theme.warn())));
            }
            let body = serde_json::to_string(&plan.request())
                .expect("the request is plain data and serializes");
            lines.push(Line::from(""));
            lines.push(Line::from(Span::styled(
                format!(
                    "Request: ModifyDBInstanceSSLConfig, region {}",
                    plan.region()
                ),
                theme.title(),
            )));
            // Never break a value: wider than the dialog, the request goes one field a line.
            let inner = usize::from(confirm_width(area).saturating_sub(2));
            lines.extend(request_lines(&body, inner).into_iter().map(Line::from));
            // The same request as tccli sends it (wrapped between words).
            let copy = if app.mode() == crate::tui::keys::Mode::TypeConfirm {
                "Ctrl-T"
            } else {
                "c"
            };
            lines.push(Line::from(Span::styled(
                format!("As tccli ({copy} copies it):"),
                theme.title(),
            )));
            let inner = usize::from(confirm_width(area).min(area.width).saturating_sub(2));
            for command in app.tccli_lines() {
                lines.extend(tccli_rows(&command, inner).into_iter().map(Line::from));
            }
        }
    }
    lines.push(Line::from(""));
    let confirmation =
        crate::ops::confirm::for_change(&c.intent.instance_id, app.who.protected_profile());
    // Something to type only when there is something to send.
    if let (Some(text), Shown::Change(_)) = (&confirmation.typed, &c.shown) {
        lines.push(count_line(
            theme,
            format!("Type {text} to send: "),
            &crate::text::clean(&c.typed),
        ));
        if let Some(wrong) = &c.wrong {
            lines.push(Line::from(Span::styled(
                format!("✗ {wrong}"),
                theme.error(),
            )));
        }
    }
    lines.push(app_keys_line(app, theme));
    let w = confirm_width(area);
    let h = wrapped_height(&lines, w.min(area.width).saturating_sub(2));
    dialog(frame, theme, area, " Confirm change ", lines, w, h);
}

/// With a protected profile: in words (NO_COLOR keeps them) what must be typed to send.
pub(super) fn protected_line(app: &App, theme: Theme, what: &str) -> Option<Line<'static>> {
    app.who.protected.then(|| {
        Line::from(Span::styled(
            format!(
                "[PROTECTED] profile {}: type {what} to send",
                app.who.profile.as_deref().unwrap_or("?")
            ),
            theme.protected(),
        ))
    })
}

/// `Type 7 to send: 7█`: what is being typed to confirm (a count, an instance id).
pub(super) fn count_line(theme: Theme, prompt: String, typed: &str) -> Line<'static> {
    Line::from(vec![
        Span::raw(prompt),
        Span::styled(format!("{typed}█"), theme.selected()),
    ])
}

/// The confirm uses the width there is, up to 120 columns.
pub(super) fn confirm_width(area: Rect) -> u16 {
    area.width.saturating_sub(2).clamp(40, 120)
}

/// The exact request body, on one line when it fits `width`, else one field a line,
/// split only between fields (`,"`), never inside a value.
fn request_lines(body: &str, width: usize) -> Vec<String> {
    if body.chars().count() <= width {
        return vec![body.to_string()];
    }
    let mut out = Vec::new();
    let mut rest = body;
    while let Some(i) = rest.find(",\"") {
        out.push(rest[..=i].to_string());
        rest = &rest[i + 1..];
    }
    out.push(rest.to_string());
    out.iter()
        .enumerate()
        .map(|(i, l)| if i == 0 { l.clone() } else { format!(" {l}") })
        .collect()
}

/// A tccli command in rows of at most `width` columns, broken only before an option, so
/// that an option and its value stay together (a part wider than that stands alone);
/// rows after the first are indented by two.
pub(super) fn tccli_rows(command: &str, width: usize) -> Vec<String> {
    let mut parts: Vec<&str> = Vec::new();
    let mut rest = command;
    while let Some(i) = rest.find(" --") {
        parts.push(&rest[..i]);
        rest = &rest[i + 1..];
    }
    parts.push(rest);
    let mut rows: Vec<String> = Vec::new();
    let mut row = String::new();
    for part in parts {
        let room = if rows.is_empty() {
            width
        } else {
            width.saturating_sub(2)
        };
        if !row.is_empty() && row.chars().count() + 1 + part.chars().count() > room {
            rows.push(std::mem::take(&mut row));
        }
        if !row.is_empty() {
            row.push(' ');
        }
        row.push_str(part);
    }
    rows.push(row);
    rows.iter()
        .enumerate()
        .map(|(i, r)| if i == 0 { r.clone() } else { format!("  {r}") })
        .collect()
}
