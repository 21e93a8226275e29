//! The key table as Markdown, for docs/tui.md: generated from `BINDINGS`, so the docs say
//! what the handler does (a test compares the two).

use std::fmt::Write as _;

use super::{BINDINGS, MODE_COUNT, MODES};

/// A table cell: a `|` would end it.
fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

/// Every binding, those that work anywhere first, then each mode's own.
pub fn markdown() -> String {
    let mut out = String::new();
    let anywhere: Vec<_> = BINDINGS
        .iter()
        .filter(|b| b.modes.len() == MODE_COUNT)
        .collect();
    if !anywhere.is_empty() {
        out.push_str("### Anywhere\n\n| key | does |\n| --- | --- |\n");
        for b in anywhere {
            let _ = writeln!(out, "| `{}` | {} |", cell(b.label), cell(b.desc));
        }
        out.push('\n');
    }
    for mode in MODES {
        let own: Vec<_> = BINDINGS
            .iter()
            .filter(|b| b.modes.len() < MODE_COUNT && b.modes.contains(mode))
            .collect();
        if own.is_empty() {
            continue;
        }
        let _ = write!(
            out,
            "### {}\n\n| key | does |\n| --- | --- |\n",
            mode.title()
        );
        for b in own {
            let _ = writeln!(out, "| `{}` | {} |", cell(b.label), cell(b.desc));
        }
        out.push('\n');
    }
    out.trim_end().to_string() + "\n"
}
