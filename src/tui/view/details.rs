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
    let inst = &row.inst;
    let mut lines = vec![Line::from(vec![
        Span::styled(inst.id.clone(), theme.title()),
        Span::raw(format!(
            "  {}  {}  {}  {}",
            if inst.name.is_empty() {
                "(no name)"
            } else {
                &inst.name
            },
            match inst.kind.as_deref() {
                Some("readonly") => "read-only",
                Some(k) => k,
                None => "?",
            },
            inst.region,
            inst.status.as_deref().unwrap_or("?"),
        )),
    ])];
    let protected = inst
        .ssl
        .as_ref()
        .filter(|s| s.enabled)
        .and_then(|s| s.connect_address.clone());
    let ssl = match &inst.ssl {
        Some(s) if s.enabled => Span::styled(
            format!("on, protecting {}", protected.clone().unwrap_or_default()),
            theme.ok(),
        ),
        Some(_) => Span::raw("off"),
        None => Span::styled("unknown (r refreshes)", theme.dim()),
    };
    let mut ssl_line = vec![Span::raw("SSL: "), ssl];
    if let Some(checked) = inst
        .ssl
        .as_ref()
        .map(|s| s.checked.clone())
        .filter(|c| !c.is_empty())
    {
        ssl_line.push(Span::styled(format!("  (as of {checked})"), theme.dim()));
    }
    lines.push(Line::from(ssl_line));
    let mut addr = vec![Span::raw("Addresses: ")];
    if inst.addresses.is_empty() {
        addr.push(Span::styled("none known", theme.dim()));
    }
    for (i, a) in inst.addresses.iter().enumerate() {
        if i > 0 {
            addr.push(Span::raw(" · "));
        }
        let text = a.label_with_port();
        addr.push(if protected.as_deref() == Some(a.ip.as_str()) {
            Span::styled(text, theme.ok())
        } else {
            Span::raw(text)
        });
    }
    lines.push(Line::from(addr));
    if let Some(url) = inst.ssl.as_ref().and_then(|s| s.ca_url.clone()) {
        lines.push(Line::from(vec![
            Span::raw("CA: "),
            Span::styled(url, theme.dim()),
        ]));
    }
    if let Some(master) = &inst.master {
        lines.push(Line::from(format!("Primary: {master}")));
    }
    if let Some((_, report)) = app.verify_report.as_ref().filter(|(id, _)| *id == inst.id) {
        for (i, l) in report.iter().take(2).enumerate() {
            let style = if i > 0 || l.starts_with("CA kept") {
                theme.dim()
            } else if l.starts_with("verify-full") {
                theme.ok()
            } else if l.starts_with("only verify-ca") {
                theme.warn()
            } else {
                theme.error()
            };
            let text = if i == 0 {
                format!("TLS: {}", l.trim())
            } else {
                format!("     {}", l.trim())
            };
            lines.insert(2 + i, Line::from(Span::styled(text, style)));
        }
    }
    frame.render_widget(Paragraph::new(lines).block(block), area);
}
