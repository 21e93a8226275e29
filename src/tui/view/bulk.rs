//! The dialogs of a change of many: the form, the plan to confirm, the run's live table,
//! and the offer to resume an interrupted run.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};

use super::Theme;
use super::confirm::{confirm_width, count_line, protected_line, tccli_rows};
use super::dialogs::{age_text, app_keys_line, dialog, keys_line, wrapped_height};
use crate::ops::bulk::schedule::{Item, State};
use crate::tui::app::App;
use crate::tui::app::bulk::{BulkConfirm, BulkField, BulkForm, ResumeOffer};
use crate::tui::keys::Mode;

pub fn form(frame: &mut Frame, app: &App, theme: Theme, area: Rect, form: &BulkForm) {
    let offers = app.group_offers(form);
    let field = |f: BulkField, label: &str, value: String, dim: bool| {
        let style = if form.field == f {
            theme.selected()
        } else if dim {
            theme.dim()
        } else {
            Style::default()
        };
        Line::from(vec![
            Span::raw(format!("{label:<24}")),
            Span::styled(value, style),
        ])
    };
    let hidden = form
        .ids
        .iter()
        .filter(|(_, id)| !app.visible.iter().any(|&i| app.rows[i].id() == id))
        .count();
    let mut lines = vec![
        Line::from(format!(
            "{} marked instance{}{}: {}",
            form.ids.len(),
            if form.ids.len() == 1 { "" } else { "s" },
            if hidden > 0 {
                format!(" ({hidden} not shown by the filter)")
            } else {
                String::new()
            },
            form.ids
                .iter()
                .take(6)
                .map(|(_, id)| id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
                + if form.ids.len() > 6 { ", …" } else { "" }
        )),
        Line::from(""),
        field(
            BulkField::Ssl,
            "SSL",
            if form.enable { "on" } else { "off" }.into(),
            false,
        ),
        field(
            BulkField::Address,
            "Address (per instance)",
            form.kind.keyword().into(),
            !form.enable,
        ),
        field(
            BulkField::MaxRunning,
            "Restarting at once",
            form.limits
                .max_running
                .map_or_else(|| "no cap".into(), |n| format!("at most {n}")),
            false,
        ),
        field(
            BulkField::StopOnFailure,
            "Stop at first failure",
            if form.limits.stop_on_failure {
                "yes"
            } else {
                "no"
            }
            .into(),
            false,
        ),
        field(
            BulkField::Together,
            "Primary with its RO",
            if form.limits.together {
                "restart together"
            } else {
                "one after the other"
            }
            .into(),
            false,
        ),
        field(
            BulkField::Canary,
            "Canary first",
            form.canary.map_or_else(
                || "no".into(),
                |n| format!("{n}, then 60 s for clients, TLS and clients checked"),
            ),
            false,
        ),
    ];
    for o in &offers {
        lines.push(field(
            BulkField::Group,
            "Whole group",
            format!(
                "{}: also {} (not marked)",
                if form.whole_group { "yes" } else { "no" },
                o.members.join(", ")
            ),
            false,
        ));
        lines.push(Line::from(Span::styled(
            format!(
                "  Tencent asks for SSL on every member of read-only group {} when its address is protected.",
                o.group
            ),
            theme.dim(),
        )));
    }
    lines.push(Line::from(Span::styled(
        "Instances without that kind of address are skipped, with why, in the plan.",
        theme.dim(),
    )));
    lines.push(Line::from(""));
    lines.push(keys_line(theme, Mode::BulkForm));
    let w = area.width.saturating_sub(4).clamp(40, 100);
    let h = wrapped_height(&lines, w.saturating_sub(2));
    dialog(
        frame,
        theme,
        area,
        " Change the marked instances ",
        lines,
        w,
        h,
    );
}

/// The confirm's parts: the head and the tail always show; the body (a line per change,
/// then those left as they are and those skipped) scrolls between them, each line cut to
/// the dialog's width so that the count and the keys are never pushed off the screen.
struct Parts {
    head: Vec<Line<'static>>,
    body: Vec<String>,
    tail: Vec<Line<'static>>,
}

fn parts(app: &App, theme: Theme, c: &BulkConfirm) -> Parts {
    let mut head: Vec<Line> = Vec::new();
    let mut body: Vec<String> = Vec::new();
    let mut tail: Vec<Line> = Vec::new();
    let confirmation = c.confirmation(app.who.protected_profile());
    head.extend(protected_line(
        app,
        theme,
        confirmation.as_ref().map_or("the count", |c| c.what),
    ));
    if let Some(run) = &c.undo {
        head.push(Line::from(Span::styled(
            crate::text::clean(&format!(
                "Undo of bulk run {run}: each change back to SSL as it was before it"
            )),
            theme.title(),
        )));
    }
    let mode = if confirmation
        .as_ref()
        .is_some_and(crate::ops::confirm::Confirmation::is_typed)
    {
        Mode::TypeCount
    } else {
        Mode::Confirm
    };
    match &c.plan {
        None => head.push(Line::from(Span::styled(
            format!(
                "Reading the current state of {} instances…",
                c.form.ids.len()
            ),
            theme.dim(),
        ))),
        Some(plan) => {
            let summary = plan.summary();
            // The last line is the count and the warning.
            let (last, rest) = summary
                .split_last()
                .map_or((None, &[][..]), |(l, r)| (Some(l), r));
            // A line per change, then the same requests as tccli sends them (wrapped, not
            // cut), then those left as they are and those skipped.
            let (changes, others) = rest.split_at(plan.changes.len().min(rest.len()));
            body.extend(changes.iter().cloned());
            let commands = app.tccli_lines();
            if !commands.is_empty() {
                body.push(format!(
                    "As tccli ({} copies {}):",
                    if mode == Mode::TypeCount {
                        "Ctrl-T"
                    } else {
                        "c"
                    },
                    if commands.len() == 1 {
                        "it"
                    } else {
                        "them all"
                    }
                ));
                let inner = usize::from(confirm_width(Rect::new(0, 0, app.size.0, app.size.1)))
                    .saturating_sub(2);
                for command in &commands {
                    body.extend(tccli_rows(command, inner));
                }
            }
            body.extend(others.iter().cloned());
            // Who is connected (`ops::census`), once counted.
            body.extend(c.clients.iter().cloned());
            if let Some(last) = last {
                tail.push(Line::from(Span::styled(last.clone(), theme.warn())));
            }
            let limits = c.form.limits;
            tail.push(Line::from(Span::styled(
                format!(
                    "{}; {}{}",
                    limits.max_running.map_or_else(
                        || "no cap on instances restarting at once".into(),
                        |n| format!("at most {n} restarting at once")
                    ),
                    if limits.together {
                        "a primary and its read-only instances together"
                    } else {
                        "a primary and its read-only instances one after the other"
                    },
                    if limits.stop_on_failure {
                        "; stops at the first failure"
                    } else {
                        ""
                    }
                ),
                theme.dim(),
            )));
            if let Some(e) = &c.error {
                tail.push(Line::from(Span::styled(e.clone(), theme.error())));
            }
            if mode == Mode::TypeCount {
                let typed = confirmation.as_ref().and_then(|c| c.typed.clone());
                tail.push(count_line(
                    theme,
                    format!(
                        "Type {} to send: ",
                        typed.unwrap_or_else(|| plan.changes.len().to_string())
                    ),
                    &c.typed,
                ));
            }
        }
    }
    tail.push(app_keys_line(app, theme));
    Parts { head, body, tail }
}

/// How many body lines fit, and how many there are: the scroll's bounds, for the model.
pub fn confirm_room(app: &App, c: &BulkConfirm) -> (usize, usize) {
    let area = Rect::new(0, 0, app.size.0, app.size.1);
    let p = parts(app, Theme { no_color: true }, c);
    (room(area, &p), p.body.len())
}

fn room(area: Rect, p: &Parts) -> usize {
    let inner = confirm_width(area).min(area.width).saturating_sub(2);
    let fixed = usize::from(wrapped_height(&p.head, inner))
        + usize::from(wrapped_height(&p.tail, inner))
        + 1; // the scroll line
    usize::from(area.height.saturating_sub(2))
        .saturating_sub(fixed)
        .max(1)
}

pub fn confirm(frame: &mut Frame, app: &App, theme: Theme, area: Rect, c: &BulkConfirm) {
    let w = confirm_width(area);
    let inner = usize::from(w.min(area.width).saturating_sub(2));
    let p = parts(app, theme, c);
    let room = room(area, &p);
    let scroll = c.scroll.min(p.body.len().saturating_sub(room));
    let below = p.body.len().saturating_sub(scroll + room);
    let mut lines = p.head;
    lines.extend(p.body.iter().skip(scroll).take(room).map(|l| {
        // Cut, never wrapped: a change is one line.
        if l.chars().count() > inner {
            let cut: String = l.chars().take(inner.saturating_sub(1)).collect();
            Line::from(format!("{cut}…"))
        } else {
            Line::from(l.clone())
        }
    }));
    if below > 0 || scroll > 0 {
        lines.push(Line::from(Span::styled(
            format!("… {below} more below, {scroll} above (↑/↓ j/k PgUp/PgDn scroll)"),
            theme.dim(),
        )));
    }
    lines.extend(p.tail);
    let h = wrapped_height(&lines, w.min(area.width).saturating_sub(2));
    dialog(frame, theme, area, " Confirm changes ", lines, w, h);
}

/// One change as the run's table shows it.
fn item_line(item: &Item, now: i64) -> String {
    let age = pgssl_wire::clock::rfc3339_to_unix(&item.since)
        .map_or_else(|| "?".to_string(), |t| age_text(now - t));
    let detail = match &item.state {
        State::Running {
            status, progress, ..
        } => format!(
            "{}{}",
            status.map_or("sent", |s| s.as_str()),
            progress.map(|p| format!(" {p}%")).unwrap_or_default()
        ),
        State::Ended { message, .. } => message.clone().unwrap_or_default(),
        State::Refused { error } | State::Unknown { error } => error.clone(),
        State::GaveUp { why, .. } | State::NotSent { why } => why.clone(),
        State::AsAsked { now } => now.clone(),
        State::Waiting | State::Sending => String::new(),
    };
    format!(
        "{:<18} {:<8} {:>9} {:>6}  {}",
        item.plan.instance.id,
        item.state.word(),
        item.state
            .task_id()
            .map_or_else(|| "-".into(), |t| t.to_string()),
        age,
        detail
    )
}

pub fn run(frame: &mut Frame, app: &App, theme: Theme, area: Rect, cursor: usize) {
    let Some(run) = &app.bulk else {
        return;
    };
    let now = pgssl_wire::clock::unix_now();
    let mut lines = vec![Line::from(Span::styled(
        format!(
            "{}{}",
            run.run_id
                .as_deref()
                .map(|r| format!("run {r}: "))
                .unwrap_or_default(),
            run.progress()
        ),
        theme.title(),
    ))];
    if let Some(s) = &run.stopped {
        lines.push(Line::from(Span::styled(s.clone(), theme.warn())));
    }
    if let Some(e) = &run.error {
        lines.push(Line::from(Span::styled(e.clone(), theme.error())));
    }
    lines.push(Line::from(Span::styled(
        format!(
            "  {:<18} {:<8} {:>9} {:>6}  {}",
            "INSTANCE", "RESULT", "TASKID", "SINCE", "STATUS / ERROR"
        ),
        theme.dim(),
    )));
    let room = usize::from(area.height.saturating_sub(8)).max(1);
    let start = cursor.saturating_sub(room.saturating_sub(1));
    for (i, item) in run.items.iter().enumerate().skip(start).take(room) {
        let text = format!(
            "{} {}",
            if i == cursor { ">" } else { " " },
            item_line(item, now)
        );
        let style = if i == cursor {
            theme.selected()
        } else if item.state.is_failure() {
            theme.error()
        } else {
            Style::default()
        };
        lines.push(Line::from(Span::styled(text, style)));
    }
    if run.unchanged + run.skipped.len() > 0 {
        lines.push(Line::from(Span::styled(
            format!(
                "{} already as asked, {} skipped",
                run.unchanged,
                run.skipped.len()
            ),
            theme.dim(),
        )));
    }
    lines.push(keys_line(theme, Mode::Run));
    let w = area.width.saturating_sub(4).clamp(40, 120);
    let h = wrapped_height(&lines, w.saturating_sub(2));
    dialog(frame, theme, area, " Bulk run ", lines, w, h);
}

pub fn resume(frame: &mut Frame, app: &App, theme: Theme, area: Rect, offer: &ResumeOffer) {
    let found = &offer.found;
    let mut lines: Vec<Line> = vec![Line::from(Span::styled(
        match found.run.state {
            crate::store::runs::RunState::Stopped { .. } => {
                "A bulk run was stopped with changes never sent:"
            }
            _ => "A bulk run was interrupted (pgssl quit, the session dropped, or it was killed):",
        },
        theme.warn(),
    ))];
    let confirmation = offer.confirmation(app.who.protected_profile());
    let typing = confirmation.is_typed();
    let room = usize::from(area.height.saturating_sub(if typing { 10 } else { 9 })).max(1);
    let summary = found.summary();
    let total = summary.len();
    lines.extend(summary.into_iter().take(room).map(Line::from));
    if total > room {
        lines.push(Line::from(Span::styled(
            format!(
                "… {} more ({} ssl resume lists them all)",
                total - room,
                crate::hint::pgssl()
            ),
            theme.dim(),
        )));
    }
    lines.push(Line::from(Span::styled(
        "Confirming follows what is running and sends what was never sent; nothing sent before is sent again.",
        theme.dim(),
    )));
    if let Some(e) = &offer.error {
        lines.push(Line::from(Span::styled(e.clone(), theme.error())));
    }
    if typing {
        lines.push(count_line(
            theme,
            format!(
                "Type {} to send them: ",
                confirmation.typed.as_deref().unwrap_or_default()
            ),
            &offer.typed,
        ));
    }
    lines.push(app_keys_line(app, theme));
    let w = area.width.saturating_sub(4).clamp(40, 110);
    let h = wrapped_height(&lines, w.saturating_sub(2));
    dialog(frame, theme, area, " Resume the run? ", lines, w, h);
}
