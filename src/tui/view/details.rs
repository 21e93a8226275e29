//! Details of the selected instance: its addresses by kind, SSL state, CA URL.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::Theme;
use crate::tui::app::App;

pub fn draw(frame: &mut Frame, app: &App, theme: Theme, area: Rect) {
    let block = Block::default()
        .borders(Borders::TOP)
        .title(Span::styled(" Details ", theme.dim()));
    let Some(row) = app.selected_row() else {
        frame.render_widget(Paragraph::new("").block(block), area);
        return;
    };
    let mut lines = vec![Line::from(vec![
        Span::styled(row.id().to_string(), theme.title()),
        Span::raw(format!(
            "  {}  {}  {}  {}",
            if row.name().is_empty() {
                "(no name)"
            } else {
                row.name()
            },
            row.kind_label(),
            row.region(),
            row.status().map_or("?", |s| s.as_str()),
        )),
        Span::raw(
            row.learned
                .as_ref()
                .and_then(|i| i.version.as_ref())
                .map(|v| format!("  PostgreSQL {v}"))
                .unwrap_or_default(),
        ),
    ])];
    let protected = row
        .ssl()
        .filter(|s| s.enabled)
        .and_then(|s| s.protected.as_ref());
    let ssl = match row.ssl() {
        Some(s) if s.enabled => Span::styled(
            format!(
                "on, protecting {}",
                protected.map(ToString::to_string).unwrap_or_default()
            ),
            theme.ok(),
        ),
        Some(_) => Span::raw("off"),
        None => match row.status() {
            Some(s) if !s.is_running() => Span::styled(
                format!("unknown: not now, the instance is '{s}'"),
                theme.dim(),
            ),
            _ => Span::styled("unknown (r refreshes)", theme.dim()),
        },
    };
    let mut ssl_line = vec![Span::raw("SSL: "), ssl];
    if let Some(read_at) = row
        .learned
        .as_ref()
        .and_then(|i| i.ssl.as_ref())
        .map(|s| s.read_at.clone())
        .filter(|c| !c.is_empty())
    {
        ssl_line.push(Span::styled(format!("  (as of {read_at})"), theme.dim()));
    }
    lines.push(Line::from(ssl_line));
    let mut addr = vec![Span::raw("Addresses: ")];
    if row.addresses().is_empty() {
        addr.push(Span::styled("none known", theme.dim()));
    }
    for (i, a) in row.addresses().iter().enumerate() {
        if i > 0 {
            addr.push(Span::raw(" · "));
        }
        let text = match a.status.as_deref() {
            Some(status) if !a.is_open() => format!("{} (network {status})", a.label_with_port()),
            _ => a.label_with_port(),
        };
        addr.push(if protected.is_some_and(|p| a.is(p)) {
            Span::styled(text, theme.ok())
        } else {
            Span::raw(text)
        });
    }
    lines.push(Line::from(addr));
    let inst = row.learned.as_ref();
    if let Some(url) = row.ssl().and_then(|s| s.ca_url.clone()) {
        lines.push(Line::from(vec![
            Span::raw("CA: "),
            Span::styled(url, theme.dim()),
        ]));
    }
    // A CA other than the one pinned: Tencent says nothing when it changes.
    if let Some(changed) = inst.and_then(|i| i.ca.as_ref()?.changed_line(&i.id)) {
        lines.push(Line::from(Span::styled(changed, theme.error())));
    }
    if let Some(master) = inst.and_then(|i| i.master.as_ref()) {
        lines.push(Line::from(format!("Primary: {master}")));
    }
    let reports = app.reports.get(row.id());
    let mut at = 2;
    if let Some(l) = reports.and_then(|r| r.tls.as_ref()).and_then(|t| t.first()) {
        let style = if l.starts_with("verify-full") {
            theme.ok()
        } else if l.starts_with("only verify-ca") {
            theme.warn()
        } else {
            theme.error()
        };
        lines.insert(
            at,
            Line::from(vec![
                Span::raw("TLS: "),
                Span::styled(l.trim().to_string(), style),
                Span::styled("  (V: the whole report)", theme.dim()),
            ]),
        );
        at += 1;
    }
    if let Some(l) = reports.and_then(|r| r.ca.as_ref()).and_then(|c| c.first()) {
        lines.insert(
            at,
            Line::from(vec![
                Span::raw("CA: "),
                Span::styled(l.trim().to_string(), theme.dim()),
                Span::styled("  (V: all of it)", theme.dim()),
            ]),
        );
        at += 1;
    }
    // The last census this session (`w`): plaintext connections are the warning.
    if let Some(l) = reports
        .and_then(|r| r.clients.as_ref())
        .and_then(|c| c.first())
    {
        let style = if l.contains(", 0 plaintext") || l.contains("enforced in practice") {
            theme.ok()
        } else {
            theme.warn()
        };
        lines.insert(
            at,
            Line::from(vec![
                Span::raw("Clients: "),
                Span::styled(l.trim().to_string(), style),
                Span::styled("  (V: who)", theme.dim()),
            ]),
        );
    }
    // Without a check this session, the last one kept in the inventory (an earlier
    // session's, or the CLI's).
    if reports.is_none_or(|r| r.tls.is_none())
        && let Some(tls) = inst.and_then(|i| i.tls.as_ref())
    {
        let style = match tls.result {
            crate::probe::VerifyResult::VerifyFull => theme.ok(),
            crate::probe::VerifyResult::VerifyCa => theme.warn(),
            _ => theme.error(),
        };
        lines.insert(
            2,
            Line::from(vec![
                Span::raw("TLS: "),
                Span::styled(tls.result.to_string(), style),
                Span::styled(
                    format!(
                        " at {}, checked {} (v checks again)",
                        tls.address, tls.checked_at
                    ),
                    theme.dim(),
                ),
            ]),
        );
    }
    frame.render_widget(Paragraph::new(lines).block(block), area);
}
